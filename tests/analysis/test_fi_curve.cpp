// volley fi's classification of excitability against the textbook cases (Izhikevich 2007,
// Ermentrout & Terman 2010): class I = Wang-Buzsaki, Morris-Lecar SNLC; class II =
// Hodgkin-Huxley, Morris-Lecar Hopf.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "volley/analysis/fi_curve.hpp"
#include "volley/error.hpp"

using namespace volley;
using analysis::FiOptions;

namespace {
analysis::FiResult fi(std::string model, std::string preset, std::string lo, std::string hi,
                      int points, std::string step = "1 s") {
  FiOptions o;
  o.model = std::move(model);
  o.preset = std::move(preset);
  o.i_min = std::move(lo);
  o.i_max = std::move(hi);
  o.points = points;
  o.step_duration = std::move(step);
  return analysis::measure_fi(o);
}
}  // namespace

TEST(FiCurve, WangBuzsakiIsClassI) {
  const auto r = fi("wang_buzsaki", "", "0 uA", "2 uA", 21);
  EXPECT_EQ(r.excitability_class, "I") << r.onset_rate_hz << " of " << r.max_rate_hz;
  EXPECT_NEAR(r.rheobase, 0.2e-6, 0.11e-6);  // literature: about 0.16 uA/cm2
  EXPECT_FALSE(r.hysteresis);
}

TEST(FiCurve, HodgkinHuxleyIsClassII) {
  const auto r = fi("hh", "", "0 uA", "20 uA", 21);
  EXPECT_EQ(r.excitability_class, "II") << r.onset_rate_hz << " of " << r.max_rate_hz;
  EXPECT_GT(r.onset_rate_hz, 40.0);
  EXPECT_GE(r.rheobase, 6e-6);
  EXPECT_LE(r.rheobase, 10e-6);
}

TEST(FiCurve, MorrisLecarSnlcIsClassIAndHopfIsClassII) {
  const auto snlc = fi("morris_lecar", "snlc", "30 uA", "60 uA", 31, "2 s");
  EXPECT_EQ(snlc.excitability_class, "I") << snlc.onset_rate_hz << " of " << snlc.max_rate_hz;
  // Saddle-node on the invariant circle near 40 uA/cm2 (Ermentrout & Terman 2010, ch. 3).
  EXPECT_NEAR(snlc.rheobase, 40e-6, 1e-6);
  const auto hopf = fi("morris_lecar", "hopf", "80 uA", "120 uA", 41, "2 s");
  EXPECT_EQ(hopf.excitability_class, "II") << hopf.onset_rate_hz << " of " << hopf.max_rate_hz;
}

TEST(FiCurve, BadOptionsAreRejected) {
  EXPECT_THROW(fi("hh", "", "5 uA", "1 uA", 11), ParameterError);
  EXPECT_THROW(fi("hh", "", "0 uA", "5 ms", 11), ParameterError);
  EXPECT_THROW(fi("hh", "", "0 uA", "5 uA", 1), ParameterError);
  EXPECT_THROW(fi("morris_lecar", "saddle", "0 uA", "5 uA", 3), ConfigError);
  EXPECT_THROW(fi("hhh", "", "0 uA", "5 uA", 3), ConfigError);
}

TEST(FiCurve, QifRheobaseIsTheSaddleNodeCurrent) {
  // C dV/dt = k (V - V_r)(V - V_t) + I has a saddle-node at I = k (V_t - V_r)^2 / 4 = 70 pA.
  const auto r = fi("qif", "", "0 pA", "300 pA", 31);
  EXPECT_EQ(r.excitability_class, "I");
  EXPECT_NEAR(r.rheobase, 70e-12, 1.5e-12);
}

TEST(FiCurve, IzhikevichExcitabilityPresets) {
  // Izhikevich (2004) figure1.m, panels G and H; the drive is in the paper's units (mV).
  const auto c1 = fi("izhikevich", "class1", "-5 mV", "40 mV", 46);
  EXPECT_EQ(c1.excitability_class, "I") << c1.onset_rate_hz << " of " << c1.max_rate_hz;
  const auto c2 = fi("izhikevich", "class2", "-5 mV", "40 mV", 46);
  EXPECT_EQ(c2.excitability_class, "II") << c2.onset_rate_hz << " of " << c2.max_rate_hz;
  EXPECT_THROW(fi("izhikevich", "XX", "0 mV", "5 mV", 3), ConfigError);
}
