// Self-test of the double-precision BPTT reference (reference_bptt.hpp).
//
// In the smooth forward mode the backward pass is the exact derivative of the
// loss, so its gradients must match central finite differences of loss(). The
// heaviside mode, the spike window and detach_reset are checked against their
// definitions (hand-computed traces, masked surrogates, a frozen-reset forward
// written separately here).
#include "train/reference_bptt.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <numbers>
#include <string>
#include <vector>

namespace {

namespace ref = volley::reference;
using ref::Layer;
using ref::Options;

constexpr std::size_t kIn = 5, kHidden = 4, kClasses = 3, kT = 12, kBatch = 3;

// Random numbers from the raw mt19937_64 stream (whose output the standard
// fixes), not from std:: distributions (whose output it does not), so that
// every standard library builds the same networks.
double uniform(std::mt19937_64& rng, double lo, double hi) {
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // [0, 1)
  return lo + (hi - lo) * u;
}

double normal(std::mt19937_64& rng, double mean, double sd) {  // Box-Muller
  const double u1 = 1.0 - uniform(rng, 0, 1), u2 = uniform(rng, 0, 1);
  return mean + sd * std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}

// Random layer: spiking weights ~ N(0.5, 0.5) so that neurons cross
// threshold, readout weights ~ N(0, 1), recurrent weights ~ N(0, 0.5),
// alpha in [0.5, 0.9], beta in [0.6, 0.95].
Layer make_layer(Layer::Kind kind, std::size_t n_in, std::size_t n, std::mt19937_64& rng) {
  Layer L;
  L.kind = kind;
  L.n_in = n_in;
  L.n = n;
  L.W.resize(n_in * n);
  for (double& w : L.W) w = kind == Layer::readout ? normal(rng, 0, 1) : normal(rng, 0.5, 0.5);
  if (kind != Layer::readout) {
    L.V.resize(n * n);
    for (double& v : L.V) v = normal(rng, 0, 0.5);
  }
  L.alpha.resize(n);
  L.beta.resize(n);
  for (double& a : L.alpha) a = uniform(rng, 0.5, 0.9);
  for (double& b : L.beta) b = uniform(rng, 0.6, 0.95);
  return L;
}

std::vector<std::vector<double>> make_inputs(std::size_t batch, std::size_t T, std::size_t n_in,
                                             std::mt19937_64& rng) {
  std::vector<std::vector<double>> x(batch, std::vector<double>(T * n_in));
  for (auto& xb : x)
    for (double& v : xb) v = uniform(rng, 0, 1);
  return x;
}

std::vector<int> make_labels(std::size_t batch, std::size_t classes) {
  std::vector<int> labels(batch);
  for (std::size_t b = 0; b < batch; ++b) labels[b] = static_cast<int>(b % classes);
  return labels;
}

Options smooth_options(const ref::Loss& loss) {
  Options o;
  o.forward = Options::smooth;
  o.smooth_scale = 10;
  o.loss = loss;
  return o;
}

double fast_sigmoid_derivative(double u) {
  const double d = 1.0 + 10.0 * std::abs(u);
  return 1.0 / (d * d);
}

Options heaviside_options(const ref::Loss& loss) {
  Options o;
  o.forward = Options::heaviside;
  o.surrogate_derivative = fast_sigmoid_derivative;
  o.loss = loss;
  return o;
}

enum class Param { W, V, alpha, beta, theta, wrho, wa, wb, delay };
constexpr Param kParams[] = {Param::W,     Param::V,    Param::alpha, Param::beta, Param::theta,
                             Param::wrho,  Param::wa,   Param::wb,    Param::delay};
const char* name(Param p) {
  switch (p) {
    case Param::W: return "W";
    case Param::V: return "V";
    case Param::alpha: return "alpha";
    case Param::beta: return "beta";
    case Param::theta: return "theta";
    case Param::wrho: return "wrho";
    case Param::wa: return "wa";
    case Param::wb: return "wb";
    case Param::delay: return "delay";
  }
  return "?";
}

std::vector<double>& param(Layer& L, Param p) {
  switch (p) {
    case Param::W: return L.W;
    case Param::V: return L.V;
    case Param::alpha: return L.alpha;
    case Param::beta: return L.beta;
    case Param::theta: return L.theta;
    case Param::wrho: return L.wrho;
    case Param::wa: return L.wa;
    case Param::wb: return L.wb;
    case Param::delay: return L.delay;
  }
  return L.W;
}

const std::vector<double>& grad(const ref::Grads& g, std::size_t l, Param p) {
  switch (p) {
    case Param::W: return g.dW[l];
    case Param::V: return g.dV[l];
    case Param::alpha: return g.dalpha[l];
    case Param::beta: return g.dbeta[l];
    case Param::theta: return g.dtheta[l];
    case Param::wrho: return g.dwrho[l];
    case Param::wa: return g.dwa[l];
    case Param::wb: return g.dwb[l];
    case Param::delay: return g.ddelay[l];
  }
  return g.dW[l];
}

// Largest |gradient| over all parameters of a layer.
double max_abs_grad(const ref::Grads& g, std::size_t l) {
  double m = 0;
  for (Param p : kParams)
    for (double v : grad(g, l, p)) m = std::max(m, std::abs(v));
  return m;
}

// Fraction of hidden (b, t, j) whose smooth spike is neither ~0 nor ~1, and
// fraction that is above 0.5: the network must be neither silent nor saturated.
void expect_active(const ref::Grads& g, std::size_t l) {
  std::size_t total = 0, above = 0;
  for (const auto& ob : g.out[l])
    for (double s : ob) {
      ++total;
      if (s > 0.5) ++above;
    }
  const double frac = static_cast<double>(above) / static_cast<double>(total);
  EXPECT_GT(frac, 0.05) << "layer " << l << " nearly silent";
  EXPECT_LT(frac, 0.95) << "layer " << l << " nearly always spiking";
}

// d/dp of f at p = values[i]: central differences with steps h and h/2,
// Richardson-extrapolated, (4 D(h/2) - D(h)) / 3, which cancels the h^2
// error term (spiking losses can be strongly curved where some |u| is small).
template <class F>
double finite_difference(std::vector<double>& values, std::size_t i, const F& f, double h = 1e-6) {
  const double orig = values[i];
  auto central = [&](double step) {
    values[i] = orig + step;
    const double lp = f();
    values[i] = orig - step;
    const double lm = f();
    values[i] = orig;
    return (lp - lm) / (2 * step);
  };
  const double d1 = central(h), d2 = central(h / 2);
  return (4 * d2 - d1) / 3;
}

// Compares every gradient entry of bptt() with a central finite difference of
// loss(). Hidden layers must get non-negligible gradients.
void expect_matches_finite_differences(std::vector<Layer> layers, const std::vector<std::vector<double>>& x,
                                       const std::vector<int>& labels, std::size_t T, const Options& opt,
                                       double rtol = 1e-5) {
  const ref::Grads g = ref::bptt(layers, x, labels, T, opt);
  const double L0 = ref::loss(layers, x, labels, T, opt);
  EXPECT_NEAR(g.loss, L0, 1e-12 * std::max(1.0, std::abs(L0)));
  ASSERT_TRUE(std::isfinite(L0));

  const double atol = 1e-8 * std::max(1.0, std::abs(L0));
  int failures = 0;
  std::size_t checked = 0;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    EXPECT_GT(max_abs_grad(g, l), 1e-3) << "layer " << l << " gradients are negligible; test too weak";
    for (Param p : kParams) {
      const std::vector<double>& analytic = grad(g, l, p);
      if (p == Param::V && !layers[l].recurrent) {
        EXPECT_TRUE(analytic.empty());
        continue;
      }
      // Per-neuron thresholds and adlif's parameters only where the layer has them.
      if (p != Param::W && p != Param::V && p != Param::alpha && p != Param::beta &&
          param(layers[l], p).empty())
        continue;
      if (p == Param::alpha && !layers[l].has_syn) {
        for (double v : analytic) EXPECT_EQ(v, 0.0);
        continue;
      }
      std::vector<double>& values = param(layers[l], p);
      ASSERT_EQ(analytic.size(), values.size());
      for (std::size_t i = 0; i < values.size(); ++i) {
        const double fd = finite_difference(values, i, [&] { return ref::loss(layers, x, labels, T, opt); });
        const double a = analytic[i];
        ++checked;
        if (std::abs(a - fd) > rtol * std::max(std::abs(a), std::abs(fd)) + atol) {
          if (++failures <= 10)
            ADD_FAILURE() << "layer " << l << " d" << name(p) << "[" << i << "]: bptt " << a << ", finite difference "
                          << fd << ", diff " << a - fd;
        }
      }
    }
  }
  // The inputs' gradients (what the attacks use).
  std::vector<std::vector<double>> xv = x;
  double max_dx = 0.0;
  ASSERT_EQ(g.dx.size(), x.size());
  for (std::size_t b = 0; b < x.size(); ++b) {
    ASSERT_EQ(g.dx[b].size(), x[b].size());
    for (std::size_t i = 0; i < x[b].size(); ++i) {
      const double fd = finite_difference(xv[b], i, [&] { return ref::loss(layers, xv, labels, T, opt); });
      const double a = g.dx[b][i];
      max_dx = std::max(max_dx, std::abs(a));
      ++checked;
      if (std::abs(a - fd) > rtol * std::max(std::abs(a), std::abs(fd)) + atol) {
        if (++failures <= 10)
          ADD_FAILURE() << "dx[" << b << "][" << i << "]: bptt " << a << ", finite difference " << fd;
      }
    }
  }
  EXPECT_GT(max_dx, 1e-3) << "input gradients are negligible; test too weak";
  EXPECT_EQ(failures, 0) << "of " << checked << " gradient entries";
}

