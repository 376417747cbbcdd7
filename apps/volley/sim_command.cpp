// `volley sim`: load a model file, run it, write spikes.h5 and summary.json.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "core/peak_rss.hpp"
#include "default_model.hpp"  // generated from examples/cuba.toml
#include "errors.hpp"
#include "volley/equations/jit.hpp"
#include "volley/analysis/spike_stats.hpp"
#include "volley/error.hpp"
#include "volley/io/model_file.hpp"
#include "volley/io/outputs.hpp"

namespace volley::cli {
namespace {

// Runs the network for `duration`; on a terminal in 100 parts with a progress line (simulated
// time, wall time, ETA). The parts add up to the same steps, and every random number and
// monitor sample is keyed by the step, so the results equal one run.
// Distributed, every process must split the run alike (each part is a run with its collective
// calls): `show` is then the same on every process and only `print` differs.
RunStats run_with_progress(Network& net, double duration, const RunOptions& options, bool show,
                           bool print) {
  const auto total = static_cast<std::uint64_t>(std::llround(duration / net.dt()));
  if (!show || total < 1000) return net.run(duration, options);
  RunStats sum;
  // The first part is a tenth of the run (at least the 800 steps a probe needs) when threads
  // may fall back: long enough for the probe (RunOptions::fall_back), whose choice the later
  // parts keep.
  const bool probe = options.fall_back && options.threads > 1;
  const std::uint64_t parts = probe ? 91 : 100;
  const std::uint64_t first = std::min<std::uint64_t>(total, std::max<std::uint64_t>(total / 10, 800));
  auto edge = [&](std::uint64_t k) {
    if (!probe) return total * k / parts;
    return k == 0 ? 0 : first + (total - first) * (k - 1) / (parts - 1);
  };
  for (std::uint64_t k = 0; k < parts; ++k) {
    const std::uint64_t steps = edge(k + 1) - edge(k);
    if (steps == 0) continue;
    const RunStats s = net.run(static_cast<double>(steps) * net.dt(), options);
    sum.wall_seconds += s.wall_seconds;
    sum.steps += s.steps;
    sum.update_seconds += s.update_seconds;
    sum.exchange_seconds += s.exchange_seconds;
    sum.deliver_seconds += s.deliver_seconds;
    sum.threads_used = s.threads_used;
    sum.one_thread_step_seconds = s.one_thread_step_seconds;
    sum.threads_step_seconds = s.threads_step_seconds;
    const double eta = sum.wall_seconds * static_cast<double>(total - sum.steps) / static_cast<double>(sum.steps);
    if (print)
      fmt::print(stderr, "\r  {:.3f} / {:.3f} s simulated  {:3}%  {:.1f} s  ETA {:.1f} s   ",
               static_cast<double>(sum.steps) * net.dt(), duration, edge(k + 1) * 100 / total,
               sum.wall_seconds, eta);
  }
  if (print) fmt::print(stderr, "\r{:<72}\r", "");
  return sum;
}

struct SimArgs {
  std::string model;
  std::string out = "volley-out";
  int threads = 0;
  long long seed = -1;
  std::string duration;
  std::vector<std::string> sets;
  bool quiet = false;
  bool fixed_threads = false;
  std::string keep_generated;
};

int run_sim(const SimArgs& a, Communicator* world) {
  namespace fs = std::filesystem;
  return run_command("sim", [&] {
    // Distributed, every process runs its share and the first writes the results.
    const bool distributed = world != nullptr && world->size() > 1;
    const bool writer = !distributed || world->rank() == 0;
    io::LoadOptions opt;
    if (world != nullptr) opt.communicator = world;  // (one process under mpirun: phases timed)
    if (a.threads > 0) opt.threads = a.threads;
    if (a.seed >= 0) opt.seed = static_cast<std::uint64_t>(a.seed);
    if (!a.duration.empty()) {
      try {
        opt.duration = parse_quantity(a.duration, Dimension::seconds());
      } catch (const UnitError& e) {
        throw ConfigError(fmt::format("--duration: {}", e.what()));
      }
    }
    opt.overrides = a.sets;
    if (!a.keep_generated.empty()) eq::set_keep_generated(a.keep_generated);
    // Make sure results can be written before spending time on the run.
    std::error_code ec;
    if (writer) fs::create_directories(a.out, ec);
    if (writer && (ec || !fs::is_directory(a.out)))
      throw IoError(fmt::format("--out: cannot create directory '{}'", a.out));

    const auto b0 = std::chrono::steady_clock::now();
    io::LoadedModel m = a.model.empty()
                            ? io::load_model_string(kDefaultModel, "<built-in cuba.toml>", opt)
                            : io::load_model_file(a.model, opt);
    const double build = std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();
    bool show = writer && !a.quiet && isatty(fileno(stderr)) != 0;
    if (distributed) show = world->max(show ? 1.0 : 0.0) > 0.0;  // the first process decides
    RunOptions run_options{m.threads};
    run_options.fall_back = !a.fixed_threads;
    const RunStats stats = run_with_progress(*m.network, m.duration, run_options, show, writer);
    // Per-projection counts of the whole network (each process holds its targets' synapses).
    std::vector<std::int64_t> totals;
    if (distributed) {
      for (const auto& p : m.network->projections()) {
        totals.push_back(static_cast<std::int64_t>(p->synapse_count()));
        totals.push_back(static_cast<std::int64_t>(p->memory_bytes()));
        totals.push_back(static_cast<std::int64_t>(p->events()));
      }
      world->sum(totals);
    }
    if (!writer) return 0;

    const io::RunInfo info{stats.wall_seconds, build, m.duration, m.threads, m.path,
                           detail::peak_rss_bytes()};
#ifdef VOLLEY_HAVE_HDF5
    io::write_spike_file((fs::path(a.out) / "spikes.h5").string(), *m.network);
#endif
    io::SimSummary summary = io::summarize(*m.network, info);
    summary.processes = distributed ? world->size() : 1;
    summary.threads_used = stats.threads_used;
    summary.one_thread_step_seconds = stats.one_thread_step_seconds;
    summary.threads_step_seconds = stats.threads_step_seconds;
    summary.update_seconds = stats.update_seconds;
    summary.exchange_seconds = stats.exchange_seconds;
    summary.deliver_seconds = stats.deliver_seconds;
    for (std::size_t k = 0; k < totals.size() / 3; ++k) {
      summary.projections[k].synapses = static_cast<std::size_t>(totals[3 * k]);
      summary.projections[k].memory_bytes = static_cast<std::size_t>(totals[3 * k + 1]);
      summary.projections[k].events = static_cast<std::uint64_t>(totals[3 * k + 2]);
    }
    analysis::add_spike_statistics(summary, *m.network);
    io::write_summary((fs::path(a.out) / "summary.json").string(), summary);
    if (!a.quiet) {
      fmt::print("volley sim: {} — {} s simulated in {:.3f} s (build {:.3f} s{}, {} thread{}{})\n",
                 m.path, m.duration, stats.wall_seconds, build,
                 summary.compile_seconds > 0.0
                     ? fmt::format(", of which compiling equations {:.3f} s", summary.compile_seconds)
                     : std::string(),
                 m.threads, m.threads > 1 ? "s" : "",
                 distributed ? fmt::format(" x {} processes", world->size()) : std::string());
      if (distributed)
        fmt::print("  process 0: update {:.3f} s, spike exchange {:.3f} s, delivery {:.3f} s\n",
                   stats.update_seconds, stats.exchange_seconds, stats.deliver_seconds);
      if (stats.threads_used != m.threads)
        fmt::print("  ran on {} thread{}: a step took {:.2f} us on one thread and {:.2f} us on {} "
                   "(--fixed-threads keeps {})\n",
                   stats.threads_used, stats.threads_used > 1 ? "s" : "",
                   stats.one_thread_step_seconds * 1e6, stats.threads_step_seconds * 1e6,
                   m.threads, m.threads);
      for (const auto& p : summary.populations)  // rate per living neuron (io::summarize)
        fmt::print("  {:<12} {:>8} neurons {:>10} spikes {:>8.2f} Hz\n", p.name, p.size, p.spikes,
                   p.rate_hz);
      fmt::print("  results in {}/ (summary.json{})\n", a.out,
#ifdef VOLLEY_HAVE_HDF5
                 ", spikes.h5"
#else
                 "; built without HDF5, no spikes.h5"
#endif
      );
    }
    return 0;
  });
}

}  // namespace

void add_sim_command(CLI::App& app, int& exit_code, Communicator* world) {
  auto args = std::make_shared<SimArgs>();
  CLI::App* sim = app.add_subcommand(
      "sim",
      "Simulate the network in a TOML model file and write OUT/spikes.h5 and OUT/summary.json.\n"
      "Without MODEL, runs the built-in default: examples/cuba.toml (Brian2's CUBA network,\n"
      "4000 LIF neurons, 1 s).");
  sim->add_option("model", args->model, "model file (TOML); see docs/model-format.md");
  sim->add_option("-o,--out", args->out, "output directory (created if missing)")
      ->capture_default_str();
  sim->add_option("-t,--threads", args->threads,
                  "worker threads (overrides [simulation].threads; results do not depend on it)")
      ->check(kCount);
  sim->add_option("-s,--seed", args->seed, "random seed (overrides [simulation].seed)")
      ->check(CLI::NonNegativeNumber);
  sim->add_option("-d,--duration", args->duration,
                  "simulated time with unit, e.g. \"10 s\" (overrides [simulation].duration)");
  sim->add_option("--set", args->sets,
                  "override a model field before building: dotted.path=VALUE with VALUE in TOML "
                  "syntax, e.g. --set populations.P.size=40000 --set "
                  "projections.Ce.connect.p=0.002 --set 'populations.P.tau_m=\"10 ms\"'")
      ->take_all();
  sim->add_flag("-q,--quiet", args->quiet, "print nothing on success");
  sim->add_flag("--fixed-threads", args->fixed_threads,
                "run on exactly --threads threads; by default a run times a stretch on one thread "
                "and on --threads and goes on with the faster (a small network's steps are too "
                "short to share; summary.json says which ran)");
  sim->add_option("--keep-generated", args->keep_generated,
                  "write the C++ generated for populations written as equations to DIR/NAME.cpp");
  sim->callback([args, &exit_code, world] { exit_code = run_sim(*args, world); });
}

}  // namespace volley::cli
