#pragma once
// Morris & Lecar (1981) barnacle muscle fibre, in Ermentrout & Terman's form (Mathematical
// Foundations of Neuroscience, 2010, ch. 3):
//
//   C dV/dt = I - g_L (V - E_L) - g_Ca m_inf(V) (V - E_Ca) - g_K w (V - E_K)
//   dw/dt   = phi (w_inf(V) - w) / tau_w(V)                (time in ms)
//   m_inf = (1 + tanh((V - V1)/V2)) / 2,  w_inf = (1 + tanh((V - V3)/V4)) / 2,
//   tau_w = 1 / cosh((V - V3) / (2 V4))
//
// Shared: C 20 µF/cm², g_K 8, g_L 2 mS/cm², E_Ca 120, E_K -84, E_L -60 mV, V1 -1.2, V2 18 mV.
// Presets: "hopf" (class II): g_Ca 4.4, V3 2, V4 30, phi 0.04; "snlc" (class I): g_Ca 4,
// V3 12, V4 17.4, phi 0.067. Parameters are absolute (F, S); the defaults are the per-cm² values
// for a 1 cm² patch, so injected microamperes read as µA/cm².
// A spike is an upward crossing of 0 mV. The SNLC set starts firing through a saddle-node on the
// invariant circle near I = 40 µA/cm² (class I); the Hopf set through a subcritical Hopf
// bifurcation with a bistable range below it (class II) (Ermentrout & Terman 2010, ch. 3).
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

struct MorrisLecar {
  static constexpr int kStates = 2;
  static constexpr std::string_view kName = "morris_lecar";
  static constexpr std::string_view kMeaning =
      "Morris & Lecar (1981) in Ermentrout & Terman's form, 1 cm² patch; class II (hopf) or I "
      "(snlc)";
  static constexpr bool kResets = false;
  static constexpr Integrator kDefaultIntegrator = Integrator::kRk4;
  static constexpr double kMaxStep = 100e-6;

  struct Params {
    double c_m = 20e-6;                            // F
    double g_ca = 4.4e-3, g_k = 8e-3, g_l = 2e-3;  // S
    double e_ca = 120e-3, e_k = -84e-3, e_l = -60e-3;
    double v1 = -1.2e-3, v2 = 18e-3, v3 = 2e-3, v4 = 30e-3;  // V
    double phi = 0.04;                           // 1/ms (dimensionless rate factor)
    double v_spike = 0.0;

    static Params hopf() { return {}; }
    static Params snlc() {
      Params p;
      p.g_ca = 4e-3;
      p.v3 = 12e-3;
      p.v4 = 17.4e-3;
      p.phi = 0.067;
      return p;
    }
    // Ranges are checked from params(); the slopes V2 and V4 divide, so they must not be 0.
    void validate(const std::string& where) const {
      require(v2 != 0, where, "V2 must not be 0");
      require(v4 != 0, where, "V4 must not be 0");
    }
  };

  // The parameters as model files and the registry name them (defaults: Params{}).
  static std::span<const Param<Params>> params() {
    static const Param<Params> kParams[] = {
        {"C_m", &Params::c_m, Dimension::farads(), Range::positive(), "membrane capacitance"},
        {"g_Ca", &Params::g_ca, Dimension::siemens(), Range::non_negative(),
         "peak calcium conductance"},
        {"g_K", &Params::g_k, Dimension::siemens(), Range::non_negative(),
         "peak potassium conductance"},
        {"g_L", &Params::g_l, Dimension::siemens(), Range::positive(), "leak conductance"},
        {"E_Ca", &Params::e_ca, Dimension::volts(), Range::any(), "calcium reversal potential"},
        {"E_K", &Params::e_k, Dimension::volts(), Range::any(), "potassium reversal potential"},
        {"E_L", &Params::e_l, Dimension::volts(), Range::any(), "leak reversal potential"},
        {"V1", &Params::v1, Dimension::volts(), Range::any(), "half-activation voltage of m_inf"},
        {"V2", &Params::v2, Dimension::volts(), Range::any(), "slope of m_inf (not 0)"},
        {"V3", &Params::v3, Dimension::volts(), Range::any(), "half-activation voltage of w_inf"},
        {"V4", &Params::v4, Dimension::volts(), Range::any(), "slope of w_inf (not 0)"},
        {"phi", &Params::phi, Dimension::none(), Range::positive(), "rate factor of w (per ms)"},
        {"v_spike", &Params::v_spike, Dimension::volts(), Range::any(),
         "an upward crossing of v_spike is a spike"},
    };
    return kParams;
  }

  static std::span<const Preset<Params>> presets() {
    static const Preset<Params> kPresets[] = {
        {"hopf",
         "the default: g_Ca 4.4 mS, V3 2 mV, V4 30 mV, phi 0.04; class II (subcritical Hopf)",
         &Params::hopf},
        {"snlc", "g_Ca 4 mS, V3 12 mV, V4 17.4 mV, phi 0.067; class I (saddle-node on invariant "
                 "circle)",
         &Params::snlc},
    };
    return kPresets;
  }

  static constexpr std::array<std::string_view, kStates> state_names() { return {"v", "w"}; }
  static constexpr std::array<Dimension, kStates> state_dimensions() {
    return {Dimension::volts(), Dimension::none()};
  }

  [[gnu::always_inline]] static double w_inf(const Params& p, double v) { return 0.5 * (1.0 + ::tanh((v - p.v3) / p.v4)); }

  static void initial(const Params& p, double* x) {
    // Resting state: solve the I = 0 steady state by bisection on V (w = w_inf(V)).
    auto current = [&](double v) {
      const double m = 0.5 * (1.0 + ::tanh((v - p.v1) / p.v2));
      return -p.g_l * (v - p.e_l) - p.g_ca * m * (v - p.e_ca) - p.g_k * w_inf(p, v) * (v - p.e_k);
    };
    double lo = -0.1, hi = 0.0;
    for (int it = 0; it < 100; ++it) {
      const double mid = 0.5 * (lo + hi);
      (current(mid) > 0 ? lo : hi) = mid;
    }
    x[0] = 0.5 * (lo + hi);
    x[1] = w_inf(p, x[0]);
  }

  [[gnu::always_inline]] static void split(const Params& p, const double* x, const NeuronInput& in, double* a, double* b) {
    const double v = x[0];
    const double m = 0.5 * (1.0 + ::tanh((v - p.v1) / p.v2));
    const double gca = p.g_ca * m, gk = p.g_k * x[1];
    a[0] = -(p.g_l + gca + gk + in.g) / p.c_m;
    b[0] = (p.g_l * p.e_l + gca * p.e_ca + gk * p.e_k + in.g_e + in.i) / p.c_m;
    const double rate = 1e3 * p.phi * ::cosh((v - p.v3) / (2.0 * p.v4));  // per second
    a[1] = -rate;
    b[1] = rate * w_inf(p, v);
  }

  [[gnu::always_inline]] static void derivatives(const Params& p, const double* x, const NeuronInput& in, double* dx) {
    detail::derivatives_from_split<MorrisLecar>(p, x, in, dx);
  }

  [[gnu::always_inline]] static double threshold(const Params& p, const double*) { return p.v_spike; }
  static void reset(const Params&, double*) {}
};

}  // namespace volley