struct Net {
  std::vector<Layer> layers;
  std::vector<std::vector<double>> x;
  std::vector<int> labels;
};

// lif (with syn, reset multiply) -> readout (with syn).
Net lif_readout(unsigned seed) {
  std::mt19937_64 rng(seed);
  Net net;
  net.layers.push_back(make_layer(Layer::lif, kIn, kHidden, rng));
  net.layers.push_back(make_layer(Layer::readout, kHidden, kClasses, rng));
  net.layers[0].detach_reset = false;
  net.x = make_inputs(kBatch, kT, kIn, rng);
  net.labels = make_labels(kBatch, kClasses);
  return net;
}

// ---------------------------------------------------------------------------
// Forward pass against hand-computed values.

TEST(ReferenceForward, ReadoutWithSynByHand) {
  Layer r;
  r.kind = Layer::readout;
  r.n_in = 1;
  r.n = 2;
  r.W = {1.0, 2.0};
  r.alpha = {0.5, 0.5};
  r.beta = {0.9, 0.9};
  const std::vector<std::vector<double>> x = {{1.0, 0.0, 0.0}};
  Options o = heaviside_options(ref::max_ce);
  const ref::Grads g = ref::bptt({r}, x, {1}, 3, o);
  // syn_1 = I_0 = (1, 2); mem_2 = syn_1; mem_3 = 0.9*mem_2 + 0.5*syn_1.
  const std::vector<double> y = {0, 0, 1, 2, 1.4, 2.8};
  ASSERT_EQ(g.out[0][0].size(), y.size());
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(g.out[0][0][i], y[i], 1e-14) << i;
  // m = (1.4, 2.8), label 1: loss = log(1 + exp(-1.4)).
  EXPECT_NEAR(g.loss, std::log(1 + std::exp(-1.4)), 1e-14);
  EXPECT_NEAR(ref::loss({r}, x, {1}, 3, o), g.loss, 1e-15);
}

