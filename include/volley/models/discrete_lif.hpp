#pragma once
// The trainer's neurons, in one place for both runners: the discrete-time LIF, adaptive LIF
// (threshold adaptation, and adLIF with an adaptation current) and leaky readout that volley trains by BPTT or e-prop (train/net.hpp), and the simulator
// population `discrete_lif` that runs them (a trained network exported by `volley export`).
//
// One step t of a layer of n neurons, given its input current I_t (α = exp(−dt/τ_syn),
// β = exp(−dt/τ_mem), ρ = exp(−dt/τ_adapt); SpyTorch's ordering, so an input reaches the
// membrane one step later through the synaptic current):
//   u_t       = mem_t − θ − b·a_t                                 (b = 0 unless alif)
//   s_t       = H(u_t)   (or sigmoid(k·u_t) in the trainer's smooth-forward mode)
//   syn_{t+1} = α·syn_t + I_t,  d_t = syn_t                       (d_t = I_t when τ_syn = 0)
//   m̃_{t+1}  = β·mem_t + d_t
//   mem_{t+1} = m̃·(1 − s_t)  |  m̃ − θ·s_t  |  m̃               (reset multiply | subtract | none)
//   a_{t+1}   = ρ·a_t + s_t                                       (alif)
// An adlif layer (Bittar & Garner 2022; symplectic Euler as in SE-adLIF, Baronig et al. 2025)
// has an adaptation current w instead, with per-neuron a (sub-threshold coupling), b (spike-
// triggered jump) and ρ; the membrane sees −(1 − β)·w, and w is updated from the new membrane:
//   u_t       = mem_t − θ
//   m̃_{t+1}  = β·mem_t + d_t − (1 − β)·w_t,   mem_{t+1} = reset(m̃_{t+1}) as above
//   w_{t+1}   = ρ·w_t + (1 − ρ)·a·mem_{t+1} + b·s_t
// θ may be one value per neuron (learned thresholds).
// A readout has no spike and no reset; its output is y_t = mem_{t+1}.
//
// In the simulator every projection has a delay of at least one step, so a `discrete_lif`
// population does step t of its layer in the simulation step after its inputs of step t were
// emitted: layer l of an exported network (l = 0 for the first hidden layer) does its step t at
// simulation step t + l + 1, and a readout's y_t is its `v` after simulation step t + L, L the
// number of layers. Recurrent projections have a delay of one step (s_{t−1} enters I_t).
// `reset_every` zeroes the state and the events in flight into the population at every multiple
// of that time, so that samples run one after another are independent, as in training.
//
// | parameter | unit | default | meaning |
// |---|---|---|---|
// | tau_mem | s | 10 ms | membrane time constant (> 0) |
// | tau_syn | s | 5 ms | synaptic time constant (>= 0; 0 = no synaptic current) |
// | threshold | 1 | 1 | θ (> 0) |
// | tau_adapt | s | 200 ms | adaptation time constant (alif) |
// | adapt_strength | 1 | 1.8 | b: threshold increase per unit of a (alif); jump of w per spike (adlif) |
// | adapt_coupling | 1 | 0 | a: sub-threshold coupling of w to the membrane (adlif) |
// | reset_every | s | 0 | period of the state reset (0 = never) |
// Options: `type` (lif, alif, adlif, readout; the trainer's `relu` is refused here: it does not
// spike), `reset` (multiply, subtract, none). tau_mem, tau_syn, threshold and, for adlif,
// tau_adapt, adapt_coupling and adapt_strength may also be given per neuron (one value each, e.g.
// learned by the trainer with learn_tau, learn_threshold or learn_adapt).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "volley/population.hpp"
#include "volley/registry.hpp"

