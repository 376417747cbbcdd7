#pragma once
// A population of any OdeNeuron model, with exponentially decaying synaptic channels:
// a channel with a reversal potential is a conductance (weights in siemens, current
// g (E - v)); one without is a current (weights in amperes). Injected current enters in amperes.
//
//   tau_k dg_k/dt = -g_k ;  spikes add their weight to g_k (after the step in which they arrive)
//
// State is kept in double precision (these models are stiff near spikes); one neuron is
// integrated at a time with the model's equations inlined, so the dispatch per step stays one
// virtual call per population.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "volley/distribution.hpp"
#include "volley/error.hpp"
#include "volley/models/ode.hpp"
#include "volley/models/registry.hpp"
#include "volley/population.hpp"

namespace volley {

struct OdeChannel {
  std::string name;
  double tau = 5e-3;                // s, > 0
  std::optional<double> e_rev;      // V; absent = current-based channel
  std::optional<Distribution> init; // initial conductance (S) or current (A); default 0
};

template <OdeNeuron M>
struct OdePopulationParams {
  typename M::Params model;
  Integrator method = M::kDefaultIntegrator;
  // Longest internal step (s): each network step is split into ceil(dt / max_step) substeps, so
  // stiff models stay stable and accurate at the network's dt. Default: the model's kMaxStep.
  double max_step = M::kMaxStep;
  std::vector<OdeChannel> channels;
  std::optional<Distribution> v_init;  // default: the model's initial state
  // Initial values of other states by index (1 .. kStates-1), e.g. gating variables.
  std::vector<std::pair<std::size_t, Distribution>> state_init;
};

template <OdeNeuron M>
class OdePopulation final : public Population {
 public:
  static constexpr int kN = M::kStates;

  OdePopulation(std::string name, OdePopulationParams<M> params)
      : Population(std::move(name)), p_(std::move(params)) {
    validate();
    for (const auto& c : p_.channels)
      channels_.push_back({c.name, c.e_rev ? Dimension::siemens() : Dimension::amperes(), false});
    g_.resize(p_.channels.size());
  }

  std::string_view model() const override { return M::kName; }
  const OdePopulationParams<M>& params() const { return p_; }

  double injection_factor(Dimension given) const override {
    if (given == Dimension::amperes()) return 1.0;
    return Population::injection_factor(given);
  }

  void prepare(double dt) override {
    validate();
    dt_ = dt;
    substeps_ = std::max(1, static_cast<int>(std::ceil(dt / p_.max_step - 1e-9)));
    h_ = dt / substeps_;
    decay_.clear();
    for (const auto& c : p_.channels) decay_.push_back(std::exp(-dt / c.tau));
    // Refractoriness is counted in internal substeps: v is held at its reset value for
    // round(t_ref / h) substeps after the substep of the spike.
    ref_steps_ = 0;
    if constexpr (requires(const typename M::Params& q) { q.t_ref; })
      ref_steps_ = static_cast<std::int32_t>(std::llround(p_.model.t_ref / h_));
  }

  void update(const StepContext& ctx, std::size_t lo, std::size_t hi,
              std::vector<std::uint32_t>& spikes) override {
    if constexpr (!M::kResets) {
      switch (p_.method) {
        case Integrator::kEuler: return update_smooth<Integrator::kEuler>(ctx, lo, hi, spikes);
        case Integrator::kExponentialEuler:
          return update_smooth<Integrator::kExponentialEuler>(ctx, lo, hi, spikes);
        case Integrator::kExponentialMidpoint:
          return update_smooth<Integrator::kExponentialMidpoint>(ctx, lo, hi, spikes);
        case Integrator::kRk4: return update_smooth<Integrator::kRk4>(ctx, lo, hi, spikes);
      }
    }
    const std::size_t nc = p_.channels.size();
    for (std::size_t k = 0; k < nc; ++k) absorb_ring(k, g_[k].data(), ctx.step, lo, hi);
    const float* drv = drive();
    double x[kN];
    for (std::size_t i = lo; i < hi; ++i) {
      NeuronInput in;
      if (drv) in.i = drv[i];
      for (std::size_t k = 0; k < nc; ++k) {
        const double g = g_[k][i];
        if (p_.channels[k].e_rev) {
          in.g += g;
          in.g_e += g * *p_.channels[k].e_rev;
        } else {
          in.i += g;
        }
        g_[k][i] = static_cast<float>(g * decay_[k]);
      }
      for (int s = 0; s < kN; ++s) x[s] = state_[static_cast<std::size_t>(s)][i];
      bool spiked = false;
      for (int sub = 0; sub < substeps_; ++sub) {
        const double v_before = x[0];
        integrate_step<M>(p_.method, p_.model, x, in, h_);
        if (refrac_[i] > 0) {  // v held at its reset value; the other states evolve
          --refrac_[i];
          x[0] = v_before;
          continue;
        }
        const double theta = M::threshold(p_.model, x);
        if (!spiked && x[0] >= theta && (M::kResets || v_before < theta)) {
          spiked = true;  // at most one spike per network step
          if constexpr (M::kResets) {
            M::reset(p_.model, x);
            refrac_[i] = ref_steps_;
          }
        }
      }
      if (spiked) spikes.push_back(static_cast<std::uint32_t>(i));
      for (int s = 0; s < kN; ++s) state_[static_cast<std::size_t>(s)][i] = x[s];
    }
  }