TEST(ReferenceForward, LifResetsByHand) {
  Layer L;
  L.kind = Layer::lif;
  L.n_in = 1;
  L.n = 1;
  L.has_syn = false;
  L.W = {1.5};
  L.beta = {1.0};
  const std::vector<std::vector<double>> x = {{1.0, 0.0, 0.0, 0.0}};
  Options o = heaviside_options(ref::count_ce);

  L.reset = Layer::subtract;  // mem: 0, 1.5, 0.5, 0.5
  ref::Grads g = ref::bptt({L}, x, {0}, 4, o);
  std::vector<double> u = {-1, 0.5, -0.5, -0.5}, s = {0, 1, 0, 0};
  for (std::size_t t = 0; t < 4; ++t) {
    EXPECT_NEAR(g.u[0][0][t], u[t], 1e-15) << t;
    EXPECT_EQ(g.out[0][0][t], s[t]) << t;
  }

  L.reset = Layer::multiply;  // mem: 0, 1.5, 0, 0
  g = ref::bptt({L}, x, {0}, 4, o);
  u = {-1, 0.5, -1, -1};
  for (std::size_t t = 0; t < 4; ++t) EXPECT_NEAR(g.u[0][0][t], u[t], 1e-15) << t;

  L.reset = Layer::none;  // mem: 0, 1.5, 1.5, 1.5
  g = ref::bptt({L}, x, {0}, 4, o);
  u = {-1, 0.5, 0.5, 0.5};
  s = {0, 1, 1, 1};
  for (std::size_t t = 0; t < 4; ++t) {
    EXPECT_NEAR(g.u[0][0][t], u[t], 1e-15) << t;
    EXPECT_EQ(g.out[0][0][t], s[t]) << t;
  }
}

TEST(ReferenceForward, AlifThresholdByHand) {
  Layer L;
  L.kind = Layer::alif;
  L.n_in = 1;
  L.n = 1;
  L.has_syn = false;
  L.reset = Layer::none;
  L.rho = 0.5;
  L.b = 0.4;
  L.W = {2.0};
  L.beta = {0.0};
  // Constant input 1: mem_{t+1} = 2 for t >= 0. a: 0, s0, 0.5 a1 + s1, ...
  const std::vector<std::vector<double>> x = {{1.0, 1.0, 1.0, 1.0}};
  const ref::Grads g = ref::bptt({L}, x, {0}, 4, heaviside_options(ref::count_mse));
  // t0: mem 0, u = -1, s 0, a1 = 0.  t1: mem 2, u = 1, s 1, a2 = 1.
  // t2: th = 1.4, u = 0.6, s 1, a3 = 1.5.  t3: th = 1.6, u = 0.4.
  const std::vector<double> u = {-1, 1, 0.6, 0.4};
  for (std::size_t t = 0; t < 4; ++t) EXPECT_NEAR(g.u[0][0][t], u[t], 1e-14) << t;
}

TEST(ReferenceForward, RecurrentInputArrivesOneStepLater) {
  // Neuron 0 is driven by the input, neuron 1 only through V[0][1].
  Layer L;
  L.kind = Layer::lif;
  L.n_in = 1;
  L.n = 2;
  L.has_syn = false;
  L.recurrent = true;
  L.reset = Layer::none;
  L.W = {2.0, 0.0};
  L.V = {0.0, 1.5, 0.0, 0.0};
  L.beta = {0.0, 0.0};
  const std::vector<std::vector<double>> x = {{1.0, 0.0, 0.0, 0.0}};
  const ref::Grads g = ref::bptt({L}, x, {0}, 4, heaviside_options(ref::count_ce));
  // mem_1 = (2, 0): s_1 = (1, 0); I_2 = s_1 V = (0, 1.5): mem_3 = (0, 1.5).
  const std::vector<double> u = {-1, -1, 1, -1, -1, -1, -1, 0.5};
  const std::vector<double> s = {0, 0, 1, 0, 0, 0, 0, 1};
  for (std::size_t i = 0; i < u.size(); ++i) {
    EXPECT_NEAR(g.u[0][0][i], u[i], 1e-15) << i;
    EXPECT_EQ(g.out[0][0][i], s[i]) << i;
  }
}

TEST(ReferenceForward, HeavisideSpikesAreUAboveZero) {
  Net net = lif_readout(3);
  const ref::Grads g = ref::bptt(net.layers, net.x, net.labels, kT, heaviside_options(ref::mean_ce));
  std::size_t spikes = 0;
  for (std::size_t b = 0; b < kBatch; ++b)
    for (std::size_t i = 0; i < kT * kHidden; ++i) {
      EXPECT_EQ(g.out[0][b][i], g.u[0][b][i] > 0 ? 1.0 : 0.0);
      spikes += g.out[0][b][i] > 0;
    }
  EXPECT_GT(spikes, 0u);
  EXPECT_LT(spikes, kBatch * kT * kHidden);
}

