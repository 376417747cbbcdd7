#pragma once
// Traub-type Hodgkin-Huxley neuron as in Brian2's COBAHH example (Brette et al. 2007, benchmark 3;
// Traub & Miles 1991 kinetics), V_T = -63 mV:
//
//   C dV/dt = g_L (E_L - V) - g_Na m^3 h (V - E_Na) - g_K n^4 (V - E_K) + I
//   alpha_m = 0.32 * 4 / exprel((13 - V + V_T)/4)       beta_m = 0.28 * 5 / exprel((V - V_T - 40)/5)
//   alpha_h = 0.128 exp((17 - V + V_T)/18)               beta_h = 4 / (1 + exp((40 - V + V_T)/5))
//   alpha_n = 0.032 * 5 / exprel((15 - V + V_T)/5)       beta_n = 0.5 exp((10 - V + V_T)/40)
//   (V in mV, rates per ms, exprel(x) = (e^x - 1)/x)
//
// Defaults: Brian2's COBAHH patch of 20 000 µm²: C 0.2 nF, g_L 10 nS, g_Na 20 µS, g_K 6 µS,
// E_L -60, E_K -90, E_Na 50 mV. A spike is an upward crossing of -20 mV. Brian2's example starts
// the gates at 0 (its default), and so does this model's initial state.
#include <array>
#include <cmath>
#include <math.h>  // ::exp etc. carry the SIMD declarations that vectorise them (libmvec)
#include <span>
#include <string>
#include <string_view>

#include "volley/models/ode.hpp"

namespace volley {

struct TraubHH {
  static constexpr int kStates = 4;
  static constexpr std::string_view kName = "traub_hh";
  static constexpr std::string_view kMeaning =
      "Traub & Miles (1991) Hodgkin-Huxley neuron of Brian2's COBAHH example (20 000 µm²)";
  static constexpr bool kResets = false;
  // Accurate default (RK4 in 10 µs steps); examples/cobahh.toml selects Brian2's exponential
  // Euler at dt = 0.1 ms explicitly (method = "exponential_euler", max_step = dt).
  static constexpr Integrator kDefaultIntegrator = Integrator::kRk4;
  static constexpr double kMaxStep = 10e-6;

  struct Params {
    double c_m = 0.2e-9, g_l = 10e-9, g_na = 20e-6, g_k = 6e-6;  // F, S
    double e_l = -60e-3, e_k = -90e-3, e_na = 50e-3, v_t = -63e-3;  // V
    double v_spike = -20e-3;
  };

  // The parameters as model files and the registry name them (defaults: Params{}).
  static std::span<const Param<Params>> params() {
    static const std::vector<Param<Params>> kParams = hh_type_params<Params>({
        {"V_T", &Params::v_t, Dimension::volts(), Range::any(),
         "offset of the rate functions (sets the threshold)"},
    });
    return kParams;
  }

  static constexpr std::array<std::string_view, kStates> state_names() { return {"v", "m", "h", "n"}; }
  static constexpr std::array<Dimension, kStates> state_dimensions() {
    return {Dimension::volts(), Dimension::none(), Dimension::none(), Dimension::none()};
  }

  [[gnu::always_inline]] static double exprel(double x) {
    const double em = detail::expm1_fast(x);  // computed on both branches: keeps the loop branch-free
    const double safe = std::abs(x) < 1e-6 ? 1.0 : x;
    return std::abs(x) < 1e-6 ? 1.0 + x / 2.0 : em / safe;
  }

  [[gnu::always_inline]] static void rates(const Params& p, double v, double* al, double* be) {
    const double u = (v - p.v_t) * 1e3;  // mV above V_T
    al[0] = 1e3 * 0.32 * 4.0 / exprel((13.0 - u) / 4.0);
    be[0] = 1e3 * 0.28 * 5.0 / exprel((u - 40.0) / 5.0);
    al[1] = 1e3 * 0.128 * ::exp((17.0 - u) / 18.0);
    be[1] = 1e3 * 4.0 / (1.0 + ::exp((40.0 - u) / 5.0));
    al[2] = 1e3 * 0.032 * 5.0 / exprel((15.0 - u) / 5.0);
    be[2] = 1e3 * 0.5 * ::exp((10.0 - u) / 40.0);
  }

  static void initial(const Params& p, double* x) {
    x[0] = p.e_l;
    x[1] = x[2] = x[3] = 0.0;
  }

  [[gnu::always_inline]] static void split(const Params& p, const double* x, const NeuronInput& in, double* a, double* b) {
    const double gna = p.g_na * x[1] * x[1] * x[1] * x[2], gk = p.g_k * x[3] * x[3] * x[3] * x[3];
    a[0] = -(gna + gk + p.g_l + in.g) / p.c_m;
    b[0] = (gna * p.e_na + gk * p.e_k + p.g_l * p.e_l + in.g_e + in.i) / p.c_m;
    double al[3], be[3];
    rates(p, x[0], al, be);
    detail::gate_split(al, be, 3, a + 1, b + 1);
  }

  [[gnu::always_inline]] static void derivatives(const Params& p, const double* x, const NeuronInput& in, double* dx) {
    detail::derivatives_from_split<TraubHH>(p, x, in, dx);
  }

  [[gnu::always_inline]] static double threshold(const Params& p, const double*) { return p.v_spike; }
  static void reset(const Params&, double*) {}
};

}  // namespace volley
