// `volley report DIR`: a self-contained report.html (and figures/*.svg) for a simulation, a
// training run, a recorded network or an f–I run; `volley analyze FILE.h5`: spike-train
// statistics on the terminal or as JSON.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "errors.hpp"
#include "volley/analysis/spike_stats.hpp"
#include "volley/error.hpp"
#include "volley/io/recording.hpp"
#include "volley/report/report.hpp"

namespace volley::cli {
namespace {

struct ReportArgs {
  std::string dir;
  report::ReportOptions options;
};

struct AnalyzeArgs {
  std::string file;
  std::string population;
  bool json = false;
};

int run_report(ReportArgs& a) {
  return run_command("report", [&] {
    const auto t0 = std::chrono::steady_clock::now();
    const report::ReportResult r = report::write_report(a.dir, a.options);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("volley report: {} ({}; {} figures, {:.1f} MB) in {:.1f} s\n", r.html_path,
               fmt::join(r.kinds, ", "), r.figures.size(), static_cast<double>(r.html_bytes) / 1048576.0, s);
    return 0;
  });
}

int run_analyze(const AnalyzeArgs& a) {
  return run_command("analyze", [&] {
    const io::Recording rec = io::read_recording(a.file);
    if (!a.population.empty() && !rec.find(a.population)) {
      std::string names;
      for (const auto& p : rec.populations) names += (names.empty() ? "" : ", ") + p.name;
      throw ParameterError(fmt::format("--population '{}': not in {} (it has: {})", a.population, a.file, names));
    }
    nlohmann::ordered_json out;
    out["file"] = a.file;
    out["duration_s"] = rec.duration;
    for (const auto& p : rec.populations) {
      if (!a.population.empty() && p.name != a.population) continue;
      if (p.times.empty() && p.size == 0) continue;
      analysis::SpikeTrains st;
      st.times = p.times;
      st.units = p.units;
      st.n_neurons = std::max<std::size_t>(p.size, 1);
      st.t_start = 0.0;
      st.t_stop = rec.duration > 0.0 ? rec.duration : 1.0;
      const auto entries = analysis::stat_entries(analysis::simulation_stats(st));
      if (a.json) {
        nlohmann::ordered_json j;
        j["neurons"] = p.size;
        j["spikes"] = p.times.size();
        for (const auto& e : entries) j[e.name] = std::isfinite(e.value) ? nlohmann::ordered_json(e.value) : nullptr;
        out["populations"][p.name] = j;
      } else {
        fmt::print("{} — {} neurons, {} spikes, {:.3f} s\n", p.name, p.size, p.times.size(), st.t_stop);
        for (const auto& e : entries) fmt::print("  {:<34} {:>12.5g} {}\n", e.name, e.value, e.unit);
      }
    }
    if (a.json) fmt::print("{}\n", out.dump(2));
    return 0;
  });
}

}  // namespace

void add_report_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ReportArgs>();
  auto* c = app.add_subcommand(
      "report",
      "Write DIR/report.html (self-contained, works offline) and DIR/figures/*.svg for the\n"
      "results in DIR: a simulation (spikes.h5), a training run (metrics.jsonl), a recorded\n"
      "network (record.h5 from `volley eval --record DIR`) or an f-I run (fi.json). Needs gnuplot.");
  c->add_option("dir", args->dir, "results directory")->required();
  c->add_option("-o,--out", args->options.out, "HTML file (default DIR/report.html)");
  c->add_option("--max-raster-points", args->options.max_raster_points,
                "spikes drawn per raster; larger populations show every k-th neuron")
      ->capture_default_str();
  c->callback([args, &exit_code] { exit_code = run_report(*args); });

  auto a = std::make_shared<AnalyzeArgs>();
  auto* an = app.add_subcommand(
      "analyze", "Spike-train statistics of spikes.h5 (volley sim) or record.h5 (volley eval --record)");
  an->add_option("file", a->file, "spikes.h5 or record.h5")->required();
  an->add_option("-p,--population", a->population, "only this population");
  an->add_flag("--json", a->json, "print JSON instead of a table");
  an->callback([a, &exit_code] { exit_code = run_analyze(*a); });
}

}  // namespace volley::cli