  std::vector<std::string> variable_names() const override {
    std::vector<std::string> names;
    for (auto n : M::state_names()) names.emplace_back(n);
    for (const auto& c : p_.channels) names.push_back(c.name);
    return names;
  }

  float* channel_state(std::size_t channel) override { return g_.at(channel).data(); }

 protected:
  VariableView find_variable(std::string_view name) override {
    const auto names = M::state_names();
    for (int s = 0; s < kN; ++s)
      if (names[static_cast<std::size_t>(s)] == name) {
        VariableView v{nullptr, true, 1.0, M::state_dimensions()[static_cast<std::size_t>(s)]};
        v.data64 = state_[static_cast<std::size_t>(s)].data();
        return v;
      }
    for (std::size_t k = 0; k < p_.channels.size(); ++k)
      if (p_.channels[k].name == name)
        return {g_[k].data(), true, 1.0, channels_[k].weight_dim};
    return {};
  }

  void resize_state(std::size_t old_size, std::size_t new_size, std::uint64_t seed) override {
    double rest[kN];
    M::initial(p_.model, rest);
    for (int s = 0; s < kN; ++s) state_[static_cast<std::size_t>(s)].resize(new_size, rest[s]);
    AlignedVector<float> drawn;
    auto init_state = [&](std::size_t s, const Distribution& d) {
      draw_initial(drawn, d, old_size, new_size, seed, static_cast<std::uint32_t>(s));
      for (std::size_t i = old_size; i < new_size; ++i) state_[s][i] = drawn[i];
    };
    if (p_.v_init) init_state(0, *p_.v_init);
    for (const auto& [s, d] : p_.state_init) init_state(s, d);
    refrac_.resize(new_size, 0);
    for (std::size_t k = 0; k < g_.size(); ++k) {
      g_[k].resize(new_size, 0.0f);
      if (p_.channels[k].init)
        draw_initial(g_[k], *p_.channels[k].init, old_size, new_size, seed,
                     static_cast<std::uint32_t>(kN + k));
    }
  }