// max_ce with ties: y_t is the same at every step, the gradient goes to t = 0
// only, where mem_0 = 0, so dbeta is exactly 0 (any later step has mem_t != 0).
TEST(ReferenceForward, MaxCeGradientGoesToFirstArgmax) {
  Layer r;
  r.kind = Layer::readout;
  r.n_in = 2;
  r.n = 2;
  r.has_syn = false;
  r.W = {1.0, -0.5, 0.25, 2.0};
  r.beta = {0.0, 0.0};
  const std::size_t T = 5;
  std::vector<std::vector<double>> x = {std::vector<double>(2 * T)};
  for (std::size_t t = 0; t < T; ++t) {
    x[0][2 * t] = 0.3;
    x[0][2 * t + 1] = 0.7;
  }
  const ref::Grads g = ref::bptt({r}, x, {0}, T, heaviside_options(ref::max_ce));
  const double m0 = 0.3 * 1.0 + 0.7 * 0.25, m1 = 0.3 * -0.5 + 0.7 * 2.0;
  const double p0 = 1 / (1 + std::exp(m1 - m0));
  EXPECT_NEAR(g.loss, -std::log(p0), 1e-14);
  EXPECT_EQ(g.dbeta[0], (std::vector<double>{0.0, 0.0}));
  const std::vector<double> dm = {p0 - 1, 1 - p0};
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t k = 0; k < 2; ++k) EXPECT_NEAR(g.dW[0][i * 2 + k], x[0][i] * dm[k], 1e-14);
}

// ---------------------------------------------------------------------------
// Smooth mode: gradients against finite differences.

TEST(ReferenceBpttFiniteDifference, LifReadoutSynMultiply) {
  Net net = lif_readout(11);
  const Options o = smooth_options(ref::max_ce);
  expect_active(ref::bptt(net.layers, net.x, net.labels, kT, o), 0);
  expect_matches_finite_differences(net.layers, net.x, net.labels, kT, o);
}

TEST(ReferenceBpttFiniteDifference, ResetSubtract) {
  Net net = lif_readout(12);
  net.layers[0].reset = Layer::subtract;
  net.layers[0].threshold = 1.3;  // != 1: the reset term is threshold*s
  const Options o = smooth_options(ref::mean_ce);
  expect_active(ref::bptt(net.layers, net.x, net.labels, kT, o), 0);
  expect_matches_finite_differences(net.layers, net.x, net.labels, kT, o);
}

TEST(ReferenceBpttFiniteDifference, ResetNone) {
  Net net = lif_readout(13);
  net.layers[0].reset = Layer::none;
  net.layers[0].threshold = 3;
  expect_matches_finite_differences(net.layers, net.x, net.labels, kT, smooth_options(ref::last_ce));
}

TEST(ReferenceBpttFiniteDifference, NoSyn) {
  Net net = lif_readout(14);
  net.layers[0].has_syn = false;
  net.layers[1].has_syn = false;
  const Options o = smooth_options(ref::last_ce);
  expect_active(ref::bptt(net.layers, net.x, net.labels, kT, o), 0);
  expect_matches_finite_differences(net.layers, net.x, net.labels, kT, o);
}

TEST(ReferenceBpttFiniteDifference, RecurrentLif) {
  Net net = lif_readout(15);
  net.layers[0].recurrent = true;
  const Options o = smooth_options(ref::mean_ce);
  expect_active(ref::bptt(net.layers, net.x, net.labels, kT, o), 0);
  expect_matches_finite_differences(net.layers, net.x, net.labels, kT, o);
}

// The ANN twin's layers: leaky recurrent relu units, then plain relu units, then a readout
// without synapse. The relu kink is exact (no surrogate), so both forward modes agree.
TEST(ReferenceBpttFiniteDifference, ReluLayers) {
  std::mt19937_64 rng(31);
  Net net;
  net.layers.push_back(make_layer(Layer::relu, kIn, kHidden, rng));
  net.layers.push_back(make_layer(Layer::relu, kHidden, kHidden, rng));
  net.layers.push_back(make_layer(Layer::readout, kHidden, kClasses, rng));
  for (Layer& L : net.layers) {
    L.has_syn = false;
    if (L.kind == Layer::relu)
      for (double& w : L.W) w -= 0.4;  // about half the units below 0
  }
  net.layers[0].recurrent = true;
  for (double& b : net.layers[1].beta) b = 0.0;  // not leaky
  net.x = make_inputs(kBatch, kT, kIn, rng);
  net.labels = make_labels(kBatch, kClasses);
  const Options o = heaviside_options(ref::mean_ce);
  const ref::Grads g = ref::bptt(net.layers, net.x, net.labels, kT, o);
  for (std::size_t l : {0u, 1u}) {
    std::size_t off = 0, total = 0;
    for (const auto& ob : g.out[l])
      for (double a : ob) {
        ++total;
        off += a == 0.0;
      }
    EXPECT_GT(off, total / 10) << "layer " << l << ": the kink is never crossed";
    EXPECT_LT(off, total * 9 / 10) << "layer " << l << ": nearly always off";
  }
  expect_matches_finite_differences(net.layers, net.x, net.labels, kT, o);
}

TEST(ReferenceBpttFiniteDifference, AlifWithAdaptation) {
  Net net = lif_readout(16);
  net.layers[0].kind = Layer::alif;
  net.layers[0].rho = 0.8;
  net.layers[0].b = 0.5;
  net.layers[0].recurrent = true;
  const Options o = smooth_options(ref::max_ce);
  expect_active(ref::bptt(net.layers, net.x, net.labels, kT, o), 0);
  expect_matches_finite_differences(net.layers, net.x, net.labels, kT, o);
}

// adlif (symplectic Euler adaptation current) with per-neuron thresholds, recurrent, and
// each reset: every parameter (W, V, α, β, θ, ρ, a, b) and the inputs against finite
// differences.
Net adlif_readout(unsigned seed, Layer::Reset reset) {
  Net net = lif_readout(seed);
  std::mt19937_64 rng(seed + 1000);
  Layer& L = net.layers[0];
  L.kind = Layer::adlif;
  L.recurrent = true;
  L.reset = reset;
  L.theta.resize(kHidden);
  L.wrho.resize(kHidden);
  L.wa.resize(kHidden);
  L.wb.resize(kHidden);
  for (std::size_t j = 0; j < kHidden; ++j) {
    L.theta[j] = uniform(rng, 0.7, 1.3);
    L.wrho[j] = uniform(rng, 0.6, 0.95);
    L.wa[j] = uniform(rng, 0.5, 3.0);
    L.wb[j] = uniform(rng, 0.2, 1.5);
  }
  return net;
}

