// Oja and BCM learning for a spiking neuron with rate estimates (see hebbian.hpp).
#include "volley/learn/hebbian.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::learn {
namespace {

constexpr std::uint32_t kStimulus = 0x4EBB0000, kInput = 0x4EBB0001, kOutput = 0x4EBB0002, kInit = 0x4EBB0003;

[[noreturn]] void bad(const char* field, const std::string& why) {
  throw ParameterError(fmt::format("hebbian: {}: {}", field, why));
}

// Exponential rate-estimate trace: decays with tau, each spike adds 1/tau (so it reads in Hz).
struct Trace {
  double decay, bump;
  Trace(double dt, double tau) : decay(std::exp(-dt / tau)), bump(1.0 / tau) {}
};

// First eigenvector of a symmetric matrix (power iteration from a fixed start).
std::vector<double> leading_eigenvector(const std::vector<double>& m, std::size_t n) {
  std::vector<double> v(n, 1.0), w(n);
  for (int it = 0; it < 5000; ++it) {
    for (std::size_t i = 0; i < n; ++i) {
      w[i] = 0.0;
      for (std::size_t j = 0; j < n; ++j) w[i] += m[i * n + j] * v[j];
    }
    double norm = std::sqrt(std::inner_product(w.begin(), w.end(), w.begin(), 0.0));
    if (norm == 0.0) break;
    for (auto& x : w) x /= norm;
    v.swap(w);
  }
  return v;
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  const double ab = std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
  const double aa = std::inner_product(a.begin(), a.end(), a.begin(), 0.0);
  const double bb = std::inner_product(b.begin(), b.end(), b.begin(), 0.0);
  return aa > 0 && bb > 0 ? std::abs(ab) / std::sqrt(aa * bb) : 0.0;
}

}  // namespace

void HebbianConfig::validate() const {
  if (!(dt > 0.0)) bad("dt", "must be > 0");
  if (!(tau_rate >= dt)) bad("tau_rate", "must be >= dt");
  if (!(presentation >= dt)) bad("presentation", "must be >= dt");
  if (!(duration >= presentation)) bad("duration", "must be >= presentation");
  if (!(eta > 0.0) || !std::isfinite(eta)) bad("eta", "must be > 0");
  if (!(eta_time >= 0.0)) bad("eta_time", "must be >= 0 (0 = constant η)");
}

OjaResult run_oja(const HebbianConfig& c, std::size_t n, double mean_rate, const std::vector<double>& loadings,
                  std::size_t factors) {
  c.validate();
  if (n < 2) bad("n_inputs", "needs at least 2 inputs");
  if (factors < 1 || loadings.size() != n * factors)
    bad("loadings", fmt::format("must hold n_inputs × factors = {} values, got {}", n * factors, loadings.size()));
  if (!(mean_rate > 0.0)) bad("mean_rate", "must be > 0 Hz");
  // Covariance L·Lᵀ and its first principal component.
  std::vector<double> cov(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t k = 0; k < factors; ++k) cov[i * n + j] += loadings[i * factors + k] * loadings[j * factors + k];
  OjaResult r;
  r.pc1 = leading_eigenvector(cov, n);

  const Trace tr(c.dt, c.tau_rate);
  const double mean_decay = std::exp(-c.dt / 2.0);  // running mean of x̂ over 2 s
  const double y_base = 50.0;                       // Hz: the output codes y around it
  const double gain = 10.0;  // rate = y_base + gain·wᵀx̃; reading y back as (ŷ − y_base)/gain
                             // divides the output's Poisson noise variance by gain²
  std::vector<double> w(n), xhat(n, 0.0), xmean(n, mean_rate), rates(n), xt(n);
  for (std::size_t i = 0; i < n; ++i) w[i] = CounterRng(c.seed, kInit, static_cast<std::uint32_t>(i), 0).normal() / std::sqrt(double(n));
  double yhat = y_base;
  const auto steps = static_cast<std::uint64_t>(std::llround(c.duration / c.dt));
  const auto per_stim = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(c.presentation / c.dt)));
  const auto per_second = static_cast<std::uint64_t>(std::llround(1.0 / c.dt));
  std::vector<double> z(factors);
  for (std::uint64_t t = 0; t < steps; ++t) {
    if (t % per_stim == 0) {
      CounterRng rng(c.seed, kStimulus, 0, t / per_stim);
      for (auto& x : z) x = rng.normal();
      for (std::size_t i = 0; i < n; ++i) {
        double v = mean_rate;
        for (std::size_t k = 0; k < factors; ++k) v += loadings[i * factors + k] * z[k];
        rates[i] = std::max(0.0, v);
      }
    }
    // Input spikes and rate estimates; x̃ = x̂ minus its running mean.
    double drive = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const bool spike = CounterRng(c.seed, kInput, static_cast<std::uint32_t>(i), t).uniform() < rates[i] * c.dt;
      xhat[i] = xhat[i] * tr.decay + (spike ? tr.bump : 0.0);
      xmean[i] = xmean[i] * mean_decay + xhat[i] * (1.0 - mean_decay);
      xt[i] = xhat[i] - xmean[i];
      drive += w[i] * xt[i];
    }
    const double y_rate = std::max(0.0, y_base + gain * drive);
    const bool out = CounterRng(c.seed, kOutput, 0, t).uniform() < y_rate * c.dt;
    yhat = yhat * tr.decay + (out ? tr.bump : 0.0);
    const double y = (yhat - y_base) / gain;  // the output's estimate of wᵀx̃
    const double eta = c.eta_time > 0.0 ? c.eta / (1.0 + static_cast<double>(t) * c.dt / c.eta_time) : c.eta;
    for (std::size_t i = 0; i < n; ++i) w[i] += eta * c.dt * y * (xt[i] - y * w[i]);
    if ((t + 1) % per_second == 0) r.cosine_trace.push_back(cosine(w, r.pc1));
  }
  r.weights = w;
  r.cosine = cosine(w, r.pc1);
  r.weight_norm = std::sqrt(std::inner_product(w.begin(), w.end(), w.begin(), 0.0));
  return r;
}

