#include <gtest/gtest.h>

#include <cmath>

#include "volley/rng.hpp"

using namespace volley;

// Known-answer vectors of Random123's philox4x32_10 (kat_vectors).
TEST(Philox, MatchesReferenceVectors) {
  auto zero = philox4x32({0, 0, 0, 0}, 0);
  EXPECT_EQ(zero, (PhiloxBlock{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  auto ones = philox4x32({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                         0xffffffffffffffffULL);
  EXPECT_EQ(ones, (PhiloxBlock{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  auto pi = philox4x32({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                       (std::uint64_t{0x299f31d0u} << 32) | 0xa4093822u);
  EXPECT_EQ(pi, (PhiloxBlock{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(CounterRng, SameKeySameNumbersDifferentKeyDifferent) {
  CounterRng a(7, 1, 2, 3), b(7, 1, 2, 3), c(7, 1, 2, 4), d(8, 1, 2, 3);
  const double x = a.uniform();
  EXPECT_EQ(x, b.uniform());
  EXPECT_NE(x, c.uniform());
  EXPECT_NE(x, d.uniform());
}

TEST(CounterRng, UniformAndNormalMoments) {
  double s = 0, s2 = 0, n1 = 0, n2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    CounterRng r(1, 0, static_cast<std::uint32_t>(i), 0);
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    s += u;
    s2 += u * u;
    const double z = r.normal();
    n1 += z;
    n2 += z * z;
  }
  EXPECT_NEAR(s / n, 0.5, 0.005);
  EXPECT_NEAR(s2 / n - 0.25, 1.0 / 12.0, 0.002);
  EXPECT_NEAR(n1 / n, 0.0, 0.01);
  EXPECT_NEAR(n2 / n, 1.0, 0.01);
}

TEST(CounterRng, BinomialMeanAndVariance) {
  for (auto [n, p] : {std::pair<std::uint32_t, double>{1000, 0.001}, {20, 0.3}, {5000, 0.02}}) {
    double s = 0, s2 = 0;
    const int reps = 100000;
    for (int i = 0; i < reps; ++i) {
      CounterRng r(3, 9, static_cast<std::uint32_t>(i), n);
      const double k = r.binomial(n, p);
      s += k;
      s2 += k * k;
    }
    const double mean = s / reps, var = s2 / reps - mean * mean;
    EXPECT_NEAR(mean, n * p, 4 * std::sqrt(n * p * (1 - p) / reps) + 1e-9) << n << " " << p;
    EXPECT_NEAR(var, n * p * (1 - p), 0.05 * n * p * (1 - p)) << n << " " << p;
  }
}

TEST(CounterRng, BatchUniformsEqualSingleDraws) {
  std::vector<double> u(1000);
  uniform_batch(99, 1234, (std::uint64_t{3} << 32) + 17, 5, 1005, u.data());
  for (std::uint32_t i = 5; i < 1005; ++i)
    ASSERT_EQ(u[i - 5], CounterRng(99, 1234, i, (std::uint64_t{3} << 32) + 17).uniform()) << i;
}

// Gamma(k): mean k and variance k, for shapes below and above 1 (two code paths).
TEST(CounterRng, GammaMeanAndVariance) {
  for (double k : {0.5, 1.0, 3.0, 25.0}) {
    double s = 0, s2 = 0;
    const int reps = 200000;
    for (int i = 0; i < reps; ++i) {
      CounterRng r(5, 11, static_cast<std::uint32_t>(i), 0);
      const double x = r.gamma(k);
      ASSERT_GT(x, 0.0);
      s += x;
      s2 += x * x;
    }
    const double mean = s / reps, var = s2 / reps - mean * mean;
    EXPECT_NEAR(mean, k, 4 * std::sqrt(k / reps)) << k;
    EXPECT_NEAR(var, k, 0.03 * k) << k;
  }
}