TEST(ReferenceBpttFiniteDifference, AdlifEveryResetWithLearnedThresholds) {
  for (Layer::Reset reset : {Layer::multiply, Layer::subtract, Layer::none}) {
    SCOPED_TRACE(reset);
    Net net = adlif_readout(23, reset);
    const Options o = smooth_options(ref::max_ce);
    const ref::Grads g = ref::bptt(net.layers, net.x, net.labels, kT, o);
    expect_active(g, 0);
    // The adaptation current must matter: w's parameters get non-negligible gradients.
    double m = 0;
    for (double v : g.dwa[0]) m = std::max(m, std::abs(v));
    for (double v : g.dwb[0]) m = std::max(m, std::abs(v));
    EXPECT_GT(m, 1e-3);
    expect_matches_finite_differences(net.layers, net.x, net.labels, kT, o);
  }
}

// Learned synaptic delays on both projections (window 6 steps, σ 1.3 steps): the delays'
// gradients against finite differences, with delays away from whole steps and the window's ends.
TEST(ReferenceBpttFiniteDifference, LearnedDelaysBothLayers) {
  Net net = lif_readout(31);
  std::mt19937_64 rng(77);
  for (Layer& L : net.layers) {
    L.delay_window = 6;
    L.delay_sigma = 1.3;
    L.delay.resize(L.n_in * L.n);
    for (double& d : L.delay) d = uniform(rng, 0.3, 4.7);
    for (double& w : L.W) w *= 1.5;  // the kernel spreads a weight over steps: keep neurons active
  }
  const Options o = smooth_options(ref::max_ce);
  const ref::Grads g = ref::bptt(net.layers, net.x, net.labels, kT, o);
  expect_active(g, 0);
  for (std::size_t l = 0; l < 2; ++l) {
    double m = 0;
    for (double v : g.ddelay[l]) m = std::max(m, std::abs(v));
    EXPECT_GT(m, 1e-3) << "layer " << l << ": the delays' gradients are negligible";
  }
  expect_matches_finite_differences(net.layers, net.x, net.labels, kT, o);
}

// Whole-step delays (σ below a quarter step): an input reaches the current d steps later.
TEST(ReferenceForward, RoundedDelayShiftsTheInput) {
  Layer r;
  r.kind = Layer::readout;
  r.n_in = 1;
  r.n = 1;
  r.has_syn = false;
  r.W = {1.0};
  r.beta = {0.0};
  r.delay = {2.4};  // rounds to 2
  r.delay_window = 4;
  const std::vector<std::vector<double>> x = {{1.0, 0.0, 0.0, 0.0, 0.0}};
  const ref::Grads g = ref::bptt({r}, x, {0}, 5, heaviside_options(ref::last_ce));
  // y_t = mem_{t+1} = I_t with β = 0 and no synapse: the input of step 0 appears at step 2.
  const auto& y = g.out[0][0];
  EXPECT_EQ(y[0], 0.0);
  EXPECT_EQ(y[1], 0.0);
  EXPECT_EQ(y[2], 1.0);
  EXPECT_EQ(y[3], 0.0);
}

TEST(ReferenceForward, AdlifAdaptationCurrentByHand) {
  // One neuron, no synapse, threshold 1, multiply reset; input 1.5 at t = 0 only.
  Layer L;
  L.kind = Layer::adlif;
  L.n_in = 1;
  L.n = 1;
  L.has_syn = false;
  L.W = {1.0};
  L.beta = {0.5};
  L.wrho = {0.8};
  L.wa = {2.0};
  L.wb = {0.5};
  Layer r;
  r.kind = Layer::readout;
  r.n_in = 1;
  r.n = 1;
  r.has_syn = false;
  r.W = {1.0};
  r.beta = {0.0};
  std::vector<std::vector<double>> x = {{1.5, 0.0, 0.0, 0.0}};
  Options o = heaviside_options(ref::last_ce);
  const ref::Grads g = ref::bptt({L, r}, x, {0}, 4, o);
  // t0: u = -1, s = 0; mt1 = 1.5; mem1 = 1.5; w1 = 0.2*2*1.5 = 0.6
  // t1: u = 0.5, s = 1; mt2 = 0.75 - 0.5*0.6 = 0.45; mem2 = 0; w2 = 0.48 + 0 + 0.5 = 0.98
  // t2: u = -1, s = 0; mt3 = 0 - 0.5*0.98 = -0.49; mem3 = -0.49; w3 = 0.784 + 0.4*(-0.49) = 0.588
  // t3: u = -1.49
  const auto& u = g.u[0][0];
  EXPECT_NEAR(u[0], -1.0, 1e-12);
  EXPECT_NEAR(u[1], 0.5, 1e-12);
  EXPECT_NEAR(u[2], -1.0, 1e-12);
  EXPECT_NEAR(u[3], -1.49, 1e-12);
  EXPECT_EQ(g.out[0][0][1], 1.0);
}

TEST(ReferenceBpttFiniteDifference, CountCeSingleSpikingLayer) {
  std::mt19937_64 rng(17);
  std::vector<Layer> layers = {make_layer(Layer::lif, kIn, kClasses, rng)};
  layers[0].detach_reset = false;
  const auto x = make_inputs(kBatch, kT, kIn, rng);
  const auto labels = make_labels(kBatch, kClasses);
  Options o = smooth_options(ref::count_ce);
  o.reg_l1 = 0.5;  // the output layer is not regularised: must not change anything
  o.reg_l2 = 0.5;
  const Options plain = smooth_options(ref::count_ce);
  EXPECT_EQ(ref::loss(layers, x, labels, kT, o), ref::loss(layers, x, labels, kT, plain));
  expect_matches_finite_differences(layers, x, labels, kT, o);
}