namespace volley {

enum class LayerKind { lif, alif, adlif, readout, relu };
enum class ResetMode { multiply, subtract, none };

// The names of layer types and reset modes in training and model files.
const Registry<Choice<LayerKind>>& layer_kinds();
const Registry<Choice<ResetMode>>& reset_modes();

// One step of n spiking neurons. `cur` is I_t; after the call `spike` = s_t, `u` = u_t,
// `mt` = m̃_{t+1}, and syn, mem, adapt hold their values at t + 1.
struct NeuronStep {
  std::size_t n;
  float b, rho, k;  // adaptation strength and decay (alif), smooth-forward scale
  const float* __restrict thr;  // θ per neuron
  const float* __restrict alpha;
  const float* __restrict beta;
  const float* __restrict cur;
  float* __restrict syn;
  float* __restrict mem;
  float* __restrict adapt;
  float* __restrict spike;
  float* __restrict u;
  float* __restrict mt;
};

// Compiled per reset mode, synapse, forward mode and adaptation so the loop has no branches and
// vectorises.
template <ResetMode R, bool Syn, bool Smooth, bool Alif>
void neuron_step(const NeuronStep& p) {
  const std::size_t n = p.n;
#pragma GCC ivdep
  for (std::size_t j = 0; j < n; ++j) {
    const float u = Alif ? p.mem[j] - p.thr[j] - p.b * p.adapt[j] : p.mem[j] - p.thr[j];
    float s;
    if constexpr (Smooth) {
      s = 1.0f / (1.0f + std::exp(-p.k * u));
    } else {
      s = u > 0.0f ? 1.0f : 0.0f;
    }
    const float d = Syn ? p.syn[j] : p.cur[j];
    const float mt = p.beta[j] * p.mem[j] + d;
    if constexpr (Syn) p.syn[j] = p.alpha[j] * p.syn[j] + p.cur[j];
    if constexpr (R == ResetMode::multiply) {
      p.mem[j] = mt * (1.0f - s);
    } else if constexpr (R == ResetMode::subtract) {
      p.mem[j] = mt - p.thr[j] * s;
    } else {
      p.mem[j] = mt;
    }
    if constexpr (Alif) p.adapt[j] = p.rho * p.adapt[j] + s;
    p.spike[j] = s;
    p.u[j] = u;
    p.mt[j] = mt;
  }
}

// neuron_step for run-time choices.
void neuron_step(const NeuronStep& p, ResetMode r, bool syn, bool smooth, bool alif);

// One step of n adlif neurons (the equations at the top): as NeuronStep, with `adapt` holding w
// and per-neuron ρ, a and b. After the call `mt` = m̃_{t+1}.
struct AdlifStep {
  std::size_t n;
  float k;
  const float* __restrict thr;
  const float* __restrict alpha;
  const float* __restrict beta;
  const float* __restrict rho;
  const float* __restrict a;
  const float* __restrict b;
  const float* __restrict cur;
  float* __restrict syn;
  float* __restrict mem;
  float* __restrict w;
  float* __restrict spike;
  float* __restrict u;
  float* __restrict mt;
};

template <ResetMode R, bool Syn, bool Smooth>
void adlif_step(const AdlifStep& p) {
  const std::size_t n = p.n;
#pragma GCC ivdep
  for (std::size_t j = 0; j < n; ++j) {
    const float u = p.mem[j] - p.thr[j];
    float s;
    if constexpr (Smooth) {
      s = 1.0f / (1.0f + std::exp(-p.k * u));
    } else {
      s = u > 0.0f ? 1.0f : 0.0f;
    }
    const float d = Syn ? p.syn[j] : p.cur[j];
    const float mt = p.beta[j] * p.mem[j] + d - (1.0f - p.beta[j]) * p.w[j];
    if constexpr (Syn) p.syn[j] = p.alpha[j] * p.syn[j] + p.cur[j];
    float m;
    if constexpr (R == ResetMode::multiply) {
      m = mt * (1.0f - s);
    } else if constexpr (R == ResetMode::subtract) {
      m = mt - p.thr[j] * s;
    } else {
      m = mt;
    }
    p.mem[j] = m;
    p.w[j] = p.rho[j] * p.w[j] + (1.0f - p.rho[j]) * p.a[j] * m + p.b[j] * s;
    p.spike[j] = s;
    p.u[j] = u;
    p.mt[j] = mt;
  }
}

// adlif_step for run-time choices.
void adlif_step(const AdlifStep& p, ResetMode r, bool syn, bool smooth);

// One step of n readout neurons: mem becomes mem_{t+1} = y_t, syn becomes syn_{t+1}.
inline void readout_step(std::size_t n, bool has_syn, const float* alpha, const float* beta,
                         const float* cur, float* syn, float* mem) {
  for (std::size_t j = 0; j < n; ++j) {
    const float d = has_syn ? syn[j] : cur[j];
    const float m = beta[j] * mem[j] + d;
    syn[j] = has_syn ? alpha[j] * syn[j] + cur[j] : 0.0f;
    mem[j] = m;
  }
}

// The decay factors as both runners compute them: float(exp(−dt/τ)), 0 for τ = 0.
inline float decay_factor(double dt, double tau) {
  return tau > 0.0 ? static_cast<float>(std::exp(-dt / tau)) : 0.0f;
}

struct DiscreteLifParams {
  LayerKind type = LayerKind::lif;
  ResetMode reset = ResetMode::multiply;
  double tau_mem = 10e-3;
  double tau_syn = 5e-3;
  double threshold = 1.0;
  double tau_adapt = 200e-3;
  double adapt_strength = 1.8;
  double adapt_coupling = 0.0;
  double reset_every = 0.0;
  // One value per neuron instead of the scalar (learned values); empty: the scalar. Whether the
  // layer has a synaptic current at all is the scalar tau_syn's choice (> 0; its default when
  // per-neuron values are given).
  std::vector<double> tau_mem_per_neuron, tau_syn_per_neuron, threshold_per_neuron,
      tau_adapt_per_neuron, adapt_coupling_per_neuron, adapt_strength_per_neuron;
  // The per-neuron list of a key that has one (tau_mem, tau_syn, threshold, tau_adapt,
  // adapt_coupling, adapt_strength), else nullptr.
  std::vector<double>* per_neuron(std::string_view key);

