// PoissonInput draws: the vectorised table inversion must give, for every neuron and step,
// exactly the Binomial(n, p) count that inverting the CDF at that neuron's counter-based
// uniform gives, including the rare draws beyond the part of the table compared without
// branches.
#include <gtest/gtest.h>

#include <cmath>

#include "volley/inputs.hpp"
#include "volley/models/lif.hpp"
#include "volley/rng.hpp"

using namespace volley;

namespace {

// Binomial(n, p) inverted at u from an independently computed CDF (log-space pmf, long double).
std::uint32_t binomial_at(std::uint32_t n, double p, double u) {
  long double cdf = 0.0L;
  for (std::uint32_t k = 0; k < n; ++k) {
    const long double log_pmf = std::lgamma(n + 1.0L) - std::lgamma(k + 1.0L) -
                                std::lgamma(n - k + 1.0L) + k * std::log(static_cast<long double>(p)) +
                                (n - k) * std::log1p(-static_cast<long double>(p));
    cdf += std::exp(log_pmf);
    if (static_cast<long double>(u) < cdf) return k;
  }
  return n;
}

// Every count of `steps` steps over `size` neurons (offset `lo`), read back from the channel.
void expect_exact_counts(std::uint32_t n_sources, double rate, std::size_t lo, std::size_t hi) {
  constexpr double kDt = 1e-4;
  constexpr std::uint64_t kSeed = 17;
  constexpr std::uint32_t kId = 5;
  LifParams params;
  params.channels = {{"exc", 5e-3}};
  LifPopulation pop("P", params);
  pop.grow(300, 1);
  pop.prepare(kDt);
  pop.configure_rings(2, 0, {});
  PoissonInputSpec spec{"drive", "P", {}, "exc", n_sources, rate, 1.0, Dimension::volts()};
  PoissonInput input(spec, pop, kId);
  input.prepare(kDt);
  float* g = pop.channel_state(0);
  const double w = pop.weight_factor(0, Dimension::volts());
  const double p = rate * kDt;
  std::size_t beyond_eight = 0;
  for (std::uint64_t step = 0; step < 40; ++step) {
    std::fill(g, g + pop.size(), 0.0f);
    input.apply({step, kDt, kSeed}, lo, hi);
    for (std::size_t i = 0; i < pop.size(); ++i) {
      const double u = CounterRng(kSeed, stream_id(RngStream::kPoissonInput, kId),
                                  static_cast<std::uint32_t>(i), step)
                           .uniform();
      const std::uint32_t want = i >= lo && i < hi ? binomial_at(n_sources, p, u) : 0;
      ASSERT_EQ(static_cast<double>(g[i]), static_cast<double>(static_cast<float>(want) *
                                                               static_cast<float>(w)))
          << "neuron " << i << " step " << step << " u " << u;
      beyond_eight += want > 8;
    }
  }
  if (n_sources * p > 8) EXPECT_GT(beyond_eight, 1000u);  // the tail search ran
}

}  // namespace

TEST(PoissonInput, CountsEqualTheInvertedCdfAtEachNeuronsUniform) {
  expect_exact_counts(1000, 20.0, 0, 300);  // mean 2 per step: Brunel's drive
}

TEST(PoissonInput, DrawsBeyondTheBranchFreeHeadContinueTheSearch) {
  expect_exact_counts(1000, 200.0, 0, 300);  // mean 20: most draws exceed eight events
}

TEST(PoissonInput, OnlyTheGivenRangeReceivesEvents) {
  expect_exact_counts(500, 40.0, 37, 211);
}
