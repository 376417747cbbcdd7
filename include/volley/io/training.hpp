#pragma once
// Training runs as `volley train` and `volley evolve` do them: the training file's data and
// network, run by the library's runners (volley/train/runner.hpp) with writers that put the
// results in a directory:
//   DIR/metrics.jsonl   one JSON object per epoch (fit) or generation (evolve)
//   DIR/checkpoint.bin  after every epoch (fit, written atomically) or at the end (evolve)
//   DIR/summary.json    at the end
// and progress on a log stream (a redrawn progress bar on terminals). fit resumes from
// DIR/checkpoint.bin and stops cleanly on a NaN/Inf loss.
#include <cstdio>
#include <string>
#include <vector>

#include "volley/io/train_config.hpp"
#include "volley/train/runner.hpp"

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

// Throws IoError when DIR cannot be created or already holds a run (without resume), and
// ConfigError when the data do not fit the network or a resumed run's file or options differ
// from its checkpoint's. A NaN/Inf stop is not an error: see FitResult::stopped and message.
train::FitResult fit(const TrainConfig& config, const FitOptions& options);

struct EvolveOptions {
  std::string out_dir;
  std::vector<std::string> options;  // as FitOptions::options, stored in the checkpoint
  std::FILE* log = stderr;
};

// Evolution strategies ([evolution] table) on the training file's network. Throws IoError when
// DIR already holds a run.
train::EvolveEnd evolve(const TrainConfig& config, const EvolveOptions& options);

// The TrainOptions that a checkpoint's stored options ("seed=3", "train_limit=100",
// "set:dotted.path=VALUE") stand for, so eval tools rebuild the network it was trained as.
TrainOptions options_from_checkpoint(const std::vector<std::string>& stored);

}  // namespace volley::io
