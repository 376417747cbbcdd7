// The ANN twin of a spiking network (twin.hpp).
#include "volley/train/twin.hpp"

#include <fmt/format.h>

#include <cmath>

#include "volley/error.hpp"

namespace volley::train {

const Registry<Choice<TwinKind>>& twin_kinds() {
  static const Registry<Choice<TwinKind>> r(
      "twin", {{"snn", TwinKind::snn, "the spiking network as written"},
               {"ann", TwinKind::ann,
                "its non-spiking twin: relu units in place of the spiking layers, an MLP on the "
                "pixels for static images, the same network on time-binned counts for events"}});
  return r;
}

NetConfig ann_twin(const NetConfig& snn, std::size_t n_steps, double dt, bool leaky) {
  NetConfig ann = snn;
  ann.n_steps = n_steps;
  ann.dt = dt;
  ann.backward = BackwardMode::dense;
  ann.forward = ForwardMode::heaviside;
  bool spiking = false;
  for (LayerConfig& c : ann.layers) {
    c.max_delay = 0.0;  // a plain ANN: no synaptic delays
    c.learn_delay = false;
    if (c.kind == LayerKind::readout) {
      c.tau_syn = 0.0;
      c.learn_tau = false;
      const double beta = std::exp(-dt / c.tau_mem);
      c.weight_scale = 1.0 / (1.0 - beta);
      continue;
    }
    if (c.kind == LayerKind::relu) continue;
    spiking = true;
    c.kind = LayerKind::relu;
    c.leaky = leaky;
    c.learn_tau = leaky && c.learn_tau;
    c.learn_threshold = false;
    c.learn_adapt = false;
    c.tau_syn = 0.0;
    // He initialisation; weight_scale multiplies (1 − β), which integrating units recover.
    const double beta = leaky ? std::exp(-dt / c.tau_mem) : 0.0;
    c.weight_scale = std::sqrt(2.0);
    c.recurrent_scale = 1.0 / (1.0 - beta);
  }
  if (!spiking)
    throw ParameterError("twin: the network has no spiking layer to replace (already an ANN)");
  return ann;
}

LossConfig ann_twin_loss(const LossConfig& snn) {
  LossConfig l = snn;
  l.reg_l1 = 0.0;
  l.reg_l2 = 0.0;
  return l;
}

}  // namespace volley::train
