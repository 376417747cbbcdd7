#pragma once
// Mini-batch training and evaluation. Each batch is split into fixed chunks of samples; a
// thread runs forward, loss and backward of a chunk's samples in order into the chunk's own
// gradient buffer, and the buffers are summed in chunk order, so the result is bit-identical
// for any number of threads.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "volley/communicator.hpp"

#include "volley/data/events.hpp"
#include "volley/train/eprop.hpp"
#include "volley/train/loss.hpp"
#include "volley/train/net.hpp"
#include "volley/train/optimizer.hpp"
#include "volley/train/rewiring.hpp"

namespace volley::train {

struct TrainSettings {
  int epochs = 30;
  std::size_t batch_size = 256;
  int threads = 1;
  std::uint64_t seed = 1;        // shuffling (the network's own seed initialises weights)
  std::size_t chunk = 32;        // samples per gradient buffer (fixed: part of the result)
  // How the gradient is computed: BPTT (Net::backward) or the e-prop estimate (eprop.hpp) with
  // its feedback matrices (random ones drawn from the network seed).
  GradientKind gradient = GradientKind::bptt;
  FeedbackKind feedback = FeedbackKind::symmetric;
  void validate() const;
};

struct BatchProgress {
  std::size_t batch = 0, batches = 0, samples = 0;
  double loss = 0.0, accuracy = 0.0;  // running means over the epoch so far
};

struct EpochStats {
  double loss = 0.0, accuracy = 0.0;
  double seconds = 0.0;
  std::size_t samples = 0;
  double active_fraction = 0.0;  // active (neuron, step) pairs / all, spiking layers (0: e-prop)
  bool finite = true;  // false: a NaN/Inf loss, gradient or updated parameter stopped the epoch
  // With rewiring: each rewired matrix, its budget and the synapses rewired in this epoch.
  std::vector<DeepR::Matrix> rewiring;
};

struct EvalStats {
  double loss = 0.0, accuracy = 0.0, seconds = 0.0;
  std::size_t samples = 0;
  std::vector<std::size_t> confusion;  // [true * C + predicted]
  std::vector<double> spikes_per_sample;  // per layer (spiking layers; 0 for readouts)
};

class Trainer {
 public:
  Trainer(Net& net, LossConfig loss, OptimizerConfig opt, TrainSettings settings);

  // One epoch over `data` (0-based epoch number: it keys the shuffle and stochastic encoders).
  // The last incomplete batch is dropped, as in the SpyTorch/PyTorch reference.
  EpochStats train_epoch(const data::EventSource& data, int epoch,
                         const std::function<void(const BatchProgress&)>& progress = {});
  EvalStats evaluate(const data::EventSource& data,
                     const std::function<void(const BatchProgress&)>& progress = {});

  // Data-parallel training over the processes of `comm` (MPI: volley::mpi): every process runs
  // the same trainer on the same data; each takes a contiguous share of every batch's chunks
  // (and of the test samples), and gradients are summed chunk by chunk in rank order
  // (Communicator::fold_in_rank_order), so parameters, metrics and checkpoints are bit-identical
  // to one process for any number of processes and threads.
  void distribute(Communicator& comm) { comm_ = comm.size() > 1 ? &comm : nullptr; }

  // Rewires the sparse matrices after every update (rewiring.hpp); call before training (and
  // before a resume restores a checkpoint). Throws ParameterError as DeepR does.
  void enable_rewiring(const RewiringConfig& config);
  const DeepR* rewiring() const { return deep_r_.get(); }

  Net& net() { return net_; }
  Optimizer& optimizer() { return opt_; }
  const OptimizerConfig& optimizer_config() const { return opt_cfg_; }
  const TrainSettings& settings() const { return settings_; }
  const LossConfig& loss() const { return loss_; }
  // The e-prop estimator when settings().gradient is eprop, else null.
  const Eprop* eprop() const { return eprop_.get(); }

  // Gradient of the batch loss for samples `indices` of `data` (no update); for tests.
  std::vector<std::vector<float>> gradients(const data::EventSource& data,
                                            const std::vector<std::size_t>& indices, int epoch,
                                            double* loss = nullptr);

 private:
  struct ThreadState {
    Workspace ws;
    SampleRecord rec;
    data::SampleEvents events;
    std::vector<float> dy;
    EpropWorkspace eprop;
  };
  // Forward + backward of one batch into grads_; returns the summed sample losses.
  void batch_gradients(const data::EventSource& data, const std::size_t* idx, std::size_t n, int epoch,
                       double& loss_sum, std::size_t& correct, std::size_t& active);

  Net& net_;
  LossConfig loss_;
  OptimizerConfig opt_cfg_;
  TrainSettings settings_;
  Optimizer opt_;
  std::unique_ptr<Eprop> eprop_;
  std::unique_ptr<DeepR> deep_r_;
  std::vector<ThreadState> threads_;
  std::vector<std::vector<std::vector<float>>> chunk_grads_;
  std::vector<std::vector<float>> grads_;
  Communicator* comm_ = nullptr;
};

}  // namespace volley::train
