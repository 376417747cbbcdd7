// gnuplot figures (see plot.hpp). One script per figure, written to a temporary file; gnuplot
// runs as a child process (no shell) with stdout on a pipe, from which the SVG is read.
#include "volley/report/plot.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "core/atomic_file.hpp"
#include "volley/error.hpp"

extern char** environ;

namespace volley::report {
namespace {

namespace fs = std::filesystem;

std::mutex program_mutex;
std::string gnuplot_program = "gnuplot";

std::string program() {
  std::lock_guard lock(program_mutex);
  return gnuplot_program;
}

// A gnuplot single-quoted string: nothing is interpreted except '' for a quote.
std::string quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) {
    if (c == '\'') o += "''";
    else if (c == '\n') o += ' ';
    else o += c;
  }
  return o + "'";
}

std::string num(double v) { return fmt::format("{:.9g}", v); }

// Terminal, title, axes and grid common to every figure.
std::string preamble(const Figure& f) {
  std::string s = fmt::format(
      "set terminal svg size {},{} fixed noenhanced font 'sans,11' background rgb 'white'\n"
      "set encoding utf8\nset title {}\nset xlabel {}\nset ylabel {}\nset grid lc rgb '#dddddd'\n"
      "set border lc rgb '#444444'\nset key top right opaque box lc rgb '#cccccc'\n",
      static_cast<int>(f.width_px), static_cast<int>(f.height_px), quote(f.title), quote(f.x.label),
      quote(f.y.label));
  auto range = [](const char* axis, const Axis& a) {
    std::string r;
    if (a.log) r += fmt::format("set logscale {}\n", axis);
    if (a.min || a.max)
      r += fmt::format("set {}range [{}:{}]\n", axis, a.min ? num(*a.min) : "*", a.max ? num(*a.max) : "*");
    return r;
  };
  return s + range("x", f.x) + range("y", f.y);
}

// Runs gnuplot on `script` and returns its stdout (the SVG).
std::string run_gnuplot(const std::string& script) {
  static std::atomic<unsigned> counter{0};
  const fs::path dir = fs::temp_directory_path();
  const std::string stem = fmt::format("volley-plot-{}-{}", ::getpid(), counter.fetch_add(1));
  const fs::path script_path = dir / (stem + ".gp"), err_path = dir / (stem + ".err");
  detail::write_file_atomically(script_path.string(), script);
  struct Cleanup {
    fs::path a, b;
    ~Cleanup() {
      std::error_code ec;
      fs::remove(a, ec);
      fs::remove(b, ec);
    }
  } cleanup{script_path, err_path};

  int fd[2];
  if (::pipe(fd) != 0) throw IoError(fmt::format("plot: pipe: {}", std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fd[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fd[0]);
  posix_spawn_file_actions_addclose(&actions, fd[1]);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const std::string prog = program(), script_arg = script_path.string();
  std::vector<std::string> args = {prog, script_arg};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, prog.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fd[1]);
  if (rc != 0) {
    ::close(fd[0]);
    throw IoError(fmt::format("plot: cannot run '{}' ({}); install gnuplot with `apt-get install gnuplot-nox`",
                              prog, std::strerror(rc)));
  }
  std::string svg;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd[0], buf, sizeof buf);
    if (n > 0) svg.append(buf, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR) break;
  }
  ::close(fd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || svg.find("</svg>") == std::string::npos) {
    std::ifstream err(err_path);
    std::stringstream ss;
    ss << err.rdbuf();
    std::string msg = ss.str();
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
      throw IoError(fmt::format("plot: '{}' was not found; install gnuplot with `apt-get install gnuplot-nox`", prog));
    if (msg.size() > 600) msg = msg.substr(0, 600) + " ...";
    throw IoError(fmt::format("plot: gnuplot failed: {}", msg.empty() ? "no SVG produced" : msg));
  }
  return svg;
}

// Ranges and a label for a figure with nothing to draw (where the figure sets no range).
std::string empty_frame(const Figure& f) {
  std::string s = "set label 99 'no data' at graph 0.5, 0.5 center\n";
  if (!f.x.min && !f.x.max) s += "set xrange [0:1]\n";
  if (!f.y.min && !f.y.max) s += "set yrange [0:1]\n";
  return s;
}

void check_series(const std::string& what, const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size())
    throw ParameterError(fmt::format("plot: {}: {} x values but {} y values", what, x.size(), y.size()));
}

// Colours that stay distinguishable in greyscale (dark to light) and for colour-blind readers.
constexpr const char* kColours[] = {"#1f4e99", "#d55e00", "#009e73", "#cc79a7", "#56b4e9", "#e69f00"};

}  // namespace

