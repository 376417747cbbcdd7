#pragma once
// Reference solutions for OdeNeuron models: adaptive Dormand-Prince RK5(4) in double precision
// with tight tolerances, for tests that check the fixed-step integrators. Spike times are
// located by linear interpolation inside accepted steps no longer than `max_step`.
#include <algorithm>
#include <cmath>
#include <vector>

#include "volley/models/ode.hpp"

namespace volley {

struct ReferenceOptions {
  double rtol = 1e-9;
  double atol = 1e-12;
  double max_step = 1e-5;  // s
};

// Spike times of one neuron of model M under constant input `in` for `duration` seconds,
// starting from M::initial (or from v0 if given).
template <OdeNeuron M>
std::vector<double> reference_spike_times(const typename M::Params& p, const NeuronInput& in,
                                          double duration, ReferenceOptions opt = {},
                                          const double* x0 = nullptr) {
  constexpr int n = M::kStates;
  // Dormand-Prince coefficients.
  static constexpr double c2 = 1.0 / 5, c3 = 3.0 / 10, c4 = 4.0 / 5, c5 = 8.0 / 9;
  static constexpr double a21 = 1.0 / 5;
  static constexpr double a31 = 3.0 / 40, a32 = 9.0 / 40;
  static constexpr double a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9;
  static constexpr double a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561,
                          a54 = -212.0 / 729;
  static constexpr double a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247,
                          a64 = 49.0 / 176, a65 = -5103.0 / 18656;
  static constexpr double b1 = 35.0 / 384, b3 = 500.0 / 1113, b4 = 125.0 / 192,
                          b5 = -2187.0 / 6784, b6 = 11.0 / 84;
  static constexpr double e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920,
                          e5 = -17253.0 / 339200, e6 = 22.0 / 525, e7 = -1.0 / 40;
  (void)c2, (void)c3, (void)c4, (void)c5;

  double x[n];
  if (x0) std::copy(x0, x0 + n, x);
  else M::initial(p, x);
  std::vector<double> spikes;
  double t = 0.0, h = 1e-7, held_until = -1.0, v_held = 0.0;
  double k1[n], k2[n], k3[n], k4[n], k5[n], k6[n], k7[n], y[n], xn[n];
  auto f = [&](double tt, const double* s, double* d) {
    M::derivatives(p, s, in, d);
    if (tt < held_until) d[0] = 0.0;  // refractory: v held
  };
  while (t < duration) {
    h = std::min({h, opt.max_step, duration - t});
    if (held_until > t) h = std::min(h, held_until - t);
    f(t, x, k1);
    for (int k = 0; k < n; ++k) y[k] = x[k] + h * a21 * k1[k];
    f(t + c2 * h, y, k2);
    for (int k = 0; k < n; ++k) y[k] = x[k] + h * (a31 * k1[k] + a32 * k2[k]);
    f(t + c3 * h, y, k3);
    for (int k = 0; k < n; ++k) y[k] = x[k] + h * (a41 * k1[k] + a42 * k2[k] + a43 * k3[k]);
    f(t + c4 * h, y, k4);
    for (int k = 0; k < n; ++k)
      y[k] = x[k] + h * (a51 * k1[k] + a52 * k2[k] + a53 * k3[k] + a54 * k4[k]);
    f(t + c5 * h, y, k5);
    for (int k = 0; k < n; ++k)
      y[k] = x[k] + h * (a61 * k1[k] + a62 * k2[k] + a63 * k3[k] + a64 * k4[k] + a65 * k5[k]);
    f(t + h, y, k6);
    for (int k = 0; k < n; ++k)
      xn[k] = x[k] + h * (b1 * k1[k] + b3 * k3[k] + b4 * k4[k] + b5 * k5[k] + b6 * k6[k]);
    f(t + h, xn, k7);
    double err = 0.0;
    for (int k = 0; k < n; ++k) {
      const double e =
          h * (e1 * k1[k] + e3 * k3[k] + e4 * k4[k] + e5 * k5[k] + e6 * k6[k] + e7 * k7[k]);
      const double scale = opt.atol + opt.rtol * std::max(std::abs(x[k]), std::abs(xn[k]));
      err = std::max(err, std::abs(e) / scale);
    }
    if (err > 1.0) {
      h *= std::max(0.1, 0.9 * std::pow(err, -0.2));
      continue;
    }
    const double theta_before = M::threshold(p, x), theta_after = M::threshold(p, xn);
    const bool in_refractory = t < held_until;
    const bool crossed = !in_refractory && xn[0] >= theta_after &&
                         (M::kResets || x[0] < theta_before);
    if (crossed) {
      // Linear interpolation of v - threshold inside the (short) step.
      const double d0 = x[0] - theta_before, d1 = xn[0] - theta_after;
      const double frac = d1 != d0 ? std::clamp(-d0 / (d1 - d0), 0.0, 1.0) : 1.0;
      spikes.push_back(t + frac * h);
      if constexpr (M::kResets) {
        M::reset(p, xn);
        if constexpr (requires { p.t_ref; }) {
          held_until = t + h + p.t_ref;
          v_held = xn[0];
        }
      }
    }
    if (t < held_until) xn[0] = v_held;
    std::copy(xn, xn + n, x);
    t += h;
    h *= std::min(5.0, 0.9 * std::pow(std::max(err, 1e-10), -0.2));
  }
  return spikes;
}

}  // namespace volley
