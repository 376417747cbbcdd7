#pragma once
// The files a run leaves behind, each with its writer and its reader side by side, so that the
// format lives in one place: spikes.h5 (HDF5; read back by recording.hpp), summary.json
// (`volley sim`) and metrics.jsonl (`volley train`, `volley evolve`).
//
// spikes.h5 layout, per population with a spike monitor:   /NAME/times  float64 [s]
//                                                            /NAME/units  uint32
//                                                            /NAME attribute size (neurons)
// root attributes: duration (s, the simulated time) and dt (s)
// state monitors:  /NAME/state/MONITOR/t (float64, s), /NAME/state/MONITOR/indices (uint32),
//                  /NAME/state/MONITOR/VAR (float32, [samples, indices], SI units, attribute "unit")
// rate monitors:   /NAME/rate/MONITOR/t, /NAME/rate/MONITOR/rate (Hz)
// weight monitors: /SOURCE/weights/MONITOR/t (s), pre, post (uint32, absolute indices),
//                  w (float32, [samples, synapses], attribute "unit"), mean (all synapses),
//                  projection and target (strings); SOURCE is the projection's source population
// (NAME is the population; a monitor of a slice still writes absolute neuron indices.)
// populations that grew or lost neurons during the run (see neuron_changes.hpp):
//   /NAME/sizes/t, size, living     float64 (s), uint64, uint64: after each change (the first
//                                   entry: when the population was made); size counts every
//                                   neuron ever made (ids are never reused), living the others
//   /NAME/removed                   uint32: indices of the removed neurons, ascending
// structural plasticity (when enabled; see structural_plasticity.hpp), sampled every record
// interval at the end of the step:
//   /structural_plasticity             attributes update_interval (float64, s), updates,
//                                      created, deleted (uint64: updates done, synapses made
//                                      and removed over the whole run)
//   /structural_plasticity/t           float64 [samples], s
//   .../calcium/POP                    float64 [samples], mean Ca of the population; attribute
//                                      target (float64) = the eps of its elements' growth curves
//                                      when they all share one (absent otherwise)
//   .../calcium_final/POP              float64 [neurons], every neuron's Ca at the end of the run
//   .../elements/POP.ELEM/z            float64 [samples], mean number of elements per neuron
//   .../elements/POP.ELEM/connected    uint64 [samples], connected elements of the population
//   .../synapses/PROJ                  uint64 [samples], synapses of each rule projection
// (a population named "structural_plasticity" with a group of its own cannot be written
// alongside it: IoError; without the update_interval attribute the group reads as a population.)
//
// Every writer replaces its file atomically (a temporary file renamed over it once complete) and
// throws IoError naming the file; every reader throws IoError naming the file (and the line of
// metrics.jsonl) when it is missing or malformed.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "volley/network.hpp"

