// The "Robustness" section of `volley report` (robustness_section.hpp): robustness.json as
// figures (noise curves, accuracy against ε per attack, robust accuracy) and tables (robust
// accuracy with the worst attack, energy per sample with its assumptions).
#include "report/robustness_section.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "volley/error.hpp"
#include "volley/report/plot.hpp"

namespace volley::report::internal {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

std::string esc(std::string_view s) {
  std::string o;
  for (char c : s)
    o += c == '<'   ? "&lt;"
         : c == '>' ? "&gt;"
         : c == '&' ? "&amp;"
         : c == '"' ? "&quot;"
                    : std::string(1, c);
  return o;
}

std::string number(double v) {
  if (std::isnan(v)) return "–";
  if (v != 0.0 && (std::abs(v) >= 1e5 || std::abs(v) < 1e-3)) return fmt::format("{:.3g}", v);
  return fmt::format("{:.4g}", v);
}
// Operation counts: whole numbers from 100 up (no exponent), else three significant digits.
std::string count(double v) {
  return std::isnan(v)        ? "–"
         : std::abs(v) >= 100 ? fmt::format("{:.0f}", v)
                              : fmt::format("{:.3g}", v);
}
std::string nj(double pj) { return number(pj * 1e-3); }

// Field access naming the file and the path of the field when it is missing or mistyped.
class Obj {
 public:
  Obj(const json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j_.is_object()) throw IoError(fmt::format("{}: expected a JSON object", where_));
  }
  bool has(const char* k) const { return j_.contains(k) && !j_[k].is_null(); }
  const json& at(const char* k) const {
    if (!j_.contains(k)) throw IoError(fmt::format("{}: missing \"{}\"", where_, k));
    return j_[k];
  }
  double num(const char* k) const {  // null (a NaN written by nlohmann) reads as NaN
    const json& v = at(k);
    if (v.is_null()) return nan;
    if (!v.is_number()) throw mistyped(k, "a number");
    return v.get<double>();
  }
  std::string str(const char* k) const {
    const json& v = at(k);
    if (!v.is_string()) throw mistyped(k, "a string");
    return v.get<std::string>();
  }
  const json& array(const char* k) const {
    const json& v = at(k);
    if (!v.is_array()) throw mistyped(k, "an array");
    return v;
  }
  std::vector<double> nums(const char* k) const {
    std::vector<double> out;
    for (const json& v : array(k)) {
      if (!v.is_number() && !v.is_null()) throw mistyped(k, "an array of numbers");
      out.push_back(v.is_null() ? nan : v.get<double>());
    }
    return out;
  }
  std::vector<Obj> list(const char* k) const {
    std::vector<Obj> out;
    for (std::size_t i = 0; const json& v : array(k))
      out.emplace_back(v, fmt::format("{}.{}[{}]", where_, k, i++));
    return out;
  }
  Obj obj(const char* k) const { return Obj(at(k), fmt::format("{}.{}", where_, k)); }
  const std::string& where() const { return where_; }

 private:
  IoError mistyped(const char* k, const char* what) const {
    return IoError(fmt::format("{}: \"{}\" is not {}", where_, k, what));
  }
  const json& j_;
  std::string where_;
};

struct Curve {
  std::string name, unit;
  std::vector<double> x, y;
};
struct Attack {
  std::string name, norm;
  double eps, accuracy;
  bool l0;  // event data: ε is a fraction of the events that may change ("budget": "L0: ...")
};
struct Robust {
  std::string norm, worst;
  double eps, samples, accuracy, worst_accuracy;
};
struct Layer {  // per sample; the SNN fields stay NaN for an ANN
  double spikes = nan, synops = nan, updates = nan, snn_arith = nan, snn_mem = nan;
  double macs = nan, ann_arith = nan, ann_mem = nan;
};
struct Energy {
  std::string network, source;
  double pj_acc, pj_mac, pj_sram, passes, ann_total, snn_total = nan;
  std::vector<Layer> layers;
};
struct Model {
  std::string label, role, network, checkpoint, note;
  double clean;
  std::vector<Curve> noise;
  std::vector<Attack> attacks;
  std::vector<Robust> robust;
  Energy energy;
};

