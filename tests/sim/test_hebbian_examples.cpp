// The Hebbian example models run by the engine (rule = "oja" and "bcm" on projections,
// examples/oja_pca.toml and examples/bcm_selectivity.toml): the acceptance figures of the
// stand-alone experiments they replace (the former volley/learn/hebbian.hpp: |cos(w, PC1)| >=
// 0.99; selectivity >= 0.8), reached with a LIF neuron and Poisson fibres as `volley sim` runs
// them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "volley/io/model_file.hpp"
#include "volley/network.hpp"
#include "volley/projection.hpp"

namespace {

const std::string kExamples = VOLLEY_EXAMPLES;

// Output rate while each of the four pattern groups is on: group k peaks at cycle fraction
// (0.25 - k/4) mod 1 of the 200 ms cycle (phase_deg = 90 k); its window is the quarter cycle
// around the peak. Counted over [from, to).
std::vector<double> responses(const std::vector<double>& spikes, double from, double to) {
  constexpr double kCycle = 0.2;
  std::vector<double> rate(4, 0.0);
  for (double t : spikes) {
    if (t < from || t >= to) continue;
    const double phase = std::fmod(t, kCycle) / kCycle;
    for (int k = 0; k < 4; ++k) {
      const double centre = std::fmod(0.25 - 0.25 * k + 1.0, 1.0);
      const double d = std::abs(std::fmod(phase - centre + 1.5, 1.0) - 0.5);
      if (d < 0.125) rate[static_cast<std::size_t>(k)] += 1.0;
    }
  }
  for (double& r : rate) r /= (to - from) * 0.25;
  return rate;
}

// 1 - mean(other responses) / best response, the stand-alone experiment's measure.
double selectivity(const std::vector<double>& r) {
  const double best = *std::max_element(r.begin(), r.end());
  const double others = (std::accumulate(r.begin(), r.end(), 0.0) - best) / double(r.size() - 1);
  return best > 0.0 ? 1.0 - others / best : 0.0;
}

// Each fibre's rate estimate as the plasticity sees it (exponential trace over tau, a spike adds
// 1/tau), sampled every `step` s over [0, duration): one row per fibre.
std::vector<std::vector<double>> rate_estimates(const volley::SpikeMonitor& m, std::size_t n, double tau,
                                                double duration, double step) {
  const auto samples = static_cast<std::size_t>(duration / step);
  std::vector<std::vector<double>> spikes(n), x(n, std::vector<double>(samples, 0.0));
  for (std::size_t k = 0; k < m.times.size(); ++k) spikes[m.units[k]].push_back(m.times[k]);
  for (std::size_t i = 0; i < n; ++i) {
    double v = 0.0, last = 0.0;
    std::size_t k = 0;
    for (std::size_t s = 0; s < samples; ++s) {
      const double t = static_cast<double>(s + 1) * step;
      for (; k < spikes[i].size() && spikes[i][k] <= t; ++k) {
        v = v * std::exp(-(spikes[i][k] - last) / tau) + 1.0 / tau;
        last = spikes[i][k];
      }
      x[i][s] = v * std::exp(-(t - last) / tau);
    }
  }
  return x;
}

// Leading eigenvector of the covariance of the rows of x over samples [from, end).
std::vector<double> first_principal_component(const std::vector<std::vector<double>>& x, std::size_t from) {
  const std::size_t n = x.size(), S = x[0].size();
  std::vector<double> mean(n, 0.0), c(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t s = from; s < S; ++s) mean[i] += x[i][s];
    mean[i] /= static_cast<double>(S - from);
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t s = from; s < S; ++s) c[i * n + j] += (x[i][s] - mean[i]) * (x[j][s] - mean[j]);
      c[i * n + j] /= static_cast<double>(S - from);
    }
  std::vector<double> v(n, 1.0), w(n);
  for (int it = 0; it < 2000; ++it) {
    for (std::size_t i = 0; i < n; ++i) w[i] = std::inner_product(c.begin() + i * n, c.begin() + (i + 1) * n, v.begin(), 0.0);
    const double norm = std::sqrt(std::inner_product(w.begin(), w.end(), w.begin(), 0.0));
    for (std::size_t i = 0; i < n; ++i) v[i] = w[i] / norm;
  }
  return v;
}

