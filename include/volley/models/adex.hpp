#pragma once
// Adaptive exponential integrate-and-fire neuron (Brette & Gerstner 2005):
//
//   C dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_T)/Delta_T) - w + I
//   tau_w dw/dt = a (V - E_L) - w
//   V >= v_peak  ->  spike, V = V_r, w += b, V held for t_ref
//
// Defaults: the paper's regular-spiking cortical cell (its Table 1): C 281 pF, g_L 30 nS,
// E_L -70.6 mV, V_T -50.4 mV, Delta_T 2 mV, tau_w 144 ms, a 4 nS, b 0.0805 nA, V_r = E_L,
// v_peak = V_T + 5 Delta_T (as in Brian2's AdEx examples). With a = b = 0 and a large tau_w
// this is the exponential integrate-and-fire neuron (model "eif").
#include <algorithm>
#include <array>
#include <cmath>
#include <math.h>  // ::exp etc. carry the SIMD declarations that vectorise them (libmvec)
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "volley/error.hpp"
#include "volley/models/ode.hpp"

namespace volley {

struct AdEx {
  static constexpr int kStates = 2;
  static constexpr std::string_view kName = "adex";
  static constexpr std::string_view kMeaning =
      "adaptive exponential integrate-and-fire (Brette & Gerstner 2005), regular spiking";
  static constexpr bool kResets = true;
  static constexpr Integrator kDefaultIntegrator = Integrator::kRk4;
  static constexpr double kMaxStep = 10e-6;  // the exponential upswing is fast

  struct Params {
    double c_m = 281e-12, g_l = 30e-9, e_l = -70.6e-3, v_t = -50.4e-3, delta_t = 2e-3;
    double tau_w = 144e-3, a = 4e-9, b = 0.0805e-9;
    double v_reset = -70.6e-3, v_peak = -40.4e-3, t_ref = 0.0;
    // Ranges are checked from params(); this checks what involves two parameters.
    void validate(const std::string& where) const {
      require(v_peak > v_reset, where, "v_peak must be above v_reset");
    }
  };

  // The parameters as model files and the registry name them (defaults: Params{}).
  static std::span<const Param<Params>> params() {
    static const Param<Params> kParams[] = {
        {"C_m", &Params::c_m, Dimension::farads(), Range::positive(), "membrane capacitance"},
        {"g_L", &Params::g_l, Dimension::siemens(), Range::positive(), "leak conductance"},
        {"E_L", &Params::e_l, Dimension::volts(), Range::any(), "leak reversal potential"},
        {"V_T", &Params::v_t, Dimension::volts(), Range::any(),
         "threshold of the exponential term"},
        {"Delta_T", &Params::delta_t, Dimension::volts(), Range::positive(),
         "slope factor of the exponential term"},
        {"v_reset", &Params::v_reset, Dimension::volts(), Range::any(), "reset potential V_r"},
        {"v_peak", &Params::v_peak, Dimension::volts(), Range::any(), "spike cut-off (> v_reset)"},
        {"t_ref", &Params::t_ref, Dimension::seconds(), Range::non_negative(),
         "absolute refractory period"},
        {"tau_w", &Params::tau_w, Dimension::seconds(), Range::positive(),
         "adaptation time constant"},
        {"a", &Params::a, Dimension::siemens(), Range::any(),
         "subthreshold adaptation conductance"},
        {"b", &Params::b, Dimension::amperes(), Range::any(), "spike-triggered adaptation current"},
    };
    return kParams;
  }

  static constexpr std::array<std::string_view, kStates> state_names() { return {"v", "w"}; }
  static constexpr std::array<Dimension, kStates> state_dimensions() {
    return {Dimension::volts(), Dimension::amperes()};
  }
  static void initial(const Params& p, double* x) {
    x[0] = p.e_l;
    x[1] = 0.0;
  }
  [[gnu::always_inline]] static void split(const Params& p, const double* x, const NeuronInput& in,
                                           double* a, double* b) {
    // Exponential term cut at v_peak + 10 Delta_T to keep it finite within one step.
    const double ex = ::exp(std::min((x[0] - p.v_t) / p.delta_t, (p.v_peak - p.v_t) / p.delta_t + 10.0));
    a[0] = -(p.g_l + in.g) / p.c_m;
    b[0] = (p.g_l * p.e_l + p.g_l * p.delta_t * ex - x[1] + in.g_e + in.i) / p.c_m;
    a[1] = -1.0 / p.tau_w;
    b[1] = p.a * (x[0] - p.e_l) / p.tau_w;
  }
  [[gnu::always_inline]] static void derivatives(const Params& p, const double* x,
                                                 const NeuronInput& in, double* dx) {
    detail::derivatives_from_split<AdEx>(p, x, in, dx);
  }
  static double threshold(const Params& p, const double*) { return p.v_peak; }
  static void reset(const Params& p, double* x) {
    x[0] = p.v_reset;
    x[1] += p.b;
  }
};

// The exponential integrate-and-fire neuron (Fourcaud-Trocmé et al. 2003): AdEx without
// adaptation (a = b = 0, so w stays 0), with AdEx's other parameters and defaults.
struct Eif : AdEx {
  static constexpr std::string_view kName = "eif";
  static constexpr std::string_view kMeaning =
      "exponential integrate-and-fire (Fourcaud-Trocmé et al. 2003): adex with a = b = 0";

  struct Params : AdEx::Params {
    Params() { a = b = 0.0; }
  };

  // AdEx's parameters without the adaptation (tau_w, a, b), declared once in AdEx::params().
  static std::span<const Param<Params>> params() {
    static const std::vector<Param<Params>> kParams = [] {
      std::vector<Param<Params>> out;
      for (const auto& p : AdEx::params()) {
        if (p.key == "tau_w" || p.key == "a" || p.key == "b") continue;
        const auto member = std::visit([](auto m) -> Param<Params>::Member { return m; }, p.member);
        out.push_back({p.key, member, p.dim, p.range, p.meaning});
      }
      return out;
    }();
    return kParams;
  }
  // The equations are AdEx's (its functions take Eif::Params as AdEx::Params).
};

}  // namespace volley