  static std::span<const Param<DiscreteLifParams>> params() {
    static const Param<DiscreteLifParams> kParams[] = {
        {"tau_mem", &DiscreteLifParams::tau_mem, Dimension::seconds(), Range::positive(),
         "membrane time constant (β = exp(−dt/tau_mem))"},
        {"tau_syn", &DiscreteLifParams::tau_syn, Dimension::seconds(), Range::non_negative(),
         "synaptic time constant (α = exp(−dt/tau_syn)); 0: input goes straight to the membrane"},
        {"threshold", &DiscreteLifParams::threshold, Dimension::none(), Range::positive(),
         "threshold θ (type lif and alif)"},
        {"tau_adapt", &DiscreteLifParams::tau_adapt, Dimension::seconds(), Range::positive(),
         "adaptation time constant (type alif)"},
        {"adapt_strength", &DiscreteLifParams::adapt_strength, Dimension::none(),
         Range::non_negative(),
         "b: threshold increase per unit of adaptation (type alif); jump of the adaptation "
         "current per spike (type adlif)"},
        {"adapt_coupling", &DiscreteLifParams::adapt_coupling, Dimension::none(),
         Range::non_negative(), "a: sub-threshold coupling of the adaptation current (type adlif)"},
        {"reset_every", &DiscreteLifParams::reset_every, Dimension::seconds(),
         Range::non_negative(),
         "state and incoming events are zeroed at every multiple of this time (0: never)"},
    };
    return kParams;
  }
};

// A layer of the trainer's neurons in the simulator: one dimensionless synaptic channel `in`
// (I_t), recordable `v` (mem), `syn` and `a`; states start at 0.
class DiscreteLifPopulation final : public Population {
 public:
  DiscreteLifPopulation(std::string name, DiscreteLifParams params);
  std::string_view model() const override { return "discrete_lif"; }
  void prepare(double dt) override;
  void update(const StepContext& ctx, std::size_t lo, std::size_t hi,
              std::vector<std::uint32_t>& spikes) override;
  std::vector<std::string> variable_names() const override;
  const DiscreteLifParams& params() const { return p_; }

 protected:
  VariableView find_variable(std::string_view name) override;
  void resize_state(std::size_t old_size, std::size_t new_size, std::uint64_t seed) override;

 private:
  DiscreteLifParams p_;
  AlignedVector<float> cur_, syn_, mem_, adapt_, spike_, u_, mt_, alpha_, beta_, thr_, rho_n_,
      a_, b_;
  float rho_ = 0.0f;
  std::uint64_t reset_steps_ = 0;
};

}  // namespace volley
