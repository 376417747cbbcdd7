#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "volley/connectivity.hpp"
#include "volley/error.hpp"

using namespace volley;

namespace {
std::size_t row_len(const SparsityPattern& p, std::size_t i) { return p.row_ptr[i + 1] - p.row_ptr[i]; }

void expect_sorted_unique_rows(const SparsityPattern& p) {
  for (std::size_t i = 0; i + 1 < p.row_ptr.size(); ++i)
    for (auto s = p.row_ptr[i] + 1; s < p.row_ptr[i + 1]; ++s) ASSERT_LT(p.cols[s - 1], p.cols[s]);
}
}  // namespace

TEST(Connectivity, FixedProbabilityCountIsBinomial) {
  ConnectGeometry g{2000, 3000, false, 0};
  auto p = build_pattern(FixedProbability{0.02, true}, g, 1, 7);
  const double mean = 0.02 * 2000 * 3000, sd = std::sqrt(mean * 0.98);
  EXPECT_NEAR(static_cast<double>(p.cols.size()), mean, 4 * sd);
  expect_sorted_unique_rows(p);
  for (auto c : p.cols) ASSERT_LT(c, 3000u);
}

TEST(Connectivity, SelfConnectionsCanBeExcluded) {
  ConnectGeometry g{500, 500, true, 0};
  auto with = build_pattern(FixedProbability{1.0, true}, g, 1, 1);
  auto without = build_pattern(FixedProbability{1.0, false}, g, 1, 1);
  EXPECT_EQ(with.cols.size(), 500u * 500u);
  EXPECT_EQ(without.cols.size(), 500u * 499u);
  for (std::size_t i = 0; i < 500; ++i)
    for (auto s = without.row_ptr[i]; s < without.row_ptr[i + 1]; ++s) ASSERT_NE(without.cols[s], i);
  // With an offset (source slice starts 100 neurons after the target slice).
  ConnectGeometry shifted{100, 300, true, -100};
  auto sh = build_pattern(AllToAll{false}, shifted, 1, 1);
  for (std::size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(row_len(sh, i), 299u);
    for (auto s = sh.row_ptr[i]; s < sh.row_ptr[i + 1]; ++s) ASSERT_NE(sh.cols[s], i + 100);
  }
}

TEST(Connectivity, FixedInAndOutDegreeAreExact) {
  ConnectGeometry g{300, 200, true, 0};
  auto in = build_pattern(FixedInDegree{25, false}, g, 3, 1);
  std::vector<int> indeg(200, 0);
  for (std::size_t i = 0; i < 300; ++i)
    for (auto s = in.row_ptr[i]; s < in.row_ptr[i + 1]; ++s) {
      ++indeg[in.cols[s]];
      ASSERT_NE(in.cols[s], i);
    }
  for (int d : indeg) EXPECT_EQ(d, 25);
  expect_sorted_unique_rows(in);
  auto out = build_pattern(FixedOutDegree{150, true}, g, 3, 2);  // dense branch of the sampler
  for (std::size_t i = 0; i < 300; ++i) EXPECT_EQ(row_len(out, i), 150u);
  expect_sorted_unique_rows(out);
}

TEST(Connectivity, OneToOneAllToAllAndLists) {
  ConnectGeometry g{5, 5, false, 0};
  auto o = build_pattern(OneToOne{}, g, 1, 1);
  EXPECT_EQ(o.cols, (std::vector<std::uint32_t>{0, 1, 2, 3, 4}));
  auto a = build_pattern(AllToAll{}, g, 1, 1);
  EXPECT_EQ(a.cols.size(), 25u);
  auto l = build_pattern(ExplicitList{{{3, 1}, {0, 4}, {3, 0}}}, g, 1, 1);
  EXPECT_EQ(l.row_ptr, (std::vector<std::uint64_t>{0, 1, 1, 1, 3, 3}));
  EXPECT_EQ(l.cols, (std::vector<std::uint32_t>{4, 0, 1}));
}

