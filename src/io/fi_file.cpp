#include "volley/io/fi_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.hpp"
#include "volley/error.hpp"

namespace volley::io {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// NaN (nothing measured) is written as null.
json number(double x) { return std::isfinite(x) ? json(x) : json(); }

json protocol_json(const FiProtocol& p) {
  return {{"settle", p.settle},
          {"ramp", p.ramp},
          {"transient", p.transient},
          {"window", p.window},
          {"min_rate_hz", p.min_rate_hz()}};
}

json fit_json(const OnsetFit& f) {
  return {{"valid", f.valid},
          {"rheobase", number(f.rheobase)},
          {"coefficient", number(f.coefficient)},
          {"exponent", number(f.exponent)},
          {"r2", number(f.r2)},
          {"points", f.points},
          {"current_range", {number(f.current_lo), number(f.current_hi)}}};
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("cannot read '{}'", path.string()));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Typed access to fi.json with messages that name the file and the key.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  const json& need(const json& obj, const char* key, const std::string& where = "") const {
    if (!obj.is_object() || !obj.contains(key))
      throw IoError(fmt::format("{}: missing key '{}{}'", file_, where, key));
    return obj.at(key);
  }
  double num(const json& obj, const char* key, double fallback,
             const std::string& where = "") const {
    if (!obj.is_object() || !obj.contains(key) || obj.at(key).is_null()) return fallback;
    const json& v = obj.at(key);
    if (!v.is_number())
      throw IoError(
          fmt::format("{}: '{}{}' must be a number, got {}", file_, where, key, v.dump()));
    return v.get<double>();
  }
  std::string str(const json& obj, const char* key, const std::string& fallback,
                  const std::string& where = "") const {
    if (!obj.is_object() || !obj.contains(key)) return fallback;
    const json& v = obj.at(key);
    if (!v.is_string())
      throw IoError(
          fmt::format("{}: '{}{}' must be a string, got {}", file_, where, key, v.dump()));
    return v.get<std::string>();
  }
  bool boolean(const json& obj, const char* key, bool fallback,
               const std::string& where = "") const {
    if (!obj.is_object() || !obj.contains(key)) return fallback;
    const json& v = obj.at(key);
    if (!v.is_boolean())
      throw IoError(
          fmt::format("{}: '{}{}' must be true or false, got {}", file_, where, key, v.dump()));
    return v.get<bool>();
  }
  // [a, b] of numbers (null: NaN).
  std::pair<double, double> pair(const json& obj, const char* key,
                                 const std::string& where = "") const {
    if (!obj.is_object() || !obj.contains(key)) return {kNaN, kNaN};
    const json& v = obj.at(key);
    auto ok = [](const json& x) { return x.is_number() || x.is_null(); };
    if (!v.is_array() || v.size() != 2 || !ok(v[0]) || !ok(v[1]))
      throw IoError(
          fmt::format("{}: '{}{}' must be a pair of numbers, got {}", file_, where, key, v.dump()));
    return {v[0].is_null() ? kNaN : v[0].get<double>(), v[1].is_null() ? kNaN : v[1].get<double>()};
  }
  FiProtocol protocol(const json& obj, const char* key, const std::string& where) const {
    FiProtocol p;
    if (!obj.is_object() || !obj.contains(key)) return p;
    const json& v = obj.at(key);
    const std::string w = where + key + ".";
    p.settle = num(v, "settle", 0.0, w);
    p.ramp = num(v, "ramp", 0.0, w);
    p.transient = num(v, "transient", 0.0, w);
    p.window = num(v, "window", 0.0, w);
    return p;
  }
  OnsetFit fit(const json& obj, const char* key, const std::string& where) const {
    OnsetFit f;
    if (!obj.is_object() || !obj.contains(key)) return f;
    const json& v = obj.at(key);
    const std::string w = where + key + ".";
    f.valid = boolean(v, "valid", false, w);
    f.rheobase = num(v, "rheobase", kNaN, w);
    f.coefficient = num(v, "coefficient", 0.0, w);
    f.exponent = num(v, "exponent", kNaN, w);
    f.r2 = num(v, "r2", 0.0, w);
    f.points = static_cast<int>(num(v, "points", 0.0, w));
    std::tie(f.current_lo, f.current_hi) = pair(v, "current_range", w);
    return f;
  }

 private:
  std::string file_;
};

}  // namespace

std::string fi_csv(const FiResult& r) {
  std::string csv = fmt::format("current_{},rate_from_rest_hz,rate_from_firing_hz\n", r.unit);
  for (const auto& p : r.curve)
    csv += fmt::format("{:.9g},{:.6g},{:.6g}\n", p.current, p.rate_from_rest, p.rate_from_firing);
  return csv;
}