Model parse_model(const Obj& m) {
  Model r;
  r.role = m.str("role");
  r.network = m.str("network");
  r.checkpoint = m.has("checkpoint") ? m.str("checkpoint") : "";
  r.note = m.has("attacks_note") ? m.str("attacks_note") : "";
  r.clean = m.num("clean_accuracy");
  const bool ann = r.network == "ann";
  r.label =
      fmt::format("{} ({})", ann ? (r.role == "against" ? "ANN twin" : "ANN") : "SNN", r.role);
  for (const Obj& n : m.list("noise")) {
    Curve c{n.str("noise"), n.str("unit"), n.nums("levels"), n.nums("accuracy")};
    if (c.x.size() != c.y.size())
      throw IoError(fmt::format("{}: \"levels\" and \"accuracy\" differ in length", n.where()));
    r.noise.push_back(std::move(c));
  }
  for (const Obj& a : m.list("attacks"))
    r.attacks.push_back({a.str("attack"), a.str("norm"), a.num("eps"), a.num("accuracy"),
                         a.has("budget") && a.str("budget").starts_with("L0")});
  if (m.has("robust"))
    for (const Obj& b : m.list("robust"))
      r.robust.push_back({b.str("norm"), b.str("worst_attack"), b.num("eps"), b.num("samples"),
                          b.num("accuracy"), b.num("worst_attack_accuracy")});
  const Obj e = m.obj("energy"), as = e.obj("assumptions");
  Energy& en = r.energy;
  en.network = e.str("network");
  en.source = as.str("source");
  en.pj_acc = as.num("pj_accumulate");
  en.pj_mac = as.num("pj_multiply_accumulate");
  en.pj_sram = as.num("pj_sram_32bit");
  en.passes = as.num("ann_passes_per_sample");
  en.ann_total = e.num("ann_total_pj");
  const bool snn = en.network == "snn";
  if (snn) en.snn_total = e.num("snn_total_pj");
  for (const Obj& l : e.list("layers")) {
    Layer y;
    y.macs = l.num("ann_macs");
    y.ann_arith = l.num("ann_arithmetic_pj");
    y.ann_mem = l.num("ann_memory_pj");
    if (snn) {
      y.spikes = l.num("spikes");
      y.synops = l.num("synops");
      y.updates = l.num("neuron_updates");
      y.snn_arith = l.num("snn_arithmetic_pj");
      y.snn_mem = l.num("snn_memory_pj");
    }
    en.layers.push_back(y);
  }
  return r;
}

// L∞ budgets are shown in units of 1/255 (one grey level of an 8-bit image).
double eps_x(const std::string& norm, double eps) { return norm == "linf" ? eps * 255.0 : eps; }
std::string eps_label(const std::string& norm, double eps) {
  return norm == "linf" ? fmt::format("{:g}/255", std::round(eps * 255.0 * 1e6) / 1e6)
                        : fmt::format("{:g}", eps);
}
std::string file_safe(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  return s;
}

