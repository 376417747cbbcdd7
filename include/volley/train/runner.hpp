#pragma once
// Training runs: the epoch loop of gradient training (fit) and the generation loop of evolution
// strategies (evolve), with resuming and a clean stop when the loss turns NaN/Inf.
//
// The runners do no I/O. Everything a run produces (progress after every batch, one record per
// epoch or generation, checkpoints, the final evaluation) goes to a writer, an interface with
// one method per event. volley::io implements the writers of `volley train` and `volley evolve`
// (metrics.jsonl, checkpoint.bin, summary.json and the console lines); a program can implement
// its own, e.g. to keep checkpoints in memory or to stop watching after a few epochs.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "volley/data/events.hpp"
#include "volley/train/checkpoint.hpp"
#include "volley/train/evolution.hpp"
#include "volley/train/net.hpp"
#include "volley/train/optimizer.hpp"
#include "volley/train/trainer.hpp"

namespace volley::train {

// What a run was made from, stored in every checkpoint it writes: the training file's name and
// text and the options that change results ("seed=3", "set:training.lr=0.1", ...).
struct RunIdentity {
  std::string config_name, config_text;
  std::vector<std::string> options;
};

// Restores parameters (and, when `opt` is given, the optimiser state) from a checkpoint. Throws
// IoError naming `source` (where the checkpoint came from) when parameter names or sizes differ
// from the network's.
void restore(const Checkpoint& ck, Net& net, Optimizer* opt, const std::string& source);

// ---- fit: epochs of Trainer::train_epoch, each followed by Trainer::evaluate on the test set --

// A checkpoint to continue from.
struct ResumePoint {
  Checkpoint checkpoint;
  std::string source;  // where it came from, for messages (e.g. its file name)
};

struct FitStart {
  std::size_t train_samples = 0, test_samples = 0, synapses = 0;
  int first_epoch = 0;  // epochs already done (resumed run); training starts at this 0-based epoch
  int epochs = 0;       // the run ends when this many are done
  std::size_t n_inputs = 0;  // the network's inputs (NetConfig::n_inputs, from the data)
};

struct EpochRecord {
  int epoch = 0;  // 1-based
  int epochs = 0;
  EpochStats train;
  EvalStats test;
  double lr = 0.0;  // the learning rate of this epoch's updates
};

struct FitEnd {
  int epochs_done = 0;
  EvalStats test;  // the last evaluation; test.confusion is n_classes x n_classes
  std::size_t n_classes = 0;
  std::size_t train_samples = 0, synapses = 0;
  std::size_t trainable = 0;  // values the optimiser changes: weights and learned dynamics
  double train_seconds = 0.0;  // training time of the epochs this run did (not a resumed run's
                               // earlier ones)
};

class FitWriter {
 public:
  virtual ~FitWriter() = default;
  // Asked once, before anything else: the checkpoint to continue from (its parameters and
  // optimiser state are restored and training continues after its epochs_done), or nullopt to
  // start afresh. The writer vouches that the checkpoint belongs to this run.
  virtual std::optional<ResumePoint> resume() { return std::nullopt; }
  virtual void start(const FitStart&) {}
  // After every batch of training: running means over the epoch so far; `seconds` since the
  // epoch began. `epoch` is 0-based.
  virtual void batch(int /*epoch*/, int /*epochs*/, const BatchProgress& /*progress*/,
                     double /*seconds*/) {}
  // An epoch's training is over (before its evaluation); stats.finite is false when a NaN/Inf
  // stopped it, and then nothing else follows. `epoch` is 0-based.
  virtual void trained(int /*epoch*/, const EpochStats& /*stats*/) {}
  // After every epoch's evaluation: its record, then the checkpoint of the state after it.
  virtual void epoch(const EpochRecord& record) = 0;
  virtual void checkpoint(const Checkpoint& ck) = 0;
  // The run ended with an evaluation of the test set (always, unless a NaN/Inf stopped it).
  virtual void finish(const FitEnd& /*end*/) {}
};

struct FitResult {
  int epochs_done = 0;
  double test_accuracy = 0.0;
  bool stopped = false;  // a NaN/Inf loss, gradient or parameter stopped the run
  std::string message;   // why it stopped (which epoch, the loss)
};

// Trains trainer.net() for trainer.settings().epochs epochs (counting a resumed run's). Throws
// ParameterError when the data's inputs, steps or classes do not fit the network.
FitResult fit(Trainer& trainer, const data::EventSource& train_data,
              const data::EventSource& test_data, const RunIdentity& identity, FitWriter& writer);

// ---- evolve: generations of Evolution::step, each on a minibatch drawn from the training set --

struct EvolveStart {
  std::size_t parameters = 0;  // the dimension of the search
  EvolutionConfig config;
  std::size_t batch_size = 0;  // samples per generation (at most the training set's size)
};

struct GenerationRecord {
  std::size_t generation = 0;  // 1-based
  std::size_t generations = 0;
  std::size_t batch_size = 0;
  GenerationStats stats;
  std::optional<EvalStats> test;  // every `test_every` generations and after the last
  std::size_t evaluations = 0;    // candidate evaluations so far
  double seconds = 0.0;           // time in Evolution::step so far
};

struct EvolveEnd {
  std::size_t parameters = 0, generations = 0, batch_size = 0;
  std::size_t evaluations = 0;
  double seconds = 0.0;
  EvalStats test;  // after the last generation
};

class EvolveWriter {
 public:
  virtual ~EvolveWriter() = default;
  virtual void start(const EvolveStart&) {}
  virtual void generation(const GenerationRecord& record) = 0;
  // Once, after the last generation: the parameters (no optimiser state; epochs_done is the
  // number of generations).
  virtual void checkpoint(const Checkpoint& ck) = 0;
  virtual void finish(const EvolveEnd& /*end*/) {}
};

struct EvolveOptions {
  std::size_t test_every = 10;  // generations between evaluations of the test set
};

// Runs evolution.config().generations generations. The minibatch of generation g is drawn with
// replacement from a counter-based stream keyed by (seed, g), so it is the same for any thread
// count. `tester` evaluates the test set with the network that `evolution` updates.
EvolveEnd evolve(Evolution& evolution, Trainer& tester, const data::EventSource& train_data,
                 const data::EventSource& test_data, const RunIdentity& identity,
                 EvolveWriter& writer, const EvolveOptions& options = {});

}  // namespace volley::train
