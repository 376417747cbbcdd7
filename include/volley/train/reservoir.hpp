#pragma once
// Reservoir computing (a liquid state machine): the first layer of a network is a random, fixed,
// sparse recurrent spiking layer; only a linear readout is trained, in closed form by ridge
// regression (Eigen): W = (XᵀX + αI)⁻¹ XᵀY on the reservoir's features X (spike counts of every
// neuron in `time_bins` equal parts of the sample, plus a constant) and one-hot targets Y.
// XᵀX and XᵀY are accumulated over fixed chunks of samples in a fixed order, so the readout does
// not depend on the thread count.
//
// Memory capacity (Jaeger 2001): an i.i.d. input u_n ~ U(0, 1), held for `hold` steps each, drives
// `inputs` Poisson fibres at rate u_n·rate_max; the reservoir state at the end of each hold is its
// spike trains filtered with τ = `tau_state`; for each delay k a ridge readout trained on the
// first half reconstructs u_{n−k}, and MC = Σ_k r²_k on the second half (r² = squared correlation).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "volley/train/dataset.hpp"
#include "volley/train/net.hpp"

namespace volley::train {

struct ReservoirConfig {
  double ridge = 1.0;         // α
  std::size_t time_bins = 2;  // feature bins per sample
  int threads = 1;
  void validate() const;      // ParameterError naming the field
};

struct ReservoirResult {
  double train_accuracy = 0.0, test_accuracy = 0.0;
  std::size_t features = 0;
  double mean_spikes_per_sample = 0.0;
  double seconds_features = 0.0, seconds_solve = 0.0;
  std::vector<std::size_t> confusion;  // test, [true · C + predicted]
};

// `net`'s layer 0 is the reservoir (spiking; usually recurrent and sparse); the number of classes
// is the last layer's size.
ReservoirResult fit_reservoir(const Net& net, const EventSource& train, const EventSource& test,
                              const ReservoirConfig& config);

struct MemoryCapacityConfig {
  std::size_t inputs = 100;
  double rate_max = 200.0;     // Hz
  std::size_t hold = 5;        // steps per input value
  std::size_t values = 10000;  // input values (half to train, half to test; many more than
                               // neurons, or the readout overfits and r² collapses)
  std::size_t max_delay = 30;  // delays 1..max_delay (in input values)
  double tau_state = 20e-3;    // s
  double ridge = 1.0;
  std::uint64_t seed = 1;
};

struct MemoryCapacityResult {
  std::vector<double> r2;  // per delay 0..max_delay (delay 0: the value being presented)
  double capacity = 0.0;   // Σ r2 over delays 1..max_delay
};

// `layer` is the reservoir's configuration (its recurrent weights drawn with `seed`).
MemoryCapacityResult memory_capacity(const LayerConfig& layer, double dt, const MemoryCapacityConfig& config);

}  // namespace volley::train