// Accuracy (y, from 0) against a level or ε (x: linear unless it spans a factor of 8 or more, as
// doubling ε budgets do; then log, clipped to the data). gnuplot's key sits inside, top right:
// with many series the figure grows and the y axis reaches above 1 so that the key covers no line.
Figure accuracy_figure(const std::string& title, const std::string& x_label,
                       const std::vector<Series>& series) {
  Figure f;
  f.title = title;
  f.x.label = x_label;
  f.y.label = "accuracy";
  double lo = INFINITY, hi = 0, top = 0;
  std::size_t keys = 0;
  for (const Series& s : series) {
    keys += !s.label.empty();
    for (double x : s.x) lo = std::min(lo, x), hi = std::max(hi, x);
    for (double y : s.y)
      if (std::isfinite(y)) top = std::max(top, y);
  }
  f.x.log = lo > 0 && hi / lo >= 8;
  if (f.x.log) f.x.min = lo, f.x.max = hi;
  f.y.min = -0.02;
  f.y.max = 1.02;
  if (keys > 2) {
    f.width_px = 760;
    f.height_px = 360 + 30.0 * static_cast<double>(keys);
    const double key =
        (17.0 * static_cast<double>(keys) + 12.0) / (f.height_px - 90.0);  // of the plot's height
    f.y.max = std::max(1.02, std::ceil((top + 0.03 + 0.02 * key) / (1.0 - key) * 10.0) / 10.0);
  }
  return f;
}

}  // namespace