 private:
  // Models without reset (HH type): one branch-free loop over neurons that the compiler can
  // vectorise, then a scan for threshold crossings.
  template <Integrator method>
  void update_smooth(const StepContext& ctx, std::size_t lo, std::size_t hi,
                     std::vector<std::uint32_t>& spikes) {
    const std::size_t n = hi - lo, nc = p_.channels.size();
    thread_local AlignedVector<double> g, ge, ii;
    thread_local AlignedVector<std::uint8_t> crossed;
    g.assign(n, 0.0);
    ge.assign(n, 0.0);
    ii.assign(n, 0.0);
    crossed.resize(n);
    if (const float* drv = drive())
      for (std::size_t i = lo; i < hi; ++i) ii[i - lo] = drv[i];
    for (std::size_t k = 0; k < nc; ++k) {
      absorb_ring(k, g_[k].data(), ctx.step, lo, hi);
      float* gk = g_[k].data();
      const float d = static_cast<float>(decay_[k]);
      if (const auto& e = p_.channels[k].e_rev) {
        for (std::size_t i = lo; i < hi; ++i) {
          g[i - lo] += gk[i];
          ge[i - lo] += gk[i] * *e;
          gk[i] *= d;
        }
      } else {
        for (std::size_t i = lo; i < hi; ++i) {
          ii[i - lo] += gk[i];
          gk[i] *= d;
        }
      }
    }
    const typename M::Params mp = p_.model;  // a local copy: cannot alias the state arrays
    const double h = h_;
    const int subs = substeps_;
    double* st[kN];
    for (int s = 0; s < kN; ++s) st[s] = state_[static_cast<std::size_t>(s)].data();
    // One neuron over the whole network step; with a single substep the loop nest has no inner
    // loop left after unrolling, which is what lets the compiler vectorise it.
    auto advance = [&](std::size_t i, int steps) __attribute__((always_inline)) {
      double x[kN];
#pragma GCC unroll 8
      for (int s = 0; s < kN; ++s) x[s] = st[s][i];
      const NeuronInput in{g[i - lo], ge[i - lo], ii[i - lo]};
      bool up = false;
      for (int sub = 0; sub < steps; ++sub) {
        const double before = x[0];
        integrate_step<M, method>(mp, x, in, h);
        const double theta = M::threshold(mp, x);
        up = up || (before < theta && x[0] >= theta);
      }
#pragma GCC unroll 8
      for (int s = 0; s < kN; ++s) st[s][i] = x[s];
      crossed[i - lo] = up;
    };
    if (subs == 1) {
      double* __restrict s0 = st[0];
      double* __restrict s1 = kN > 1 ? st[1 % kN] : nullptr;
      double* __restrict s2 = kN > 2 ? st[2 % kN] : nullptr;
      double* __restrict s3 = kN > 3 ? st[3 % kN] : nullptr;
      std::uint8_t* __restrict up = crossed.data();
      const double* __restrict gg = g.data() - lo;
      const double* __restrict gge = ge.data() - lo;
      const double* __restrict gi = ii.data() - lo;
#pragma GCC ivdep
      for (std::size_t i = lo; i < hi; ++i) {
        double x[kN];
        x[0] = s0[i];
        if constexpr (kN > 1) x[1] = s1[i];
        if constexpr (kN > 2) x[2] = s2[i];
        if constexpr (kN > 3) x[3] = s3[i];
        static_assert(kN <= 4, "extend the unrolled loads");
        const double before = x[0];
        integrate_step<M, method>(mp, x, NeuronInput{gg[i], gge[i], gi[i]}, h);
        const double theta = M::threshold(mp, x);
        up[i - lo] = static_cast<std::uint8_t>((before < theta) & (x[0] >= theta));
        s0[i] = x[0];
        if constexpr (kN > 1) s1[i] = x[1];
        if constexpr (kN > 2) s2[i] = x[2];
        if constexpr (kN > 3) s3[i] = x[3];
      }
    } else {
      for (std::size_t i = lo; i < hi; ++i) advance(i, subs);
    }
    for (std::size_t i = lo; i < hi; ++i)
      if (crossed[i - lo]) spikes.push_back(static_cast<std::uint32_t>(i));
  }

  void validate() const {
    const std::string where = fmt::format("population '{}'", name());
    check_params(M::params(), p_.model, where);
    if constexpr (requires { p_.model.validate(where); }) p_.model.validate(where);
    for (const auto& c : p_.channels)
      if (!(c.tau > 0.0))
        throw ParameterError(
            fmt::format("{}: channel '{}': tau must be > 0, got {} s", where, c.name, c.tau));
    if (p_.v_init) p_.v_init->validate(where + ".v_init");
    for (const auto& [s, d] : p_.state_init)
      if (s == 0 || s >= static_cast<std::size_t>(kN))
        throw ParameterError(fmt::format("{}: state index {} has no initial value slot", where, s));
    if (!(p_.max_step > 0.0))
      throw ParameterError(fmt::format("{}: max_step must be > 0, got {} s", where, p_.max_step));
  }

  OdePopulationParams<M> p_;
  std::array<AlignedVector<double>, kN> state_;
  std::vector<AlignedVector<float>> g_;
  AlignedVector<std::int32_t> refrac_;
  std::vector<double> decay_;
  double dt_ = 0.0, h_ = 0.0;
  int substeps_ = 1;
  std::int32_t ref_steps_ = 0;
};

}  // namespace volley
