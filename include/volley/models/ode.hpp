#pragma once
// Neuron models written as ordinary differential equations, and the integrators that advance
// them. A model is a plain struct that satisfies the `OdeNeuron` concept; `OdePopulation<M>`
// (ode_population.hpp) turns it into a population the simulator runs, `reference_spike_times`
// (tests/support/ode_reference.hpp) integrates the same equations with adaptive RK45 for tests.
//
// All quantities are SI: v in volts (state 0), currents in amperes, conductances in siemens,
// capacitances in farads, rates per second.
#include <array>
#include <cmath>
#include <math.h>  // ::exp etc. carry the SIMD declarations that vectorise them (libmvec)
#include <concepts>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "volley/registry.hpp"
#include "volley/units.hpp"

namespace volley {

// The synaptic and injected input at one neuron: I(v) = g_e - g * v + i   (amperes), i.e. a sum
// of conductances g_k with reversal potentials E_k (g = sum g_k, g_e = sum g_k E_k) plus a
// current i (current-based synapses and injected current).
struct NeuronInput {
  double g = 0.0;
  double g_e = 0.0;
  double i = 0.0;
  double current(double v) const { return g_e - g * v + i; }
};

enum class Integrator {
  kEuler,               // x += dt f(x)
  kExponentialEuler,    // per state, dx/dt = a x + b frozen over the step (Brian2's exponential_euler)
  kRk4,                 // classic fourth-order Runge-Kutta
  kExponentialMidpoint, // second-order exponential integrator: exponential Euler over the full
                        // step with a and b taken at the exponential-Euler midpoint
};

// The methods by name ("euler", "exponential_euler", "exponential_midpoint", "rk4").
const Registry<Choice<Integrator>>& integrators();
// Throws ParameterError "unknown method 'x' (expected one of ...)".
Integrator parse_integrator(std::string_view name);
std::string_view integrator_name(Integrator m);

// The contract of a neuron model given as ODEs.
//   kName, kMeaning               its name in model files and a one-line description (with source)
//   params()                      its parameters: a span of Param<Params> (key, member, dimension,
//                                 range, meaning); the defaults are Params{}'s member values
//   presets()                     optional: a span of Preset<Params>
//   kStates                       number of state variables, v first
//   state_names()                 their names (for monitors), v first
//   state_dimensions()            physical dimension of each state
//   Params                        the parameters; optionally Params::validate(where) for
//                                 constraints between parameters (ranges come from params())
//   initial(p, x)                 resting state
//   derivatives(p, x, in, dx)     dx/dt
//   split(p, x, in, a, b)         dx_k/dt = a_k x_k + b_k with a_k, b_k independent of x_k
//                                 (conditionally linear form for exponential Euler)
//   threshold(p, x)               spike when v reaches it (may depend on the state, e.g. an
//                                 adaptive threshold)
//   kResets                       true for integrate-and-fire types: at the threshold reset(p, x)
//                                 applies the reset (and v is held for p.t_ref if the model has
//                                 one); false for HH-type models, which spike when v crosses the
//                                 threshold upwards and are never reset
//   kDefaultIntegrator            the method used unless the model file chooses another
//   kMaxStep                      longest stable and accurate internal step for that method (s)
template <class M>
concept OdeNeuron = requires(const typename M::Params& p, double* x, const double* cx,
                             const NeuronInput& in, double* a, double* b) {
  { M::kStates } -> std::convertible_to<int>;
  { M::kName } -> std::convertible_to<std::string_view>;
  { M::kMeaning } -> std::convertible_to<std::string_view>;
  { M::params() } -> std::convertible_to<std::span<const Param<typename M::Params>>>;
  { M::state_names() } -> std::convertible_to<std::array<std::string_view, M::kStates>>;
  { M::state_dimensions() } -> std::convertible_to<std::array<Dimension, M::kStates>>;
  { M::initial(p, x) };
  { M::derivatives(p, cx, in, a) };
  { M::split(p, cx, in, a, b) };
  { M::threshold(p, cx) } -> std::convertible_to<double>;
  { M::kResets } -> std::convertible_to<bool>;
  { M::kDefaultIntegrator } -> std::convertible_to<Integrator>;
  { M::kMaxStep } -> std::convertible_to<double>;
  { M::reset(p, x) };
};

namespace detail {
// e^x - 1 through glibc's ::expm1, which (unlike std::expm1) carries the SIMD declaration that
// lets gcc vectorise loops calling it.
[[gnu::always_inline]] inline double expm1_fast(double x) { return ::expm1(x); }

// x(h) of dx/dt = a x + b with a, b frozen; expm1 keeps it exact as a -> 0 (then x + b h).
[[gnu::always_inline]] inline double exp_step(double x, double a, double b, double h) {
  const double ah = a * h;
  const double e = expm1_fast(ah);  // one transcendental call: e^{ah} = 1 + e
  const double safe_a = std::abs(ah) > 1e-12 ? a : 1.0;  // branch-free: both sides computed
  return std::abs(ah) > 1e-12 ? x + x * e + b * (e / safe_a) : x + h * (a * x + b);
}
}  // namespace detail

namespace detail {
// dx/dt from a model's conditionally linear form: dx_k/dt = a_k x_k + b_k.
template <class M>
[[gnu::always_inline]] inline void derivatives_from_split(const typename M::Params& p,
                                                          const double* x, const NeuronInput& in,
                                                          double* dx) {
  double a[M::kStates], b[M::kStates];
  M::split(p, x, in, a, b);
  for (int k = 0; k < M::kStates; ++k) dx[k] = a[k] * x[k] + b[k];
}

// Gating variables dx/dt = alpha (1 - x) - beta x, i.e. a = -(alpha + beta), b = alpha.
[[gnu::always_inline]] inline void gate_split(const double* alpha, const double* beta, int n,
                                              double* a, double* b) {
  for (int k = 0; k < n; ++k) {
    a[k] = -(alpha[k] + beta[k]);
    b[k] = alpha[k];
  }
}
}  // namespace detail

// One step of size h for one neuron, in place; the method is a template argument so that a loop
// over neurons calling it has no branch on it.
template <OdeNeuron M, Integrator method>
[[gnu::always_inline]] inline void integrate_step(const typename M::Params& p, double* x, const NeuronInput& in,
                           double h) {
  constexpr int n = M::kStates;
  switch (method) {
    case Integrator::kEuler: {
      double dx[n];
      M::derivatives(p, x, in, dx);
      _Pragma("GCC unroll 8") for (int k = 0; k < n; ++k) x[k] += h * dx[k];
      return;
    }
    case Integrator::kExponentialEuler: {
      double a[n], b[n];
      M::split(p, x, in, a, b);
      _Pragma("GCC unroll 8") for (int k = 0; k < n; ++k) x[k] = detail::exp_step(x[k], a[k], b[k], h);
      return;
    }
    case Integrator::kExponentialMidpoint: {
      double a[n], b[n], y[n];
      M::split(p, x, in, a, b);
      _Pragma("GCC unroll 8") for (int k = 0; k < n; ++k) y[k] = detail::exp_step(x[k], a[k], b[k], 0.5 * h);
      M::split(p, y, in, a, b);
      _Pragma("GCC unroll 8") for (int k = 0; k < n; ++k) x[k] = detail::exp_step(x[k], a[k], b[k], h);
      return;
    }
    case Integrator::kRk4: {
      double k1[n], k2[n], k3[n], k4[n], y[n];
      M::derivatives(p, x, in, k1);
      _Pragma("GCC unroll 8") for (int k = 0; k < n; ++k) y[k] = x[k] + 0.5 * h * k1[k];
      M::derivatives(p, y, in, k2);
      _Pragma("GCC unroll 8") for (int k = 0; k < n; ++k) y[k] = x[k] + 0.5 * h * k2[k];
      M::derivatives(p, y, in, k3);
      _Pragma("GCC unroll 8") for (int k = 0; k < n; ++k) y[k] = x[k] + h * k3[k];
      M::derivatives(p, y, in, k4);
      _Pragma("GCC unroll 8") for (int k = 0; k < n; ++k) x[k] += h / 6.0 * (k1[k] + 2.0 * k2[k] + 2.0 * k3[k] + k4[k]);
      return;
    }
  }
}

// The same with the method chosen at run time.
template <OdeNeuron M>
inline void integrate_step(Integrator method, const typename M::Params& p, double* x,
                           const NeuronInput& in, double h) {
  switch (method) {
    case Integrator::kEuler: return integrate_step<M, Integrator::kEuler>(p, x, in, h);
    case Integrator::kExponentialEuler:
      return integrate_step<M, Integrator::kExponentialEuler>(p, x, in, h);
    case Integrator::kExponentialMidpoint:
      return integrate_step<M, Integrator::kExponentialMidpoint>(p, x, in, h);
    case Integrator::kRk4: return integrate_step<M, Integrator::kRk4>(p, x, in, h);
  }
}

// The parameters that Hodgkin-Huxley-type models share (Params with members c_m, g_na, g_k,
// g_l, e_na, e_k, e_l, v_spike), declared once: the model's own parameters (`extra`) come
// between the reversal potentials and v_spike.
template <class P>
std::vector<Param<P>> hh_type_params(std::initializer_list<Param<P>> extra = {}) {
  std::vector<Param<P>> out = {
      {"C_m", &P::c_m, Dimension::farads(), Range::positive(), "membrane capacitance"},
      {"g_Na", &P::g_na, Dimension::siemens(), Range::non_negative(), "peak sodium conductance"},
      {"g_K", &P::g_k, Dimension::siemens(), Range::non_negative(), "peak potassium conductance"},
      {"g_L", &P::g_l, Dimension::siemens(), Range::positive(), "leak conductance"},
      {"E_Na", &P::e_na, Dimension::volts(), Range::any(), "sodium reversal potential"},
      {"E_K", &P::e_k, Dimension::volts(), Range::any(), "potassium reversal potential"},
      {"E_L", &P::e_l, Dimension::volts(), Range::any(), "leak reversal potential"},
  };
  out.insert(out.end(), extra);
  out.push_back({"v_spike", &P::v_spike, Dimension::volts(), Range::any(),
                 "an upward crossing of v_spike is a spike"});
  return out;
}

}  // namespace volley
