// `volley report DIR` (see report.hpp): gathers what a run left behind, computes the statistics
// with volley::analysis, draws the figures with gnuplot (figure.hpp) and writes one HTML page.
#include "volley/report/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <sstream>

#include "volley/analysis/spike_stats.hpp"
#include "core/atomic_file.hpp"
#include "volley/error.hpp"
#include "volley/io/fi_file.hpp"
#include "volley/io/outputs.hpp"
#include "volley/io/recording.hpp"
#include "volley/io/train_config.hpp"
#include "volley/io/training.hpp"
#include "report/robustness_section.hpp"
#include "volley/report/plot.hpp"
#include "volley/train/checkpoint.hpp"

namespace volley::report {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string esc(std::string_view s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string number(double v) {
  if (std::isnan(v)) return "–";
  if (v != 0.0 && (std::abs(v) >= 1e5 || std::abs(v) < 1e-3)) return fmt::format("{:.3g}", v);
  return fmt::format("{:.4g}", v);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw IoError(fmt::format("report: cannot read '{}'", p.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json read_json(const fs::path& p) {
  try {
    return json::parse(read_text(p));
  } catch (const json::exception& e) {
    throw IoError(fmt::format("report: '{}' is not valid JSON: {}", p.string(), e.what()));
  }
}

// The page: sections of text, tables and figures; every figure is also written as an SVG file.
class Page final : public internal::SectionWriter {
 public:
  explicit Page(fs::path figure_dir) : figure_dir_(std::move(figure_dir)) {}

  void section(const std::string& title, const std::string& kind) {
    body_ += fmt::format("<h2 id=\"{}\">{}</h2>\n", anchor(title), esc(title));
    toc_.push_back(title);
    (void)kind;
  }
  void heading(const std::string& title) override { body_ += fmt::format("<h3>{}</h3>\n", esc(title)); }
  void text(const std::string& html) override { body_ += "<p>" + html + "</p>\n"; }
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) override {
    body_ += "<table>\n<tr>";
    for (const auto& h : header) body_ += "<th>" + esc(h) + "</th>";
    body_ += "</tr>\n";
    for (const auto& r : rows) {
      body_ += "<tr>";
      for (const auto& c : r) body_ += "<td>" + esc(c) + "</td>";
      body_ += "</tr>\n";
    }
    body_ += "</table>\n";
  }
  // Adds the figure inline and as figure_dir/name.svg.
  void figure(const std::string& name, const std::string& svg, const std::string& caption) override {
    fs::create_directories(figure_dir_);
    const fs::path file = figure_dir_ / (name + ".svg");
    detail::write_file_atomically(file.string(), svg);
    files_.push_back(file.string());
    std::string inline_svg = svg;
    if (const auto p = inline_svg.find("<svg"); p != std::string::npos) inline_svg.erase(0, p);
    body_ += fmt::format("<figure>{}<figcaption>{} <a href=\"figures/{}.svg\">{}.svg</a></figcaption></figure>\n",
                         inline_svg, esc(caption), name, name);
  }

  std::string html(const std::string& title, const std::string& subtitle) const {
    std::string toc;
    for (const auto& t : toc_) toc += fmt::format("<a href=\"#{}\">{}</a> ", anchor(t), esc(t));
    return fmt::format(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{0}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1400px; color: #222; padding: 0 1em; }}
h1 {{ margin-bottom: 0.2em; }} h2 {{ border-bottom: 1px solid #ccc; margin-top: 1.6em; }}
.sub {{ color: #666; }} nav a {{ margin-right: 1em; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1em; }}
td, th {{ border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: right; }}
th {{ background: #f4f4f4; }} td:first-child, th:first-child {{ text-align: left; }}
figure {{ display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }}
figure {{ max-width: 100%; overflow-x: auto; }}
figcaption {{ color: #555; font-size: 0.9em; max-width: 640px; }}
</style></head><body>
<h1>{0}</h1><p class="sub">{1}</p>
<nav>{2}</nav>
{3}
<p class="sub">Written by volley report. Figures drawn with gnuplot; each is also in figures/ as SVG.</p>
</body></html>
)",
                       esc(title), esc(subtitle), toc, body_);
  }

  const std::vector<std::string>& files() const { return files_; }

 private:
  static std::string anchor(const std::string& t) {
    std::string a;
    for (char c : t) a += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
    return a;
  }
  fs::path figure_dir_;
  std::string body_;
  std::vector<std::string> toc_;
  std::vector<std::string> files_;
};

// A bin width for rates over a span: 1 ms up to 2 s, else about 2000 bins (a multiple of dt).
double rate_bin(double duration, double dt) {
  double bin = duration <= 2.0 ? 1e-3 : duration / 2000.0;
  if (dt > 0.0) bin = std::max(dt, std::round(bin / dt) * dt);
  return bin;
}

analysis::SpikeTrains trains_of(const io::PopulationRecording& p, double t_stop) {
  analysis::SpikeTrains t;
  t.times = p.times;
  t.units = p.units;
  t.n_neurons = std::max<std::size_t>(p.size, 1);
  t.t_start = 0.0;
  t.t_stop = t_stop;
  return t;
}

// ---- simulation ----------------------------------------------------------------------------

// Every inter-spike interval of every neuron (s).
std::vector<double> all_isis(const analysis::SpikeTrains& st) {
  const analysis::SpikesByNeuron by = analysis::group_by_neuron(st);
  std::vector<double> out;
  for (std::size_t j = 0; j < st.n_neurons; ++j) {
    const auto t = by.of(j);
    for (std::size_t k = 1; k < t.size(); ++k) out.push_back(t[k] - t[k - 1]);
  }
  return out;
}

void population_sections(Page& page, const io::Recording& rec, const io::PopulationRecording& p,
                         const ReportOptions& o) {
  page.heading(fmt::format("Population {} ({} neurons, {} spikes)", p.name, p.size, p.times.size()));
  const double T = rec.duration > 0.0 ? rec.duration : 1.0;
  if (!p.times.empty()) {
    const analysis::SpikeTrains st = trains_of(p, T);
    Figure f;
    f.title = fmt::format("{}: spike raster", p.name);
    f.x.label = "time (s)";
    f.y.label = "neuron";
    f.x.min = 0.0;
    f.x.max = T;
    page.figure(p.name + "_raster", raster(f, p.times, p.units, o.max_raster_points),
                fmt::format("Spikes of {} (every neuron's train kept whole when downsampled).", p.name));

    const double bin = rate_bin(T, rec.dt);
    const analysis::PopulationRate pr = analysis::population_rate(st, bin);
    Figure fr;
    fr.title = fmt::format("{}: population rate ({} ms bins)", p.name, number(bin * 1e3));
    fr.x.label = "time (s)";
    fr.y.label = "rate (Hz per neuron)";
    page.figure(p.name + "_rate", line_plot(fr, {Series{p.name, pr.time, pr.rate}}), "Mean firing rate per neuron.");

    std::vector<std::vector<std::string>> rows;
    for (const auto& e : analysis::stat_entries(analysis::simulation_stats(st)))
      rows.push_back({e.name, number(e.value), e.unit});
    page.table({"statistic", "value", "unit"}, rows);

    const auto isis = all_isis(st);
    if (!isis.empty()) {
      Figure fi;
      fi.title = fmt::format("{}: inter-spike intervals", p.name);
      fi.x.label = "ISI (ms)";
      fi.y.label = "count";
      // In ms, up to the 99th percentile (a long tail would squeeze the rest into a few bins).
      std::vector<double> ms(isis.size());
      std::transform(isis.begin(), isis.end(), ms.begin(), [](double x) { return x * 1e3; });
      std::vector<double> sorted = ms;
      const std::size_t q = sorted.size() * 99 / 100;
      std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(q), sorted.end());
      const double cut = sorted[q];
      std::erase_if(ms, [&](double x) { return x > cut; });
      page.figure(p.name + "_isi", histogram(fi, ms, 60),
                  fmt::format("Inter-spike intervals of all neurons up to the 99th percentile ({} ms).", number(cut)));
      Figure fc;
      fc.title = fmt::format("{}: ISI coefficient of variation", p.name);
      fc.x.label = "CV of the ISIs";
      fc.y.label = "neurons";
      page.figure(p.name + "_cv", histogram(fc, analysis::cv_isi(st).cv, 40),
                  "Per-neuron CV (neurons with at least two intervals).");
    }
  }
  for (const auto& s : p.states) {
    const std::size_t shown = std::min(o.max_trace_neurons, s.indices.size());
    if (shown == 0 || s.t.empty()) continue;
    const bool volts = s.unit == "V";
    std::vector<Series> series;
    for (std::size_t j = 0; j < shown; ++j) {
      Series line;
      line.label = fmt::format("neuron {}", s.indices[j]);
      line.x = s.t;
      line.y.resize(s.t.size());
      for (std::size_t i = 0; i < s.t.size(); ++i)
        line.y[i] = s.values[i * s.indices.size() + j] * (volts ? 1e3 : 1.0);
      series.push_back(std::move(line));
    }
    Figure f;
    f.title = fmt::format("{}: {} ({})", p.name, s.variable, s.monitor);
    f.x.label = "time (s)";
    f.y.label = volts ? s.variable + " (mV)" : fmt::format("{} ({})", s.variable, s.unit);
    page.figure(fmt::format("{}_{}_{}", p.name, s.monitor, s.variable), line_plot(f, series),
                fmt::format("{} of the first {} recorded neurons.", s.variable, shown));
  }
  for (const auto& wr : p.weights) {
    const bool volts = wr.unit == "V";
    const double k = volts ? 1e3 : 1.0;
    const std::size_t shown = std::min<std::size_t>(wr.pre.size(), 8);
    std::vector<Series> series;
    for (std::size_t j = 0; j < shown; ++j) {
      Series line;
      line.label = fmt::format("{} -> {}", wr.pre[j], wr.post[j]);
      line.x = wr.t;
      for (std::size_t i = 0; i < wr.t.size(); ++i) line.y.push_back(wr.w[i * wr.pre.size() + j] * k);
      series.push_back(std::move(line));
    }
    Series mean{"mean of all", wr.t, wr.mean};
    for (double& y : mean.y) y *= k;
    series.push_back(std::move(mean));
    Figure f;
    f.title = fmt::format("{}: weights ({})", wr.projection, wr.monitor);
    f.x.label = "time (s)";
    f.y.label = volts ? "weight (mV)" : fmt::format("weight ({})", wr.unit);
    page.figure(fmt::format("{}_{}", wr.projection, wr.monitor), line_plot(f, series),
                fmt::format("Weights of the first {} of {} recorded synapses of {} and the mean of all its synapses.",
                            shown, wr.pre.size(), wr.projection));
  }
  for (const auto& r : p.rates) {
    Figure f;
    f.title = fmt::format("{}: rate monitor {}", p.name, r.monitor);
    f.x.label = "time (s)";
    f.y.label = "rate (Hz)";
    page.figure(fmt::format("{}_{}", p.name, r.monitor), line_plot(f, {Series{r.monitor, r.t, r.rate}}),
                "Population rate as recorded by the rate monitor.");
  }
}

// Reward-modulated STDP (summary.json "rewards"): the rewarded synapse against the rest.
void reward_figures(Page& page, const std::vector<io::RewardSummary>& rewards) {
  for (const auto& r : rewards) {
    if (r.t.empty()) continue;
    const bool volts = r.unit == "V";
    auto w = r.weights, others = r.others;
    for (auto* v : {&w, &others})
      for (double& x : *v) x *= volts ? 1e3 : 1.0;
    Figure f;
    f.title = fmt::format("Reward '{}': synapse {} -> {} of {}", r.name, r.pre, r.post, r.projection);
    f.x.label = "time (s)";
    f.y.label = volts ? "weight (mV)" : fmt::format("weight ({})", r.unit);
    page.figure("reward_" + r.name,
                line_plot(f, {Series{"rewarded synapse", r.t, w}, Series{"mean of the others", r.t, others}}),
                fmt::format("{} pairings rewarded.", r.pairings));
  }
}

// Homeostatic structural plasticity (/structural_plasticity of spikes.h5): the counts, the
// final state against the targets, and mean Ca and synapse counts over time.
void structural_report(Page& page, const io::StructuralRecording& s) {
  page.section("Structural plasticity", "structural");
  page.text(fmt::format("{} structural updates, one every {} s; {} samples of the record.",
                        s.updates, number(s.update_interval), s.t.size()));
  std::vector<std::vector<std::string>> rows = {
      {"updates", number(static_cast<double>(s.updates)), ""},
      {"synapses created", number(static_cast<double>(s.created)), ""},
      {"synapses deleted", number(static_cast<double>(s.deleted)), ""}};
  for (const auto& c : s.synapses)
    rows.push_back({fmt::format("synapses of {} at the end", c.name),
                    c.values.empty() ? "–" : number(static_cast<double>(c.values.back())), ""});
  for (const auto& c : s.calcium)
    rows.push_back({fmt::format("mean Ca of {} at the end", c.name),
                    c.values.empty() ? "–" : number(c.values.back()),
                    c.target ? number(*c.target) : "–"});
  page.table({"structural plasticity", "value", "target"}, rows);
  if (s.t.empty()) return;  // nothing sampled (a run shorter than the record interval)

  std::vector<Series> ca;
  for (const auto& c : s.calcium) ca.push_back(Series{c.name, s.t, c.values});
  // The targets as flat lines (a plot has no dashes), to show whether the means settle on them.
  for (const auto& c : s.calcium)
    if (c.target)
      ca.push_back(Series{"target " + c.name, s.t, std::vector<double>(s.t.size(), *c.target)});
  if (!s.calcium.empty()) {
    Figure f;
    f.title = "Structural plasticity: mean calcium";
    f.x.label = "time (s)";
    f.y.label = "mean Ca";
    page.figure(
        "structural_calcium", line_plot(f, ca),
        "Mean calcium per population and, where its growth curves share one, the target eps "
        "that the synaptic elements grow or shrink towards.");
  }
  if (!s.synapses.empty()) {
    std::vector<Series> syn;
    std::vector<double> total(s.t.size(), 0.0);
    for (const auto& c : s.synapses) {
      Series line{c.name, s.t, {}};
      for (std::size_t i = 0; i < c.values.size(); ++i) {
        line.y.push_back(static_cast<double>(c.values[i]));
        total[i] += static_cast<double>(c.values[i]);
      }
      syn.push_back(std::move(line));
    }
    syn.push_back(Series{"total", s.t, total});
    Figure f;
    f.title = "Structural plasticity: synapses";
    f.x.label = "time (s)";
    f.y.label = "synapses";
    page.figure("structural_synapses", line_plot(f, syn),
                "Synapses of each projection the structural rules rewire, and their total.");
  }
}

// Returns spikes.h5's structural-plasticity record, if any: its section follows this one.
std::optional<io::StructuralRecording> simulation_report(Page& page, const fs::path& dir,
                                                         const ReportOptions& o) {
  page.section("Simulation", "simulation");
  if (fs::exists(dir / "summary.json")) {
    const io::SimSummary s = io::read_summary((dir / "summary.json").string());
    std::vector<std::vector<std::string>> rows = {
        {"model", s.model, ""},
        {"duration", number(s.duration), ""},
        {"dt", number(s.dt), ""},
        {"threads", number(s.threads), ""},
        {"seed", number(static_cast<double>(s.seed)), ""},
        {"wall_seconds", number(s.wall_seconds), ""},
        {"build_seconds", number(s.build_seconds), ""}};
    if (s.peak_rss_bytes)
      rows.push_back({"peak memory", number(static_cast<double>(s.peak_rss_bytes) / 1048576.0), "MB"});
    page.table({"run", "value", ""}, rows);
    std::vector<std::vector<std::string>> pr;
    for (const auto& p : s.populations)
      pr.push_back({p.name, p.model, number(static_cast<double>(p.size)), number(static_cast<double>(p.spikes)),
                    number(p.rate_hz), p.cv_isi ? number(*p.cv_isi) : "–"});
    page.table({"population", "model", "size", "spikes", "rate (Hz)", "CV ISI"}, pr);
    reward_figures(page, s.rewards);
  }
  io::Recording rec = io::read_recording((dir / "spikes.h5").string());
  for (const auto& p : rec.populations) population_sections(page, rec, p, o);
  return std::move(rec.structural);
}

// ---- training ------------------------------------------------------------------------------

void confusion_figure(Page& page, const std::string& name, const std::vector<double>& conf, std::size_t C,
                      const std::vector<std::string>& class_names) {
  std::vector<std::string> labels(C);
  for (std::size_t c = 0; c < C; ++c) labels[c] = c < class_names.size() ? class_names[c] : std::to_string(c);
  Figure f;
  f.title = "Confusion matrix (rows: true class, columns: predicted)";
  f.x.label = "predicted";
  f.y.label = "true";
  f.width_px = 560;
  f.height_px = 520;
  page.figure(name, heatmap(f, C, C, conf, labels, labels, C <= 20), "Test samples per (true, predicted) class.");
}

// ---- learned or heterogeneous dynamics of a training checkpoint -----------------------------

// Per-neuron parameters that differ between neurons or from the start (learn_tau, tau_init,
// learn_threshold, learn_adapt): for decay factors (α, β, adlif's ρ) a histogram of
// log10 τ = log10(−dt/ln x) after training, for thresholds θ and adlif's a and b a histogram of
// the values; the quartiles after and at the start (the initial network rebuilt from the
// checkpoint's training file) in the caption, and for factors the neurons at the bounds
// (0: no memory; 0.9999: 10⁴ dt).
void dynamics_figures(Page& page, const train::Checkpoint& ck) {
  io::TrainConfig cfg;
  try {
    cfg = io::load_train_string(ck.config_text, ck.config_name, io::options_from_checkpoint(ck.options));
  } catch (const Error&) {
    return;  // a checkpoint whose file no longer parses (an older format): weights only
  }
  const train::Net init(cfg.net);
  const double dt = cfg.net.dt;
  auto taus = [&](const std::vector<float>& x) {
    std::vector<double> t;
    for (float v : x)
      if (v > 0.0f && v < 1.0f) t.push_back(-dt / std::log(static_cast<double>(v)) * 1e3);
    std::sort(t.begin(), t.end());
    return t;
  };
  auto sorted = [](const std::vector<float>& x) {
    std::vector<double> t(x.begin(), x.end());
    std::sort(t.begin(), t.end());
    return t;
  };
  auto quartiles = [](const std::vector<double>& t, const char* unit) {
    auto q = [&](double f) { return t[static_cast<std::size_t>(f * static_cast<double>(t.size() - 1))]; };
    return fmt::format("{} / {} / {}{}", number(q(0.25)), number(q(0.5)), number(q(0.75)), unit);
  };
  // How a parameter is shown: a decay factor as its time constant (log10 ms), a value as it is,
  // a delay (steps) in ms.
  enum class Shown { decay, value, delay };
  struct Entry {
    std::size_t param;
    const char* what;
    Shown shown;
  };
  for (std::size_t l = 0; l < cfg.net.layers.size(); ++l) {
    std::vector<Entry> entries = {{init.beta_param(l), "membrane time constants", Shown::decay},
                                  {init.alpha_param(l), "synaptic time constants", Shown::decay},
                                  {init.adlif_rho_param(l), "adaptation time constants", Shown::decay},
                                  {init.threshold_param(l), "thresholds θ", Shown::value},
                                  {init.adlif_a_param(l), "adaptation couplings a", Shown::value},
                                  {init.adlif_b_param(l), "adaptation jumps b", Shown::value},
                                  {init.delay_param(l), "synaptic delays", Shown::delay}};
    for (const Entry& e : entries) {
      if (e.param == train::Net::kNone) continue;
      const std::string& name = init.params()[e.param].name;
      const auto it = std::find_if(ck.params.begin(), ck.params.end(),
                                   [&](const auto& p) { return p.first == name; });
      if (it == ck.params.end()) continue;
      const std::vector<float>& after = it->second;
      const std::vector<float>& before = init.params()[e.param].value;
      const bool uniform = std::all_of(after.begin(), after.end(), [&](float x) { return x == after.front(); });
      if (uniform && after == before) continue;
      const bool decay = e.shown == Shown::decay;
      auto shown_values = [&](const std::vector<float>& x) {
        if (decay) return taus(x);
        std::vector<double> v = sorted(x);
        if (e.shown == Shown::delay)  // whole steps, as the network runs after training
          for (double& d : v) d = std::round(d) * dt * 1e3;
        return v;
      };
      const std::vector<double> ta = shown_values(after);
      const std::vector<double> tb = shown_values(before);
      if (ta.empty() || tb.empty()) continue;
      std::vector<double> shown = ta;
      if (decay)
        for (double& t : shown) t = std::log10(t);
      const char* unit = e.shown == Shown::value ? "" : " ms";
      const char* items = e.shown == Shown::delay ? "synapses" : "neurons";
      Figure f;
      f.title = fmt::format("Layer {} {} after training", l, e.what);
      f.x.label = decay ? "log10 τ (ms)" : e.shown == Shown::delay ? "delay (ms, rounded to steps)" : "value";
      f.y.label = items;
      std::string caption = fmt::format(
          "{} {}. Quartiles after training {}, at the start {} (the initial network rebuilt "
          "from the checkpoint's training file).",
          after.size(), items, quartiles(ta, unit), quartiles(tb, unit));
      if (decay) {
        const auto at_zero = std::count(after.begin(), after.end(), 0.0f);
        const auto at_top =
            std::count_if(after.begin(), after.end(), [](float x) { return x >= train::kMaxDecay; });
        caption += fmt::format(" {} neurons at the bound 0.9999 of the factor (τ = 10⁴ dt), {} at 0.",
                               at_top, at_zero);
      }
      page.figure(fmt::format("{}_{}", decay ? "tau" : "param", name), histogram(f, shown, 40),
                  caption);
    }
  }
}

// Deep R (metrics.jsonl "rewiring"): synapses per matrix, rewired synapses and connected
// presynaptic neurons per epoch.
void rewiring_figures(Page& page, const std::vector<io::MetricsLine>& epochs) {
  std::vector<std::string> names;
  for (const auto& m : epochs)
    for (const auto& r : m.rewiring)
      if (std::find(names.begin(), names.end(), r.matrix) == names.end()) names.push_back(r.matrix);
  if (names.empty()) return;
  std::vector<Series> active, rewired, rows;
  for (const auto& name : names) {
    Series a{name, {}, {}}, r{name, {}, {}}, c{name, {}, {}};
    for (const auto& m : epochs)
      for (const auto& x : m.rewiring)
        if (x.matrix == name) {
          a.x.push_back(m.epoch);
          a.y.push_back(static_cast<double>(x.active));
          r.x.push_back(m.epoch);
          r.y.push_back(static_cast<double>(x.rewired));
          c.x.push_back(m.epoch);
          c.y.push_back(static_cast<double>(x.rows_connected));
        }
    active.push_back(std::move(a));
    rewired.push_back(std::move(r));
    rows.push_back(std::move(c));
  }
  Figure f;
  f.title = "Deep R: synapses rewired per epoch";
  f.x.label = "epoch";
  f.y.label = "synapses gone dormant (and as many activated)";
  page.figure("rewiring_rewired", line_plot(f, rewired),
              "Synapses whose parameter crossed zero during the epoch, per rewired matrix; as many "
              "dormant ones were activated at random, keeping the budget.");
  Figure fa;
  fa.title = "Deep R: active synapses per matrix";
  fa.x.label = "epoch";
  fa.y.label = "active synapses";
  page.figure("rewiring_active", line_plot(fa, active),
              "Active synapses of each rewired matrix at the end of each epoch (their total is "
              "the fixed budget; it flows to the matrices where synapses survive).");
  Figure fr;
  fr.title = "Deep R: presynaptic neurons with a synapse";
  fr.x.label = "epoch";
  fr.y.label = "rows with >= 1 synapse";
  page.figure("rewiring_rows", line_plot(fr, rows),
              "Presynaptic neurons (pixels, for the input layer) that still have at least one "
              "synapse at the end of each epoch.");
}

// The synapses per input pixel of a rewired 784-input layer, as an image (checkpoint patterns).
void rewiring_pixels(Page& page, const train::Checkpoint& ck) {
  for (const auto& p : ck.patterns) {
    if (p.name != "layer0.w" || p.row_ptr.size() != 785) continue;
    std::vector<double> per_pixel(784);
    for (std::size_t i = 0; i < 784; ++i) per_pixel[i] = p.row_ptr[i + 1] - p.row_ptr[i];
    Figure f;
    f.title = "Synapses per input pixel (layer0.w)";
    page.figure("rewiring_pixels", heatmap(f, 28, 28, per_pixel, {}, {}, false),
                fmt::format("Synapses leaving each of the 28 × 28 input pixels at the end of "
                            "training ({} in all).",
                            p.cols.size()));
  }
}

void training_report(Page& page, const fs::path& dir) {
  page.section("Training", "training");
  const std::vector<io::MetricsLine> epochs = io::read_metrics((dir / "metrics.jsonl").string());
  std::vector<double> e, train_loss, test_loss, train_acc, test_acc;
  for (const auto& m : epochs) {
    e.push_back(m.epoch);
    train_loss.push_back(m.train_loss);
    test_loss.push_back(m.test_loss);
    train_acc.push_back(m.train_acc);
    test_acc.push_back(m.test_acc);
  }
  std::vector<std::vector<std::string>> rows;
  if (fs::exists(dir / "summary.json")) {
    const json s = read_json(dir / "summary.json");
    for (const char* k : {"config", "epochs", "test_acc", "test_loss", "train_samples", "test_samples", "synapses",
                          "peak_rss_mb", "train_seconds_this_run"})
      if (s.contains(k)) rows.push_back({k, s[k].is_string() ? s[k].get<std::string>() : number(s[k].get<double>())});
  }
  if (!epochs.empty()) {
    rows.push_back({"last epoch: test accuracy", number(test_acc.back())});
    rows.push_back({"last epoch: samples/s", number(epochs.back().samples_per_second)});
  }
  page.table({"run", "value"}, rows);
  if (!epochs.empty()) {
    Figure fl;
    fl.title = "Loss per epoch";
    fl.x.label = "epoch";
    fl.y.label = "loss";
    page.figure("loss", line_plot(fl, {Series{"train", e, train_loss}, Series{"test", e, test_loss}}),
                "Training loss (mean over the epoch's batches) and test loss after the epoch.");
    Figure fa;
    fa.title = "Accuracy per epoch";
    fa.x.label = "epoch";
    fa.y.label = "accuracy";
    page.figure("accuracy", line_plot(fa, {Series{"train", e, train_acc}, Series{"test", e, test_acc}}),
                "Training accuracy during the epoch and test accuracy after it.");
  }
  if (fs::exists(dir / "summary.json")) {
    const json s = read_json(dir / "summary.json");
    if (s.contains("confusion") && s["confusion"].is_array() && !s["confusion"].empty()) {
      const std::size_t C = s["confusion"].size();
      std::vector<double> conf;
      for (const auto& row : s["confusion"])
        for (const auto& v : row) conf.push_back(v.get<double>());
      confusion_figure(page, "confusion", conf, C, {});
    }
  }
  if (fs::exists(dir / "checkpoint.bin")) {
    const train::Checkpoint ck = train::read_checkpoint((dir / "checkpoint.bin").string());
    for (const auto& [name, values] : ck.params) {
      if (name.size() < 2 || (name.substr(name.size() - 2) != ".w" && name.substr(name.size() - 2) != ".v")) continue;
      Figure f;
      f.title = fmt::format("Weights {}", name);
      f.x.label = "weight";
      f.y.label = "synapses";
      std::vector<double> w(values.begin(), values.end());
      page.figure("weights_" + name, histogram(f, w, 60), fmt::format("{} values of {}.", values.size(), name));
    }
    dynamics_figures(page, ck);
    rewiring_pixels(page, ck);
  }
  rewiring_figures(page, epochs);
}

// ---- recorded network (volley eval --record) ------------------------------------------------

void recording_report(Page& page, const fs::path& dir, const ReportOptions& o) {
  page.section("Inside the trained network", "recording");
  const io::Recording rec = io::read_recording((dir / "record.h5").string());
  const std::size_t n = rec.labels.size();
  std::size_t C = 0;
  for (int l : rec.labels) C = std::max<std::size_t>(C, static_cast<std::size_t>(l) + 1);
  for (int l : rec.predictions) C = std::max<std::size_t>(C, static_cast<std::size_t>(l) + 1);
  std::size_t correct = 0;
  std::vector<double> conf(C * C, 0.0);
  for (std::size_t s = 0; s < n; ++s) {
    correct += rec.labels[s] == rec.predictions[s];
    conf[static_cast<std::size_t>(rec.labels[s]) * C + static_cast<std::size_t>(rec.predictions[s])] += 1.0;
  }
  page.text(fmt::format("{} test samples of {} ms each; accuracy {}.", n, number(rec.sample_duration * 1e3),
                        number(n ? double(correct) / double(n) : 0.0)));
  if (C > 0) confusion_figure(page, "record_confusion", conf, C, rec.class_names);
  const std::size_t steps = rec.dt > 0.0 ? static_cast<std::size_t>(std::llround(rec.sample_duration / rec.dt)) : 1;

  std::vector<std::vector<std::string>> layer_rows;
  std::vector<const io::PopulationRecording*> layers;
  for (const auto& p : rec.populations)
    if (p.name == "input" || p.name.rfind("layer", 0) == 0) layers.push_back(&p);
  for (std::size_t li = 0; li < layers.size(); ++li) {
    const io::PopulationRecording& p = *layers[li];
    // Fan-out: the next layer's size (dense connections; recurrent synapses are not counted).
    std::uint64_t fan_out = 0;
    if (li + 1 < layers.size()) fan_out = layers[li + 1]->size;
    else if (const auto* out = rec.find("output")) fan_out = out->size;
    analysis::SampleCounts counts;
    counts.n_samples = n;
    counts.n_neurons = p.size;
    counts.n_steps = steps;
    counts.labels = rec.labels;
    counts.counts.assign(n * p.size, 0);
    for (std::size_t k = 0; k < p.units.size(); ++k) ++counts.counts[std::size_t{p.samples[k]} * p.size + p.units[k]];
    const analysis::LayerActivity act{p.name, {static_cast<std::uint64_t>(p.times.size())}, {fan_out}};
    const analysis::OperationsSummary ops = analysis::synaptic_operations(std::span(&act, 1), std::max<std::size_t>(n, 1));
    layer_rows.push_back({p.name, number(double(p.size)), number(ops.spikes_per_sample), number(ops.synops_per_sample),
                          number(analysis::silent_fraction(counts)), number(analysis::saturated_fraction(counts))});
    if (p.name == "input" || C < 2) continue;
    // Tuning: mean spike count per class and neuron, neurons ordered by preferred class.
    const analysis::TuningCurves tu = analysis::tuning_curves(counts, C);
    const analysis::Selectivity sel = analysis::selectivity(tu);
    std::vector<std::size_t> order(p.size);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a1, std::size_t b1) {
      return sel.preferred_class[a1] < sel.preferred_class[b1];
    });
    const std::size_t shown = std::min<std::size_t>(p.size, 128);
    std::vector<double> heat(shown * C);
    std::vector<std::string> rows_l(shown), cols_l(C);
    for (std::size_t c = 0; c < C; ++c) cols_l[c] = c < rec.class_names.size() ? rec.class_names[c] : std::to_string(c);
    for (std::size_t k = 0; k < shown; ++k) {
      const std::size_t j = order[k * p.size / shown];
      rows_l[k] = std::to_string(j);
      for (std::size_t c = 0; c < C; ++c) heat[k * C + c] = tu.at(c, j);
    }
    Figure ft;
    ft.title = fmt::format("{}: tuning curves (mean spikes per sample)", p.name);
    ft.x.label = "class";
    ft.y.label = "neuron (by preferred class)";
    ft.width_px = 560;
    ft.height_px = 640;
    page.figure(p.name + "_tuning", heatmap(ft, shown, C, heat, rows_l, cols_l, false),
                fmt::format("Each row a neuron{}, each column a class.", shown < p.size ? " (a subset)" : ""));
    Figure fs_;
    fs_.title = fmt::format("{}: selectivity index", p.name);
    fs_.x.label = "(r_pref − r_others) / (r_pref + r_others)";
    fs_.y.label = "neurons";
    page.figure(p.name + "_selectivity", histogram(fs_, sel.index, 30),
                "Selectivity per neuron; silent neurons count as 0.");
    // Class-conditional rasters: the first test sample of each of the first classes.
    for (std::size_t c = 0; c < std::min<std::size_t>(C, 4); ++c) {
      const auto it = std::find(rec.labels.begin(), rec.labels.end(), static_cast<int>(c));
      if (it == rec.labels.end()) continue;
      const auto s = static_cast<std::uint32_t>(it - rec.labels.begin());
      std::vector<double> t;
      std::vector<std::uint32_t> u;
      for (std::size_t k = 0; k < p.times.size(); ++k)
        if (p.samples[k] == s) {
          t.push_back(p.times[k] - s * rec.sample_duration);
          u.push_back(p.units[k]);
        }
      Figure fr;
      fr.title = fmt::format("{}: sample {} (class {})", p.name, s, cols_l[c]);
      fr.x.label = "time in sample (s)";
      fr.y.label = "neuron";
      fr.x.min = 0.0;
      fr.x.max = rec.sample_duration;
      fr.width_px = 420;
      fr.height_px = 300;
      page.figure(fmt::format("{}_raster_class{}", p.name, c), raster(fr, t, u, o.max_raster_points),
                  "Class-conditional raster: the first test sample of this class.");
    }
    for (const auto& st : p.states) {
      const std::size_t shown_n = std::min(o.max_trace_neurons, st.indices.size());
      std::vector<Series> series;
      for (std::size_t j = 0; j < shown_n; ++j) {
        Series line;
        line.label = fmt::format("neuron {}", st.indices[j]);
        for (std::size_t i = 0; i < std::min(steps, st.t.size()); ++i) {
          line.x.push_back(st.t[i]);
          line.y.push_back(st.values[i * st.indices.size() + j]);
        }
        series.push_back(std::move(line));
      }
      Figure fv;
      fv.title = fmt::format("{}: V − θ, first test sample", p.name);
      fv.x.label = "time (s)";
      fv.y.label = "V − θ";
      if (!series.empty())
        page.figure(p.name + "_trace", line_plot(fv, series), "Membrane potential relative to threshold (spikes at 0).");
    }
  }
  page.heading("Activity per layer");
  page.table({"layer", "neurons", "spikes per sample", "synaptic ops per sample", "silent fraction",
              "saturated fraction"},
             layer_rows);
}

// ---- f–I -----------------------------------------------------------------------------------

void fi_report(Page& page, const fs::path& dir) {
  page.section("f–I curve", "fi");
  const io::FiResult r = io::read_fi(dir.string());
  auto num = [](double x, const char* unit) {
    return std::isfinite(x) ? fmt::format("{:.5g} {}", x, unit) : std::string("—");
  };
  const char* u = r.unit.c_str();
  std::vector<std::vector<std::string>> rows{
      {"model", r.model + (r.preset.empty() ? "" : " (" + r.preset + ")")},
      {"class", r.excitability_class},
      {"decision", r.decision},
      {"rheobase (from rest)", num(r.rheobase, u)},
      {"rate at the rheobase", num(r.onset_rate_hz, "Hz")},
      {"slowest rate resolved", num(r.min_rate_hz, "Hz")},
      {"hysteresis below the rheobase", r.hysteresis ? "yes" : "no"}};
  // The onset laws describe a rate rising from zero (class I); for a jump they fit nothing.
  if (r.excitability_class == "I" && r.sqrt_fit.valid)
    rows.push_back({"f = c sqrt(I - I0) near onset",
                    fmt::format("I0 = {}, R² {:.4f}", num(r.sqrt_fit.rheobase, u), r.sqrt_fit.r2)});
  if (r.excitability_class == "I" && r.power_fit.valid)
    rows.push_back({"f = c (I - I0)^b near onset",
                    fmt::format("b = {:.3f}, I0 = {}, R² {:.4f}", r.power_fit.exponent,
                                num(r.power_fit.rheobase, u), r.power_fit.r2)});
  page.table({"result", "value"}, rows);
  Series rest{"from rest", {}, {}}, firing{"from firing", {}, {}};
  for (const auto& p : r.curve) {
    rest.x.push_back(p.current);
    rest.y.push_back(p.rate_from_rest);
    firing.x.push_back(p.current);
    firing.y.push_back(p.rate_from_firing);
  }
  Figure f;
  f.title = fmt::format("f–I curve ({}, class {})", r.model, r.excitability_class);
  f.x.label = fmt::format("input current ({})", r.unit);
  f.y.label = "firing rate (Hz)";
  page.figure("fi", line_plot(f, {rest, firing}),
              "Steady firing rate at each current, started from rest (current ramped up from 0) and "
              "from the firing state (ramped down from a current that fires).");
}

}  // namespace

ReportResult write_report(const std::string& dir_s, const ReportOptions& o) {
  const fs::path dir(dir_s);
  if (!fs::is_directory(dir)) throw IoError(fmt::format("report: '{}' is not a directory", dir_s));
  Page page(dir / "figures");
  ReportResult r;
  if (fs::exists(dir / "spikes.h5")) {
    const auto structural = simulation_report(page, dir, o);
    r.kinds.push_back("simulation");
    if (structural) {
      structural_report(page, *structural);
      r.kinds.push_back("structural");
    }
  }
  if (fs::exists(dir / "metrics.jsonl")) {
    training_report(page, dir);
    r.kinds.push_back("training");
  }
  if (fs::exists(dir / "record.h5")) {
    recording_report(page, dir, o);
    r.kinds.push_back("recording");
  }
  if (fs::exists(dir / "fi.json") && fs::exists(dir / "fi.csv")) {
    fi_report(page, dir);
    r.kinds.push_back("fi");
  }
  if (fs::exists(dir / "robustness.json")) {
    page.section("Robustness", "robustness");
    internal::robustness_section(page, dir / "robustness.json");
    r.kinds.push_back("robustness");
  }
  if (r.kinds.empty())
    throw IoError(fmt::format("report: '{}' holds no volley results (spikes.h5, metrics.jsonl, record.h5, "
                              "fi.json + fi.csv or robustness.json)",
                              dir_s));
  const std::string html = page.html(fmt::format("volley report: {}", dir.filename().string().empty()
                                                                          ? dir_s
                                                                          : dir.filename().string()),
                                     fmt::format("{} — {}", fs::absolute(dir).string(), fmt::join(r.kinds, ", ")));
  r.html_path = o.out.empty() ? (dir / "report.html").string() : o.out;
  detail::write_file_atomically(r.html_path, html);
  r.figures = page.files();
  r.html_bytes = html.size();
  return r;
}

}  // namespace volley::report
