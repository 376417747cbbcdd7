// `volley train` and `volley eval`: surrogate-gradient training from a TOML training file, and
// evaluation of a checkpoint on test data.
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "errors.hpp"
#include "restore.hpp"
#include "volley/error.hpp"
#include "volley/io/export.hpp"
#ifdef VOLLEY_HAVE_HDF5
#include "volley/io/nir.hpp"
#endif
#include "volley/io/train_config.hpp"
#include "volley/io/network_recording.hpp"
#include "volley/io/training.hpp"
#include "volley/train/checkpoint.hpp"
#include "volley/train/decision.hpp"
#include "volley/train/noise.hpp"
#include "volley/train/reservoir.hpp"
#include "volley/train/runner.hpp"
#include "volley/train/trainer.hpp"

namespace volley::cli {
namespace {

struct TrainArgs {
  std::string config;
  std::string out = "volley-train";
  int threads = 0;
  long long seed = -1;
  long long epochs = -1;
  long long train_limit = -1, test_limit = -1;
  std::vector<std::string> sets;
  bool resume = false;
  std::string twin;
};

// The options that change results, as stored in (and checked against) the checkpoint.
// --threads and --epochs are not among them: results do not depend on the thread count, and a
// resumed run may train for more epochs.
std::vector<std::string> effective_options(const TrainArgs& a) {
  io::StoredOptions o;
  if (a.seed >= 0) o.seed = static_cast<std::uint64_t>(a.seed);
  if (a.train_limit >= 0) o.train_limit = static_cast<std::size_t>(a.train_limit);
  if (a.test_limit >= 0) o.test_limit = static_cast<std::size_t>(a.test_limit);
  o.sets = a.sets;
  o.twin = a.twin;
  return io::stored_options(o);
}

int run_train(const TrainArgs& a, Communicator* world) {
  return run_command("train", [&] {
    // Under mpirun: data-parallel over the processes, the first writes and prints.
    const bool distributed = world != nullptr && world->size() > 1;
    const bool writer = !distributed || world->rank() == 0;
    const auto effective = effective_options(a);
    const io::TrainConfig cfg =
        io::load_train_config(a.config, train_options(effective, a.threads, a.epochs));
    io::FitOptions fo;
    fo.out_dir = a.out;
    fo.resume = a.resume;
    fo.options = effective;
    fo.progress_bar = writer && isatty(fileno(stderr)) != 0;
    fo.log = writer ? stderr : nullptr;
    if (distributed) fo.communicator = world;
    const train::FitResult r = io::fit(cfg, fo);
    if (r.stopped) {
      if (writer) fmt::print(stderr, "volley train: error: {}\n", r.message);
      return kDiverged;
    }
    if (!writer) return 0;
    fmt::print("volley train: {} epochs, test accuracy {:.4f}; results in {}/ (metrics.jsonl, "
               "checkpoint.bin, summary.json)\n",
               r.epochs_done, r.test_accuracy, a.out);
    return 0;
  });
}

struct EvalArgs {
  std::string checkpoint;
  std::string data;
  int threads = 0;
  long long test_limit = -1;
  std::string out;
  std::string record;
  std::size_t trace_samples = 8;
  bool decisions = false;
  double early_exit = -1.0;
};

// A checkpoint's network rebuilt as it was trained, with its test data (or `data_path`).
int run_eval(const EvalArgs& a) {
  return run_command("eval", [&] {
    Restored r = restore_checkpoint(a.checkpoint, a.data, a.threads, a.test_limit, !a.record.empty());
    const train::Checkpoint& ck = r.ck;
    const io::TrainConfig& cfg = r.cfg;
    const io::DataSets& data = r.data;
    train::Net& net = *r.net;
    train::Trainer trainer(net, cfg.loss, cfg.optimizer, cfg.training);
    const train::EvalStats st = trainer.evaluate(*data.test);
    const std::size_t C = net.n_outputs();
    fmt::print("volley eval: {} ({} epochs) on {}: accuracy {:.4f}, loss {:.4f}, {} samples in "
               "{:.2f} s ({:.0f} samples/s)\n",
               a.checkpoint, ck.epochs_done, data.test->description(), st.accuracy, st.loss,
               st.samples, st.seconds, static_cast<double>(st.samples) / std::max(st.seconds, 1e-12));
    fmt::print("confusion (rows: true class, columns: predicted)\n");
    for (std::size_t y = 0; y < C; ++y) {
      for (std::size_t p = 0; p < C; ++p) fmt::print("{:>6}", st.confusion[y * C + p]);
      fmt::print("\n");
    }
    // Decisions in time: accuracy at every step, and early exit.
    nlohmann::json decisions;
    if (a.decisions || a.early_exit >= 0.0) {
      train::DecisionOptions dopt;
      dopt.threads = std::max(1, cfg.training.threads);
      const train::DecisionStats full = train::evaluate_decisions(net, cfg.loss, *data.test, dopt);
      const std::size_t T = full.accuracy_at_step.size();
      fmt::print("accuracy over time (steps: accuracy, share of the synaptic operations done):");
      for (std::size_t t = 0; t < T; t += std::max<std::size_t>(1, T / 10))
        fmt::print(" {}: {:.4f} {:.0f}%", t + 1, full.accuracy_at_step[t],
                   100.0 * full.synops_by_step[t] / std::max(full.synops_per_sample, 1e-12));
      fmt::print(" {}: {:.4f}; {:.0f} synaptic operations per sample\n", T, full.accuracy,
                 full.synops_per_sample);
      decisions = {{"accuracy_at_step", full.accuracy_at_step},
                   {"synops_by_step", full.synops_by_step},
                   {"synops_per_sample", full.synops_per_sample}};
      // Energy per sample under stated assumptions, against the ANN twin's multiply-accumulates.
      decisions["energy"] = energy_report(
          net, full, cfg.data.kind == io::DataConfig::Kind::fashion_mnist, true);
      if (a.early_exit >= 0.0) {
        dopt.margin = a.early_exit;
        const train::DecisionStats ex = train::evaluate_decisions(net, cfg.loss, *data.test, dopt);
        fmt::print(
            "early exit at softmax margin {}: accuracy {:.4f} (full length {:.4f}), mean decision "
            "step {:.1f} of {}, {:.0f} synaptic operations per sample ({:.1f} % of full length), "
            "{:.2f} s (full length {:.2f} s)\n",
            a.early_exit, ex.accuracy, full.accuracy, ex.mean_decision_step, T,
            ex.synops_per_sample, 100.0 * ex.synops_per_sample / std::max(full.synops_per_sample, 1e-12),
            ex.seconds, full.seconds);
        decisions["early_exit"] = {{"margin", a.early_exit},
                                   {"accuracy", ex.accuracy},
                                   {"mean_decision_step", ex.mean_decision_step},
                                   {"synops_per_sample", ex.synops_per_sample},
                                   {"seconds", ex.seconds}};
      }
    }
    if (!a.out.empty()) {
      nlohmann::json j = {{"checkpoint", a.checkpoint}, {"accuracy", st.accuracy},
                          {"loss", st.loss},           {"samples", st.samples},
                          {"seconds", st.seconds},     {"confusion", st.confusion},
                          {"classes", C}};
      if (!decisions.is_null()) j["decisions"] = decisions;
      std::ofstream out(a.out);
      out << j.dump(2) << "\n";
      if (!out) throw IoError(fmt::format("--out: cannot write {}", a.out));
    }
    if (!a.record.empty()) {
#ifndef VOLLEY_HAVE_HDF5
      throw IoError("--record writes HDF5; rebuild with VOLLEY_HDF5=ON");
#else
      std::filesystem::create_directories(a.record);
      const std::string path = (std::filesystem::path(a.record) / "record.h5").string();
      io::NetworkRecordOptions ro;
      ro.trace_samples = a.trace_samples;
      ro.class_names = io::class_names(cfg.data);
      const io::NetworkRecordSummary rs = io::record_network(net, cfg.loss, *data.test, ro, path);
      nlohmann::json j = {{"checkpoint", a.checkpoint},        {"accuracy", st.accuracy},
                          {"loss", st.loss},                   {"samples", st.samples},
                          {"confusion", st.confusion},         {"classes", C},
                          {"class_names", ro.class_names},     {"spikes_per_sample", rs.spikes_per_sample},
                          {"epochs", ck.epochs_done}};
      std::ofstream(std::filesystem::path(a.record) / "eval.json") << j.dump(2) << "\n";
      fmt::print("recorded {} samples (spikes of every layer, traces of the first {}) in {} and eval.json\n",
                 rs.samples, std::min(ro.trace_samples, rs.samples), path);
#endif
    }
    return 0;
  });
}


// `volley evolve`: the training file's data, network and loss, optimised by evolution
// strategies ([evolution] table) instead of gradients.
struct EvolveArgs : TrainArgs {
  long long generations = -1;
};

int run_evolve(const EvolveArgs& a, Communicator* world) {
  return run_command("evolve", [&] {
    const bool distributed = world != nullptr && world->size() > 1;
    const bool writer = !distributed || world->rank() == 0;
    const auto effective = effective_options(a);
    io::TrainConfig cfg = io::load_train_config(a.config, train_options(effective, a.threads, -1));
    if (a.generations > 0) cfg.evolution.generations = static_cast<std::size_t>(a.generations);
    cfg.evolution.validate();
    io::EvolveOptions eo;
    eo.out_dir = a.out;
    eo.options = effective;
    eo.log = writer ? stderr : nullptr;
    if (distributed) eo.communicator = world;
    const train::EvolveEnd r = io::evolve(cfg, eo);
    if (!writer) return 0;
    fmt::print("volley evolve: {} generations, test accuracy {:.4f}, {:.1f} candidate evaluations/s; results in {}/\n",
               r.generations, r.test.accuracy, double(r.evaluations) / std::max(r.seconds, 1e-12), a.out);
    return 0;
  });
}

// `volley reservoir`: the training file's first layer as a fixed random reservoir (a liquid
// state machine) with a ridge-regression readout ([reservoir] table).
int run_reservoir(const TrainArgs& a) {
  return run_command("reservoir", [&] {
#ifndef VOLLEY_HAVE_EIGEN
    throw Error("volley reservoir needs Eigen; rebuild with VOLLEY_EIGEN=ON (libeigen3-dev)");
#else
    const auto effective = effective_options(a);
    const io::TrainConfig cfg = io::load_train_config(a.config, train_options(effective, a.threads, -1));
    namespace fs = std::filesystem;
    fs::create_directories(a.out);
    io::DataSets data = io::load_data(cfg);
    train::NetConfig nc = cfg.net;
    nc.n_inputs = data.train->n_inputs();
    const train::Net net(nc);
    const std::size_t N = nc.layers[0].size;
    fmt::print(stderr, "volley reservoir: {} | {} neurons | {} features | {} training samples | {} threads\n",
               cfg.path, N, N * cfg.reservoir.time_bins + 1, data.train->size(), cfg.reservoir.threads);
    const train::ReservoirResult r = train::fit_reservoir(net, *data.train, *data.test, cfg.reservoir);
    nlohmann::ordered_json j = {{"config", cfg.path},
                                {"reservoir_neurons", N},
                                {"features", r.features},
                                {"ridge", cfg.reservoir.ridge},
                                {"time_bins", cfg.reservoir.time_bins},
                                {"train_samples", data.train->size()},
                                {"test_samples", data.test->size()},
                                {"train_accuracy_first_10000", r.train_accuracy},
                                {"test_accuracy", r.test_accuracy},
                                {"mean_reservoir_spikes_per_sample", r.mean_spikes_per_sample},
                                {"seconds_features", r.seconds_features},
                                {"seconds_solve", r.seconds_solve},
                                {"confusion", r.confusion}};
    fmt::print("volley reservoir: test accuracy {:.4f} (train {:.4f}); {:.1f} s for the features, {:.1f} s for the "
               "solve\n",
               r.test_accuracy, r.train_accuracy, r.seconds_features, r.seconds_solve);
    if (cfg.memory_capacity) {
      train::MemoryCapacityConfig mc;
      mc.seed = cfg.training.seed;
      const train::MemoryCapacityResult m = train::memory_capacity(nc.layers[0], nc.dt, mc);
      j["memory_capacity"] = m.capacity;
      j["memory_r2_per_delay"] = m.r2;
      fmt::print("  memory capacity {:.2f} (r² at delays 1, 2, 5, 10: {:.3f} {:.3f} {:.3f} {:.3f})\n", m.capacity,
                 m.r2[1], m.r2[2], m.r2[5], m.r2[10]);
    }
    std::ofstream(fs::path(a.out) / "summary.json") << j.dump(2) << "\n";
    fmt::print("  results in {}/summary.json\n", a.out);
    return 0;
#endif
  });
}

}  // namespace

void add_reservoir_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* c = app.add_subcommand(
      "reservoir",
      "Reservoir computing: the training file's first layer as a fixed random spiking reservoir\n"
      "(a liquid state machine) with a readout trained by ridge regression ([reservoir] table:\n"
      "ridge, time_bins, memory_capacity). Writes OUT/summary.json.");
  c->add_option("config", args->config, "training file (TOML)")->required();
  c->add_option("-o,--out", args->out, "output directory")->required();
  c->add_option("-t,--threads", args->threads, "worker threads")->check(kCount);
  c->add_option("-s,--seed", args->seed, "seed for the reservoir's weights")->check(CLI::NonNegativeNumber);
  c->add_option("--train-limit", args->train_limit, "use the first N training samples")->check(kCount);
  c->add_option("--test-limit", args->test_limit, "use the first N test samples")->check(kCount);
  c->add_option("--set", args->sets, "override a field: dotted.path=VALUE (TOML syntax)");
  c->callback([args, &exit_code] { exit_code = run_reservoir(*args); });
}