namespace volley::io {

struct RunInfo {
  double wall_seconds = 0.0;
  double build_seconds = 0.0;
  double duration = 0.0;
  int threads = 1;
  std::string model_path;
  std::size_t peak_rss_bytes = 0;
};

void write_spike_file(const std::string& path, const Network& net);

// ---- summary.json (`volley sim`) -------------------------------------------------------------
// {"wall_seconds", "build_seconds", "compile_seconds" (equation kernels; part of build), "dt", "duration", "threads",
//  "threads_used", "thread_probe": {"one_thread_step_seconds", "threads_step_seconds"} (when probed), "seed", "model",
//  "peak_rss_bytes" (when known),
//  "populations": {NAME: {"model", "size", "spikes", "rate_hz", "cv_isi" (number or null)}},
//  "projections": {NAME: {"synapses", "bytes_per_synapse", "memory_bytes"}},
//  "modulators":  {NAME: {"releases", "pending", "level_hz", "release_times_s"}}   (if any),
//  "structural_plasticity": {"updates", "created", "deleted", "synapses": {PROJECTION: count},
//                            "mean_ca": {POPULATION: mean Ca at the end}}      (if enabled),
//  "rewards":     {NAME: {"projection", "pre", "post", "pairings", "weight", "others_mean",
//                         "w_max" (number or null), "unit" ("V", "S", "A" or "1"),
//                         "record": {"t", "weight", "others_mean"}}}               (if any)}
// Times in s, rates in Hz, weights in SI units of the projection's weight.

struct PopulationSummary {
  std::string name, model;
  std::size_t size = 0;
  std::uint64_t spikes = 0;
  double rate_hz = 0.0;           // spikes / (living neurons × time), i.e. size / duration
                                  // for a population that kept its neurons
  std::optional<double> cv_isi;   // mean ISI CV over neurons (analysis::cv_isi); none without a
                                  // spike monitor or with no neuron of >= 2 intervals
  // Golomb's chi of v (analysis::voltage_synchrony_chi); only with a state monitor recording v
  // of >= 2 neurons.
  std::optional<double> synchrony_chi_v;
};

struct ProjectionSummary {
  std::string name;
  std::size_t synapses = 0, bytes_per_synapse = 0, memory_bytes = 0;
  std::uint64_t events = 0;  // synaptic events delivered (all runs of the network)
};

struct ModulatorSummary {
  std::string name;
  std::uint64_t releases = 0;
  std::size_t pending = 0;
  double level_hz = 0.0;
  std::vector<double> release_times;  // s
};

struct RewardSummary {
  std::string name, projection;
  std::size_t pre = 0, post = 0;
  std::uint64_t pairings = 0;
  double weight = 0.0, others_mean = 0.0;
  std::optional<double> w_max;
  std::string unit;  // of the weights: "V", "S", "A" or "1"
  std::vector<double> t, weights, others;  // the record over time
};

struct StructuralSummary {
  std::uint64_t updates = 0, created = 0, deleted = 0;
  std::vector<std::pair<std::string, std::uint64_t>> synapses;  // per rule projection, at the end
  std::vector<std::pair<std::string, double>> mean_ca;           // per calcium population
};

struct SimSummary {
  double wall_seconds = 0.0, build_seconds = 0.0, dt = 0.0, duration = 0.0;
  double compile_seconds = 0.0;  // part of build_seconds spent compiling equation kernels
  int threads = 1;
  // Threads that ran the steps (RunStats::threads_used); 0: not known (a summary written before
  // it existed), written as `threads`.
  int threads_used = 0;
  // RunOptions::fall_back's probe: wall seconds per step on one thread and on `threads`
  // ("thread_probe", written when there was one).
  double one_thread_step_seconds = 0.0, threads_step_seconds = 0.0;
  std::uint64_t seed = 0;
  std::string model;
  std::size_t peak_rss_bytes = 0;  // 0: not known (not written)
  // Processes the network was distributed over (mpirun -np), and where the first process's
  // first thread spent the run (RunStats: under mpirun only, any -np; 0 otherwise).
  int processes = 1;
  double update_seconds = 0.0, exchange_seconds = 0.0, deliver_seconds = 0.0;
  std::vector<PopulationSummary> populations;
  std::vector<ProjectionSummary> projections;
  std::vector<ModulatorSummary> modulators;
  std::vector<RewardSummary> rewards;
  std::optional<StructuralSummary> structural;
  const PopulationSummary* find(const std::string& population) const;
};

// The run facts and counts of a network after its run. Spike statistics (cv_isi) are left
// empty: they are analysis' business (analysis::add_spike_statistics fills them).
SimSummary summarize(const Network& net, const RunInfo& info);
void write_summary(const std::string& path, const SimSummary& summary);
SimSummary read_summary(const std::string& path);

// ---- metrics.jsonl (`volley train`: one line per epoch; `volley evolve`: one per generation) --
// train:  {"epoch", "train_loss", "train_acc", "test_acc", "test_loss", "epoch_seconds",
//          "samples_per_second", "test_seconds", "active_fraction", "lr"}, and with rewiring
//         "rewiring": {PARAM: {"active", "rewired", "rows_connected"}} (the budget, synapses
//         rewired in the epoch, presynaptic neurons with a synapse at its end)
// evolve: {"generation", "best_fitness", "mean_fitness", "sigma", "generation_seconds",
//          "evaluations_per_second", "samples_per_second", "test_acc" and "test_loss" (on the
//          generations with a test evaluation)}
// A field a line does not have reads as NaN.
struct MetricsLine {
  int epoch = 0;       // 1-based; for evolve, the generation
  bool generation = false;  // an evolve line
  double train_loss = kNaN, train_acc = kNaN, test_acc = kNaN, test_loss = kNaN;
  double epoch_seconds = kNaN;  // evolve: generation_seconds
  double samples_per_second = kNaN, test_seconds = kNaN, active_fraction = kNaN, lr = kNaN;
  double best_fitness = kNaN, mean_fitness = kNaN, sigma = kNaN, evaluations_per_second = kNaN;
  struct Rewiring {
    std::string matrix;  // "layer0.w"
    std::uint64_t active = 0, rewired = 0, rows_connected = 0;
  };
  std::vector<Rewiring> rewiring;
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
};

// Appends one line (flushed to disk, so that a crash loses at most the epoch in progress).
void append_metrics(const std::string& path, const MetricsLine& line);
// Keeps the first `lines` lines (a resumed run continues after the checkpoint's epochs); a
// missing file is left missing.
void truncate_metrics(const std::string& path, std::size_t lines);
std::vector<MetricsLine> read_metrics(const std::string& path);

}  // namespace volley::io