std::string fi_json(const FiResult& r) {
  json j;
  j["model"] = r.model;
  j["preset"] = r.preset;
  j["class"] = r.excitability_class;
  j["decision"] = r.decision;
  j["unit"] = r.unit;
  j["rheobase"] = number(r.rheobase);
  j["onset_rate_hz"] = r.onset_rate_hz;
  j["min_rate_hz"] = r.min_rate_hz;
  j["jump_ratio"] = r.jump_ratio;
  j["period_growth"] = number(r.period_growth);
  j["max_rate_hz"] = r.max_rate_hz;
  j["hysteresis"] = r.hysteresis;
  const auto& s = r.search;
  j["rheobase_search"] = {{"scan",
                           {{"from", s.scan_lo},
                            {"to", s.scan_hi},
                            {"ratio", s.scan_ratio},
                            {"points", s.scan_points}}},
                          {"coarse_bracket", {s.coarse_silent, s.coarse_firing}},
                          {"refined_bracket", {s.silent, s.firing}},
                          {"tolerance", s.tolerance},
                          {"rounds", s.rounds},
                          {"windows_s", s.windows}};
  json onset = json::array();
  for (const auto& p : r.onset) onset.push_back({p.current, p.rate});
  j["onset"] = {
      {"points", onset}, {"sqrt_fit", fit_json(r.sqrt_fit)}, {"power_fit", fit_json(r.power_fit)}};
  json probes = json::array();
  for (const auto& p : r.bistability)
    probes.push_back({{"current", p.current},
                      {"rate_from_rest_hz", p.rate_from_rest},
                      {"rate_from_firing_hz", p.rate_from_firing},
                      {"bistable", p.rate_from_rest == 0.0 && p.rate_from_firing > 0.0}});
  j["bistability"] = {{"reference_current", number(r.reference_current)},
                      {"reference_rate_hz", r.reference_rate_hz},
                      {"probes", probes}};
  j["durations_s"] = {{"dt", r.dt},
                      {"scan", protocol_json(s.scan)},
                      {"classification", protocol_json(r.protocol)},
                      {"curve", protocol_json(r.curve_protocol)}};
  j["neuron_seconds"] = r.neuron_seconds;
  j["criterion"] = r.criterion;
  return j.dump(2) + "\n";
}

void write_fi(const std::string& dir, const FiResult& r) {
  detail::write_file_atomically((fs::path(dir) / "fi.csv").string(), fi_csv(r));
  detail::write_file_atomically((fs::path(dir) / "fi.json").string(), fi_json(r));
}