void add_evolve_command(CLI::App& app, int& exit_code, Communicator* world) {
  auto args = std::make_shared<EvolveArgs>();
  CLI::App* c = app.add_subcommand(
      "evolve",
      "Optimise a training file's network by evolution strategies (OpenAI-ES or separable\n"
      "CMA-ES, [evolution] table) instead of gradients. Writes metrics.jsonl, checkpoint.bin\n"
      "(usable by volley eval) and summary.json.");
  c->add_option("config", args->config, "training file (TOML) with an [evolution] table")->required();
  c->add_option("-o,--out", args->out, "output directory")->required();
  c->add_option("-t,--threads", args->threads, "worker threads (candidates are evaluated in parallel)")
      ->check(kCount);
  c->add_option("-s,--seed", args->seed, "seed for weights, noise and minibatches")->check(CLI::NonNegativeNumber);
  c->add_option("--generations", args->generations, "overrides evolution.generations")->check(kCount);
  c->add_option("--train-limit", args->train_limit, "use the first N training samples")->check(kCount);
  c->add_option("--test-limit", args->test_limit, "use the first N test samples")->check(kCount);
  c->add_option("--set", args->sets, "override a field: dotted.path=VALUE (TOML syntax)");
  c->callback([args, &exit_code, world] { exit_code = run_evolve(*args, world); });
}

