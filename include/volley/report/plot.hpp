#pragma once
// Figures as SVG text, drawn by gnuplot (Debian package gnuplot-nox) run as a child process:
// line plots, spike rasters, histograms, bar charts and heatmaps for the HTML report. The data
// travel inside the script as inline data blocks; the SVG comes back on gnuplot's stdout.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace volley::report {

struct Axis {
  std::string label;
  bool log = false;
  std::optional<double> min, max;
};

struct Figure {
  std::string title;
  Axis x, y;
  double width_px = 640, height_px = 360;
};

struct Series {
  std::string label;
  std::vector<double> x, y;  // equal lengths; non-finite points are left out (lines break)
  bool points = false;       // markers at the points instead of a line through them
};

// Which spikes a raster draws when there are more than max_points: every k-th neuron, whole
// (k the smallest that fits), so each drawn train is complete — except when neuron 0 alone has
// more than max_points spikes: then only its first max_points are kept. Returns the indices into
// times/units of the kept spikes and sets `stride` to k (1 = all). A figure with nothing finite
// to draw comes out as an empty frame labelled "no data".
std::vector<std::size_t> downsample_raster(const std::vector<std::uint32_t>& units, std::size_t max_points,
                                           std::size_t& stride);

// Each throws ParameterError for empty or mismatched data and IoError if gnuplot is missing
// (saying how to install it) or fails (with its message). Every SVG figure volley writes comes
// from one of these (the report's figures, fi.svg, the examples' plots).
std::string line_plot(const Figure& f, const std::vector<Series>& series);
std::string raster(const Figure& f, const std::vector<double>& times, const std::vector<std::uint32_t>& units,
                   std::size_t max_points);
std::string histogram(const Figure& f, const std::vector<double>& values, std::size_t bins);
std::string bar_chart(const Figure& f, const std::vector<std::string>& labels, const std::vector<double>& values);
// values row-major [rows × cols]; row 0 is drawn at the top. `annotate` writes each value.
std::string heatmap(const Figure& f, std::size_t rows, std::size_t cols, const std::vector<double>& values,
                    const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels,
                    bool annotate);

// The gnuplot program used ("gnuplot" on PATH unless changed; for tests).
void set_gnuplot_program(const std::string& program);

}  // namespace volley::report
