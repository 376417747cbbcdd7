#pragma once
// Adaptive-threshold leaky integrate-and-fire neuron (Bellec et al. 2018, "LSNN"):
//
//   tau_m dV/dt = -(V - E_L) + R I
//   tau_a da/dt = -a
//   V >= v_th + beta a  ->  spike, V = v_reset, a += 1, V held for t_ref
//
// Defaults: tau_m 20 ms, tau_a 200 ms, beta 1.8 mV (Bellec et al. use beta = 1.8 in units of
// their normalised threshold), v_th -50 mV, E_L = v_reset -70 mV, R 100 MOhm, t_ref 2 ms.
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

struct Alif {
  static constexpr int kStates = 2;
  static constexpr std::string_view kName = "alif";
  static constexpr std::string_view kMeaning =
      "leaky integrate-and-fire with an adaptive threshold (Bellec et al. 2018, LSNN)";
  static constexpr bool kResets = true;
  // Linear between spikes: exponential Euler is exact for constant input. The 10 µs internal
  // step places the threshold crossing (and so the reset) to within 10 µs.
  static constexpr Integrator kDefaultIntegrator = Integrator::kExponentialEuler;
  static constexpr double kMaxStep = 10e-6;

  struct Params {
    double tau_m = 20e-3, tau_a = 200e-3, beta = 1.8e-3, v_th = -50e-3;
    double e_l = -70e-3, v_reset = -70e-3, r = 100e6, t_ref = 2e-3;
    // Ranges are checked from params(); this checks what involves two parameters.
    void validate(const std::string& where) const {
      require(v_th > v_reset, where, "v_th must be above v_reset");
    }
  };

  // The parameters as model files and the registry name them (defaults: Params{}).
  static std::span<const Param<Params>> params() {
    static const Param<Params> kParams[] = {
        {"tau_m", &Params::tau_m, Dimension::seconds(), Range::positive(),
         "membrane time constant"},
        {"tau_a", &Params::tau_a, Dimension::seconds(), Range::positive(),
         "threshold adaptation time constant"},
        {"beta", &Params::beta, Dimension::volts(), Range::non_negative(),
         "threshold increase per unit of a"},
        {"v_th", &Params::v_th, Dimension::volts(), Range::any(), "baseline threshold (> v_reset)"},
        {"E_L", &Params::e_l, Dimension::volts(), Range::any(), "resting potential"},
        {"v_reset", &Params::v_reset, Dimension::volts(), Range::any(), "reset potential"},
        {"R", &Params::r, Dimension::ohms(), Range::positive(), "membrane resistance"},
        {"t_ref", &Params::t_ref, Dimension::seconds(), Range::non_negative(),
         "absolute refractory period"},
    };
    return kParams;
  }

  static constexpr std::array<std::string_view, kStates> state_names() { return {"v", "a"}; }
  static constexpr std::array<Dimension, kStates> state_dimensions() {
    return {Dimension::volts(), Dimension::none()};
  }
  static void initial(const Params& p, double* x) {
    x[0] = p.e_l;
    x[1] = 0.0;
  }
  [[gnu::always_inline]] static void split(const Params& p, const double* x, const NeuronInput& in,
                                           double* a, double* b) {
    (void)x;
    // Conductance inputs enter as R g (E - V): they change the leak of V.
    a[0] = -(1.0 + p.r * in.g) / p.tau_m;
    b[0] = (p.e_l + p.r * (in.g_e + in.i)) / p.tau_m;
    a[1] = -1.0 / p.tau_a;
    b[1] = 0.0;
  }
  [[gnu::always_inline]] static void derivatives(const Params& p, const double* x,
                                                 const NeuronInput& in, double* dx) {
    detail::derivatives_from_split<Alif>(p, x, in, dx);
  }
  static double threshold(const Params& p, const double* x) { return p.v_th + p.beta * x[1]; }
  static void reset(const Params& p, double* x) {
    x[0] = p.v_reset;
    x[1] += 1.0;
  }
};

}  // namespace volley