void add_train_command(CLI::App& app, int& exit_code, Communicator* world) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* c = app.add_subcommand(
      "train",
      "Train a spiking network by surrogate-gradient descent from a TOML training file\n"
      "(docs/training-format.md; examples/fmnist.toml is the SpyTorch Fashion-MNIST set-up).\n"
      "Writes OUT/metrics.jsonl (one line per epoch), OUT/checkpoint.bin (after every epoch)\n"
      "and OUT/summary.json.");
  c->add_option("config", args->config, "training file (TOML)")->required();
  c->add_option("-o,--out", args->out, "output directory")->capture_default_str();
  c->add_option("-t,--threads", args->threads,
                "worker threads (results do not depend on it)")
      ->check(kCount);
  c->add_option("-s,--seed", args->seed, "seed for weights, shuffling and encoders")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--epochs", args->epochs, "number of epochs (overrides training.epochs)")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--train-limit", args->train_limit, "use the first N training samples")
      ->check(kCount);
  c->add_option("--test-limit", args->test_limit, "use the first N test samples")
      ->check(kCount);
  c->add_option("--set", args->sets, "override a field: dotted.path=VALUE (TOML syntax)")
      ->take_all();
  c->add_flag("--resume", args->resume,
              "continue the run in OUT from its checkpoint (same file and options)");
  c->add_option("--twin", args->twin,
                "ann: train the network's non-spiking twin instead (relu units in place of the "
                "spiking layers; an MLP on the pixels for static images; overrides twin.kind)")
      ->check(CLI::IsMember({"snn", "ann"}));
  c->callback([args, &exit_code, world] { exit_code = run_train(*args, world); });
}