void robustness_section(SectionWriter& page, const fs::path& file) {
  json root;
  {
    std::ifstream in(file);
    if (!in) throw IoError(fmt::format("report: cannot read '{}'", file.string()));
    std::stringstream ss;
    ss << in.rdbuf();
    try {
      root = json::parse(ss.str());
    } catch (const json::exception& e) {
      throw IoError(fmt::format("report: '{}' is not valid JSON: {}", file.string(), e.what()));
    }
  }
  const Obj top(root, fmt::format("report: '{}'", file.string()));
  std::vector<Model> models;
  for (const Obj& m : top.list("models")) models.push_back(parse_model(m));
  if (models.empty()) throw IoError(fmt::format("{}: \"models\" is empty", top.where()));

  // Event data carry "linf" with an L0 budget in units of 1/255 of the events.
  std::vector<std::string> l0;
  for (const Model& m : models)
    for (const Attack& a : m.attacks)
      if (a.l0) l0.push_back(a.norm);
  auto norm_name = [&](const std::string& norm) -> std::string {
    if (std::find(l0.begin(), l0.end(), norm) != l0.end()) return "L0 (events)";
    return norm == "linf" ? "L∞" : norm == "l2" ? "L2" : norm;
  };

  std::vector<std::vector<std::string>> run;
  for (const char* k : {"data", "samples", "seed"})
    if (top.has(k)) run.push_back({k, top.at(k).is_string() ? top.str(k) : count(top.num(k))});
  page.table({"run", "value"}, run);
  std::vector<std::vector<std::string>> nets;
  for (const Model& m : models)
    nets.push_back({m.label, m.checkpoint, number(m.clean),
                    nj(m.network == "snn" ? m.energy.snn_total : m.energy.ann_total)});
  page.table({"network", "checkpoint", "clean accuracy", "energy per sample (nJ)"}, nets);
  for (const Model& m : models)
    if (!m.note.empty()) page.text(esc(fmt::format("{}: {}", m.label, m.note)));

  // Noise: one figure per kind, a curve per network (the first as lines, the others as markers).
  const std::string styles =
      models.size() > 1 ? fmt::format(" Lines: {}; markers: {}.", models[0].label, models[1].label)
                        : "";
  std::vector<std::pair<std::string, std::string>> kinds;  // name, unit; in order of appearance
  for (const Model& m : models)
    for (const Curve& c : m.noise)
      if (std::none_of(kinds.begin(), kinds.end(),
                       [&](const auto& k) { return k.first == c.name; }))
        kinds.emplace_back(c.name, c.unit);
  if (!kinds.empty()) page.heading("Accuracy under noise");
  for (const auto& [name, unit] : kinds) {
    std::vector<Series> series;
    for (const Model& m : models)
      for (const Curve& c : m.noise)
        if (c.name == name) series.push_back({m.label, c.x, c.y, &m != &models[0]});
    const std::string xl =
        unit == "1" ? fmt::format("{} level", name) : fmt::format("{} level ({})", name, unit);
    page.figure("robustness_noise_" + file_safe(name),
                line_plot(accuracy_figure(fmt::format("Accuracy under {} noise", name), xl, series),
                          series),
                fmt::format("Test accuracy against the {} noise level.{}", name, styles));
  }

  // Attacks: per norm, accuracy against ε for each (network, attack), and the robust accuracy.
  std::vector<std::string> norms;
  for (const Model& m : models)
    for (const Attack& a : m.attacks)
      if (std::find(norms.begin(), norms.end(), a.norm) == norms.end()) norms.push_back(a.norm);
  std::stable_sort(norms.begin(), norms.end(),
                   [](const auto& a, const auto& b) { return (a == "linf") > (b == "linf"); });
  for (const std::string& norm : norms) {
    page.heading(fmt::format("{} attacks", norm_name(norm)));
    const std::string stem = norm_name(norm) == "L0 (events)" ? "l0" : file_safe(norm);
    const std::string xl = norm_name(norm) == "L0 (events)" ? "ε (1/255 of the events)"
                           : norm == "linf"                 ? "ε (1/255)"
                                            : fmt::format("ε ({} norm)", norm_name(norm));
    // One colour per attack (the same in every network: each network's block of series is padded
    // with unlabelled empty ones to a multiple of plot.cpp's 6 colours), lines for the first
    // network, markers for the other.
    std::vector<std::string> names;
    for (const Model& m : models)
      for (const Attack& a : m.attacks)
        if (a.norm == norm && std::find(names.begin(), names.end(), a.name) == names.end())
          names.push_back(a.name);
    const std::size_t block = (names.size() + 5) / 6 * 6;
    std::vector<Series> series, robust;
    for (std::size_t mi = 0; mi < models.size(); ++mi) {
      const Model& m = models[mi];
      for (std::size_t k = 0; k < block; ++k) {
        Series s{"", {}, {}, mi > 0};
        std::vector<std::pair<double, double>> pts;
        for (const Attack& a : m.attacks)
          if (k < names.size() && a.norm == norm && a.name == names[k])
            pts.emplace_back(eps_x(norm, a.eps), a.accuracy);
        std::sort(pts.begin(), pts.end());
        for (const auto& [x, y] : pts) s.x.push_back(x), s.y.push_back(y);
        if (!pts.empty()) s.label = fmt::format("{}: {}", m.label, names[k]);
        series.push_back(std::move(s));
      }
      while (!series.empty() && series.back().label.empty() && mi + 1 == models.size())
        series.pop_back();
      Series r{m.label, {}, {}, mi > 0};
      for (const Robust& b : m.robust)
        if (b.norm == norm) r.x.push_back(eps_x(norm, b.eps)), r.y.push_back(b.accuracy);
      if (!r.x.empty()) robust.push_back(std::move(r));
    }
    page.figure(
        "robustness_" + stem + "_attacks",
        line_plot(
            accuracy_figure(fmt::format("Accuracy under {} attacks", norm_name(norm)), xl, series),
            series),
        fmt::format(
            "Accuracy on the attacked samples against the {} budget ε, a colour per attack "
            "(square: black-box; transfer: crafted on the other network; pgd_slope: PGD through "
            "another surrogate slope).{}",
            norm_name(norm), styles));
    if (!robust.empty())
      page.figure("robustness_" + stem + "_robust",
                  line_plot(accuracy_figure(fmt::format("Robust accuracy ({})", norm_name(norm)),
                                            xl, robust),
                            robust),
                  "Per sample the minimum over every attack at that ε: a sample counts only if "
                  "no attack fooled it." +
                      styles);
  }

  // Robust accuracy with the worst attack.
  std::vector<std::vector<std::string>> rows;
  // Where the worst attack was a masking check: "network: attack (norm ε" → the ε values.
  std::vector<std::pair<std::string, std::vector<std::string>>> masking;
  for (const Model& m : models)
    for (const Robust& b : m.robust) {
      rows.push_back({m.label, norm_name(b.norm), eps_label(b.norm, b.eps), count(b.samples),
                      number(b.accuracy), b.worst, number(b.worst_accuracy)});
      if (b.worst == "pgd" || b.worst == "fgsm") continue;
      const std::string key = fmt::format("{}: {} ({} ε", m.label, b.worst, norm_name(b.norm));
      auto it = std::find_if(masking.begin(), masking.end(),
                             [&](const auto& k) { return k.first == key; });
      if (it == masking.end()) it = masking.insert(masking.end(), {key, {}});
      it->second.push_back(eps_label(b.norm, b.eps));
    }
  if (!rows.empty()) {
    page.heading("Robust accuracy");
    page.text(
        "A robustness claim needs the checks against gradient masking to agree with the "
        "white-box gradient attacks: transfer attacks crafted on the other network, the "
        "black-box square attack (which uses no gradient) and PGD through other surrogate slopes "
        "must not find what FGSM and PGD missed. That is why the robust accuracy is, per sample, "
        "the minimum over all attacks at that ε (on the samples every attack ran on), and why "
        "the worst single attack is listed beside it.");
    std::vector<std::string> found;
    for (const auto& [key, eps] : masking)
      found.push_back(fmt::format("{} {})", key, fmt::join(eps, ", ")));
    if (!found.empty())
      page.text(esc(
          fmt::format("The strongest attack was a masking check, not plain FGSM or PGD — {}. There "
                      "FGSM and PGD alone overstate the robustness.",
                      fmt::join(found, "; "))));
    page.table(
        {"network", "norm", "ε", "samples", "robust accuracy", "worst attack", "its accuracy"},
        rows);
  }

  // Energy per sample, with the assumptions it rests on.
  page.heading("Energy per sample");
  for (const Model& m : models) {
    const Energy& e = m.energy;
    const bool snn = e.network == "snn";
    page.text(esc(fmt::format(
        "{}: {} pJ per accumulate (a synaptic operation), {} pJ per multiply-accumulate, {} pJ "
        "per 32-bit SRAM access ({}); the ANN figures count {} pass(es) per sample.{}",
        m.label, number(e.pj_acc), number(e.pj_mac), number(e.pj_sram), e.source, number(e.passes),
        snn ? fmt::format(" SNN {} nJ against the ANN estimate {} nJ ({}×).", nj(e.snn_total),
                          nj(e.ann_total), number(e.snn_total / e.ann_total))
            : fmt::format(" Total {} nJ.", nj(e.ann_total)))));
    std::vector<std::vector<std::string>> er;
    Layer t{0, 0, 0, 0, 0, 0, 0, 0};
    auto add = [&](std::string name, const Layer& y) {
      if (snn)
        er.push_back({std::move(name), count(y.spikes), count(y.synops), count(y.updates),
                      nj(y.snn_arith), nj(y.snn_mem), count(y.macs), nj(y.ann_arith),
                      nj(y.ann_mem)});
      else
        er.push_back({std::move(name), count(y.macs), nj(y.ann_arith), nj(y.ann_mem)});
    };
    for (std::size_t l = 0; l < e.layers.size(); ++l) {
      const Layer& y = e.layers[l];
      add(std::to_string(l), y);
      t.spikes += y.spikes, t.synops += y.synops, t.updates += y.updates;
      t.snn_arith += y.snn_arith, t.snn_mem += y.snn_mem;
      t.macs += y.macs, t.ann_arith += y.ann_arith, t.ann_mem += y.ann_mem;
    }
    add("total", t);
    if (snn)
      page.table({"layer", "spikes", "synaptic ops", "neuron updates", "SNN arithmetic (nJ)",
                  "SNN memory (nJ)", "ANN MACs", "ANN arithmetic (nJ)", "ANN memory (nJ)"},
                 er);
    else
      page.table({"layer", "MACs", "arithmetic (nJ)", "memory (nJ)"}, er);
  }
}

}  // namespace volley::report::internal
