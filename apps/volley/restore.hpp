#pragma once
// What the commands that read a training checkpoint share: the network rebuilt as it was
// trained with its test data (io::restore_checkpoint), and the energy table of
// `volley eval --decisions` and `volley robustness`.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "volley/io/training.hpp"
#include "volley/train/decision.hpp"
#include "volley/train/net.hpp"

namespace volley::cli {

// The network rebuilt from a checkpoint: io::restore_checkpoint (volley/io/training.hpp).
using io::Restored;
using io::restore_checkpoint;
using io::train_options;

// Energy per sample under the stated assumptions (decision.hpp): for an SNN its synaptic
// operations and memory accesses against the ANN twin's multiply-accumulates of the same sizes
// (one pass for static input, one per step for events); for an ANN twin its own
// multiply-accumulates. Printed as a table when `print`; returned as JSON.
nlohmann::json energy_report(const train::Net& net, const train::DecisionStats& stats,
                             bool static_input, bool print);

}  // namespace volley::cli