struct ExportArgs {
  std::string checkpoint, out, data;
  std::string format = "toml";
  long long first = 0, samples = 1;
  bool all = false, check = false;
  int threads = 1;
  std::vector<std::string> sets;
  long long blocks = 5;
};

int run_export(const ExportArgs& a) {
  return run_command("export", [&] {
#ifndef VOLLEY_HAVE_HDF5
    throw IoError("export writes the weights as HDF5; rebuild with VOLLEY_HDF5=ON");
    return kFailed;
#else
    if (a.format == "nir") {
      if (a.check)
        throw ConfigError("--check compares the simulator with the trainer; it applies to --format toml");
      // The network as trained. Dense input weights give the number of inputs, so the data are
      // not needed; a sparse first layer needs them (its connectivity depends on it).
      const std::unique_ptr<train::Net> net = io::restore_network(a.checkpoint, a.data, a.threads);
      io::nir::write(a.out, io::nir::to_nir(*net));
      fmt::print("volley export: {} ({} inputs, {} layers, {} synapses, dt = {} s) as a NIR graph "
                 "in {}\n",
                 a.checkpoint, net->config().n_inputs, net->config().layers.size(),
                 net->n_synapses(), net->config().dt, a.out);
      return kSuccess;
    }
    Restored r = restore_checkpoint(a.checkpoint, a.data, a.threads, -1, false);
    io::ExportOptions o;
    o.first = static_cast<std::size_t>(a.first);
    o.count = a.all ? 0 : static_cast<std::size_t>(a.samples);
    o.source = a.checkpoint;
    const io::ExportLayout layout = io::export_network(*r.net, *r.data.test, o, a.out);
    fmt::print("volley export: {} test sample(s) of {} ({} s of simulation, {} steps each) in "
               "{}/model.toml; run it with `volley sim {}/model.toml`\n",
               layout.samples.size(), r.data.test->description(), layout.duration(),
               layout.window, a.out, a.out);
    if (!a.check) return kSuccess;
    const io::ExportCheck c =
        io::check_export(*r.net, r.cfg.loss, *r.data.test, layout, a.out, a.threads, a.sets);
    const double n = static_cast<double>(std::max<std::size_t>(c.samples, 1));
    fmt::print(
        "check: {} samples, {} identical (every spike of every layer at the same step, same "
        "outputs); spikes trainer {} / simulator {}, {} mismatches; predictions agree on {}; "
        "accuracy trainer {:.4f} / simulator {:.4f}; max |Δy| {:g}; simulation {:.2f} s, trainer "
        "forward {:.2f} s\n",
        c.samples, c.samples_identical, c.trainer_spikes, c.simulator_spikes, c.spike_mismatches,
        c.prediction_agreements, static_cast<double>(c.trainer_correct) / n,
        static_cast<double>(c.simulator_correct) / n, c.max_output_difference, c.simulate_seconds,
        c.trainer_seconds);
    // Accuracy over successive blocks of samples: how a change (--set plasticity) acts in time.
    const std::size_t nb = std::min<std::size_t>(static_cast<std::size_t>(a.blocks), c.samples);
    std::vector<double> block_trainer, block_sim;
    for (std::size_t b = 0; b < nb; ++b) {
      const std::size_t lo = b * c.samples / nb, hi = (b + 1) * c.samples / nb;
      std::size_t ct = 0, cs = 0;
      for (std::size_t k = lo; k < hi; ++k) {
        ct += c.trainer_predicted[k] == layout.labels[k];
        cs += c.simulator_predicted[k] == layout.labels[k];
      }
      block_trainer.push_back(static_cast<double>(ct) / static_cast<double>(hi - lo));
      block_sim.push_back(static_cast<double>(cs) / static_cast<double>(hi - lo));
    }
    if (!a.sets.empty()) {
      fmt::print("accuracy in {} blocks of samples, trainer (as trained):", nb);
      for (double x : block_trainer) fmt::print(" {:.3f}", x);
      fmt::print("\n                          simulator (with --set):");
      for (double x : block_sim) fmt::print(" {:.3f}", x);
      fmt::print("\n");
    }
    nlohmann::json j = {{"samples", c.samples},
                        {"changes", a.sets},
                        {"block_accuracy_trainer", block_trainer},
                        {"block_accuracy_simulator", block_sim},
                        {"samples_identical", c.samples_identical},
                        {"trainer_spikes", c.trainer_spikes},
                        {"simulator_spikes", c.simulator_spikes},
                        {"spike_mismatches", c.spike_mismatches},
                        {"prediction_agreements", c.prediction_agreements},
                        {"trainer_correct", c.trainer_correct},
                        {"simulator_correct", c.simulator_correct},
                        {"max_output_difference", c.max_output_difference},
                        {"simulate_seconds", c.simulate_seconds},
                        {"trainer_seconds", c.trainer_seconds}};
    std::ofstream(std::filesystem::path(a.out) / "check.json") << j.dump(2) << "\n";
    if (c.samples_identical != c.samples && a.sets.empty()) {
      fmt::print(stderr, "volley export: error: the simulation differs from the trainer on {} of {} samples\n",
                 c.samples - c.samples_identical, c.samples);
      return kFailed;
    }
    return kSuccess;
#endif
  });
}

