// Hebbian rules for a spiking neuron with rate estimates: Oja's rule finds the first principal
// component of the inputs' covariance (and normalises the weights); BCM makes the neuron
// selective to one of several input patterns; bad settings are named.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "volley/error.hpp"
#include "volley/learn/hebbian.hpp"

namespace vl = volley::learn;
using ::testing::HasSubstr;

namespace {

// 20 inputs, two latent factors: factor 0 (std 8 Hz) loads on inputs 0..9 with a ramp, factor 1
// (std 4 Hz) on all inputs with alternating signs. The first PC is dominated by factor 0.
std::vector<double> loadings() {
  std::vector<double> l(20 * 2);
  for (std::size_t i = 0; i < 20; ++i) {
    l[i * 2 + 0] = i < 10 ? 8.0 * (0.5 + 0.05 * double(i)) : 0.0;
    l[i * 2 + 1] = (i % 2 ? 4.0 : -4.0) * 0.5;
  }
  return l;
}

}  // namespace

TEST(Hebbian, OjaFindsTheFirstPrincipalComponent) {
  vl::HebbianConfig c;
  c.tau_rate = 0.1;
  c.presentation = 0.25;
  c.duration = 1000.0;
  c.eta = 5e-4;
  c.eta_time = 100.0;
  c.seed = 3;
  // Seeds 1–5: |cos| 0.994–0.998.
  const vl::OjaResult r = vl::run_oja(c, 20, 20.0, loadings(), 2);
  std::printf("Oja: |cos(w, PC1)| = %.4f, |w| = %.3f, after 10 s %.3f, 100 s %.3f\n", r.cosine, r.weight_norm,
              r.cosine_trace[9], r.cosine_trace[99]);
  EXPECT_GE(r.cosine, 0.99);
  EXPECT_NEAR(r.weight_norm, 1.0, 0.15);  // Oja's normalisation
  EXPECT_LT(r.cosine_trace[0], 0.9);      // it was learned, not given
}

TEST(Hebbian, BcmBecomesSelectiveToOnePattern) {
  // 4 patterns, each 30 Hz on its own 5 of 20 fibres (background 5 Hz).
  std::vector<double> p(4 * 20, 0.0);
  for (std::size_t k = 0; k < 4; ++k)
    for (std::size_t i = 5 * k; i < 5 * k + 5; ++i) p[k * 20 + i] = 30.0;
  vl::HebbianConfig c;
  c.duration = 600.0;  // seeds 1–5 give selectivity 0.82–0.86 (one pattern ≈ 30 Hz, the others ≈ 4.5 Hz)
  c.eta = 1e-6;
  c.seed = 2;
  const vl::BcmResult r = vl::run_bcm(c, 20, 5.0, p, 4, 10.0, 2.0);
  std::printf("BCM: responses %.1f %.1f %.1f %.1f Hz (before %.1f %.1f %.1f %.1f), preferred %d, selectivity %.3f\n",
              r.response[0], r.response[1], r.response[2], r.response[3], r.response_before[0],
              r.response_before[1], r.response_before[2], r.response_before[3], r.preferred, r.selectivity);
  EXPECT_GE(r.selectivity, 0.8);
  double before_max = 0, before_min = 1e9;
  for (double x : r.response_before) before_max = std::max(before_max, x), before_min = std::min(before_min, x);
  EXPECT_LT(1.0 - before_min / before_max, 0.5);  // it started unselective
}

TEST(Hebbian, BadSettingsAreNamed) {
  vl::HebbianConfig c;
  c.eta = -1;
  EXPECT_THAT([&] { vl::run_oja(c, 20, 20.0, loadings(), 2); },
              ::testing::ThrowsMessage<volley::ParameterError>(HasSubstr("eta")));
  c = {};
  EXPECT_THAT([&] { vl::run_oja(c, 20, 20.0, std::vector<double>(7), 2); },
              ::testing::ThrowsMessage<volley::ParameterError>(HasSubstr("loadings")));
  EXPECT_THAT([&] { vl::run_bcm(c, 20, 5.0, std::vector<double>(40), 2, 0.0, 1.0); },
              ::testing::ThrowsMessage<volley::ParameterError>(HasSubstr("y0")));
}
