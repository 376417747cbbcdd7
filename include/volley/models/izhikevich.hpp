#pragma once
// Izhikevich (2003) simple model, written with SI units (v, u in volts):
//
//   dv/dt = (0.04/mV v^2 + k1 v + k0 - u + I) / ms      (k1 = 5, k0 = 140 mV)
//   du/dt = a (b v - u)
//   v >= v_peak  ->  spike, v = c, u += d
//
// I is the sum of the exponential channel variables (volts), delta inputs jump v directly, and
// injected current enters as R * I_ext (volts). Forward Euler in internal steps of at most
// max_step (default 5 µs, within 0.1 ms of the RK45 solution over 10 spikes); set
// max_step = dt for Izhikevich's original one-step scheme.
//
// | parameter | unit | default (regular spiking) | meaning |
// |---|---|---|---|
// | a | Hz | 20 Hz (0.02/ms) | recovery rate (> 0) |
// | b | 1 | 0.2 | sensitivity of u to v |
// | c | V | -65 mV | reset of v |
// | d | V | 8 mV | reset increment of u |
// | v_peak | V | 30 mV | spike cut-off |
// | R | Ohm | 0 | converts injected amperes to volts; 0 = inputs in volts only |
// | k1, k0 | 1, V | 5, 140 mV | linear and constant terms (4.1 and 108 mV in the class 1 preset) |
// | max_step | s | 5 µs | longest internal Euler step |
//
// Presets (a, b, c, d): Izhikevich (2003) Fig. 2: "RS" regular spiking (0.02, 0.2, -65, 8),
// "IB" intrinsically bursting (0.02, 0.2, -55, 4), "CH" chattering (0.02, 0.2, -50, 2),
// "FS" fast spiking (0.1, 0.2, -65, 2), "LTS" low-threshold spiking (0.02, 0.25, -65, 2),
// "TC" thalamo-cortical (0.02, 0.25, -65, 0.05), "RZ" resonator (0.1, 0.26, -65, 2); and the
// excitability panels of Izhikevich (2004) figure1.m: "class1" (0.02, -0.1, -55, 6 with
// k1 = 4.1, k0 = 108 mV), "class2" (0.2, 0.26, -65, 0). c and d in mV, a per ms.
// | channels | | exc 5 ms, inh 10 ms | synaptic channels (tau 0 = delta) |
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "volley/distribution.hpp"
#include "volley/models/lif.hpp"
#include "volley/population.hpp"
#include "volley/registry.hpp"

namespace volley {

struct IzhikevichParams {
  double a = 20.0;
  double b = 0.2;
  double c = -65e-3;
  double d = 8e-3;
  double v_peak = 30e-3;
  double R = 0.0;
  double k1 = 5.0;      // dimensionless (per ms in the paper's units)
  double k0 = 140e-3;   // V
  // Longest internal Euler step (s). 5 µs keeps spike times within 0.1 ms of the exact solution;
  // Izhikevich's own scheme is max_step = dt (he used 0.5-1 ms).
  double max_step = 5e-6;
  std::vector<SynapticChannel> channels{{"exc", 5e-3}, {"inh", 10e-3}};
  Distribution v_init = Distribution::constant(-65e-3);

  // The named presets (see the table above), and one by name (throws ParameterError listing them).
  static std::span<const Preset<IzhikevichParams>> presets();
  static IzhikevichParams preset(std::string_view name);
  // u starts at b * v unless given.
  bool has_u_init = false;
  Distribution u_init;

  void validate(const std::string& where) const;
  // The parameters as model files and the registry name them (defaults: the values above).
  static std::span<const Param<IzhikevichParams>> params() {
    using P = IzhikevichParams;
    static const Param<P> kParams[] = {
        {"a", &P::a, Dimension::hertz(), Range::positive(), "recovery rate"},
        {"b", &P::b, Dimension::none(), Range::any(), "sensitivity of u to v"},
        {"c", &P::c, Dimension::volts(), Range::any(), "reset of v (< v_peak)"},
        {"d", &P::d, Dimension::volts(), Range::any(), "reset increment of u"},
        {"v_peak", &P::v_peak, Dimension::volts(), Range::any(), "spike cut-off"},
        {"R", &P::R, Dimension::ohms(), Range::non_negative(),
         "converts injected amperes to volts (0: inputs in volts only)"},
        {"k1", &P::k1, Dimension::none(), Range::any(), "linear term of dv/dt (per ms)"},
        {"k0", &P::k0, Dimension::volts(), Range::any(), "constant term of dv/dt"},
        {"max_step", &P::max_step, Dimension::seconds(), Range::positive(),
         "longest internal Euler step; = dt is Izhikevich's own one-step scheme"},
    };
    return kParams;
  }
};

class IzhikevichPopulation final : public Population {
 public:
  IzhikevichPopulation(std::string name, IzhikevichParams params);
  std::string_view model() const override { return "izhikevich"; }
  double weight_factor(std::size_t channel, Dimension given) const override;
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
  IzhikevichParams p_;
  AlignedVector<float> v_, u_;
  std::vector<AlignedVector<float>> g_;  // one per channel (unused for delta channels)
  std::vector<float> decay_;
  double dt_ = 0.0;
  int substeps_ = 1;
};

}  // namespace volley
