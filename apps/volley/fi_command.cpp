// `volley fi`: f–I curve of a neuron model, its rheobase and excitability class.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "volley/analysis/fi_curve.hpp"
#include "volley/error.hpp"

namespace volley::cli {
namespace {

// A small SVG line plot of both sweeps (rates against current).
std::string fi_svg(const analysis::FiResult& r, const std::string& unit) {
  const double w = 640, h = 420, l = 70, b = 50, t = 30, rgt = 20;
  const double x0 = r.points.front().current, x1 = r.points.back().current;
  const double y1 = std::max(1.0, r.max_rate_hz * 1.1);
  auto X = [&](double x) { return l + (x - x0) / (x1 - x0) * (w - l - rgt); };
  auto Y = [&](double y) { return h - b - y / y1 * (h - b - t); };
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
      "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      w, h);
  s += fmt::format("<text x=\"{}\" y=\"20\" font-size=\"14\">{}{} — class {}{}</text>\n", l,
                   r.model, r.preset.empty() ? "" : " (" + r.preset + ")", r.excitability_class,
                   r.hysteresis ? ", hysteresis" : "");
  s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/>\n", l, h - b, w - rgt);
  s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\"/>\n", l, h - b, t);
  for (int k = 0; k <= 4; ++k) {
    const double xv = x0 + (x1 - x0) * k / 4, yv = y1 * k / 4;
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{:.3g}</text>\n", X(xv), h - b + 18, xv);
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.0f}</text>\n", l - 6, Y(yv) + 4, yv);
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">injected current ({})</text>\n",
                   (l + w - rgt) / 2, h - 12, unit);
  s += fmt::format("<text x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" text-anchor=\"middle\">rate (Hz)</text>\n",
                   (t + h - b) / 2, (t + h - b) / 2);
  auto line = [&](bool up, const char* colour) {
    std::string pts;
    for (const auto& p : r.points) pts += fmt::format("{:.1f},{:.1f} ", X(p.current), Y(up ? p.rate_up : p.rate_down));
    return fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>\n", colour, pts);
  };
  s += line(true, "#1f77b4") + line(false, "#d62728");
  s += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#1f77b4\">upward sweep</text>\n", l + 10, t + 16);
  s += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#d62728\">downward sweep</text>\n", l + 10, t + 32);
  return s + "</svg>\n";
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  const auto tmp = path.string() + ".partial";
  {
    std::ofstream out(tmp);
    if (!(out << text)) throw IoError(fmt::format("cannot write '{}'", tmp));
  }
  std::filesystem::rename(tmp, path);
}

int run_fi(const analysis::FiOptions& o, const std::string& out_dir) {
  namespace fs = std::filesystem;
  try {
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec || !fs::is_directory(out_dir))
      throw IoError(fmt::format("--out: cannot create directory '{}'", out_dir));
    const auto r = analysis::measure_fi(o);
    const std::string unit = o.i_min.find('V') != std::string::npos ? "V" : "A";
    std::string csv = fmt::format("current_{},rate_up_hz,rate_down_hz\n", unit);
    for (const auto& p : r.points) csv += fmt::format("{:.9g},{:.6g},{:.6g}\n", p.current, p.rate_up, p.rate_down);
    nlohmann::ordered_json j;
    j["model"] = r.model;
    j["preset"] = r.preset;
    j["class"] = r.excitability_class;
    j["rheobase"] = r.rheobase >= 0 ? nlohmann::ordered_json(r.rheobase) : nlohmann::ordered_json();
    j["rheobase_unit"] = unit;
    j["onset_rate_hz"] = r.onset_rate_hz;
    j["max_rate_hz"] = r.max_rate_hz;
    j["hysteresis"] = r.hysteresis;
    j["criterion"] =
        "rheobase refined by bisection; class II if the rate just above it is >= 3x the detection "
        "floor (2 spikes per half step) or if the upward and downward sweeps disagree (one silent, "
        "one firing); class I otherwise";
    write_file(fs::path(out_dir) / "fi.csv", csv);
    write_file(fs::path(out_dir) / "fi.json", j.dump(2) + "\n");
    write_file(fs::path(out_dir) / "fi.svg", fi_svg(r, unit));
    fmt::print("volley fi: {}{}: class {}, rheobase {} {}, onset {:.1f} Hz, max {:.1f} Hz{}\n  results in {}/ (fi.csv, fi.json, fi.svg)\n",
               r.model, r.preset.empty() ? "" : " (" + r.preset + ")", r.excitability_class,
               r.rheobase >= 0 ? fmt::format("{:.4g}", r.rheobase) : "none", unit, r.onset_rate_hz,
               r.max_rate_hz, r.hysteresis ? ", hysteresis" : "", out_dir);
    return 0;
  } catch (const ConfigError& e) {
    fmt::print(stderr, "volley fi: error: {}\n", e.what());
    return 2;
  } catch (const Error& e) {
    fmt::print(stderr, "volley fi: error: {}\n", e.what());
    return 2;
  }
}

}  // namespace

void add_fi_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<analysis::FiOptions>();
  auto out = std::make_shared<std::string>("volley-fi");
  CLI::App* fi = app.add_subcommand(
      "fi",
      "Measure the f–I curve of a neuron model: one neuron is driven by a staircase of currents\n"
      "swept upwards, another by the same staircase downwards (to expose bistability); the rate\n"
      "of each step is counted over its second half (firing = at least 2 spikes there). The rheobase\n"
      "is refined by bisection. Class II if the rate just above the rheobase is at least 3x that\n"
      "detection floor (a jump to a minimum frequency) or if the two sweeps disagree (hysteresis);\n"
      "class I otherwise (the rate rises continuously from zero).\n"
      "Writes OUT/fi.csv, OUT/fi.json and OUT/fi.svg.");
  fi->add_option("-m,--model", o->model, "model name as in model files (hh, wang_buzsaki, morris_lecar, traub_hh, izhikevich, ...)")
      ->required();
  fi->add_option("-p,--preset", o->preset, "model preset, e.g. hopf or snlc for morris_lecar");
  fi->add_option("--i-min", o->i_min,
                 "lowest current, with unit (lif and izhikevich: a voltage drive, default 0 mV)")
      ->capture_default_str();
  fi->add_option("--i-max", o->i_max,
                 "highest current, with unit (lif: default 40 mV, izhikevich: 20 mV)")
      ->capture_default_str();
  fi->add_option("--points", o->points, "number of current steps")->capture_default_str();
  fi->add_option("-d,--duration", o->step_duration, "time spent at each current")->capture_default_str();
  fi->add_option("--dt", o->dt, "simulation time step")->capture_default_str();
  fi->add_option("-o,--out", *out, "output directory")->capture_default_str();
  fi->callback([fi, o, out, &exit_code] {
    // Point models without a membrane resistance are driven by a voltage (R·I); their default
    // sweep is in millivolts (Izhikevich's I is in mV per ms).
    const bool voltage_driven = o->model == "lif" || o->model == "izhikevich";
    if (voltage_driven && fi->count("--i-min") == 0 && fi->count("--i-max") == 0) {
      o->i_min = "0 mV";
      o->i_max = o->model == "lif" ? "40 mV" : "20 mV";
    }
    exit_code = run_fi(*o, *out);
  });
}

}  // namespace volley::cli
