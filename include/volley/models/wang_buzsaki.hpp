#pragma once
// Wang & Buzsáki (1996) fast-spiking interneuron:
//
//   C dV/dt = I - g_Na m_inf^3 h (V - E_Na) - g_K n^4 (V - E_K) - g_L (V - E_L)
//   dh/dt = phi (alpha_h (1 - h) - beta_h h),   dn/dt = phi (alpha_n (1 - n) - beta_n n)
//   m_inf = alpha_m / (alpha_m + beta_m)                          (V in mV, rates per ms)
//   alpha_m = 0.1 (V + 35) / (1 - exp(-(V + 35)/10))       beta_m = 4 exp(-(V + 60)/18)
//   alpha_h = 0.07 exp(-(V + 58)/20)                        beta_h = 1 / (exp(-0.1 (V + 28)) + 1)
//   alpha_n = 0.01 (V + 34) / (1 - exp(-0.1 (V + 34)))     beta_n = 0.125 exp(-(V + 44)/80)
//
// 1 cm² patch: C 1 µF, g_Na 35, g_K 9, g_L 0.1 mS; E_Na 55, E_K -90, E_L -65 mV; phi = 5.
// Class I excitability: it fires at arbitrarily low rates just above a rheobase of about
// 0.16 µA/cm² (Wang & Buzsáki 1996, Fig. 1). A spike is an upward crossing of -20 mV.
#include <array>
#include <cmath>
#include <math.h>  // ::exp etc. carry the SIMD declarations that vectorise them (libmvec)
#include <span>
#include <string>
#include <string_view>

#include "volley/models/hodgkin_huxley.hpp"  // detail::vtrap
#include "volley/models/ode.hpp"

namespace volley {

struct WangBuzsaki {
  static constexpr int kStates = 3;
  static constexpr std::string_view kName = "wang_buzsaki";
  static constexpr std::string_view kMeaning =
      "Wang & Buzsáki (1996) fast-spiking interneuron, 1 cm² patch; class I";
  static constexpr bool kResets = false;
  static constexpr Integrator kDefaultIntegrator = Integrator::kRk4;
  static constexpr double kMaxStep = 10e-6;

  struct Params {
    double c_m = 1e-6, g_na = 35e-3, g_k = 9e-3, g_l = 0.1e-3;  // F, S
    double e_na = 55e-3, e_k = -90e-3, e_l = -65e-3;            // V
    double phi = 5.0;
    double v_spike = -20e-3;
  };

  // The parameters as model files and the registry name them (defaults: Params{}).
  static std::span<const Param<Params>> params() {
    static const std::vector<Param<Params>> kParams = hh_type_params<Params>({
        {"phi", &Params::phi, Dimension::none(), Range::positive(),
         "temperature factor of the h and n kinetics"},
    });
    return kParams;
  }

  static constexpr std::array<std::string_view, kStates> state_names() { return {"v", "h", "n"}; }
  static constexpr std::array<Dimension, kStates> state_dimensions() {
    return {Dimension::volts(), Dimension::none(), Dimension::none()};
  }

  // m_inf and the h, n rates (per second) at v (volts).
  [[gnu::always_inline]] static void rates(const Params& p, double v, double& m_inf, double* al,
                                           double* be) {
    const double u = v * 1e3;
    const double am = 0.1 * detail::vtrap(u + 35.0, 10.0), bm = 4.0 * ::exp(-(u + 60.0) / 18.0);
    m_inf = am / (am + bm);
    al[0] = 1e3 * p.phi * 0.07 * ::exp(-(u + 58.0) / 20.0);
    be[0] = 1e3 * p.phi / (::exp(-0.1 * (u + 28.0)) + 1.0);
    al[1] = 1e3 * p.phi * 0.01 * detail::vtrap(u + 34.0, 10.0);
    be[1] = 1e3 * p.phi * 0.125 * ::exp(-(u + 44.0) / 80.0);
  }

  static void initial(const Params& p, double* x) {
    x[0] = -64e-3;
    double m, al[2], be[2];
    rates(p, x[0], m, al, be);
    x[1] = al[0] / (al[0] + be[0]);
    x[2] = al[1] / (al[1] + be[1]);
  }

  [[gnu::always_inline]] static void split(const Params& p, const double* x, const NeuronInput& in,
                                           double* a, double* b) {
    double m, al[2], be[2];
    rates(p, x[0], m, al, be);
    const double gna = p.g_na * m * m * m * x[1], gk = p.g_k * x[2] * x[2] * x[2] * x[2];
    a[0] = -(gna + gk + p.g_l + in.g) / p.c_m;
    b[0] = (gna * p.e_na + gk * p.e_k + p.g_l * p.e_l + in.g_e + in.i) / p.c_m;
    detail::gate_split(al, be, 2, a + 1, b + 1);
  }

  [[gnu::always_inline]] static void derivatives(const Params& p, const double* x,
                                                 const NeuronInput& in, double* dx) {
    detail::derivatives_from_split<WangBuzsaki>(p, x, in, dx);
  }

  [[gnu::always_inline]] static double threshold(const Params& p, const double*) {
    return p.v_spike;
  }
  static void reset(const Params&, double*) {}
};

}  // namespace volley
