#pragma once
// C++ source for a synapse model's events (synapse_model.hpp): two functions,
//   volley_syn_on_pre(args, pre, b, e)    on_pre for CSR synapses [b, e) of presynaptic neuron pre
//   volley_syn_on_post(args, post, kb, ke) on_post for CSC entries [kb, ke) of postsynaptic post
// each advancing the event-driven states of a synapse to t, running the statements in order and
// setting lastupdate = t. Neuron variables are read and written in their populations' arrays.
#include <cstdint>
#include <string>
#include <vector>

#include "volley/equations/synapse_model.hpp"

namespace volley::eq {

// The argument block; the generated code declares the same layout.
struct SynapseArgs {
  std::uint64_t step = 0, seed = 0, n_synapses = 0;
  void* const* synaptic = nullptr;  // one array per SynapseModel::synaptic entry
  double* lastupdate = nullptr;     // per synapse, s
  void* const* external = nullptr;  // one array per SynapseModel::external entry (neuron arrays)
  const std::uint32_t* cols = nullptr;     // CSR: absolute postsynaptic index per synapse
  const std::uint64_t* col_syn = nullptr;  // CSC: synapse of each entry
  const std::uint32_t* col_pre = nullptr;  // CSC: presynaptic index (relative to pre_lo)
  std::uint64_t pre_lo = 0;
  std::uint32_t stream_pre = 0, stream_post = 0;
};

// How an array is stored: float or double, and the factor from its values to SI units.
struct ArrayLayout {
  bool f32 = false;
  double to_si = 1.0;
};

inline constexpr const char* kOnPreSymbol = "volley_syn_on_pre";
inline constexpr const char* kOnPostSymbol = "volley_syn_on_post";
using SynapseFunction = void (*)(const SynapseArgs*, std::uint64_t, std::uint64_t, std::uint64_t);

// `synaptic[k]` / `external[k]`: layouts of the arrays SynapseArgs points to, in model order.
std::string generate_synapse_kernel(const SynapseModel& model, double dt,
                                    const std::vector<ArrayLayout>& synaptic,
                                    const std::vector<ArrayLayout>& external);

}  // namespace volley::eq
