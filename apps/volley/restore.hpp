#pragma once
// What the commands that read a training checkpoint share: the network rebuilt as it was
// trained with its test data, and the energy table of `volley eval --decisions` and
// `volley robustness`.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "volley/io/train_config.hpp"
#include "volley/train/checkpoint.hpp"
#include "volley/train/decision.hpp"
#include "volley/train/net.hpp"

namespace volley::cli {

// The TrainOptions of a checkpoint's stored options, with the thread count and epochs given on
// the command line (0 and -1: not given).
io::TrainOptions train_options(const std::vector<std::string>& effective, int threads,
                               long long epochs);

// A checkpoint's network rebuilt as it was trained (an SNN or its ANN twin), with its test data
// (or `data_path`).
struct Restored {
  train::Checkpoint ck;
  io::TrainConfig cfg;
  io::DataSets data;
  std::unique_ptr<train::Net> net;
};

Restored restore_checkpoint(const std::string& checkpoint, const std::string& data_path,
                            int threads, long long test_limit, bool dense_backward);

// Energy per sample under the stated assumptions (decision.hpp): for an SNN its synaptic
// operations and memory accesses against the ANN twin's multiply-accumulates of the same sizes
// (one pass for static input, one per step for events); for an ANN twin its own
// multiply-accumulates. Printed as a table when `print`; returned as JSON.
nlohmann::json energy_report(const train::Net& net, const train::DecisionStats& stats,
                             bool static_input, bool print);

}  // namespace volley::cli
