// `volley example NAME`: built-in experiments that run on the simulation engine and write a
// JSON summary beside a plot. For now: sound-localization (the Jeffress model of Goodman's
// Brian tutorial).
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <numeric>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "core/atomic_file.hpp"
#include "errors.hpp"
#include "volley/analysis/sound_localization.hpp"
#include "volley/ear/ipd_task.hpp"
#include "volley/io/train_config.hpp"
#include "volley/io/training.hpp"
#include "volley/report/plot.hpp"
#include "volley/train/checkpoint.hpp"
#include "volley/train/loss.hpp"
#include "volley/error.hpp"

namespace volley::cli {
namespace {

namespace fs = std::filesystem;

struct ExampleArgs {
  std::size_t fibres = 1;
  long long seed = 1;
  std::string out = "volley-sound-localization";
  double step = 10.0;
};

// Estimated against true IPD: the most-active-detector estimate and the population vector.
std::string ipd_svg(const analysis::JeffressSweep& s, std::size_t fibres) {
  report::Figure f;
  f.title = fmt::format("Jeffress model, {} fibre(s) per ear: mean error {:.1f}° (max), {:.1f}° (population vector)",
                        fibres, s.mean_abs_error_deg, s.mean_abs_error_pv_deg);
  f.x = {"true IPD (degrees)", false, 0.0, 360.0};
  f.y = {"estimated IPD (degrees)", false, 0.0, 360.0};
  f.width_px = 560;
  f.height_px = 520;
  report::Series most{"most active detector", {}, {}, true}, pv{"population vector", {}, {}, true};
  for (const auto& e : s.per_ipd) {
    most.x.push_back(e.true_deg);
    most.y.push_back(e.estimate_deg);
    pv.x.push_back(e.true_deg);
    pv.y.push_back(e.population_vector_deg);
  }
  return report::line_plot(f, {report::Series{"exact", {0.0, 360.0}, {0.0, 360.0}}, most, pv});
}

int run_sound_localization(const ExampleArgs& a) {
  return run_command("example sound-localization", [&] {
    analysis::JeffressConfig c;
    c.fibres_per_ear = a.fibres;
    c.seed = static_cast<std::uint64_t>(a.seed);
    std::error_code ec;
    fs::create_directories(a.out, ec);
    if (ec || !fs::is_directory(a.out))
      throw IoError(fmt::format("--out: cannot create directory '{}'", a.out));
    const analysis::JeffressSweep s = analysis::sweep_jeffress(c, a.step);
    nlohmann::json per = nlohmann::json::array();
    for (const auto& e : s.per_ipd)
      per.push_back({{"true_deg", e.true_deg},
                     {"estimate_deg", e.estimate_deg},
                     {"population_vector_deg", e.population_vector_deg},
                     {"spikes", std::accumulate(e.counts.begin(), e.counts.end(), std::uint64_t{0})}});
    nlohmann::json j = {{"fibres_per_ear", a.fibres},
                        {"detectors_per_fibre_pair", c.detectors},
                        {"seed", a.seed},
                        {"rate_max_hz", c.rate_max},
                        {"frequency_hz", c.frequency},
                        {"power", c.power},
                        {"seconds_per_estimate", c.duration},
                        {"mean_abs_error_deg", s.mean_abs_error_deg},
                        {"mean_abs_error_population_vector_deg", s.mean_abs_error_pv_deg},
                        {"wall_seconds", s.wall_seconds},
                        {"per_ipd", per}};
    detail::write_file_atomically((fs::path(a.out) / "summary.json").string(), j.dump(2) + "\n");
    write_optional_figure("example sound-localization", (fs::path(a.out) / "ipd.svg").string(),
                          [&] { return ipd_svg(s, a.fibres); });
    detail::write_file_atomically((fs::path(a.out) / "model_ipd90.toml").string(),
                                  analysis::jeffress_model_text(c, 90.0));
    fmt::print("volley example sound-localization: {} fibre(s) per ear, {} IPDs in {:.2f} s\n",
               a.fibres, s.per_ipd.size(), s.wall_seconds);
    fmt::print("  true  estimate  pop.vector\n");
    for (const auto& e : s.per_ipd)
      fmt::print("  {:>4.0f}  {:>8.1f}  {:>10.1f}\n", e.true_deg, e.estimate_deg, e.population_vector_deg);
    fmt::print("  mean absolute error: {:.1f}° (most active detector), {:.1f}° (population vector)\n",
               s.mean_abs_error_deg, s.mean_abs_error_pv_deg);
    fmt::print("  results in {}/ (summary.json, ipd.svg, model_ipd90.toml)\n", a.out);
    return 0;
  });
}

struct DecoderArgs {
  std::string checkpoint;
  std::size_t jeffress_fibres = 100;
  std::size_t jeffress_samples = 200;
  std::string out = "volley-ipd-decoder";
};

// The trained IPD decoder against the Jeffress network on the same test IPDs and stimulus.
int run_ipd_decoder(const DecoderArgs& a) {
  return run_command("example ipd-decoder", [&] {
    const train::Checkpoint ck = train::read_checkpoint(a.checkpoint);
    io::TrainConfig cfg =
        io::load_train_string(ck.config_text, ck.config_name, io::options_from_checkpoint(ck.options));
    if (cfg.data.kind != io::DataConfig::Kind::ipd)
      throw ConfigError(fmt::format("{}: was trained on another dataset; ipd-decoder needs "
                                    "data.dataset = \"ipd\" (examples/ipd_decoder.toml)",
                                    a.checkpoint));
    io::DataSets data = io::load_data(cfg);
    const auto& test = dynamic_cast<const ear::IpdSource&>(*data.test);
    train::NetConfig nc = cfg.net;
    nc.n_inputs = test.n_inputs();
    train::Net net(nc);
    train::restore(ck, net, nullptr, a.checkpoint);
    train::SampleRecord rec;
    train::Workspace ws;
    train::SampleEvents ev;
    double err_snn = 0.0;
    std::size_t correct = 0;
    std::vector<double> per_sample(test.size());
    for (std::size_t i = 0; i < test.size(); ++i) {
      test.fill(i, 0, ev);
      net.forward(ev, rec, ws, false);
      const auto sl = train::sample_loss(cfg.loss, net, rec, test.label(i), 1.0f, nullptr);
      per_sample[i] = std::fabs(test.class_centre_deg(sl.predicted) - test.ipd_deg(i));
      err_snn += per_sample[i];
      correct += sl.predicted == test.label(i);
    }
    err_snn /= static_cast<double>(test.size());
    // Jeffress with the same stimulus on the first jeffress_samples test IPDs.
    analysis::JeffressConfig jc;
    jc.fibres_per_ear = a.jeffress_fibres;
    jc.rate_max = cfg.data.ipd.rate_max;
    jc.frequency = cfg.data.ipd.frequency;
    jc.power = cfg.data.ipd.power;
    jc.duration = static_cast<double>(cfg.net.n_steps) * cfg.net.dt;
    const std::size_t m = std::min(a.jeffress_samples, test.size());
    double err_j = 0.0, err_pv = 0.0, err_snn_m = 0.0;
    for (std::size_t i = 0; i < m; ++i) {
      const double ipd = test.ipd_deg(i);
      const auto e = analysis::run_jeffress(jc, ipd, i);
      err_j += analysis::circular_error_deg(e.estimate_deg, ipd);
      err_pv += analysis::circular_error_deg(e.population_vector_deg, ipd);
      err_snn_m += per_sample[i];
    }
    const double md = static_cast<double>(m);
    nlohmann::json j = {{"checkpoint", a.checkpoint},
                        {"test_samples", test.size()},
                        {"snn_accuracy", static_cast<double>(correct) / static_cast<double>(test.size())},
                        {"snn_mean_abs_error_deg", err_snn},
                        {"compared_samples", m},
                        {"snn_mean_abs_error_deg_compared", err_snn_m / md},
                        {"jeffress_fibres_per_ear", a.jeffress_fibres},
                        {"jeffress_mean_abs_error_deg", err_j / md},
                        {"jeffress_population_vector_mean_abs_error_deg", err_pv / md}};
    std::error_code ec;
    fs::create_directories(a.out, ec);
    detail::write_file_atomically((fs::path(a.out) / "summary.json").string(), j.dump(2) + "\n");
    fmt::print("volley example ipd-decoder: trained SNN {:.4f} accuracy ({} classes), mean error "
               "{:.1f}° over {} test IPDs\n  on the first {}: SNN {:.1f}°, Jeffress ({} fibres "
               "per ear) {:.1f}° (most active detector), {:.1f}° (population vector)\n"
               "  results in {}/summary.json\n",
               static_cast<double>(correct) / static_cast<double>(test.size()), test.n_classes(),
               err_snn, test.size(), m, err_snn_m / md, a.jeffress_fibres, err_j / md, err_pv / md,
               a.out);
    return 0;
  });
}

}  // namespace

void add_example_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ExampleArgs>();
  CLI::App* ex = app.add_subcommand("example", "Built-in experiments with a JSON summary and a plot.");
  ex->require_subcommand(1);
  CLI::App* sl = ex->add_subcommand(
      "sound-localization",
      "The Jeffress model of Goodman's Brian tutorial: Poisson ear fibres phase-locked to a 50 Hz\n"
      "tone (400 Hz peak rate), 100 coincidence detectors with delay lines, IPD swept 0-350° in\n"
      "10° steps, 1 s per estimate. Writes OUT/summary.json, OUT/ipd.svg and the model file.");
  sl->add_option("--fibres", args->fibres, "Poisson fibres per ear (each feeds its own detector array)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sl->add_option("-s,--seed", args->seed, "random seed")->check(CLI::NonNegativeNumber)->capture_default_str();
  sl->add_option("--step", args->step, "IPD step in degrees")->check(CLI::Range(0.1, 180.0))->capture_default_str();
  sl->add_option("-o,--out", args->out, "output directory")->capture_default_str();
  sl->callback([args, &exit_code] { exit_code = run_sound_localization(*args); });

  auto dargs = std::make_shared<DecoderArgs>();
  CLI::App* dec = ex->add_subcommand(
      "ipd-decoder",
      "Compare a trained IPD decoder (a checkpoint of `volley train examples/ipd_decoder.toml`)\n"
      "with the Jeffress network on the same test IPDs and stimulus. Writes OUT/summary.json.");
  dec->add_option("checkpoint", dargs->checkpoint, "checkpoint.bin of an ipd training run")->required();
  dec->add_option("--jeffress-fibres", dargs->jeffress_fibres, "fibres per ear of the Jeffress network")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  dec->add_option("--jeffress-samples", dargs->jeffress_samples, "test IPDs given to the Jeffress network")
      ->check(CLI::Range(1, 100000))->capture_default_str();
  dec->add_option("-o,--out", dargs->out, "output directory")->capture_default_str();
  dec->callback([dargs, &exit_code] { exit_code = run_ipd_decoder(*dargs); });
}

}  // namespace volley::cli