void set_gnuplot_program(const std::string& p) {
  std::lock_guard lock(program_mutex);
  gnuplot_program = p;
}

std::vector<std::size_t> downsample_raster(const std::vector<std::uint32_t>& units, std::size_t max_points,
                                           std::size_t& stride) {
  stride = 1;
  if (max_points == 0) throw ParameterError("plot: raster: max_points must be > 0");
  if (units.size() > max_points) {
    // Spikes per neuron, then the smallest stride whose kept neurons fit.
    const std::uint32_t top = *std::max_element(units.begin(), units.end());
    std::vector<std::size_t> count(std::size_t{top} + 1, 0);
    for (auto u : units) ++count[u];
    // At stride top + 1 only neuron 0 is left; if even its train does not fit, it is cut to
    // its first max_points spikes (the one case where a drawn train is not complete).
    for (stride = 2; stride <= std::size_t{top} + 1; ++stride) {
      std::size_t kept = 0;
      for (std::size_t j = 0; j < count.size(); j += stride) kept += count[j];
      if (kept <= max_points) break;
    }
    stride = std::min(stride, std::size_t{top} + 1);
  }
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < units.size() && keep.size() < max_points; ++i)
    if (units[i] % stride == 0) keep.push_back(i);
  return keep;
}

std::string line_plot(const Figure& f, const std::vector<Series>& series) {
  if (series.empty()) throw ParameterError("plot: line_plot: no series");
  std::string s = preamble(f);
  if (series.size() == 1) s += "unset key\n";
  std::string plot = "plot ";
  for (std::size_t k = 0; k < series.size(); ++k) {
    check_series(fmt::format("series '{}'", series[k].label), series[k].x, series[k].y);
    s += fmt::format("$d{} << EOD\n", k);
    bool any = false;
    for (std::size_t i = 0; i < series[k].x.size(); ++i) {
      const double x = series[k].x[i], y = series[k].y[i];
      if (std::isfinite(x) && std::isfinite(y)) {
        s += num(x) + " " + num(y) + "\n";
        any = true;
      } else {
        s += "\n";  // a gap
      }
    }
    if (!any) s += "0 NaN\n";
    s += "EOD\n";
    plot += fmt::format("{}$d{} using 1:2 with {} lc rgb '{}' title {}", k ? ", " : "", k,
                        series[k].points ? "points pt 7 ps 0.6" : "lines lw 1.5",
                        kColours[k % std::size(kColours)], quote(series[k].label));
  }
  // Nothing finite to draw: an empty frame that says so (gnuplot refuses an empty range).
  bool any_point = false;
  for (const auto& sr : series)
    for (std::size_t i = 0; i < sr.x.size(); ++i) any_point = any_point || (std::isfinite(sr.x[i]) && std::isfinite(sr.y[i]));
  if (!any_point) s += empty_frame(f);
  return run_gnuplot(s + plot + "\n");
}

std::string raster(const Figure& f, const std::vector<double>& times, const std::vector<std::uint32_t>& units,
                   std::size_t max_points) {
  if (times.size() != units.size())
    throw ParameterError(fmt::format("plot: raster: {} times but {} units", times.size(), units.size()));
  std::size_t stride = 1;
  const std::vector<std::size_t> keep = times.empty() ? std::vector<std::size_t>{} : downsample_raster(units, max_points, stride);
  Figure g = f;
  if (stride > 1) g.title += fmt::format(" (showing 1 in {} neurons)", stride);
  std::string s = preamble(g) + "unset key\n$d << EOD\n";
  for (std::size_t i : keep)
    if (std::isfinite(times[i])) s += num(times[i]) + " " + std::to_string(units[i]) + "\n";
  bool any = false;
  for (std::size_t i : keep) any = any || std::isfinite(times[i]);
  if (!any) s += "0 NaN\n";
  s += "EOD\n";
  if (!any) s += empty_frame(g);
  const double size = keep.size() > 20000 ? 0.12 : keep.size() > 2000 ? 0.2 : 0.35;
  s += fmt::format("plot $d using 1:2 with points pt 7 ps {} lc rgb '#1f4e99'\n", size);
  return run_gnuplot(s);
}

