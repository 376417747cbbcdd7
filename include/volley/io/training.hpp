#pragma once
// A training run as `volley train` does it: data, network, epochs with a progress display,
// DIR/metrics.jsonl (one JSON object per epoch), DIR/checkpoint.bin after every epoch (atomic),
// DIR/summary.json at the end, resume, and a clean stop on a NaN/Inf loss.
#include <cstdio>
#include <string>
#include <vector>

#include "volley/io/train_config.hpp"
#include "volley/train/checkpoint.hpp"
#include "volley/train/net.hpp"

namespace volley::io {

struct FitOptions {
  std::string out_dir;
  bool resume = false;
  // The effective command-line options (seed, limits, --set ...) as "key=value": stored in the
  // checkpoint, and a resumed run must use the same.
  std::vector<std::string> options;
  std::FILE* log = stderr;
  bool progress_bar = false;  // redraw one line per batch (terminals)
};

struct FitResult {
  int epochs_done = 0;
  double test_accuracy = 0.0;
  bool stopped = false;  // NaN/Inf loss
  std::string message;
};

FitResult fit(const TrainConfig& config, const FitOptions& options);

// The TrainOptions that a checkpoint's stored options ("seed=3", "train_limit=100",
// "set:dotted.path=VALUE") stand for, so eval tools rebuild the network it was trained as.
TrainOptions options_from_checkpoint(const std::vector<std::string>& stored);

// Restores parameters (and the optimiser state when `opt` is given) from a checkpoint; throws
// IoError if names or sizes differ from the network's.
void restore(const train::Checkpoint& ck, train::Net& net, train::Optimizer* opt,
             const std::string& path);

}  // namespace volley::io