void add_export_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* c = app.add_subcommand(
      "export",
      "Write a trained network as a model file for `volley sim`: the trained weights, the "
      "trainer's neurons (discrete_lif) and test samples as input spikes.");
  c->add_option("checkpoint", args->checkpoint, "checkpoint.bin written by volley train")
      ->required();
  c->add_option("-o,--out", args->out, "output directory (model.toml, synapses.h5, input.h5, "
                                       "export.json); with --format nir the NIR file")
      ->required();
  c->add_option("--format", args->format,
                "toml: a model file for `volley sim` (default); nir: a NIR graph (HDF5) for other "
                "simulators, training libraries and neuromorphic hardware (docs/nir.md)")
      ->check(CLI::IsMember({"toml", "nir"}))
      ->capture_default_str();
  c->add_option("--data", args->data,
                "test data: the Fashion-MNIST directory, or the SHD test file");
  c->add_option("--first", args->first, "first test sample to include")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  c->add_option("--samples", args->samples, "number of test samples, one after another")
      ->check(kCount)
      ->capture_default_str();
  c->add_flag("--all", args->all, "every test sample from --first on");
  c->add_flag("--check", args->check,
              "simulate the export and compare it with the trainer's forward pass spike for "
              "spike (writes check.json; exit code 1 if they differ)");
  c->add_option("-t,--threads", args->threads, "simulation threads for --check")->check(kCount);
  c->add_option("--set", args->sets,
                "with --check: change the simulated model first (dotted.path=VALUE, as for "
                "`volley sim`), e.g. plasticity on a projection; the check then reports what it did")
      ->take_all();
  c->add_option("--blocks", args->blocks,
                "with --check: report accuracy over this many successive blocks of samples")
      ->check(kCount)
      ->capture_default_str();
  c->callback([args, &exit_code] { exit_code = run_export(*args); });
}

