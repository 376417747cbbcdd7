#pragma once
// Training runs as `volley train` and `volley evolve` do them: the training file's data and
// network, run by the library's runners (volley/train/runner.hpp) with writers that put the
// results in a directory:
//   DIR/metrics.jsonl   one JSON object per epoch (fit) or generation (evolve)
//   DIR/checkpoint.bin  after every epoch (fit, written atomically) or at the end (evolve)
//   DIR/summary.json    at the end
// and progress on a log stream (a redrawn progress bar on terminals). fit resumes from
// DIR/checkpoint.bin and stops cleanly on a NaN/Inf loss.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "volley/communicator.hpp"

#include "volley/io/train_config.hpp"
#include "volley/train/checkpoint.hpp"
#include "volley/train/net.hpp"
#include "volley/train/runner.hpp"

namespace volley::io {

struct FitOptions {
  std::string out_dir;
  bool resume = false;
  // The effective command-line options (seed, limits, --set ...) as "key=value": stored in the
  // checkpoint, and a resumed run must use the same.
  std::vector<std::string> options;
  std::FILE* log = stderr;     // nullptr: no console lines
  bool progress_bar = false;  // redraw one line per batch (terminals)
  // Told everything the directory's writer is told, after it (so at checkpoint() the file is on
  // disk); it may throw to stop the run (the exception leaves fit). Its resume() is not asked.
  // Programs that drive training themselves (the Python module) watch and stop runs through it.
  train::FitWriter* observer = nullptr;
  // Train and test on these samples instead of loading the training file's [data] (the Python
  // module's arrays; the file says dataset = "arrays" or names other data, which are then not
  // read). Not owned; both sets must be given and outlive fit. The options' train_limit and
  // test_limit are not applied to them.
  const DataSets* data = nullptr;
  // Data-parallel training over these processes (Trainer::distribute); the first writes the
  // directory, the others only read a checkpoint to resume from. nullptr: one process.
  Communicator* communicator = nullptr;
};

// The options that change a run's results, as `volley train` stores them in (and checks them
// against) the checkpoint: "seed=3", "train_limit=100", "test_limit=50", "set:PATH=VALUE",
// "twin=ann". The thread count and epochs are not among them (results do not depend on the
// thread count, and a resumed run may train for more epochs).
struct StoredOptions {
  std::optional<std::uint64_t> seed;
  std::optional<std::size_t> train_limit, test_limit;
  std::vector<std::string> sets;
  std::string twin;
};
std::vector<std::string> stored_options(const StoredOptions& o);

// Throws IoError when DIR cannot be created or already holds a run (without resume), and
// ConfigError when the data do not fit the network or a resumed run's file or options differ
// from its checkpoint's. A NaN/Inf stop is not an error: see FitResult::stopped and message.
train::FitResult fit(const TrainConfig& config, const FitOptions& options);

struct EvolveOptions {
  std::string out_dir;
  std::vector<std::string> options;  // as FitOptions::options, stored in the checkpoint
  std::FILE* log = stderr;
  // Candidates and test samples shared out over these processes (Evolution::distribute); the
  // first writes the directory. nullptr: one process.
  Communicator* communicator = nullptr;
};

// Evolution strategies ([evolution] table) on the training file's network. Throws IoError when
// DIR already holds a run.
train::EvolveEnd evolve(const TrainConfig& config, const EvolveOptions& options);

// The TrainOptions that a checkpoint's stored options ("seed=3", "train_limit=100",
// "set:dotted.path=VALUE") stand for, so eval tools rebuild the network it was trained as.
TrainOptions options_from_checkpoint(const std::vector<std::string>& stored);
// The same with the thread count and epochs of this run (0 and -1: not given).
TrainOptions train_options(const std::vector<std::string>& stored, int threads, long long epochs);

// A checkpoint's network rebuilt as it was trained (an SNN or its ANN twin), with its test data
// (or `data_path`; test_limit -1: the stored one). `dense_backward` keeps V - theta of every
// neuron in the forward pass (for recordings).
struct Restored {
  train::Checkpoint ck;
  TrainConfig cfg;
  DataSets data;
  std::unique_ptr<train::Net> net;
};
Restored restore_checkpoint(const std::string& checkpoint, const std::string& data_path,
                            int threads, long long test_limit, bool dense_backward);
// The same on given test samples (the Python module's arrays); `test` must not be null. Throws
// ConfigError when they do not fit the network (input count, steps, classes).
Restored restore_checkpoint(const std::string& checkpoint, std::unique_ptr<train::EventSource> test,
                            int threads, bool dense_backward);

// Only the network of a checkpoint, for exports that need no samples: when its first layer is
// dense, the input count comes from the stored input weights and no data are read; otherwise
// (a sparse first layer, whose connectivity depends on the input count) as restore_checkpoint
// with `data_path` (empty: the training file's test data).
std::unique_ptr<train::Net> restore_network(const std::string& checkpoint,
                                            const std::string& data_path, int threads);

}  // namespace volley::io
