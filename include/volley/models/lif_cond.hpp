#pragma once
// Conductance-based leaky integrate-and-fire neuron (COBA).
//
//   C dv/dt = g_L (v_rest - v) + sum_k g_k (E_k - v) + i_offset + I_ext
//   tau_k dg_k/dt = -g_k ;  a spike adds its weight (siemens) to g_k
//   v > v_th  ->  spike, v = v_reset, v held for t_ref
//
// method = "exponential_euler" (default; exact for conductances frozen over a step, as
// Brian2's exponential_euler) or "euler" (forward Euler, as in Auryn's COBA benchmark).
// The conductances decay after the membrane update.
//
// | parameter | unit | default | meaning |
// |---|---|---|---|
// | C_m | F | 200 pF | membrane capacitance (> 0) |
// | g_L | S | 10 nS | leak conductance (> 0) |
// | v_rest, v_th, v_reset | V | -60, -50, -60 mV | rest, threshold (> v_reset), reset |
// | t_ref | s | 5 ms | absolute refractory period |
// | i_offset | A | 0 | constant bias current |
// | channels | | exc (5 ms, 0 mV), inh (10 ms, -80 mV) | tau and reversal E of each channel |
#include <span>
#include <string>
#include <vector>

#include "volley/distribution.hpp"
#include "volley/population.hpp"
#include "volley/registry.hpp"

namespace volley {

struct ConductanceChannel {
  std::string name;
  double tau = 5e-3;     // s, > 0
  double e_rev = 0.0;    // V
};

struct LifCondParams {
  double c_m = 200e-12;
  double g_l = 10e-9;
  double v_rest = -60e-3;
  double v_th = -50e-3;
  double v_reset = -60e-3;
  double t_ref = 5e-3;
  double i_offset = 0.0;
  enum class Method { kExponentialEuler, kEuler } method = Method::kExponentialEuler;
  std::vector<ConductanceChannel> channels{{"exc", 5e-3, 0.0}, {"inh", 10e-3, -80e-3}};
  Distribution v_init = Distribution::constant(-60e-3);

  void validate(const std::string& where) const;
  // The parameters as model files and the registry name them (defaults: the values above).
  static std::span<const Param<LifCondParams>> params() {
    static const Param<LifCondParams> kParams[] = {
        {"C_m", &LifCondParams::c_m, Dimension::farads(), Range::positive(),
         "membrane capacitance"},
        {"g_L", &LifCondParams::g_l, Dimension::siemens(), Range::positive(), "leak conductance"},
        {"v_rest", &LifCondParams::v_rest, Dimension::volts(), Range::any(), "resting potential"},
        {"v_th", &LifCondParams::v_th, Dimension::volts(), Range::any(), "threshold (> v_reset)"},
        {"v_reset", &LifCondParams::v_reset, Dimension::volts(), Range::any(), "reset potential"},
        {"t_ref", &LifCondParams::t_ref, Dimension::seconds(), Range::non_negative(),
         "absolute refractory period"},
        {"i_offset", &LifCondParams::i_offset, Dimension::amperes(), Range::any(),
         "constant bias current"},
    };
    return kParams;
  }
  // The integration methods by name.
  static const Registry<Choice<Method>>& methods() {
    static const Registry<Choice<Method>> r(
        "method", {{"exponential_euler", Method::kExponentialEuler,
                    "exact for conductances frozen over a step (Brian2's exponential_euler)"},
                   {"euler", Method::kEuler, "forward Euler (Auryn's COBA benchmark)"}});
    return r;
  }
};

class LifCondPopulation final : public Population {
 public:
  LifCondPopulation(std::string name, LifCondParams params);
  std::string_view model() const override { return "lif_cond"; }
  double injection_factor(Dimension given) const override;
  void prepare(double dt) override;
  void update(const StepContext& ctx, std::size_t lo, std::size_t hi,
              std::vector<std::uint32_t>& spikes) override;
  std::vector<std::string> variable_names() const override;
  float* channel_state(std::size_t channel) override;

 protected:
  VariableView find_variable(std::string_view name) override;
  void resize_state(std::size_t old_size, std::size_t new_size, std::uint64_t seed) override;

 private:
  LifCondParams p_;
  AlignedVector<float> v_;
  AlignedVector<std::int32_t> refrac_;
  std::vector<AlignedVector<float>> g_;
  std::vector<float> decay_;
  double dt_ = 0.0;
  std::int32_t ref_steps_ = 0;
};

}  // namespace volley