double abs_cosine(const std::vector<double>& a, const std::vector<double>& b) {
  const double ab = std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
  const double aa = std::inner_product(a.begin(), a.end(), a.begin(), 0.0);
  const double bb = std::inner_product(b.begin(), b.end(), b.begin(), 0.0);
  return std::abs(ab) / std::sqrt(aa * bb);
}

}  // namespace

TEST(HebbianExamples, OjaFindsTheFirstPrincipalComponent) {
  for (std::uint64_t seed : {1, 2, 3}) {
    volley::io::LoadOptions opt;
    opt.seed = seed;
    auto m = volley::io::load_model_file(kExamples + "/oja_pca.toml", opt);
    volley::Network& net = *m.network;
    // The weights w (fibres in group order A..D) and the trace time constant of the rule.
    auto weights = [&] {
      std::vector<double> w;
      for (const auto& wm : net.weight_monitors())
        for (float x : wm->projection().weights()) w.push_back(x);
      return w;
    };
    const std::vector<double> w0 = weights();
    const double tau = net.weight_monitors().at(0)->projection().stdp()->tau_rate;
    net.run(m.duration);
    // PC1 of the fibres' covariance, measured on what the run produced (after 10 s).
    std::vector<std::vector<double>> x;
    for (const auto& wm : net.weight_monitors())
      for (const auto& sm : net.spike_monitors())
        if (&sm->population() == &wm->projection().source()) {
          auto rows = rate_estimates(*sm, sm->population().size(), tau, m.duration, 0.01);
          x.insert(x.end(), rows.begin(), rows.end());
        }
    ASSERT_EQ(x.size(), w0.size());
    const std::vector<double> pc1 = first_principal_component(x, 1000);
    const std::vector<double> w = weights();
    std::printf("seed %lu: |cos(w, PC1)| %.4f (at the start %.4f)\n", static_cast<unsigned long>(seed),
                abs_cosine(w, pc1), abs_cosine(w0, pc1));
    EXPECT_GE(abs_cosine(w, pc1), 0.99) << "seed " << seed;
    EXPECT_LT(abs_cosine(w0, pc1), 0.9) << "it was learned, not given (seed " << seed << ")";
  }
}

TEST(HebbianExamples, BcmBecomesSelectiveToOnePattern) {
  for (std::uint64_t seed : {1, 2, 3}) {
    volley::io::LoadOptions opt;
    opt.seed = seed;
    auto m = volley::io::load_model_file(kExamples + "/bcm_selectivity.toml", opt);
    volley::Network& net = *m.network;
    const double T = m.duration;
    // Before learning, each group's drive is its mean weight (the groups' rates are the same).
    std::vector<double> before;
    for (const auto& wm : net.weight_monitors()) {
      const auto& w = wm->projection().weights();
      before.push_back(std::accumulate(w.begin(), w.end(), 0.0) / static_cast<double>(w.size()));
    }
    net.run(T);
    const std::vector<double> after = responses(net.spike_monitors().at(0)->times, 0.8 * T, T);
    std::printf("seed %lu: mean weights before %.2f %.2f %.2f %.2f mV (selectivity %.3f); responses after "
                "%.1f %.1f %.1f %.1f Hz (selectivity %.3f)\n",
                static_cast<unsigned long>(seed), before[0] * 1e3, before[1] * 1e3, before[2] * 1e3,
                before[3] * 1e3, selectivity(before), after[0], after[1], after[2], after[3], selectivity(after));
    EXPECT_GE(selectivity(after), 0.8) << "seed " << seed;
    EXPECT_LT(selectivity(before), 0.5) << "it started unselective (seed " << seed << ")";
    // The weights tell the same story: one group's mean weight far above the others'.
    std::vector<double> w;
    for (const auto& wm : net.weight_monitors()) w.push_back(wm->means.back());
    ASSERT_EQ(w.size(), 4u);
    const std::size_t best = static_cast<std::size_t>(std::max_element(after.begin(), after.end()) - after.begin());
    for (std::size_t k = 0; k < 4; ++k)
      if (k != best) EXPECT_LT(w[k], 0.5 * w[best]) << "group " << k << ", seed " << seed;
  }
}
