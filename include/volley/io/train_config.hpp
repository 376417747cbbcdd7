#pragma once
// Training files: TOML describing the data, the network, the surrogate, the loss, the optimiser
// and the schedule (see docs/training-format.md). Errors are ConfigErrors naming the file, line
// and dotted field.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "volley/ear/ipd_task.hpp"
#include "volley/registry.hpp"
#include "volley/train/dataset.hpp"
#include "volley/train/encoders.hpp"
#include "volley/train/loss.hpp"
#include "volley/train/evolution.hpp"
#include "volley/train/reservoir.hpp"
#include "volley/train/net.hpp"
#include "volley/train/optimizer.hpp"
#include "volley/train/trainer.hpp"
#include "volley/train/rewiring.hpp"
#include "volley/train/twin.hpp"

namespace volley::io {

struct DataConfig {
  enum class Kind { fashion_mnist, shd, ipd, arrays } kind = Kind::fashion_mnist;
  std::string path;          // fashion-mnist: directory of the IDX files
  std::string train_file;    // shd: training file
  std::string test_file;     // shd: test file
  train::EncoderConfig encoder;  // fashion-mnist
  std::size_t n_inputs = 700;    // shd, arrays
  std::size_t n_classes = 20;    // shd, arrays
  ear::IpdTaskConfig ipd;        // ipd (samples = train_samples; the test set has its own seed)
  std::size_t ipd_test_samples = 1000;
  std::size_t train_limit = 0, test_limit = 0;  // 0 = all
};

struct TrainConfig {
  std::string path;   // where it was read from
  std::string text;   // the file's text (kept in checkpoints)
  DataConfig data;
  train::NetConfig net;
  train::LossConfig loss;
  train::OptimizerConfig optimizer;
  train::TrainSettings training;
  train::EvolutionConfig evolution;  // [evolution], used by `volley evolve`
  train::ReservoirConfig reservoir;  // [reservoir], used by `volley reservoir`
  bool memory_capacity = false;      // [reservoir] memory_capacity: also measure it
  // [twin]: kind = "ann" trains the non-spiking twin (train/twin.hpp); `net`, `loss` and the
  // data's encoding are then already the twin's.
  train::TwinConfig twin;
  // [rewiring]: Deep R on the sparse layers during `volley train` (train/rewiring.hpp).
  train::RewiringConfig rewiring;
};

struct TrainOptions {
  std::optional<std::uint64_t> seed;   // overrides training.seed and network.seed
  std::optional<int> threads;
  std::optional<int> epochs;
  std::optional<std::size_t> train_limit, test_limit;
  std::vector<std::string> overrides;  // "dotted.path=VALUE" as for model files
  std::optional<train::TwinKind> twin;  // overrides twin.kind (`volley train --twin`)
};

// The training file's choices that are not the engine's own: data sets and image encodings.
const Registry<Choice<DataConfig::Kind>>& datasets();
const Registry<Choice<train::EncoderConfig::Kind>>& encodings();

// The Markdown reference of the training-file format: every table's keys with their default,
// allowed values and meaning, and every registry's names and meanings (docs/reference.md is
// generated from it).
std::string training_reference_markdown();

TrainConfig load_train_config(const std::string& path, const TrainOptions& options = {});
TrainConfig load_train_string(const std::string& text, const std::string& display_name,
                              const TrainOptions& options = {});

// The training and test sets a config names (Fashion-MNIST IDX files or SHD HDF5 files).
struct DataSets {
  std::unique_ptr<train::EventSource> train, test;
};
DataSets load_data(const TrainConfig& config);

// Class names for confusion matrices and reports, when the data has them (Fashion-MNIST's ten);
// empty otherwise.
std::vector<std::string> class_names(const DataConfig& data);

}  // namespace volley::io