BcmResult run_bcm(const HebbianConfig& c, std::size_t n, double background, const std::vector<double>& patterns,
                  std::size_t K, double y0, double tau_theta) {
  c.validate();
  if (K < 2) bad("n_patterns", "needs at least 2 patterns");
  if (patterns.size() != K * n)
    bad("patterns", fmt::format("must hold n_patterns × n_inputs = {} values, got {}", K * n, patterns.size()));
  if (!(background >= 0.0)) bad("background_rate", "must be >= 0 Hz");
  if (!(y0 > 0.0)) bad("y0", "must be > 0 Hz");
  if (!(tau_theta > c.dt)) bad("tau_theta", "must be > dt");
  const Trace tr(c.dt, c.tau_rate);
  const double theta_decay = std::exp(-c.dt / tau_theta);
  std::vector<double> w(n), xhat(n, background), rates(n);
  for (std::size_t i = 0; i < n; ++i)
    w[i] = (0.5 + 0.5 * CounterRng(c.seed, kInit, static_cast<std::uint32_t>(i), 0).uniform()) / double(n);
  auto responses = [&] {
    std::vector<double> resp(K);
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t i = 0; i < n; ++i) resp[k] += w[i] * (background + patterns[k * n + i]);
    return resp;
  };
  BcmResult r;
  r.response_before = responses();
  double yhat = 0.0, y2 = y0 * y0;  // ⟨ŷ²⟩ starts at y0², so θ starts at y0
  const auto steps = static_cast<std::uint64_t>(std::llround(c.duration / c.dt));
  const auto per_stim = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(c.presentation / c.dt)));
  std::size_t pattern = 0;
  for (std::uint64_t t = 0; t < steps; ++t) {
    if (t % per_stim == 0) {
      pattern = static_cast<std::size_t>(CounterRng(c.seed, kStimulus, 0, t / per_stim).uniform() * double(K));
      for (std::size_t i = 0; i < n; ++i) rates[i] = background + patterns[pattern * n + i];
    }
    double drive = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const bool spike = CounterRng(c.seed, kInput, static_cast<std::uint32_t>(i), t).uniform() < rates[i] * c.dt;
      xhat[i] = xhat[i] * tr.decay + (spike ? tr.bump : 0.0);
      drive += w[i] * xhat[i];
    }
    const bool out = CounterRng(c.seed, kOutput, 0, t).uniform() < std::max(0.0, drive) * c.dt;
    yhat = yhat * tr.decay + (out ? tr.bump : 0.0);
    y2 = y2 * theta_decay + yhat * yhat * (1.0 - theta_decay);
    const double theta = y2 / y0;
    for (std::size_t i = 0; i < n; ++i)
      w[i] = std::max(0.0, w[i] + c.eta * c.dt * xhat[i] * yhat * (yhat - theta));
  }
  r.weights = w;
  r.response = responses();
  const auto best = std::max_element(r.response.begin(), r.response.end());
  r.preferred = static_cast<int>(best - r.response.begin());
  double others = 0.0;
  for (std::size_t k = 0; k < K; ++k)
    if (static_cast<int>(k) != r.preferred) others += r.response[k];
  others /= double(K - 1);
  r.selectivity = *best > 0.0 ? 1.0 - others / *best : 0.0;
  return r;
}

}  // namespace volley::learn
