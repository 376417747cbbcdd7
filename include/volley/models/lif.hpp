#pragma once
// Leaky integrate-and-fire neuron with current-based synapses.
//
//   tau_m dv/dt = (v_rest - v) + sum_k g_k + R (i_offset + I_ext)
//   tau_k dg_k/dt = -g_k                      (exponential channel k; an event adds w to g_k)
//   tau_k dh_k/dt = -h_k, tau_k dg_k/dt = h_k - g_k
//                                             (alpha channel k: an event adds e w to h_k, so
//                                              g_k = w (t/tau_k) e^{1 - t/tau_k}, peak w at tau_k:
//                                              NEST's iaf_psc_alpha normalisation)
//   v += w on arrival                         (instantaneous "delta" channel, tau = 0)
//   v > v_th  ->  spike, v = v_reset, v held for t_ref
//
// Channel variables g_k are in volts ("voltage units", as in Brian2's CUBA example). When a
// membrane resistance R is given, weights and injected currents may also be written in amperes
// and are converted with R (so tau_m dv/dt = ... + R I_syn, the textbook current-based form).
//
// Integration is exact for piecewise-constant I_ext (propagator matrix, Rotter & Diesmann 1999):
//   v(t+dt) = v + (v_rest + R I - v)(1 - e^{-dt/tau_m}) + sum_k g_k P_k
//   P_k     = tau_k/(tau_k - tau_m) (e^{-dt/tau_k} - e^{-dt/tau_m})   (dt/tau_m e^{-dt/tau_m} if equal)
//   g_k    <- g_k e^{-dt/tau_k}
// and for an alpha channel also v += h_k Q_k, g_k <- g_k e^{-dt/tau_k} + h_k (dt/tau_k) e^{-dt/tau_k},
// h_k <- h_k e^{-dt/tau_k}, with Q_k = e^{-dt/tau_m} (1 - e^{-a dt}(1 + a dt)) / (a^2 tau_m tau_k),
// a = 1/tau_k - 1/tau_m (dt^2/2 instead of the fraction when a = 0).
// Events arriving in a step are added to g_k before that step's update. After a spike at t_s
// the neuron is refractory while t - t_s < t_ref (Brian2's rule: it integrates again in the step
// that starts at t_s + t_ref): v is held at v_reset, exponential channels keep decaying and delta
// inputs are dropped (as NEST's iaf_psc_delta does).
//
// | parameter | unit | default | meaning |
// |---|---|---|---|
// | tau_m | s | 20 ms | membrane time constant (> 0) |
// | v_rest | V | -70 mV | resting potential (El) |
// | v_th | V | -50 mV | threshold (> v_reset) |
// | v_reset | V | -60 mV | reset potential |
// | t_ref | s | 0 | absolute refractory period (>= 0) |
// | R | Ohm | 0 | membrane resistance; 0 = inputs only in volts |
// | i_offset | A | 0 | constant bias current (needs R) |
// | channels | | exc 5 ms, inh 10 ms | name, tau (0 = delta) and shape (exponential or alpha) |
#include <span>
#include <string>
#include <vector>

#include "volley/distribution.hpp"
#include "volley/population.hpp"
#include "volley/registry.hpp"

namespace volley {

struct SynapticChannel {
  std::string name;
  double tau = 0.0;  // s; 0 makes the channel instantaneous (delta synapse)
  bool alpha = false;  // alpha-shaped current (lif only; tau > 0)
};

struct LifParams {
  double tau_m = 20e-3;
  double v_rest = -70e-3;
  double v_th = -50e-3;
  double v_reset = -60e-3;
  double t_ref = 0.0;
  double R = 0.0;
  double i_offset = 0.0;
  std::vector<SynapticChannel> channels{{"exc", 5e-3}, {"inh", 10e-3}};
  Distribution v_init = Distribution::constant(-70e-3);

  void validate(const std::string& where) const;
  // The parameters as model files and the registry name them (defaults: the values above).
  static std::span<const Param<LifParams>> params() {
    static const Param<LifParams> kParams[] = {
        {"tau_m", &LifParams::tau_m, Dimension::seconds(), Range::positive(),
         "membrane time constant"},
        {"v_rest", &LifParams::v_rest, Dimension::volts(), Range::any(), "resting potential"},
        {"v_th", &LifParams::v_th, Dimension::volts(), Range::any(), "threshold (> v_reset)"},
        {"v_reset", &LifParams::v_reset, Dimension::volts(), Range::any(), "reset potential"},
        {"t_ref", &LifParams::t_ref, Dimension::seconds(), Range::non_negative(),
         "absolute refractory period"},
        {"R", &LifParams::R, Dimension::ohms(), Range::non_negative(),
         "membrane resistance; needed for weights and inputs in amperes (0: volts only)"},
        {"i_offset", &LifParams::i_offset, Dimension::amperes(), Range::any(),
         "constant bias current (needs R)"},
    };
    return kParams;
  }
};

class LifPopulation final : public Population {
 public:
  LifPopulation(std::string name, LifParams params);
  std::string_view model() const override { return "lif"; }
  double weight_factor(std::size_t channel, Dimension given) const override;
  double injection_factor(Dimension given) const override;
  void prepare(double dt) override;
  void update(const StepContext& ctx, std::size_t lo, std::size_t hi,
              std::vector<std::uint32_t>& spikes) override;
  std::vector<std::string> variable_names() const override;
  float* channel_state(std::size_t channel) override;
  const LifParams& params() const { return p_; }
  // For tests: run the portable (auto-vectorised) kernel even where a hand-vectorised one exists
  // (AVX-512 builds), to check that both give bit-identical results. Process-wide; not for use
  // while a network runs.
  static void use_portable_kernel(bool on);

 protected:
  VariableView find_variable(std::string_view name) override;
  void resize_state(std::size_t old_size, std::size_t new_size, std::uint64_t seed) override;

 private:

  LifParams p_;
  AlignedVector<float> v_;
  AlignedVector<std::int32_t> refrac_;  // refractory counter: ref_steps + 1 at a spike (lif.cpp)
  std::vector<AlignedVector<float>> g_;  // one per exponential channel
  std::vector<std::size_t> exp_channels_, delta_channels_, alpha_channels_;
  std::vector<AlignedVector<float>> ah_, ag_;  // per alpha channel: h (events land here) and g
  std::vector<float> a_decay_, a_prop_g_, a_prop_h_, a_feed_;
  // Constants from (params, dt).
  float leak_ = 0, v_rest_ = 0, v_th_ = 0, v_reset_ = 0, bias_ = 0, drive_scale_ = 0;
  std::vector<float> decay_, prop_;
  std::int32_t ref_steps_ = 0;
};

}  // namespace volley
