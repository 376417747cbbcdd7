#pragma once
// The state of a projection whose synapses are written as equations (Projection::Equations;
// equation_synapses.cpp runs it). Private to src/sim.
#include <cstdint>
#include <memory>
#include <vector>

#include "volley/aligned.hpp"
#include "volley/equations/synapse_codegen.hpp"
#include "volley/equations/synapse_model.hpp"
#include "volley/projection.hpp"

namespace volley {

struct Projection::Equations {
  std::shared_ptr<const eq::SynapseText> text;
  eq::SynapseModel model;
  int w = -1;  // index into model.synaptic of the variable held in weights_
  std::vector<eq::ArrayLayout> syn_layout, ext_layout;
  std::vector<std::vector<double>> f64;  // per synaptic variable (double precision)
  std::vector<AlignedVector<float>> f32;  // per synaptic variable (single precision)
  std::vector<double> lastupdate;
  eq::SynapseFunction on_pre = nullptr, on_post = nullptr;
  double kernel_dt = 0.0, compile_seconds = 0.0;
  std::vector<std::vector<std::uint32_t>> pending;  // D slots of spikes waiting for a delay of D steps
  std::uint32_t stream_pre = 0, stream_post = 0;
  std::uint64_t seed = 0;

  // The arguments of a kernel call at `step` (per thread; valid until this thread's next call).
  const eq::SynapseArgs* args(Projection& p, std::uint64_t step);
  void* array(std::size_t q, Projection& p) {
    if (static_cast<int>(q) == w) return p.weights_.data();
    return model.model.single_precision ? static_cast<void*>(f32[q].data())
                                        : static_cast<void*>(f64[q].data());
  }
};

}  // namespace volley
