#pragma once
// Resonate-and-fire neuron (Izhikevich 2001, "Resonate-and-fire neurons", Neural Networks
// 14:883-894): the linearisation of a neuron near a subcritical Andronov-Hopf bifurcation, a
// damped oscillator with a threshold. In the paper's form dz/dt = (b + i omega) z + I with
// z = x + i y, x current-like and y voltage-like; a spike when y reaches the threshold, then z is
// reset. Here y = v - v_rest and x = u, in volts, the input a current I entering through C_m:
//
//   dv/dt = b (v - v_rest) + omega u
//   du/dt = b u - omega (v - v_rest) + I / C_m           omega = 2 pi f, b < 0
//   v >= v_th  ->  spike, v = v_reset, u = u_reset, v held for t_ref
//
// Below threshold the response to a kick u(0) = u0 is the damped oscillation
// v - v_rest = u0 e^{b t} sin(omega t), u = u0 e^{b t} cos(omega t): eigenfrequency f, decay
// rate |b|. So the neuron resonates: two brief input pulses one eigenperiod 1/f apart add up and
// can make it fire, while the same pulses half a period apart cancel (Izhikevich 2001, Fig. 3).
// A constant current I moves the rest to v - v_rest = (I / C_m) omega / (b^2 + omega^2).
//
// | parameter | unit | default | meaning |
// |---|---|---|---|
// | f | Hz | 20 Hz | eigenfrequency omega / 2 pi (> 0) |
// | b | 1/s | -10 /s | decay rate of the oscillation (< 0; decay time 1/|b| = 100 ms) |
// | C_m | F | 100 pF | converts input current (1 nA for 1 ms kicks u by 10 mV) |
// | v_rest, v_th, v_reset | V | -65, -55, -65 mV | rest, threshold (> v_reset), reset of v |
// | u_reset | V | 0 | reset of u |
// | t_ref | s | 0 | absolute refractory period |
//
// The defaults are volley's choice (the paper is dimensionless): a 20 Hz resonator in the beta
// band whose single pulses of up to ~11 mV (in u) stay subthreshold. The equations are linear,
// so RK4 in 0.1 ms steps is accurate to ~1e-11 per step (omega h = 0.013).
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <numbers>
#include <span>
#include <string>
#include <string_view>

#include "volley/error.hpp"
#include "volley/models/ode.hpp"

namespace volley {

struct ResonateAndFire {
  static constexpr int kStates = 2;
  static constexpr std::string_view kName = "resonate_and_fire";
  static constexpr std::string_view kMeaning =
      "resonate-and-fire neuron (Izhikevich 2001): a damped oscillator with a threshold; "
      "resonates at f";
  static constexpr bool kResets = true;
  static constexpr Integrator kDefaultIntegrator = Integrator::kRk4;
  static constexpr double kMaxStep = 100e-6;

  struct Params {
    double f = 20.0, b = -10.0, c_m = 100e-12;                               // Hz, 1/s, F
    double v_rest = -65e-3, v_th = -55e-3, v_reset = -65e-3, u_reset = 0.0;  // V
    double t_ref = 0.0;                                                      // s
    // Ranges are checked from params(); this checks what involves two parameters.
    void validate(const std::string& where) const {
      require(v_th > v_reset, where, "v_th must be above v_reset");
    }
  };

  static std::span<const Param<Params>> params() {
    static const Param<Params> kParams[] = {
        {"f", &Params::f, Dimension::hertz(), Range::positive(), "eigenfrequency omega / 2 pi"},
        {"b", &Params::b, Dimension::hertz(), Range::negative(),
         "rate of the oscillation's exponential decay (negative)"},
        {"C_m", &Params::c_m, Dimension::farads(), Range::positive(),
         "capacitance through which input current enters u"},
        {"v_rest", &Params::v_rest, Dimension::volts(), Range::any(), "resting potential"},
        {"v_th", &Params::v_th, Dimension::volts(), Range::any(), "threshold (> v_reset)"},
        {"v_reset", &Params::v_reset, Dimension::volts(), Range::any(), "reset of v"},
        {"u_reset", &Params::u_reset, Dimension::volts(), Range::any(),
         "reset of the current-like u"},
        {"t_ref", &Params::t_ref, Dimension::seconds(), Range::non_negative(),
         "absolute refractory period"},
    };
    return kParams;
  }

  static constexpr std::array<std::string_view, kStates> state_names() { return {"v", "u"}; }
  static constexpr std::array<Dimension, kStates> state_dimensions() {
    return {Dimension::volts(), Dimension::volts()};
  }
  static void initial(const Params& p, double* x) {
    x[0] = p.v_rest;
    x[1] = 0.0;
  }
  // Conditionally linear: dv/dt = b v + (omega u - b v_rest), du/dt = b u + (...). Exponential
  // Euler freezes the rotation term over the step, so only rk4 is exact to high order here.
  [[gnu::always_inline]] static void split(const Params& p, const double* x, const NeuronInput& in,
                                           double* a, double* b) {
    const double omega = 2.0 * std::numbers::pi * p.f;
    a[0] = p.b;
    b[0] = omega * x[1] - p.b * p.v_rest;
    a[1] = p.b;
    b[1] = -omega * (x[0] - p.v_rest) + in.current(x[0]) / p.c_m;
  }
  [[gnu::always_inline]] static void derivatives(const Params& p, const double* x,
                                                 const NeuronInput& in, double* dx) {
    detail::derivatives_from_split<ResonateAndFire>(p, x, in, dx);
  }
  static double threshold(const Params& p, const double*) { return p.v_th; }
  static void reset(const Params& p, double* x) {
    x[0] = p.v_reset;
    x[1] = p.u_reset;
  }
};

}  // namespace volley
