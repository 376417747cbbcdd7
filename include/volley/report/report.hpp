#pragma once
// `volley report DIR`: one self-contained HTML page (no network fetches: figures are inline SVG
// drawn by gnuplot, styles inline) for what a volley run left in DIR, plus every figure as
// DIR/figures/NAME.svg for papers. It recognises
//   a simulation   DIR/spikes.h5 (+ summary.json): summary table, and per population a raster
//                  (downsampled for large N), population rate, ISI and CV distributions,
//                  spike-train statistics, voltage traces from state monitors; when spikes.h5
//                  holds structural plasticity, a section of its own (updates, synapses created
//                  and deleted, final synapse counts and mean Ca against the target, mean Ca and
//                  synapse counts over time)
//   a training run DIR/metrics.jsonl (+ summary.json, checkpoint.bin): loss and accuracy per
//                  epoch, confusion matrix, weight histograms; with DIR/record.h5 (volley eval
//                  --record) also hidden-layer rasters, tuning curves, selectivity, silent and
//                  saturated fractions, spikes and synaptic operations per layer, traces
//   an f–I run     DIR/fi.csv + fi.json: the f–I curve and the excitability class
//   robustness     DIR/robustness.json (volley robustness): accuracy against noise and against
//                  ε per attack for the network and its twin, robust accuracy with the worst
//                  attack, energy per layer with the assumptions
// Several may apply (a training directory that was also recorded): each adds its sections.
#include <cstddef>
#include <string>
#include <vector>

namespace volley::report {

struct ReportOptions {
  std::string out;                  // default DIR/report.html
  std::size_t max_raster_points = 40000;  // spikes drawn per raster (whole neurons are kept)
  std::size_t max_trace_neurons = 5;
};

struct ReportResult {
  std::string html_path;
  std::vector<std::string> figures;  // paths of the SVG files
  std::vector<std::string> kinds;    // "simulation", "structural", "training", "recording", "fi",
                                     // "robustness"
  std::size_t html_bytes = 0;
};

// Throws IoError naming DIR if it holds nothing volley can report on, or a file that cannot be
// read; the page is written to a temporary file and renamed.
ReportResult write_report(const std::string& dir, const ReportOptions& options = {});

}  // namespace volley::report