TEST(ReferenceBpttFiniteDifference, CountMseTwoSpikingLayersWithRegularisers) {
  std::mt19937_64 rng(18);
  std::vector<Layer> layers = {make_layer(Layer::lif, kIn, kHidden, rng),
                               make_layer(Layer::alif, kHidden, kClasses, rng)};
  layers[0].detach_reset = false;
  layers[1].detach_reset = false;
  layers[1].reset = Layer::subtract;
  layers[1].threshold = 0.8;
  layers[1].rho = 0.7;
  layers[1].b = 0.3;
  const auto x = make_inputs(kBatch, kT, kIn, rng);
  const auto labels = make_labels(kBatch, kClasses);
  Options o = smooth_options(ref::count_mse);
  o.reg_l1 = 0.01;
  o.reg_l2 = 0.002;
  const ref::Grads g = ref::bptt(layers, x, labels, kT, o);
  expect_active(g, 0);
  expect_active(g, 1);
  expect_matches_finite_differences(layers, x, labels, kT, o);
}

// Every loss the reference knows (reference_losses(): the engine's losses by name), on the
// network it needs: a readout for the scores of y_t, a spiking output layer for the counts.
TEST(ReferenceBpttFiniteDifference, EveryReferenceLoss) {
  for (const auto& [name, loss] : ref::reference_losses()) {
    SCOPED_TRACE(std::string(name));
    if (loss.score == ref::Loss::spike_count) {
      std::mt19937_64 rng(20);
      std::vector<Layer> layers = {make_layer(Layer::lif, kIn, kHidden, rng),
                                   make_layer(Layer::lif, kHidden, kClasses, rng)};
      for (Layer& L : layers) L.detach_reset = false;  // the true gradient, as differences see it
      const auto x = make_inputs(kBatch, kT, kIn, rng);
      expect_matches_finite_differences(layers, x, make_labels(kBatch, kClasses), kT,
                                        smooth_options(loss));
    } else {
      Net net = lif_readout(21);
      expect_matches_finite_differences(net.layers, net.x, net.labels, kT, smooth_options(loss));
    }
  }
}

TEST(ReferenceBpttFiniteDifference, RegularisersL1L2) {
  Net net = lif_readout(19);
  Options o = smooth_options(ref::mean_ce);
  o.reg_l1 = 0.02;
  o.reg_l2 = 0.005;
  // The regulariser terms, computed here from the spikes.
  const ref::Grads g = ref::bptt(net.layers, net.x, net.labels, kT, o);
  const ref::Grads g0 = ref::bptt(net.layers, net.x, net.labels, kT, smooth_options(ref::mean_ce));
  double l1 = 0, l2 = 0;
  for (std::size_t j = 0; j < kHidden; ++j) {
    double S = 0;
    for (std::size_t b = 0; b < kBatch; ++b)
      for (std::size_t t = 0; t < kT; ++t) S += g.out[0][b][t * kHidden + j];
    l1 += S;
    l2 += S * S / kHidden;
  }
  EXPECT_NEAR(g.loss, g0.loss + o.reg_l1 * l1 + o.reg_l2 * l2, 1e-12);
  expect_matches_finite_differences(net.layers, net.x, net.labels, kT, o);

  // L2 alone: couples the samples of the batch.
  Options only_l2 = smooth_options(ref::mean_ce);
  only_l2.reg_l2 = 0.01;
  expect_matches_finite_differences(net.layers, net.x, net.labels, kT, only_l2);
}

TEST(ReferenceBpttFiniteDifference, ThreeLayersRecurrentAlif) {
  std::mt19937_64 rng(20);
  std::vector<Layer> layers = {make_layer(Layer::lif, kIn, kHidden, rng),
                               make_layer(Layer::alif, kHidden, kHidden, rng),
                               make_layer(Layer::readout, kHidden, kClasses, rng)};
  layers[0].recurrent = true;
  layers[0].detach_reset = false;
  layers[1].recurrent = true;
  layers[1].detach_reset = false;
  layers[1].reset = Layer::subtract;
  layers[1].threshold = 1.2;
  layers[1].rho = 0.9;
  layers[1].b = 0.2;
  layers[2].has_syn = false;
  const auto x = make_inputs(kBatch, kT, kIn, rng);
  const auto labels = make_labels(kBatch, kClasses);
  Options o = smooth_options(ref::last_ce);
  o.reg_l1 = 0.01;
  o.reg_l2 = 0.001;
  const ref::Grads g = ref::bptt(layers, x, labels, kT, o);
  expect_active(g, 0);
  expect_active(g, 1);
  expect_matches_finite_differences(layers, x, labels, kT, o);
}

// ---------------------------------------------------------------------------
// detach_reset.