std::string histogram(const Figure& f, const std::vector<double>& values, std::size_t bins) {
  if (bins == 0) throw ParameterError("plot: histogram: bins must be > 0");
  double lo = INFINITY, hi = -INFINITY;
  std::size_t n = 0;
  for (double v : values)
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      ++n;
    }
  std::string s = preamble(f) + "unset key\nset style fill solid 0.7 border lc rgb '#1f4e99'\n$d << EOD\n";
  if (n == 0) {
    s += "0 0 1\nEOD\nset label 1 'no finite values' at graph 0.5,0.5 center\n";
  } else {
    if (hi == lo) {  // one value: one bar of width 1 (or of the value's magnitude) around it
      const double w = lo == 0.0 ? 1.0 : std::abs(lo) * 0.1;
      lo -= w / 2;
      hi += w / 2;
      bins = 1;
    }
    const double width = (hi - lo) / static_cast<double>(bins);
    std::vector<std::size_t> count(bins, 0);
    for (double v : values)
      if (std::isfinite(v)) ++count[std::min(bins - 1, static_cast<std::size_t>((v - lo) / width))];
    for (std::size_t b = 0; b < bins; ++b)
      s += fmt::format("{} {} {}\n", num(lo + (static_cast<double>(b) + 0.5) * width), count[b], num(width));
    s += "EOD\n";
  }
  s += "plot $d using 1:2:3 with boxes lc rgb '#6a8fc9'\n";
  return run_gnuplot(s);
}

std::string bar_chart(const Figure& f, const std::vector<std::string>& labels, const std::vector<double>& values) {
  if (labels.size() != values.size() || values.empty())
    throw ParameterError(fmt::format("plot: bar_chart: {} labels for {} values", labels.size(), values.size()));
  std::string s = preamble(f) +
                  "unset key\nset style fill solid 0.7 border lc rgb '#1f4e99'\nset boxwidth 0.7\n"
                  "set xtics rotate by -30\n$d << EOD\n";
  for (std::size_t i = 0; i < values.size(); ++i)
    s += fmt::format("{} {}\n", i, std::isfinite(values[i]) ? num(values[i]) : "NaN");
  s += "EOD\nset xtics (";
  for (std::size_t i = 0; i < labels.size(); ++i) s += fmt::format("{}{} {}", i ? ", " : "", quote(labels[i]), i);
  s += fmt::format(")\nset xrange [-0.6:{}]\nplot $d using 1:2 with boxes lc rgb '#6a8fc9'\n", num(values.size() - 0.4));
  return run_gnuplot(s);
}

std::string heatmap(const Figure& f, std::size_t rows, std::size_t cols, const std::vector<double>& values,
                    const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels,
                    bool annotate) {
  if (rows == 0 || cols == 0 || values.size() != rows * cols)
    throw ParameterError(fmt::format("plot: heatmap: {} values for {} × {}", values.size(), rows, cols));
  if ((!row_labels.empty() && row_labels.size() != rows) || (!col_labels.empty() && col_labels.size() != cols))
    throw ParameterError("plot: heatmap: label counts differ from the matrix size");
  double top = 0.0;
  for (double v : values)
    if (std::isfinite(v)) top = std::max(top, v);
  // Labels: dark text (linetype 1) on light cells, white (linetype 2) on dark ones.
  std::string s = preamble(f) +
                  "unset key\nunset grid\nset palette defined (0 '#ffffff', 0.5 '#6a8fc9', 1 '#08306b')\n"
                  "set linetype 1 lc rgb '#222222'\nset linetype 2 lc rgb '#ffffff'\n";
  s += fmt::format("set cbrange [0:{}]\nset xrange [-0.5:{}]\nset yrange [{}:-0.5]\n", num(top > 0 ? top : 1.0),
                   num(cols - 0.5), num(rows - 0.5));
  auto tics = [&](const char* axis, const std::vector<std::string>& labels, std::size_t n) {
    if (labels.empty()) return std::string();
    const std::size_t step = std::max<std::size_t>(1, (n + 19) / 20);  // at most 20 labels
    std::string t = fmt::format("set {}tics (", axis);
    for (std::size_t i = 0, k = 0; i < n; i += step, ++k) t += fmt::format("{}{} {}", k ? ", " : "", quote(labels[i]), i);
    return t + ")" + (std::string(axis) == "x" ? " rotate by -45" : "") + "\n";
  };
  s += tics("x", col_labels, cols) + tics("y", row_labels, rows);
  s += "$d << EOD\n";
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const double v = values[r * cols + c];
      if (c) s += ' ';
      s += std::isfinite(v) ? num(v) : "NaN";
    }
    s += "\n";
  }
  s += "EOD\nplot $d matrix with image pixels";
  if (annotate)
    s += fmt::format(", $d matrix using 1:2:(sprintf('%g', $3)):($3 > {} ? 2 : 1) with labels tc variable font ',9'",
                     num(top * 0.55));
  return run_gnuplot(s + "\n");
}

}  // namespace volley::report
