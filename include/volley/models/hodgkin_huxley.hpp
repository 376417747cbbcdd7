#pragma once
// Hodgkin & Huxley (1952) squid giant axon at 6.3 °C, in the modern convention (rest -65 mV):
//
//   C dV/dt = I - g_Na m^3 h (V - E_Na) - g_K n^4 (V - E_K) - g_L (V - E_L)
//   dx/dt   = alpha_x(V) (1 - x) - beta_x(V) x        for x = m, h, n   (V in mV, rates per ms)
//   alpha_m = 0.1 (V + 40) / (1 - exp(-(V + 40)/10))      beta_m = 4 exp(-(V + 65)/18)
//   alpha_h = 0.07 exp(-(V + 65)/20)                      beta_h = 1 / (1 + exp(-(V + 35)/10))
//   alpha_n = 0.01 (V + 55) / (1 - exp(-(V + 55)/10))     beta_n = 0.125 exp(-(V + 65)/80)
//
// Parameters are absolute (F, S); the defaults are the per-cm² values for a 1 cm² patch
// (C 1 µF, g_Na 120, g_K 36, g_L 0.3 mS; E_Na 50, E_K -77, E_L -54.387 mV), so injected
// microamperes read as µA/cm². A spike is an upward crossing
// of 0 mV. Excitability class II: repetitive firing starts near 6.2 µA/cm² at about 50 Hz, with a
// bistable range below (Rinzel & Ermentrout 1989; Izhikevich 2007, ch. 7).
#include <array>
#include <cmath>
#include <math.h>  // ::exp etc. carry the SIMD declarations that vectorise them (libmvec)
#include <span>
#include <string>
#include <string_view>

#include "volley/models/ode.hpp"

namespace volley {

namespace detail {
// x / (1 - exp(-x / s)) with its limit s at x = 0 (the HH rate functions' removable singularity).
[[gnu::always_inline]] inline double vtrap(double x, double s) {
  const double em = -expm1_fast(-x / s);  // 1 - exp(-x/s), computed on both branches
  const double safe = std::abs(x / s) < 1e-6 ? 1.0 : em;
  return std::abs(x / s) < 1e-6 ? s * (1.0 + x / s / 2.0) : x / safe;
}
}  // namespace detail

struct HodgkinHuxley {
  static constexpr int kStates = 4;
  static constexpr std::string_view kName = "hh";
  static constexpr std::string_view kMeaning =
      "Hodgkin & Huxley (1952) squid axon, 1 cm² patch; class II";
  static constexpr bool kResets = false;
  // RK4 in 10 µs substeps: stable (the membrane time constant at the spike peak is ~6 µs) and
  // within 0.1 ms of the RK45 reference over the first 10 spikes at any network dt.
  static constexpr Integrator kDefaultIntegrator = Integrator::kRk4;
  static constexpr double kMaxStep = 10e-6;

  struct Params {
    double c_m = 1e-6;           // F
    double g_na = 0.12;          // S
    double g_k = 0.036;          // S
    double g_l = 0.3e-3;         // S
    double e_na = 50e-3, e_k = -77e-3, e_l = -54.387e-3;  // V
    double v_spike = 0.0;        // V, upward crossing counts as a spike
  };

  // The parameters as model files and the registry name them (defaults: Params{}).
  static std::span<const Param<Params>> params() {
    static const std::vector<Param<Params>> kParams = hh_type_params<Params>();
    return kParams;
  }

  static constexpr std::array<std::string_view, kStates> state_names() { return {"v", "m", "h", "n"}; }
  static constexpr std::array<Dimension, kStates> state_dimensions() {
    return {Dimension::volts(), Dimension::none(), Dimension::none(), Dimension::none()};
  }

  // Rates per second at v (volts).
  [[gnu::always_inline]] static void rates(double v, double* alpha, double* beta) {
    const double u = v * 1e3;  // mV
    alpha[0] = 1e3 * 0.1 * detail::vtrap(u + 40.0, 10.0);
    beta[0] = 1e3 * 4.0 * ::exp(-(u + 65.0) / 18.0);
    alpha[1] = 1e3 * 0.07 * ::exp(-(u + 65.0) / 20.0);
    beta[1] = 1e3 / (1.0 + ::exp(-(u + 35.0) / 10.0));
    alpha[2] = 1e3 * 0.01 * detail::vtrap(u + 55.0, 10.0);
    beta[2] = 1e3 * 0.125 * ::exp(-(u + 65.0) / 80.0);
  }

  static void initial(const Params&, double* x) {
    x[0] = -65e-3;
    double a[3], b[3];
    rates(x[0], a, b);
    _Pragma("GCC unroll 4") for (int k = 0; k < 3; ++k) x[k + 1] = a[k] / (a[k] + b[k]);
  }

  // Total conductance and conductance-weighted reversal of the membrane at state x.
  [[gnu::always_inline]] static void split(const Params& p, const double* x, const NeuronInput& in, double* a, double* b) {
    const double gna = p.g_na * x[1] * x[1] * x[1] * x[2], gk = p.g_k * x[3] * x[3] * x[3] * x[3];
    a[0] = -(gna + gk + p.g_l + in.g) / p.c_m;
    b[0] = (gna * p.e_na + gk * p.e_k + p.g_l * p.e_l + in.g_e + in.i) / p.c_m;
    double al[3], be[3];
    rates(x[0], al, be);
    detail::gate_split(al, be, 3, a + 1, b + 1);
  }

  [[gnu::always_inline]] static void derivatives(const Params& p, const double* x, const NeuronInput& in, double* dx) {
    detail::derivatives_from_split<HodgkinHuxley>(p, x, in, dx);
  }

  [[gnu::always_inline]] static double threshold(const Params& p, const double*) { return p.v_spike; }
  static void reset(const Params&, double*) {}
};

}  // namespace volley