// The lif -> readout network (both with syn, hidden not recurrent, reset
// multiply or subtract) with mean_ce, written out separately, except that the
// spike inside the reset term is taken from `frozen` ([b][t*n+j]). Its
// derivative at the point where `frozen` was recorded is the detached
// gradient.
double frozen_reset_loss(const std::vector<Layer>& net, const std::vector<std::vector<double>>& x,
                         const std::vector<int>& labels, std::size_t T, const Options& o,
                         const std::vector<std::vector<double>>& frozen) {
  const Layer& H = net[0];
  const Layer& R = net[1];
  const std::size_t ni = H.n_in, nh = H.n, C = R.n;
  double total = 0;
  for (std::size_t b = 0; b < x.size(); ++b) {
    std::vector<double> syn(nh, 0), mem(nh, 0), rsyn(C, 0), rmem(C, 0), m(C, 0), s(nh);
    for (std::size_t t = 0; t < T; ++t) {
      for (std::size_t j = 0; j < nh; ++j) {
        double I = 0;
        for (std::size_t i = 0; i < ni; ++i) I += x[b][t * ni + i] * H.W[i * nh + j];
        s[j] = 1 / (1 + std::exp(-o.smooth_scale * (mem[j] - H.threshold)));
        const double mt = H.beta[j] * mem[j] + syn[j];
        syn[j] = H.alpha[j] * syn[j] + I;
        const double sf = frozen[b][t * nh + j];
        mem[j] = H.reset == Layer::multiply ? mt * (1 - sf) : mt - H.threshold * sf;
      }
      for (std::size_t k = 0; k < C; ++k) {
        double I = 0;
        for (std::size_t j = 0; j < nh; ++j) I += s[j] * R.W[j * C + k];
        rmem[k] = R.beta[k] * rmem[k] + rsyn[k];
        rsyn[k] = R.alpha[k] * rsyn[k] + I;
        m[k] += rmem[k] / static_cast<double>(T);
      }
    }
    double sum = 0;
    for (double mk : m) sum += std::exp(mk);
    total += (std::log(sum) - m[static_cast<std::size_t>(labels[b])]) / static_cast<double>(x.size());
  }
  return total;
}

void expect_detached_gradient(Layer::Reset reset, unsigned seed) {
  Net net = lif_readout(seed);
  net.layers[0].reset = reset;
  net.layers[0].threshold = 1.1;
  net.layers[0].detach_reset = true;
  const Options o = smooth_options(ref::mean_ce);
  const ref::Grads g = ref::bptt(net.layers, net.x, net.labels, kT, o);
  expect_active(g, 0);

  // The frozen-reset forward reproduces the reference loss.
  const std::vector<std::vector<double>> frozen = g.out[0];
  ASSERT_NEAR(frozen_reset_loss(net.layers, net.x, net.labels, kT, o, frozen), g.loss, 1e-12);

  // detach_reset = false: same loss, different gradients.
  Net attached = net;
  attached.layers[0].detach_reset = false;
  const ref::Grads ga = ref::bptt(attached.layers, attached.x, attached.labels, kT, o);
  EXPECT_EQ(ga.loss, g.loss);
  double max_diff = 0;
  for (Param p : {Param::W, Param::alpha, Param::beta})
    for (std::size_t i = 0; i < grad(g, 0, p).size(); ++i)
      max_diff = std::max(max_diff, std::abs(grad(g, 0, p)[i] - grad(ga, 0, p)[i]));
  EXPECT_GT(max_diff, 1e-3 * max_abs_grad(ga, 0)) << "detach_reset made no difference";
  // The readout gradients do not pass through the hidden reset.
  for (Param p : {Param::W, Param::alpha, Param::beta}) EXPECT_EQ(grad(g, 1, p), grad(ga, 1, p));

  // Detached gradient = finite difference of the frozen-reset forward.
  int failures = 0;
  for (std::size_t l = 0; l < 2; ++l)
    for (Param p : {Param::W, Param::alpha, Param::beta}) {
      std::vector<double>& values = param(net.layers[l], p);
      for (std::size_t i = 0; i < values.size(); ++i) {
        const double fd = finite_difference(
            values, i, [&] { return frozen_reset_loss(net.layers, net.x, net.labels, kT, o, frozen); });
        const double a = grad(g, l, p)[i];
        if (std::abs(a - fd) > 1e-5 * std::max(std::abs(a), std::abs(fd)) + 1e-8 && ++failures <= 10)
          ADD_FAILURE() << "layer " << l << " d" << name(p) << "[" << i << "]: bptt " << a
                        << ", frozen-reset finite difference " << fd;
      }
    }
  EXPECT_EQ(failures, 0);
}

TEST(ReferenceBpttDetachReset, MultiplyMatchesFrozenResetAndDiffersFromAttached) {
  expect_detached_gradient(Layer::multiply, 21);
}

TEST(ReferenceBpttDetachReset, SubtractMatchesFrozenResetAndDiffersFromAttached) {
  expect_detached_gradient(Layer::subtract, 22);
}

TEST(ReferenceBpttDetachReset, NoEffectWithoutReset) {
  Net net = lif_readout(23);
  net.layers[0].reset = Layer::none;
  const Options o = smooth_options(ref::max_ce);
  net.layers[0].detach_reset = true;
  const ref::Grads g1 = ref::bptt(net.layers, net.x, net.labels, kT, o);
  net.layers[0].detach_reset = false;
  const ref::Grads g2 = ref::bptt(net.layers, net.x, net.labels, kT, o);
  EXPECT_EQ(g1.dW, g2.dW);
  EXPECT_EQ(g1.dalpha, g2.dalpha);
  EXPECT_EQ(g1.dbeta, g2.dbeta);
}

// ---------------------------------------------------------------------------
// Heaviside mode and the sparse-check window.

TEST(ReferenceBpttWindow, ReadoutOnlyUnaffectedAndExact) {
  std::mt19937_64 rng(30);
  std::vector<Layer> layers = {make_layer(Layer::readout, kIn, kClasses, rng)};
  layers[0].has_syn = false;  // with syn y_0 = 0 could be every class's maximum
  const auto x = make_inputs(kBatch, kT, kIn, rng);
  const auto labels = make_labels(kBatch, kClasses);
  Options o = heaviside_options(ref::max_ce);
  const ref::Grads g0 = ref::bptt(layers, x, labels, kT, o);
  o.window = 1e-6;
  const ref::Grads gw = ref::bptt(layers, x, labels, kT, o);
  EXPECT_EQ(g0.dW, gw.dW);
  EXPECT_EQ(g0.dalpha, gw.dalpha);
  EXPECT_EQ(g0.dbeta, gw.dbeta);
  // No spikes on the way: the heaviside-mode gradient is the exact one.
  expect_matches_finite_differences(layers, x, labels, kT, o);
}

