#pragma once
// The ANN twin of a spiking network: the same layer sizes, connectivity (dense or sparse, the
// same random pattern from the same seed), recurrence, readout, loss, optimiser, epochs and seed,
// with every spiking layer (lif, alif) replaced by rectified linear units (relu layers, net.hpp)
// and trained by the same engine. What changes with the input:
//   static images   an MLP on the pixels: one step, every pixel an input of value x = pixel/255
//                   (the `analog` encoding), output y = W·h (the readout without its synapse)
//   event data      the same network on the events binned to `bins` steps of T·dt/bins (counts
//                   per bin); with `leaky` the hidden units integrate, h_t = β·h_{t−1} + I_t
//                   with the spiking layer's tau_mem (the rate/leaky-integrator variant)
// Initialisation: He (std √2/√fan_in) for the relu layers, 1/√fan_in per step for the readout.
// The spike-count regularisers do not apply (their layers do not spike).
#include <cstddef>
#include <string_view>

#include "volley/registry.hpp"
#include "volley/train/loss.hpp"
#include "volley/train/net.hpp"

namespace volley::train {

enum class TwinKind { snn, ann };
const Registry<Choice<TwinKind>>& twin_kinds();

struct TwinConfig {
  TwinKind kind = TwinKind::snn;
  std::size_t bins = 0;  // event data: time bins (0 = the network's steps)
  bool leaky = false;    // relu units integrate with the spiking layer's tau_mem
};

// The twin's network: `snn` with its spiking layers made relu units; `n_steps` and `dt` are the
// twin's (1 step for static input, the bins for events). Throws ParameterError when `snn` is
// already non-spiking.
NetConfig ann_twin(const NetConfig& snn, std::size_t n_steps, double dt, bool leaky);
// The twin's loss: the same, without the spike-count regularisers.
LossConfig ann_twin_loss(const LossConfig& snn);

}  // namespace volley::train
