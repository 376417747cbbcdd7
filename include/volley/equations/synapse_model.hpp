#pragma once
// A synapse model written as equations (Brian2's Synapses):
//
//   model   = w : 1
//             dApre/dt  = -Apre / taupre   : 1 (event-driven)
//             dApost/dt = -Apost / taupost : 1 (event-driven)
//   on_pre  = ge += w ; Apre += dApre ; w = clip(w + Apost, 0, gmax)
//   on_post = Apost += dApost ; w = clip(w + Apre, 0, gmax)
//
// Per-synapse variables are the model's parameters and event-driven states. `on_pre` runs for
// every synapse of a presynaptic spike when it arrives (after the projection's delay), `on_post`
// for every synapse of a postsynaptic spike, in that order within a step (Brian2's order).
// Statements run one after the other, each seeing the values the previous ones wrote. Before
// them, every event-driven state is advanced to t from its last update by the exact solution of
// its own (linear) equation; `lastupdate` is then set to t.
//
// Names: a per-synapse variable, `x_pre` / `x_post` for a state variable or parameter of the
// presynaptic / postsynaptic neuron, `x` alone for a variable of the postsynaptic neuron that no
// synapse variable shadows (as in Brian2), constants, units, t, dt, lastupdate, i (presynaptic
// index) and j (postsynaptic index), rand() and randn(). Presynaptic neuron variables may be read,
// not written (a spike is delivered to each range of targets in parallel). Clock-driven synaptic
// equations and summed variables are not supported and are rejected with a message.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "volley/equations/model.hpp"

namespace volley::eq {

struct SynapseText {
  std::string model;  // equations of the per-synapse variables ("" = none)
  std::string on_pre, on_post;
  std::vector<std::pair<std::string, Quantity>> constants;
  bool single_precision = false;
};

// A variable of a neuron the synapse code may use.
struct NeuronVariable {
  std::string name;
  Dimension dim;
};

struct SynapseModel {
  // The synapse variables, then one parameter per neuron variable the code can name (see
  // `external`), then `lastupdate`, `j`. Model::reset holds on_pre.
  Model model;
  std::vector<Statement> on_pre, on_post;
  std::vector<std::size_t> synaptic;  // per-synapse variables (indices into model.variables)
  struct External {
    std::size_t variable;  // index into model.variables
    std::string neuron_variable;
    bool post = true;
    bool written = false;  // by on_pre or on_post
  };
  std::vector<External> external;
  bool uses_random = false;
  const External* external_of(std::size_t variable) const;
};

// Parses and checks the synapse model for a projection from a population with variables `pre`
// to one with variables `post`. Throws ParameterError naming the part ("model line 2 ...",
// "on_pre statement ...") and what is wrong.
SynapseModel parse_synapse_model(const SynapseText& text, const std::vector<NeuronVariable>& pre,
                                 const std::vector<NeuronVariable>& post);

}  // namespace volley::eq
