// volley fi's classification of excitability against the textbook cases (Hodgkin 1948;
// Izhikevich 2007, ch. 1 and 7; Ermentrout & Terman 2010, ch. 3): class I = Wang–Buzsáki,
// Morris–Lecar SNLC, the quadratic integrate-and-fire neuron, Izhikevich's "class1" panel;
// class II = Hodgkin–Huxley, Morris–Lecar Hopf, Izhikevich's "class2" panel.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "volley/analysis/fi_curve.hpp"
#include "volley/error.hpp"

using namespace volley;
using analysis::FiOptions;
using analysis::FiResult;

namespace {

FiOptions options(std::string model, std::string preset = "") {
  FiOptions o;
  o.model = std::move(model);
  o.preset = std::move(preset);
  return o;
}

std::string quantity(double x, const std::string& unit) {
  return fmt::format("{:.17g} {}", x, unit);
}

struct Reference {
  const char* model;
  const char* preset;
  const char* cls;
  bool bistable;                    // below the rheobase
  double rheobase_lo, rheobase_hi;  // where the literature puts the onset from rest (SI)
};

std::ostream& operator<<(std::ostream& os, const Reference& r) {
  return os << r.model << (*r.preset ? std::string(" ") + r.preset : "");
}

class FiReference : public testing::TestWithParam<Reference> {};

// The acceptance test of `volley fi`: the right class with the default options and with any plotted
// range up to 2x or 20x the rheobase (the classification must not depend on it), and the same
// rheobase every time.
TEST_P(FiReference, ClassDoesNotDependOnThePlottedRange) {
  const Reference& ref = GetParam();
  const FiResult d = analysis::measure_fi(options(ref.model, ref.preset));
  EXPECT_EQ(d.excitability_class, ref.cls) << d.decision;
  EXPECT_EQ(d.hysteresis, ref.bistable) << d.decision;
  EXPECT_GE(d.rheobase, ref.rheobase_lo);
  EXPECT_LE(d.rheobase, ref.rheobase_hi);
  // The default plotted range: 0 .. 3x the rheobase, 41 currents, both starting states.
  ASSERT_EQ(d.curve.size(), 41u);
  EXPECT_EQ(d.curve.front().current, 0.0);
  EXPECT_NEAR(d.curve.back().current, 3.0 * d.rheobase, 1e-9 * d.rheobase);
  // (Morris–Lecar is in depolarisation block at 3x its rheobase, so not necessarily the last.)
  EXPECT_TRUE(
      std::any_of(d.curve.begin(), d.curve.end(), [](auto& p) { return p.rate_from_rest > 0.0; }));
  // Durations long enough for the slowest rate claimed: every rate reported is at or above the
  // floor of the window it was counted in.
  for (const auto& p : d.onset)
    EXPECT_TRUE(p.rate == 0.0 || p.rate >= d.min_rate_hz * (1 - 1e-9)) << p.rate;
  EXPECT_NEAR(d.min_rate_hz, 3.0 / d.protocol.window, 1e-12);

  for (double factor : {2.0, 20.0}) {
    FiOptions o = options(ref.model, ref.preset);
    o.i_min = quantity(0.0, d.unit);
    o.i_max = quantity(factor * d.rheobase, d.unit);
    o.points = 5;
    o.step_duration = "200 ms";
    const FiResult r = analysis::measure_fi(o);
    EXPECT_EQ(r.excitability_class, ref.cls) << "--i-max " << o.i_max << ": " << r.decision;
    EXPECT_EQ(r.rheobase, d.rheobase) << "--i-max " << o.i_max;
    EXPECT_EQ(r.hysteresis, d.hysteresis) << "--i-max " << o.i_max;
    ASSERT_EQ(r.curve.size(), 5u);
    EXPECT_NEAR(r.curve.back().current, factor * d.rheobase, 1e-6 * d.rheobase);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Textbook, FiReference,
    testing::Values(
        // Subcritical Hopf near 9.8 uA/cm2, stable cycle from about 6.3 (Rinzel & Miller 1980).
        Reference{"hh", "", "II", true, 6e-6, 10.5e-6},
        // Rheobase about 0.16 uA/cm2 (Wang & Buzsáki 1996).
        Reference{"wang_buzsaki", "", "I", false, 0.14e-6, 0.18e-6},
        // Saddle-node on the invariant circle near 40 uA/cm2 (Ermentrout & Terman 2010, ch. 3).
        Reference{"morris_lecar", "snlc", "I", false, 39e-6, 41e-6},
        // Subcritical Hopf with a bistable range below it (Ermentrout & Terman 2010, ch. 3).
        Reference{"morris_lecar", "hopf", "II", true, 85e-6, 100e-6},
        // k (V_t - V_r)^2 / 4 = 70 pA.
        Reference{"qif", "", "I", false, 69.5e-12, 71.5e-12},
        // Izhikevich (2004) figure1.m, panels G and H; the drive is in the paper's units (mV).
        Reference{"izhikevich", "class1", "I", false, 1e-3, 5e-3},
        Reference{"izhikevich", "class2", "II", true, 0.1e-3, 1e-3}),
    [](const testing::TestParamInfo<Reference>& i) {
      return std::string(i.param.model) +
             (*i.param.preset ? std::string("_") + i.param.preset : "");
    });

// The square-root law near a saddle-node on the invariant circle, on the one model whose
// rheobase is analytic: C dV/dt = k (V - V_r)(V - V_t) + I fires for I > k (V_t - V_r)^2 / 4 =
// 70 pA with f -> sqrt(k (I - 70 pA)) / (pi C) * 2 (v_reset at the saddle-node voltage).
TEST(FiCurve, QifSquareRootFitRecoversTheSaddleNode) {
  const FiResult r = analysis::measure_fi(options("qif"));
  ASSERT_EQ(r.excitability_class, "I") << r.decision;
  ASSERT_TRUE(r.sqrt_fit.valid);
  EXPECT_NEAR(r.sqrt_fit.rheobase, 70e-12, 0.2e-12);
  EXPECT_GT(r.sqrt_fit.r2, 0.999);
  EXPECT_NEAR(r.sqrt_fit.coefficient, 2.0 * std::sqrt(0.7e-6) / (M_PI * 100e-12), 0.05 * 5.33e6);
  ASSERT_TRUE(r.power_fit.valid);
  EXPECT_NEAR(r.power_fit.exponent, 0.5, 0.03);
  EXPECT_NEAR(r.power_fit.rheobase, 70e-12, 0.1e-12);
  // The detected rheobase is where the rate reaches the floor, just above the saddle-node.
  EXPECT_GT(r.rheobase, 70e-12);
  EXPECT_LT(r.rheobase, 70.5e-12);
  EXPECT_LE(r.jump_ratio, 1.3);
}

// A class I model is not bistable: below the rheobase it is silent from either starting state;
// a Hopf model keeps firing from the firing state down to its fold of limit cycles.
TEST(FiCurve, BistabilityIsTestedFromBothStartingStates) {
  const FiResult snlc = analysis::measure_fi(options("morris_lecar", "snlc"));
  ASSERT_FALSE(snlc.bistability.empty());
  for (const auto& p : snlc.bistability) {
    EXPECT_LT(p.current, snlc.rheobase);
    EXPECT_EQ(p.rate_from_rest, 0.0) << p.current;
    EXPECT_EQ(p.rate_from_firing, 0.0) << p.current;
  }
  const FiResult hopf = analysis::measure_fi(options("morris_lecar", "hopf"));
  ASSERT_TRUE(hopf.hysteresis);
  EXPECT_GT(hopf.reference_rate_hz, 0.0);
  int bistable = 0;
  for (const auto& p : hopf.bistability) {
    EXPECT_EQ(p.rate_from_rest, 0.0) << p.current;
    bistable += p.rate_from_firing > 0.0;
  }
  EXPECT_GE(bistable, 1);
  // The fold of limit cycles lies above 80 uA/cm2: half the rheobase is silent either way.
  EXPECT_EQ(hopf.bistability.back().rate_from_firing, 0.0);
  // The plotted curve shows it too: some current fires from firing but not from rest.
  bool seen = false;
  for (const auto& p : hopf.curve) seen |= p.rate_from_rest == 0.0 && p.rate_from_firing > 0.0;
  EXPECT_TRUE(seen);
}

// The leaky integrate-and-fire neuron's rate goes to zero only logarithmically,
// f = 1 / (tau ln(I / (I - I_rh))): no window shows it at the floor, but the period keeps
// growing towards the rheobase (by tau ln 10 per decade), which is class I. It is driven by a
// voltage (no membrane resistance), so the sweep is in volts.
TEST(FiCurve, LifIsClassIThroughItsDivergingPeriod) {
  const FiResult r = analysis::measure_fi(options("lif"));
  EXPECT_EQ(r.unit, "V");
  EXPECT_EQ(r.excitability_class, "I") << r.decision;
  EXPECT_GT(r.jump_ratio, 1.3);  // decided by the period, not the floor
  EXPECT_NEAR(r.period_growth, 1.0, 0.2);
  EXPECT_FALSE(r.hysteresis);
}

TEST(FiCurve, FitsRecoverKnownLaws) {
  std::vector<analysis::RatePoint> sq, pw;
  for (double i : {3.001, 3.002, 3.005, 3.01, 3.02, 3.05, 3.1}) {
    sq.push_back({i, 12.0 * std::sqrt(i - 3.0)});
    pw.push_back({i, 5.0 * std::pow(i - 2.999, 0.3)});
  }
  const auto a = analysis::fit_onset(sq, 0.5);
  ASSERT_TRUE(a.valid);
  EXPECT_NEAR(a.rheobase, 3.0, 1e-9);
  EXPECT_NEAR(a.coefficient, 12.0, 1e-6);
  EXPECT_NEAR(a.r2, 1.0, 1e-12);
  const auto b = analysis::fit_onset(pw, std::nan(""));
  ASSERT_TRUE(b.valid);
  EXPECT_NEAR(b.exponent, 0.3, 1e-3);
  EXPECT_NEAR(b.rheobase, 2.999, 1e-5);
  EXPECT_NEAR(b.coefficient, 5.0, 5e-3);
  EXPECT_FALSE(analysis::fit_onset(std::span(sq).first(2), 0.5).valid);  // too few points
}

TEST(FiCurve, BadOptionsAreRejected) {
  auto with = [](std::string model, std::string preset, std::string lo, std::string hi,
                 int points = 5) {
    FiOptions o = options(std::move(model), std::move(preset));
    o.i_min = std::move(lo);
    o.i_max = std::move(hi);
    o.points = points;
    return o;
  };
  EXPECT_THROW(analysis::measure_fi(with("hh", "", "5 uA", "1 uA")), ParameterError);
  EXPECT_THROW(analysis::measure_fi(with("hh", "", "0 uA", "5 ms")), ParameterError);
  EXPECT_THROW(analysis::measure_fi(with("hh", "", "0 uA", "5 mV")), ParameterError);
  EXPECT_THROW(analysis::measure_fi(with("hh", "", "0 mV", "5 mV")),
               ParameterError);  // hh takes a current
  EXPECT_THROW(analysis::measure_fi(with("hh", "", "0 uA", "5 uA", 1)), ParameterError);
  EXPECT_THROW(analysis::measure_fi(with("hh", "", "0 uA", "5 uA x", 3)), ParameterError);
  EXPECT_THROW(analysis::measure_fi(with("poisson", "", "", "")), ParameterError);
  try {
    analysis::measure_fi(with("morris_lecar", "saddle", "", ""));
    ADD_FAILURE() << "no error for an unknown preset";
  } catch (const ParameterError& e) {
    EXPECT_NE(std::string(e.what()).find("--preset"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'snlc'"), std::string::npos) << e.what();
  }
  try {
    analysis::measure_fi(with("hhh", "", "", ""));
    ADD_FAILURE() << "no error for an unknown model";
  } catch (const ParameterError& e) {
    EXPECT_NE(std::string(e.what()).find("'hhh'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'wang_buzsaki'"), std::string::npos) << e.what();
  }
  FiOptions o = options("hh");
  o.step_duration = "0 s";
  EXPECT_THROW(analysis::measure_fi(o), ParameterError);
  o = options("hh");
  o.dt = "-1 ms";
  EXPECT_THROW(analysis::measure_fi(o), ParameterError);
}

}  // namespace