// Hidden |u| over every sample and step, sorted.
std::vector<double> sorted_abs_u(const ref::Grads& g, std::size_t l) {
  std::vector<double> v;
  for (const auto& ub : g.u[l])
    for (double u : ub) v.push_back(std::abs(u));
  std::sort(v.begin(), v.end());
  return v;
}

TEST(ReferenceBpttWindow, WindowBelowEveryUKillsSpikePaths) {
  Net net = lif_readout(31);
  net.layers[0].detach_reset = false;
  Options o = heaviside_options(ref::mean_ce);
  const ref::Grads g0 = ref::bptt(net.layers, net.x, net.labels, kT, o);
  const std::vector<double> au = sorted_abs_u(g0, 0);
  ASSERT_GT(au.front(), 0.0);
  EXPECT_GT(max_abs_grad(g0, 0), 1e-3);

  o.window = 0.5 * au.front();
  const ref::Grads gw = ref::bptt(net.layers, net.x, net.labels, kT, o);
  EXPECT_EQ(gw.loss, g0.loss);
  EXPECT_EQ(gw.u, g0.u);
  EXPECT_EQ(max_abs_grad(gw, 0), 0.0);  // everything in the hidden layer passes through a spike
  EXPECT_EQ(gw.dW[1], g0.dW[1]);       // the readout's gradients do not
  EXPECT_EQ(gw.dalpha[1], g0.dalpha[1]);
  EXPECT_EQ(gw.dbeta[1], g0.dbeta[1]);
}

TEST(ReferenceBpttWindow, WindowEqualsMaskedSurrogate) {
  Net net = lif_readout(32);
  net.layers[0].recurrent = true;
  net.layers[0].kind = Layer::alif;
  net.layers[0].rho = 0.8;
  net.layers[0].b = 0.3;
  Options o = heaviside_options(ref::mean_ce);
  const ref::Grads g0 = ref::bptt(net.layers, net.x, net.labels, kT, o);
  const std::vector<double> au = sorted_abs_u(g0, 0);
  const double w = au[au.size() / 2];  // about half of the (b, t, j) inside the window
  ASSERT_GT(w, 0.0);

  o.window = w;
  const ref::Grads gw = ref::bptt(net.layers, net.x, net.labels, kT, o);

  Options masked = heaviside_options(ref::mean_ce);
  masked.surrogate_derivative = [w](double u) { return std::abs(u) < w ? fast_sigmoid_derivative(u) : 0.0; };
  const ref::Grads gm = ref::bptt(net.layers, net.x, net.labels, kT, masked);

  for (std::size_t l = 0; l < 2; ++l)
    for (Param p : {Param::W, Param::V, Param::alpha, Param::beta}) {
      ASSERT_EQ(grad(gw, l, p).size(), grad(gm, l, p).size());
      for (std::size_t i = 0; i < grad(gw, l, p).size(); ++i)
        EXPECT_NEAR(grad(gw, l, p)[i], grad(gm, l, p)[i], 1e-14 * (1 + std::abs(grad(gm, l, p)[i])))
            << "layer " << l << " d" << name(p) << "[" << i << "]";
    }
  // ... and the window did remove something.
  double max_diff = 0;
  for (std::size_t i = 0; i < gw.dW[0].size(); ++i)
    max_diff = std::max(max_diff, std::abs(gw.dW[0][i] - g0.dW[0][i]));
  EXPECT_GT(max_diff, 1e-6);
  EXPECT_GT(max_abs_grad(gw, 0), 1e-6);
}

// ---------------------------------------------------------------------------
// Argument checks.

TEST(ReferenceBpttValidation, RejectsInconsistentNetworks) {
  Net net = lif_readout(40);
  const Options o = smooth_options(ref::max_ce);
  EXPECT_NO_THROW(ref::bptt(net.layers, net.x, net.labels, kT, o));

  // heaviside without a surrogate derivative
  EXPECT_THROW(ref::bptt(net.layers, net.x, net.labels, kT, Options{}), std::invalid_argument);
  // count loss on a readout layer
  EXPECT_THROW(ref::loss(net.layers, net.x, net.labels, kT, smooth_options(ref::count_ce)), std::invalid_argument);
  // cross-entropy over time on a spiking last layer
  EXPECT_THROW(ref::loss({net.layers[0]}, net.x, net.labels, kT, o), std::invalid_argument);
  // wrong input length
  EXPECT_THROW(ref::loss(net.layers, net.x, net.labels, kT + 1, o), std::invalid_argument);
  // label out of range
  EXPECT_THROW(ref::loss(net.layers, net.x, {0, 1, 3}, kT, o), std::invalid_argument);
  // readout not last
  std::vector<Layer> bad = {net.layers[1], net.layers[0]};
  bad[0].n_in = kIn;
  bad[0].W.assign(kIn * kClasses, 0.1);
  bad[1].n_in = kClasses;
  bad[1].W.assign(kClasses * kHidden, 0.1);
  EXPECT_THROW(ref::loss(bad, net.x, net.labels, kT, o), std::invalid_argument);
  // recurrent without V
  std::vector<Layer> norec = net.layers;
  norec[0].recurrent = true;
  norec[0].V.clear();
  EXPECT_THROW(ref::loss(norec, net.x, net.labels, kT, o), std::invalid_argument);
}

}  // namespace
