// `volley fi`: f–I curve of a neuron model, its rheobase and excitability class.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "commands.hpp"
#include "core/atomic_file.hpp"
#include "errors.hpp"
#include "volley/analysis/fi_curve.hpp"
#include "volley/error.hpp"
#include "volley/io/fi_file.hpp"
#include "volley/models/registry.hpp"
#include "volley/report/plot.hpp"

namespace volley::cli {
namespace {

// The curve from rest and from firing (rates against current), drawn by the report library like
// every volley figure.
std::string fi_svg(const analysis::FiResult& r, const std::string& unit) {
  report::Figure f;
  f.title = fmt::format("{}{} — class {}{}", r.model, r.preset.empty() ? "" : " (" + r.preset + ")",
                        r.excitability_class, r.hysteresis ? ", hysteresis" : "");
  f.x.label = fmt::format("injected current ({})", unit);
  f.y.label = "rate (Hz)";
  report::Series rest{"from rest", {}, {}}, firing{"from firing", {}, {}};
  for (const auto& p : r.curve) {
    rest.x.push_back(p.current);
    rest.y.push_back(p.rate_from_rest);
    firing.x.push_back(p.current);
    firing.y.push_back(p.rate_from_firing);
  }
  return report::line_plot(f, {rest, firing});
}

int run_fi(const analysis::FiOptions& o, const std::string& out_dir) {
  namespace fs = std::filesystem;
  return run_command("fi", [&] {
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec || !fs::is_directory(out_dir))
      throw IoError(fmt::format("--out: cannot create directory '{}'", out_dir));
    const auto r = analysis::measure_fi(o);
    io::write_fi(out_dir, r);
    write_optional_figure("fi", (fs::path(out_dir) / "fi.svg").string(),
                          [&] { return fi_svg(r, r.unit); });
    const std::string name = r.model + (r.preset.empty() ? "" : " (" + r.preset + ")");
    if (r.excitability_class == "none") {
      fmt::print("volley fi: {}: class none: {}\n", name, r.decision);
    } else {
      fmt::print(
          "volley fi: {}: class {}, rheobase {:.5g} {}, onset {:.3g} Hz ({:.2g}x the slowest "
          "resolvable {:.3g} Hz), max {:.4g} Hz{}\n",
          name, r.excitability_class, r.rheobase, r.unit, r.onset_rate_hz, r.jump_ratio,
          r.min_rate_hz, r.max_rate_hz, r.hysteresis ? ", hysteresis" : "");
      if (r.excitability_class == "II")
        fmt::print(
            "  near onset the rate starts high: {:.4g} Hz at the rheobase, {:.4g} Hz at {:.4g} {} "
            "(no square-root law)\n",
            r.onset_rate_hz, r.onset.back().rate, r.onset.back().current, r.unit);
      else if (r.sqrt_fit.valid)
        fmt::print("  near onset f = c sqrt(I - I0): I0 = {:.5g} {}, R² {:.4f}{}\n",
                   r.sqrt_fit.rheobase, r.unit, r.sqrt_fit.r2,
                   r.power_fit.valid ? fmt::format("; free exponent {:.3f} (R² {:.4f})",
                                                   r.power_fit.exponent, r.power_fit.r2)
                                     : "");
    }
    fmt::print("  results in {}/ (fi.csv, fi.json, fi.svg); {:.0f} neuron-seconds simulated\n",
               out_dir, r.neuron_seconds);
    return 0;
  });
}

}  // namespace

void add_fi_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<analysis::FiOptions>();
  auto out = std::make_shared<std::string>("volley-fi");
  CLI::App* fi = app.add_subcommand(
      "fi",
      "Measure the f–I curve of a neuron model, its rheobase and excitability class. Each current\n"
      "is held by its own neuron, started from rest (current ramped up from 0) and from the\n"
      "firing state (ramped down from a current that fires); only steady firing at 3 spikes per\n"
      "counting window or faster counts. The classification does not depend on --i-min/--i-max:\n"
      "the rheobase is found by a geometric scan from rest (1 pA..10 mA, or 1 uV..10 V) and\n"
      "bisection; class I if the rate there is at that floor, or if its period still diverges\n"
      "there (f -> 0 as 1/log, as for lif); class II if it is >= 3x the floor and the period\n"
      "levels off (a jump to a minimum frequency); windows up to 16 s while unclear. The rates\n"
      "just above the rheobase are fitted with f = c sqrt(I - I0); hysteresis if a current below\n"
      "the rheobase keeps firing from the firing state but not from rest. fi.json records how\n"
      "it decided (brackets, fits, probes, durations, the slowest rate resolved).\n"
      "Writes OUT/fi.csv, OUT/fi.json and OUT/fi.svg.");
  // The model and preset lists come from the neuron-model registry.
  std::string models, presets;
  for (const auto& m : neuron_models()) {
    if (m.source != SourceKind::kNone) continue;  // spike sources have no f-I curve
    models += fmt::format("{}{}", models.empty() ? "" : ", ", m.name);
    for (const auto& p : m.presets)
      presets += fmt::format("{}{} ({})", presets.empty() ? "" : ", ", p.name, m.name);
  }
  fi->add_option("-m,--model", o->model,
                 fmt::format("neuron model: {} (`volley models NAME` shows one)", models))
      ->required();
  fi->add_option("-p,--preset", o->preset, fmt::format("model preset: {}", presets));
  fi->add_option(
      "--i-min", o->i_min,
      "lowest current of the plotted curve, with unit (default: 0; a voltage, e.g. \"0 mV\", "
      "for models driven by a voltage: lif, izhikevich without R)");
  fi->add_option("--i-max", o->i_max,
                 "highest current of the plotted curve, with unit (default: 3x the rheobase)");
  fi->add_option("--points", o->points, "number of currents on the plotted curve")
      ->capture_default_str();
  fi->add_option("-d,--duration", o->step_duration,
                 "plotted curve: time at each current, the rate counted over its second half")
      ->capture_default_str();
  fi->add_option("--dt", o->dt, "simulation time step")->capture_default_str();
  fi->add_option("-t,--threads", o->threads,
                 "worker threads (each measurement is one network of many neurons; results do not "
                 "depend on it)")
      ->check(kCount)
      ->capture_default_str();
  fi->add_option("-o,--out", *out, "output directory")->capture_default_str();
  fi->callback([o, out, &exit_code] { exit_code = run_fi(*o, *out); });
}

}  // namespace volley::cli