void add_eval_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* c = app.add_subcommand(
      "eval", "Evaluate a training checkpoint on its test data (or on --data).");
  c->add_option("checkpoint", args->checkpoint, "checkpoint.bin written by volley train")
      ->required();
  c->add_option("--data", args->data,
                "test data: the Fashion-MNIST directory, or the SHD test file");
  c->add_option("-t,--threads", args->threads, "worker threads")->check(kCount);
  c->add_option("--test-limit", args->test_limit, "use the first N test samples")
      ->check(kCount);
  c->add_option("-o,--out", args->out, "also write the results as JSON to this file");
  c->add_option("--record", args->record,
                "record every layer's spikes (and traces of the first samples) with labels and "
                "predictions in DIR/record.h5, plus DIR/eval.json, for `volley analyze` and "
                "`volley report`");
  c->add_option("--trace-samples", args->trace_samples,
                "samples whose membrane traces --record keeps")->capture_default_str();
  c->add_flag("--decisions", args->decisions,
              "also report accuracy as a function of time (the decision at every step), and spikes, "
              "synaptic operations and an energy estimate per layer against the ANN twin's "
              "multiply-accumulates (docs/robustness.md)");
  c->add_option("--early-exit", args->early_exit,
                "also run with early exit: a sample stops when the softmax of its score puts the "
                "top class more than MARGIN above the second (0 to 1)")
      ->check(CLI::Range(0.0, 1.0));
  c->callback([args, &exit_code] { exit_code = run_eval(*args); });
}

}  // namespace volley::cli
