// The Hebbian example models run by the engine (rule = "bcm" on projections, examples/): the
// acceptance figure of the stand-alone experiment of volley/learn/hebbian.hpp, reached with a
// LIF neuron and Poisson fibres as `volley sim` runs them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "volley/io/model_file.hpp"
#include "volley/network.hpp"

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

// 1 - mean(other responses) / best response, as volley/learn/hebbian.hpp defines it.
double selectivity(const std::vector<double>& r) {
  const double best = *std::max_element(r.begin(), r.end());
  const double others = (std::accumulate(r.begin(), r.end(), 0.0) - best) / double(r.size() - 1);
  return best > 0.0 ? 1.0 - others / best : 0.0;
}

}  // namespace

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