TEST(Connectivity, SameSeedSamePattern) {
  ConnectGeometry g{400, 400, true, 0};
  auto a = build_pattern(FixedProbability{0.1, false}, g, 5, 1);
  auto b = build_pattern(FixedProbability{0.1, false}, g, 5, 1);
  auto c = build_pattern(FixedProbability{0.1, false}, g, 6, 1);
  EXPECT_EQ(a.cols, b.cols);
  EXPECT_NE(a.cols, c.cols);
}

TEST(Connectivity, ImpossibleRequestsAreRejected) {
  ConnectGeometry g{10, 10, true, 0};
  EXPECT_THROW(build_pattern(FixedProbability{1.5, true}, g, 1, 1), ParameterError);
  EXPECT_THROW(build_pattern(FixedProbability{-0.1, true}, g, 1, 1), ParameterError);
  EXPECT_THROW(build_pattern(FixedInDegree{10, false}, g, 1, 1), ParameterError);
  EXPECT_THROW(build_pattern(FixedOutDegree{11, true}, g, 1, 1), ParameterError);
  EXPECT_THROW(build_pattern(ExplicitList{{{10, 0}}}, g, 1, 1), ParameterError);
  ConnectGeometry uneven{3, 4, false, 0};
  EXPECT_THROW(build_pattern(OneToOne{}, uneven, 1, 1), ParameterError);
}

// A process of a distributed network draws only the synapses onto its targets: for every rule,
// the pattern kept for [keep_lo, keep_hi) is the whole pattern restricted to those targets, in
// the same order, and slot[] gives each synapse's place in its whole row (what keys its weight).
TEST(Connectivity, KeptTargetsAreTheWholePatternRestrictedWithTheirPlaces) {
  const std::vector<Connector> rules = {
      AllToAll{false}, OneToOne{}, FixedProbability{0.1, false}, FixedInDegree{7, false},
      FixedOutDegree{9, true},
      ExplicitList{{{3, 5}, {0, 1}, {3, 2}, {3, 40}, {7, 63}, {7, 0}, {2, 33}}}};
  for (std::size_t r = 0; r < rules.size(); ++r) {
    const ConnectGeometry whole_g{64, 64, true, 0};
    const SparsityPattern whole = build_pattern(rules[r], whole_g, 3, 11);
    ASSERT_TRUE(whole.slot.empty());
    for (const auto [lo, hi] : {std::pair<std::size_t, std::size_t>{0, 16}, {16, 48}, {48, 64},
                                {5, 6}, {64, 64}}) {
      ConnectGeometry g = whole_g;
      g.keep_lo = lo;
      g.keep_hi = hi;
      const SparsityPattern part = build_pattern(rules[r], g, 3, 11);
      ASSERT_EQ(part.row_ptr.size(), whole.row_ptr.size());
      ASSERT_EQ(part.slot.size(), part.cols.size());
      for (std::size_t i = 0; i < 64; ++i) {
        std::vector<std::uint32_t> cols, places;
        for (auto s = whole.row_ptr[i]; s < whole.row_ptr[i + 1]; ++s)
          if (whole.cols[s] >= lo && whole.cols[s] < hi) {
            cols.push_back(whole.cols[s]);
            places.push_back(static_cast<std::uint32_t>(s - whole.row_ptr[i]));
          }
        const std::vector<std::uint32_t> got(part.cols.begin() + static_cast<std::ptrdiff_t>(part.row_ptr[i]),
                                             part.cols.begin() + static_cast<std::ptrdiff_t>(part.row_ptr[i + 1]));
        const std::vector<std::uint32_t> got_places(part.slot.begin() + static_cast<std::ptrdiff_t>(part.row_ptr[i]),
                                                    part.slot.begin() + static_cast<std::ptrdiff_t>(part.row_ptr[i + 1]));
        ASSERT_EQ(got, cols) << "rule " << r << " row " << i << " keep [" << lo << ", " << hi << ")";
        ASSERT_EQ(got_places, places) << "rule " << r << " row " << i;
      }
    }
  }
}
