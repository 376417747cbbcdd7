#pragma once
// Quadratic integrate-and-fire neuron (Ermentrout & Kopell 1986; in Izhikevich 2007's form):
//
//   C dV/dt = k (V - V_r)(V - V_t) + I
//   V >= v_peak  ->  spike, V = v_reset, V held for t_ref
//
// Defaults (Izhikevich 2007, ch. 8, regular spiking without recovery): C 100 pF,
// k 0.7 nS/mV, V_r -60 mV, V_t -40 mV, v_peak 35 mV, v_reset -50 mV. Class I excitability: the
// saddle-node on invariant circle at I = k (V_t - V_r)^2 / 4 = 70 pA.
#include <array>
#include <cmath>
#include <math.h>  // ::exp etc. carry the SIMD declarations that vectorise them (libmvec)
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "volley/error.hpp"
#include "volley/models/ode.hpp"

namespace volley {

struct Qif {
  static constexpr int kStates = 1;
  static constexpr std::string_view kName = "qif";
  static constexpr std::string_view kMeaning =
      "quadratic integrate-and-fire (Izhikevich 2007, ch. 8); class I";
  static constexpr bool kResets = true;
  static constexpr Integrator kDefaultIntegrator = Integrator::kRk4;
  static constexpr double kMaxStep = 10e-6;

  struct Params {
    double c_m = 100e-12, k = 0.7e-6;  // F, S/V
    double v_r = -60e-3, v_t = -40e-3, v_peak = 35e-3, v_reset = -50e-3, t_ref = 0.0;
    // Ranges are checked from params(); this checks what involves two parameters.
    void validate(const std::string& where) const {
      require(v_t > v_r, where, "V_t must be above V_r");
      require(v_peak > v_reset, where, "v_peak must be above v_reset");
    }
  };

  // The parameters as model files and the registry name them (defaults: Params{}).
  static std::span<const Param<Params>> params() {
    static const Param<Params> kParams[] = {
        {"C_m", &Params::c_m, Dimension::farads(), Range::positive(), "membrane capacitance"},
        {"k", &Params::k, Dimension{0, -2, 1}, Range::positive(), "curvature, e.g. \"0.7 nS/mV\""},
        {"V_r", &Params::v_r, Dimension::volts(), Range::any(), "resting potential"},
        {"V_t", &Params::v_t, Dimension::volts(), Range::any(), "instantaneous threshold (> V_r)"},
        {"v_peak", &Params::v_peak, Dimension::volts(), Range::any(), "spike cut-off (> v_reset)"},
        {"v_reset", &Params::v_reset, Dimension::volts(), Range::any(), "reset potential"},
        {"t_ref", &Params::t_ref, Dimension::seconds(), Range::non_negative(),
         "absolute refractory period"},
    };
    return kParams;
  }

  static constexpr std::array<std::string_view, kStates> state_names() { return {"v"}; }
  static constexpr std::array<Dimension, kStates> state_dimensions() { return {Dimension::volts()}; }
  static void initial(const Params& p, double* x) { x[0] = p.v_r; }
  // Conditionally linear form: a depends on V (exponential Euler is then only approximate; the
  // default RK4 uses derivatives()).
  [[gnu::always_inline]] static void split(const Params& p, const double* x, const NeuronInput& in,
                                           double* a, double* b) {
    a[0] = (p.k * (x[0] - p.v_t) - in.g) / p.c_m;
    b[0] = (-p.k * p.v_r * (x[0] - p.v_t) + in.g_e + in.i) / p.c_m;
  }
  [[gnu::always_inline]] static void derivatives(const Params& p, const double* x,
                                                 const NeuronInput& in, double* dx) {
    dx[0] = (p.k * (x[0] - p.v_r) * (x[0] - p.v_t) + in.current(x[0])) / p.c_m;
  }
  static double threshold(const Params& p, const double*) { return p.v_peak; }
  static void reset(const Params& p, double* x) { x[0] = p.v_reset; }
};

}  // namespace volley
