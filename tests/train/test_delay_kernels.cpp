// The time-major delay kernels (src/train/delay_kernels.hpp) against the definitions they
// compute, summed in double: currents I_j(t) = Σ w_ij·φ_ij(o)·x_i(t − start_ij − o) and
// correlations c_ij(o) = Σ_t g_j(t)·x_i(t − start_ij − o), over more steps than one time tile
// (128), rows that are not a multiple of 16 and of the 48-row passes, blurred and whole-step taps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "train/delay_kernels.hpp"
#include "volley/train/delays.hpp"

namespace vt = volley::train;
namespace vd = volley::train::detail;

namespace {

struct Sample {
  std::vector<std::uint32_t> off, idx;
  std::vector<float> val;
};

// Events of n_pre inputs over T steps, each (input, step) with probability p and a value in
// [0.5, 1.5) (or a count 1–3: spikes binned into steps); rows ≥ silent_from never fire.
Sample events(std::size_t n_pre, std::size_t T, double p, std::size_t silent_from, unsigned seed,
              bool counts) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution fire(p);
  std::uniform_real_distribution<float> value(0.5f, 1.5f);
  std::uniform_int_distribution<int> count(1, 3);
  Sample s;
  s.off.push_back(0);
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t i = 0; i < silent_from; ++i)
      if (fire(rng)) {
        s.idx.push_back(static_cast<std::uint32_t>(i));
        s.val.push_back(counts ? static_cast<float>(count(rng)) : value(rng));
      }
    s.off.push_back(static_cast<std::uint32_t>(s.idx.size()));
  }
  return s;
}

struct Setup {
  std::size_t n_pre, n_post, T, K;
  double sigma;
  bool counts = false;
};

void check(const Setup& c, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> delay(0.0f, static_cast<float>(c.K - 1));
  std::normal_distribution<float> weight(0.0f, 1.0f);
  const std::size_t S = c.n_pre * c.n_post;
  std::vector<float> d(S), w(S);
  for (float& x : d) x = delay(rng);
  for (float& x : w) x = weight(rng);
  vt::DelayTaps D;
  vt::compute_delay_taps(d.data(), S, c.K, c.sigma, D);
  D.gather = true;
  vd::build_time_major_taps(D, w.data(), c.n_pre, c.n_post, c.T);
  const std::size_t Wd = D.width;
  const Sample s = events(c.n_pre, c.T, 0.2, c.n_pre - 3, seed + 1, c.counts);
  vt::DelayRaster r;
  vd::fill_delay_raster(D, c.n_pre, c.T, s.off.data(), s.idx.data(), s.val.data(), r);
  ASSERT_EQ(r.rows.size(), c.n_pre - 3);
#if defined(__AVX512F__)
  // Counts on whole-step taps take the byte kernels, graded values the float raster's.
  EXPECT_EQ(!r.counts.empty(), c.counts && Wd == 1);
#endif

  // The inputs as a dense array x[i][t] and the definitions in double.
  std::vector<double> x(c.n_pre * c.T, 0.0);
  for (std::size_t t = 0; t < c.T; ++t)
    for (std::uint32_t e = s.off[t]; e < s.off[t + 1]; ++e) x[s.idx[e] * c.T + t] += s.val[e];
  auto input = [&](std::size_t i, long t) { return t < 0 ? 0.0 : x[i * c.T + static_cast<std::size_t>(t)]; };
  std::vector<float> g(c.T * c.n_post);
  for (float& v : g) v = weight(rng);

  std::vector<float> cur(c.T * c.n_post, -1.0f);
  volley::AlignedVector<float> scratch;
  vd::gather_delayed_currents(D, c.n_post, c.T, r, scratch, cur.data());
  std::vector<float> corr(Wd * S, 0.25f);  // added to
  vd::gather_delayed_correlation(D, c.n_post, c.T, r, g.data(), scratch, corr.data());
  if (!r.counts.empty()) {
    // The byte kernels give the float raster kernels' bits.
    vt::DelayRaster floats = r;
    floats.counts.clear();
    std::vector<float> cur_f(cur.size(), -1.0f), corr_f(corr.size(), 0.25f);
    vd::gather_delayed_currents(D, c.n_post, c.T, floats, scratch, cur_f.data());
    vd::gather_delayed_correlation(D, c.n_post, c.T, floats, g.data(), scratch, corr_f.data());
    EXPECT_EQ(cur, cur_f);
    EXPECT_EQ(corr, corr_f);
  }

  double worst_cur = 0.0, worst_corr = 0.0;
  for (std::size_t j = 0; j < c.n_post; ++j) {
    for (std::size_t t = 0; t < c.T; ++t) {
      double ref = 0.0, mag = 0.0;
      for (std::size_t i = 0; i < c.n_pre; ++i) {
        const std::size_t k = i * c.n_post + j;
        for (std::size_t o = 0; o < Wd; ++o) {
          const double term = static_cast<double>(w[k]) * D.phi[k * Wd + o] *
                              input(i, static_cast<long>(t) - static_cast<long>(D.start[k] + o));
          ref += term;
          mag += std::fabs(term);
        }
      }
      const double err = std::fabs(cur[t * c.n_post + j] - ref) / (mag + 1e-12);
      worst_cur = std::max(worst_cur, err);
    }
    for (std::size_t i = 0; i < c.n_pre; ++i)
      for (std::size_t o = 0; o < Wd; ++o) {
        const std::size_t k = i * c.n_post + j;
        double ref = 0.25, mag = 0.25;
        for (std::size_t t = 0; t < c.T; ++t) {
          const double term = static_cast<double>(g[t * c.n_post + j]) *
                              input(i, static_cast<long>(t) - static_cast<long>(D.start[k] + o));
          ref += term;
          mag += std::fabs(term);
        }
        worst_corr = std::max(worst_corr, std::fabs(corr[o * S + k] - ref) / mag);
      }
  }
  EXPECT_LT(worst_cur, 1e-6) << "T " << c.T << " width " << Wd;
  EXPECT_LT(worst_corr, 1e-6) << "T " << c.T << " width " << Wd;
}

}  // namespace