FiResult read_fi(const std::string& dir_s) {
  const fs::path dir(dir_s);
  FiResult r;
  {
    const fs::path path = dir / "fi.json";
    const std::string file = path.string();
    json j;
    try {
      j = json::parse(read_text(path));
    } catch (const json::parse_error& e) {
      throw IoError(fmt::format("{}: not valid JSON: {}", file, e.what()));
    }
    if (!j.is_object()) throw IoError(fmt::format("{}: expected a JSON object", file));
    const Reader rd(file);
    rd.need(j, "model");
    rd.need(j, "class");
    r.model = rd.str(j, "model", "");
    r.excitability_class = rd.str(j, "class", "");
    r.preset = rd.str(j, "preset", "");
    r.decision = rd.str(j, "decision", "");
    r.unit = rd.str(j, "unit", rd.str(j, "rheobase_unit", "A"));
    if (r.unit != "A" && r.unit != "V")
      throw IoError(fmt::format("{}: 'unit' must be \"A\" or \"V\", got \"{}\"", file, r.unit));
    r.rheobase = rd.num(j, "rheobase", kNaN);
    r.onset_rate_hz = rd.num(j, "onset_rate_hz", 0.0);
    r.min_rate_hz = rd.num(j, "min_rate_hz", 0.0);
    r.jump_ratio = rd.num(j, "jump_ratio", 0.0);
    r.period_growth = rd.num(j, "period_growth", kNaN);
    r.max_rate_hz = rd.num(j, "max_rate_hz", 0.0);
    r.hysteresis = rd.boolean(j, "hysteresis", false);
    r.criterion = rd.str(j, "criterion", "");
    r.neuron_seconds = rd.num(j, "neuron_seconds", 0.0);
    if (j.contains("rheobase_search")) {
      const json& s = j["rheobase_search"];
      const std::string w = "rheobase_search.";
      if (s.contains("scan")) {
        const json& sc = s["scan"];
        r.search.scan_lo = rd.num(sc, "from", 0.0, w + "scan.");
        r.search.scan_hi = rd.num(sc, "to", 0.0, w + "scan.");
        r.search.scan_ratio = rd.num(sc, "ratio", 0.0, w + "scan.");
        r.search.scan_points = static_cast<int>(rd.num(sc, "points", 0.0, w + "scan."));
      }
      std::tie(r.search.coarse_silent, r.search.coarse_firing) = rd.pair(s, "coarse_bracket", w);
      std::tie(r.search.silent, r.search.firing) = rd.pair(s, "refined_bracket", w);
      r.search.tolerance = rd.num(s, "tolerance", 0.0, w);
      r.search.rounds = static_cast<int>(rd.num(s, "rounds", 0.0, w));
      if (s.contains("windows_s")) {
        const json& ws = s["windows_s"];
        if (!ws.is_array())
          throw IoError(fmt::format("{}: '{}windows_s' must be an array", file, w));
        for (const auto& x : ws) {
          if (!x.is_number())
            throw IoError(fmt::format("{}: '{}windows_s' must hold numbers", file, w));
          r.search.windows.push_back(x.get<double>());
        }
      }
    }
    if (j.contains("onset")) {
      const json& on = j["onset"];
      if (on.contains("points")) {
        for (const auto& p : on["points"]) {
          if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
            throw IoError(fmt::format("{}: 'onset.points' must hold [current, rate] pairs, got {}",
                                      file, p.dump()));
          r.onset.push_back({p[0].get<double>(), p[1].get<double>()});
        }
      }
      r.sqrt_fit = rd.fit(on, "sqrt_fit", "onset.");
      r.power_fit = rd.fit(on, "power_fit", "onset.");
    }
    if (j.contains("bistability")) {
      const json& b = j["bistability"];
      r.reference_current = rd.num(b, "reference_current", kNaN, "bistability.");
      r.reference_rate_hz = rd.num(b, "reference_rate_hz", 0.0, "bistability.");
      if (b.contains("probes")) {
        for (const auto& p : b["probes"])
          r.bistability.push_back({rd.num(p, "current", kNaN, "bistability.probes[]."),
                                   rd.num(p, "rate_from_rest_hz", 0.0, "bistability.probes[]."),
                                   rd.num(p, "rate_from_firing_hz", 0.0, "bistability.probes[].")});
      }
    }
    if (j.contains("durations_s")) {
      const json& d = j["durations_s"];
      r.dt = rd.num(d, "dt", 0.0, "durations_s.");
      r.search.scan = rd.protocol(d, "scan", "durations_s.");
      r.protocol = rd.protocol(d, "classification", "durations_s.");
      r.curve_protocol = rd.protocol(d, "curve", "durations_s.");
    }
  }
  {
    const fs::path path = dir / "fi.csv";
    const std::string file = path.string();
    std::istringstream in(read_text(path));
    std::string line;
    if (!std::getline(in, line))
      throw IoError(fmt::format("{}: empty file (expected a header line)", file));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const bool current = line == "current_A,rate_from_rest_hz,rate_from_firing_hz" ||
                         line == "current_V,rate_from_rest_hz,rate_from_firing_hz";
    const bool old =
        line == "current_A,rate_up_hz,rate_down_hz" || line == "current_V,rate_up_hz,rate_down_hz";
    if (!current && !old)
      throw IoError(
          fmt::format("{}:1: expected the header 'current_A,rate_from_rest_hz,rate_from_firing_hz' "
                      "(or current_V), got '{}'",
                      file, line));
    const std::string unit = line.substr(8, 1);
    if (unit != r.unit)
      throw IoError(
          fmt::format("{}:1: currents in {} but fi.json says unit \"{}\"", file, unit, r.unit));
    for (int lineno = 2; std::getline(in, line); ++lineno) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      double v[3];
      const char* p = line.c_str();
      for (int k = 0; k < 3; ++k) {
        char* end = nullptr;
        errno = 0;
        v[k] = std::strtod(p, &end);
        const char want = k < 2 ? ',' : '\0';
        if (end == p || errno == ERANGE || *end != want)
          throw IoError(fmt::format("{}:{}: expected three numbers separated by commas, got '{}'",
                                    file, lineno, line));
        p = end + (k < 2 ? 1 : 0);
      }
      r.curve.push_back({v[0], v[1], v[2]});
    }
  }
  return r;
}

}  // namespace volley::io
