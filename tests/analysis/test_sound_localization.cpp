// Jeffress sound localisation: delay lines give each detector its best IPD, the estimate
// follows the true IPD, more fibres per ear lower the error, and results repeat for a seed.
#include <gtest/gtest.h>

#include <cmath>

#include "volley/analysis/sound_localization.hpp"
#include "volley/error.hpp"
#include "volley/io/model_file.hpp"

namespace va = volley::analysis;

TEST(SoundLocalization, CircularError) {
  EXPECT_DOUBLE_EQ(va::circular_error_deg(10, 350), 20.0);
  EXPECT_DOUBLE_EQ(va::circular_error_deg(0, 180), 180.0);
  EXPECT_DOUBLE_EQ(va::circular_error_deg(-30, 30), 60.0);
  EXPECT_DOUBLE_EQ(va::circular_error_deg(720, 0), 0.0);
}

TEST(SoundLocalization, DelayRampGivesEachDetectorItsBestIpd) {
  va::JeffressConfig c;
  auto m = volley::io::load_model_string(va::jeffress_model_text(c, 90.0), "jeffress");
  const auto& right = m.network->projection("right0");
  ASSERT_EQ(right.synapse_count(), 100u);
  for (std::size_t s = 0; s < 100; ++s) {
    const std::size_t j = right.targets()[s];
    // One step (0.1 ms) plus j/99 of the 20 ms period, in steps of 0.1 ms.
    const double want = 1.0 + std::round(200.0 * static_cast<double>(j) / 99.0);
    EXPECT_NEAR(right.delay_steps(s), want, 1.0) << "detector " << j;
  }
  EXPECT_EQ(m.network->projection("left0").max_delay_steps(), 1u);
}

TEST(SoundLocalization, EstimatesFollowTheTrueIpd) {
  va::JeffressConfig c;
  c.fibres_per_ear = 10;
  for (double ipd : {45.0, 135.0, 270.0}) {
    const auto e = va::run_jeffress(c, ipd, 0);
    EXPECT_LT(va::circular_error_deg(e.population_vector_deg, ipd), 25.0) << ipd;
    EXPECT_LT(va::circular_error_deg(e.estimate_deg, ipd), 40.0) << ipd;
  }
}

TEST(SoundLocalization, TutorialSweepAndMoreFibresLowerTheError) {
  va::JeffressConfig one;
  const auto a = va::sweep_jeffress(one, 30.0);
  ASSERT_EQ(a.per_ipd.size(), 12u);
  EXPECT_LT(a.mean_abs_error_deg, 60.0);  // the tutorial reports roughly 20-30°
  va::JeffressConfig many = one;
  many.fibres_per_ear = 20;
  const auto b = va::sweep_jeffress(many, 30.0);
  EXPECT_LT(b.mean_abs_error_deg, a.mean_abs_error_deg);
  EXPECT_LT(b.mean_abs_error_deg, 15.0);
  // Same seed, same estimates.
  const auto again = va::sweep_jeffress(one, 30.0);
  for (std::size_t i = 0; i < a.per_ipd.size(); ++i)
    EXPECT_EQ(a.per_ipd[i].counts, again.per_ipd[i].counts);
}

TEST(SoundLocalization, RejectsImpossibleSettings) {
  va::JeffressConfig c;
  c.fibres_per_ear = 0;
  EXPECT_THROW(va::jeffress_model_text(c, 0.0), volley::ParameterError);
  c = {};
  c.rate_max = 20000.0;  // more than one spike per 0.1 ms step
  EXPECT_THROW(va::jeffress_model_text(c, 0.0), volley::ParameterError);
}