TEST(DelayGather, CurrentsAndCorrelationsAreTheirDefinitions) {
  check({.n_pre = 100, .n_post = 21, .T = 150, .K = 9, .sigma = 0.0}, 1);   // whole steps, two tiles
  check({.n_pre = 61, .n_post = 17, .T = 40, .K = 7, .sigma = 0.6}, 2);     // taps 5 wide
  check({.n_pre = 53, .n_post = 16, .T = 300, .K = 25, .sigma = 0.3}, 3);   // taps 3 wide, three tiles
}

TEST(DelayGather, CountsOnWholeStepsTakeTheByteKernelsWithTheSameBits) {
  // Two tiles (the second one ragged), an odd number of neurons, rows past 16 and 48.
  check({.n_pre = 100, .n_post = 21, .T = 150, .K = 9, .sigma = 0.0, .counts = true}, 4);
  // One tile of 7 vectors and a window of 11, as on spoken digits; three tiles of 128.
  check({.n_pre = 70, .n_post = 33, .T = 100, .K = 11, .sigma = 0.0, .counts = true}, 5);
  check({.n_pre = 37, .n_post = 8, .T = 300, .K = 25, .sigma = 0.0, .counts = true}, 6);
  // Wider taps keep the raster kernels.
  check({.n_pre = 61, .n_post = 17, .T = 40, .K = 7, .sigma = 0.6, .counts = true}, 7);
}

TEST(DelayGather, PaysForDenseInputsOnly) {
  vt::DelayTaps D;
  const float d = 2.0f;
  vt::compute_delay_taps(&d, 1, 5, 0.0, D);
  EXPECT_FALSE(vd::gather_pays(D, 1000, 10, 100));  // not built
  D.gather = true;
  // 100 steps: 7 vectors of 16 per row; the gather pays from 3.5 events per row.
  EXPECT_TRUE(vd::gather_pays(D, 35, 10, 100));
  EXPECT_FALSE(vd::gather_pays(D, 34, 10, 100));
  D.gather_always = true;
  EXPECT_TRUE(vd::gather_pays(D, 1, 10, 100));
}

// The taps are recomputed after every training step on the trainer's threads: the same values
// for any thread count (sizes above the threshold that turns the threads on).
TEST(DelayTaps, SameValuesOnOneOrTwoThreads) {
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> delay(-1.0f, 11.0f);  // some outside the window
  std::vector<float> d(700 * 256);
  for (float& x : d) x = delay(rng);
  for (const double sigma : {3.0, 0.7, 0.0}) {
    vt::DelayTaps one, two;
    vt::compute_delay_taps(d.data(), d.size(), 11, sigma, one, 1);
    vt::compute_delay_taps(d.data(), d.size(), 11, sigma, two, 2);
    EXPECT_EQ(one.width, two.width);
    EXPECT_EQ(one.start, two.start) << "sigma " << sigma;
    EXPECT_EQ(one.phi, two.phi) << "sigma " << sigma;
    EXPECT_EQ(one.dphi, two.dphi) << "sigma " << sigma;
  }
}
