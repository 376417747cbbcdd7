#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "volley/error.hpp"
#include "volley/units.hpp"

using namespace volley;
using ::testing::HasSubstr;

TEST(Units, ParsesPrefixedUnits) {
  EXPECT_DOUBLE_EQ(parse_quantity("20 ms", Dimension::seconds()), 0.02);
  EXPECT_DOUBLE_EQ(parse_quantity("-50 mV", Dimension::volts()), -0.05);
  EXPECT_DOUBLE_EQ(parse_quantity("5 nS", Dimension::siemens()), 5e-9);
  EXPECT_DOUBLE_EQ(parse_quantity("10 Hz", Dimension::hertz()), 10.0);
  EXPECT_DOUBLE_EQ(parse_quantity("200 pF", Dimension::farads()), 200e-12);
  EXPECT_DOUBLE_EQ(parse_quantity("100 MOhm", Dimension::ohms()), 1e8);
  EXPECT_DOUBLE_EQ(parse_quantity("0.5 nA", Dimension::amperes()), 0.5e-9);
  EXPECT_DOUBLE_EQ(parse_quantity("3 us", Dimension::seconds()), 3e-6);
  EXPECT_DOUBLE_EQ(parse_quantity("1.5e-3 s", Dimension::seconds()), 1.5e-3);
  EXPECT_DOUBLE_EQ(parse_quantity("4", Dimension::none()), 4.0);
}

TEST(Units, ParsesCompoundUnits) {
  EXPECT_DOUBLE_EQ(parse_quantity("0.02 /ms", Dimension::hertz()), 20.0);
  EXPECT_DOUBLE_EQ(parse_quantity("2 mV/ms", Dimension::volts_per_second()), 2.0);
  EXPECT_DOUBLE_EQ(parse_quantity("1 1/s", Dimension::hertz()), 1.0);
  EXPECT_DOUBLE_EQ(parse_quantity("3 ms^-1", Dimension::hertz()), 3000.0);
}

TEST(Units, WrongDimensionNamesBoth) {
  try {
    parse_quantity("20 mV", Dimension::seconds());
    FAIL();
  } catch (const UnitError& e) {
    EXPECT_THAT(e.what(), HasSubstr("voltage"));
    EXPECT_THAT(e.what(), HasSubstr("expected a time"));
  }
}

TEST(Units, MissingUnitIsAnError) {
  try {
    parse_quantity("20", Dimension::seconds());
    FAIL();
  } catch (const UnitError& e) {
    EXPECT_THAT(e.what(), HasSubstr("has no unit"));
  }
}

TEST(Units, MalformedInputIsAnError) {
  EXPECT_THROW(parse_quantity("", Dimension::seconds()), UnitError);
  EXPECT_THROW(parse_quantity("ms", Dimension::seconds()), UnitError);
  EXPECT_THROW(parse_quantity("20 parsecs", Dimension::seconds()), UnitError);
  EXPECT_THROW(parse_quantity("20 mV/ms/ms", Dimension::seconds()), UnitError);
  EXPECT_THROW(parse_quantity("inf s", Dimension::seconds()), UnitError);
}
