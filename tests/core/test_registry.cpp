// The registry primitives every extension point uses: ranges, parameter checks, lookups and the
// generated documentation.
#include <gtest/gtest.h>

#include "volley/registry.hpp"

namespace volley {
namespace {

struct P {
  double tau = 20e-3;
  float scale = 0.5f;
  int steps = 100;
  std::size_t seed = 4294967295u;
};
const Param<P> kParams[] = {
    {"tau", &P::tau, Dimension::seconds(), Range::positive(), "time constant"},
    {"scale", &P::scale, Dimension::none(), Range::open_closed(0, 1), "a scale"},
    {"steps", &P::steps, Dimension::none(), Range::at_least(1), "steps"},
    {"seed", &P::seed, Dimension::none(), Range::closed(0, 4294967295.0), "seed"},
};

enum class Kind { a, b };

TEST(Registry, RangesAcceptAndDescribeTheirEnds) {
  EXPECT_FALSE(Range::positive().contains(0.0));
  EXPECT_TRUE(Range::non_negative().contains(0.0));
  EXPECT_FALSE(Range::any().contains(std::nan("")));
  EXPECT_TRUE(Range::open_closed(0, 1).contains(1.0));
  EXPECT_FALSE(Range::closed_open(0, 1).contains(1.0));
  EXPECT_FALSE(Range::negative().contains(0.0));
  EXPECT_EQ(Range::positive().describe(), "> 0");
  EXPECT_EQ(Range::non_negative().describe(), ">= 0");
  EXPECT_EQ(Range::open_closed(0, 1).describe(), "in (0, 1]");
  EXPECT_EQ(Range::closed(0, 4294967295.0).describe(), "in [0, 4294967295]");
  EXPECT_EQ(Range::any().describe(), "any value");
}

TEST(Registry, ParamsReadWriteTheirMemberAndCheckValues) {
  P p;
  EXPECT_DOUBLE_EQ(kParams[1].get(p), 0.5);
  kParams[2].set(p, 7);
  EXPECT_EQ(p.steps, 7);
  EXPECT_EQ(kParams[0].check(-1.0), "must be > 0, got -1");
  EXPECT_EQ(kParams[2].check(2.5), "must be a whole number, got 2.5");
  EXPECT_EQ(kParams[2].check(0), "must be >= 1, got 0");
  EXPECT_TRUE(kParams[1].check(1.0).empty());
}

TEST(Registry, UnknownNamesListTheKnownOnesAndDuplicatesAreRefused) {
  const Registry<Choice<Kind>> r("kind", {{"a", Kind::a, "first"}, {"b", Kind::b, "second"}});
  EXPECT_EQ(r.get("b").value, Kind::b);
  EXPECT_EQ(r.find("c"), nullptr);
  EXPECT_EQ(r.name_of(Kind::a), "a");
  try {
    r.get("c");
    FAIL() << "no exception";
  } catch (const ParameterError& e) {
    EXPECT_STREQ(e.what(), "unknown kind 'c' (expected one of 'a', 'b')");
  }
  using R = Registry<Choice<Kind>>;
  EXPECT_THROW(R("kind", {{"a", Kind::a, ""}, {"a", Kind::b, ""}}), ParameterError);
}

TEST(Registry, QuantitiesAreWrittenWithPrefixedUnitsThatReadBack) {
  EXPECT_EQ(format_quantity(-0.065, Dimension::volts()), "-65 mV");
  EXPECT_EQ(format_quantity(100e-12, Dimension::farads()), "100 pF");
  EXPECT_EQ(format_quantity(20e-3, Dimension::seconds()), "20 ms");
  EXPECT_EQ(format_quantity(0.0, Dimension::amperes()), "0 A");
  for (double x : {-0.065, 100e-12, 20e-3, 5e-9, 3.3e7, 0.7e-6}) {
    for (Dimension d : {Dimension::volts(), Dimension::farads(), Dimension::siemens(),
                        Dimension::hertz(), Dimension::volts_per_second(), Dimension{0, -2, 1}}) {
      const std::string text = format_quantity(x, d);
      EXPECT_NEAR(parse_quantity(text, d), x, 1e-9 * std::fabs(x)) << text;
    }
  }
}

TEST(Registry, ParameterTablesShowDefaultsRangesAndMeanings) {
  const std::string t = markdown_params(param_infos<P>(kParams));
  EXPECT_NE(t.find("| `tau` | 20 ms | > 0 | time constant |"), std::string::npos) << t;
  EXPECT_NE(t.find("| `steps` | 100 | >= 1, whole number | steps |"), std::string::npos) << t;
  EXPECT_NE(t.find("| `seed` | 4294967295 | in [0, 4294967295], whole number | seed |"),
            std::string::npos)
      << t;
}

}  // namespace
}  // namespace volley
