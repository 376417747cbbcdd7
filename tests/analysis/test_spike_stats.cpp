// Spike-train statistics on processes whose answers are known: homogeneous Poisson (rate r,
// CV 1, Fano 1, no correlation, chi ~ 1/sqrt(N)), gamma processes (CV 1/sqrt(k)), jittered
// periodic trains (CV ~ 0, Fano ~ 0), Poisson pairs sharing a fraction c of their spikes (count
// correlation c), identical trains (chi = 1), rate steps and sinusoidal rates (PSTH, spectrum),
// plus small hand-computed cases that pin each normalisation exactly.
//
// Every random process uses a fixed seed. Tolerances are stated next to each assertion as a
// multiple of the estimator's standard deviation (sigma), which is computed in the comment.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <functional>
#include <map>
#include <numbers>
#include <numeric>
#include <random>
#include <set>
#include <string>

#include "volley/analysis/spike_stats.hpp"
#include "volley/error.hpp"
#include "volley/models/sources.hpp"
#include "volley/network.hpp"

namespace va = volley::analysis;
using ::testing::HasSubstr;

namespace {

using Rng = std::mt19937_64;
constexpr double kPi = std::numbers::pi;

// Prints a measured value next to what it should be, so test logs show the margins.
void report(const char* what, double measured, double expected) {
  std::printf("[ measured ] %-48s %.6g (expected %.6g)\n", what, measured, expected);
}

va::SpikeTrains empty_trains(std::size_t n, double t0, double t1) {
  va::SpikeTrains s;
  s.n_neurons = n;
  s.t_start = t0;
  s.t_stop = t1;
  return s;
}

void add_times(va::SpikeTrains& s, std::uint32_t unit, const std::vector<double>& times) {
  for (double t : times) {
    s.times.push_back(t);
    s.units.push_back(unit);
  }
}

// Homogeneous Poisson process on [t0, t1): exponential intervals.
std::vector<double> poisson_times(double rate, double t0, double t1, Rng& rng) {
  std::exponential_distribution<double> isi(rate);
  std::vector<double> t;
  for (double x = t0 + isi(rng); x < t1; x += isi(rng)) t.push_back(x);
  return t;
}

// Gamma renewal process of order k and mean rate `rate`: intervals Gamma(k, 1/(k rate)).
std::vector<double> gamma_times(double k, double rate, double t0, double t1, Rng& rng) {
  std::gamma_distribution<double> isi(k, 1.0 / (k * rate));
  std::vector<double> t;
  for (double x = t0 + isi(rng); x < t1; x += isi(rng)) t.push_back(x);
  return t;
}

// Inhomogeneous Poisson process by thinning a process of rate r_max.
std::vector<double> thinned_times(const std::function<double(double)>& rate, double r_max,
                                  double t0, double t1, Rng& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> t;
  for (double x : poisson_times(r_max, t0, t1, rng))
    if (u(rng) * r_max < rate(x)) t.push_back(x);
  return t;
}

std::vector<double> merged(std::vector<double> a, const std::vector<double>& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  return a;
}

// 200 independent 20 Hz Poisson neurons for 50 s (about 200,000 spikes), built once.
constexpr std::size_t kPoissonN = 200;
constexpr double kPoissonRate = 20.0, kPoissonT = 50.0;
const va::SpikeTrains& poisson_population() {
  static const va::SpikeTrains s = [] {
    Rng rng(20240501);
    va::SpikeTrains out = empty_trains(kPoissonN, 0.0, kPoissonT);
    for (std::uint32_t i = 0; i < kPoissonN; ++i)
      add_times(out, i, poisson_times(kPoissonRate, 0.0, kPoissonT, rng));
    return out;
  }();
  return s;
}

double mean_of(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double sd_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double ss = 0.0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

// Expects `f` to throw ParameterError whose message names `field`.
void expect_parameter_error(const std::function<void()>& f, const std::string& field) {
  try {
    f();
    ADD_FAILURE() << "no ParameterError; expected one naming " << field;
  } catch (const volley::ParameterError& e) {
    EXPECT_THAT(e.what(), HasSubstr(field));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Small hand-computed cases: each pins one definition exactly.
// ---------------------------------------------------------------------------------------------

TEST(SpikeStatsExact, RatesCvFanoAndGrouping) {
  // Neuron 0: spikes at 0.5, 1.5, 3.5, 6.5 s -> ISIs 1, 2, 3: mean 2, population sd sqrt(2/3).
  // Neuron 1: counts 1, 3, 2, 0 in the four 2-s windows of [0, 8]. Neuron 2: silent.
  va::SpikeTrains s = empty_trains(3, 0.0, 8.0);
  add_times(s, 0, {6.5, 0.5, 3.5, 1.5});  // any order
  add_times(s, 1, {0.25, 2.1, 2.2, 3.9, 5.0, 5.5});
  const auto by = va::group_by_neuron(s);
  EXPECT_THAT(std::vector<double>(by.of(0).begin(), by.of(0).end()),
              ::testing::ElementsAre(0.5, 1.5, 3.5, 6.5));
  EXPECT_EQ(by.of(2).size(), 0u);

  EXPECT_THAT(va::firing_rates(s), ::testing::ElementsAre(0.5, 0.75, 0.0));

  const auto cv = va::cv_isi(s);
  EXPECT_NEAR(cv.cv[0], std::sqrt(2.0 / 3.0) / 2.0, 1e-15);
  EXPECT_TRUE(std::isfinite(cv.cv[1]));
  EXPECT_TRUE(std::isnan(cv.cv[2]));  // fewer than two intervals
  EXPECT_EQ(cv.n_neurons_used, 2u);

  // Neuron 1: mean 1.5, unbiased variance (0.25 + 2.25 + 0.25 + 2.25) / 3 = 5/3, F = 10/9.
  // Neuron 0: counts 2, 1, 0, 1: mean 1, variance (1 + 0 + 1 + 0) / 3 = 2/3, F = 2/3.
  const auto f = va::fano_factor(s, 2.0);
  EXPECT_EQ(f.n_windows, 4u);
  EXPECT_NEAR(f.fano[0], 2.0 / 3.0, 1e-15);
  EXPECT_NEAR(f.fano[1], 10.0 / 9.0, 1e-15);
  EXPECT_TRUE(std::isnan(f.fano[2]));
  EXPECT_NEAR(f.mean, (2.0 / 3.0 + 10.0 / 9.0) / 2.0, 1e-15);
  EXPECT_EQ(f.n_neurons_used, 2u);

  // Counts 2,1,0,1 and 1,3,2,0: deviations 1,0,-1,0 and -0.5,1.5,0.5,-1.5, so
  // r = -1 / sqrt(2 x 5) by hand.
  const std::vector<va::NeuronPair> pairs{{0, 1}, {0, 2}};
  const auto c = va::spike_count_correlations(s, 2.0, pairs);
  EXPECT_NEAR(c.r[0], -1.0 / std::sqrt(10.0), 1e-14);
  EXPECT_TRUE(std::isnan(c.r[1]));  // neuron 2 has zero variance
  EXPECT_EQ(c.n_pairs_used, 1u);
  EXPECT_DOUBLE_EQ(c.mean, c.r[0]);
}

TEST(SpikeStatsExact, IsiHistogramBinsAndOverflow) {
  va::SpikeTrains s = empty_trains(2, 0.0, 10.0);
  add_times(s, 0, {0.0, 0.0015, 0.0045, 0.0105});     // ISIs 1.5, 3, 6 ms
  add_times(s, 1, {1.0, 1.0025, 2.0});                // ISIs 2.5 ms, 997.5 ms
  const auto h = va::isi_histogram(s, 0.002, 0.008);  // bins [0,2) [2,4) [4,6) [6,8) ms
  ASSERT_EQ(h.counts.size(), 4u);
  EXPECT_THAT(h.counts, ::testing::ElementsAre(1u, 2u, 0u, 1u));
  EXPECT_EQ(h.overflow, 1u);
  EXPECT_EQ(h.total, 5u);
  EXPECT_DOUBLE_EQ(h.edges.back(), 0.008);
}

TEST(SpikeStatsExact, PopulationRateAndPsthNormalisation) {
  // 4 neurons, bins of 0.1 s on [0, 1]: 2 spikes in bin 3 -> 2 / (4 x 0.1) = 5 Hz.
  va::SpikeTrains s = empty_trains(4, 0.0, 1.0);
  add_times(s, 0, {0.31, 0.62});
  add_times(s, 3, {0.37});
  const auto pr = va::population_rate(s, 0.1);
  ASSERT_EQ(pr.rate.size(), 10u);  // 1 s holds 10 bins of 0.1 s despite rounding
  EXPECT_DOUBLE_EQ(pr.rate[3], 5.0);
  EXPECT_DOUBLE_EQ(pr.rate[6], 2.5);
  EXPECT_DOUBLE_EQ(pr.time[3], 0.35);

  // Triggers at 0.3 and 0.6 (and one at 0.95 whose window runs past t_stop: not used).
  // Window [-0.1, 0.2) in 0.05-s bins; neuron 0's spikes at +0.01 and +0.02 from a trigger,
  // neuron 3's at +0.07 -> with all 4 neurons: bin 2 holds 2 spikes / (2 triggers x 4 x 0.05),
  // bin 3 one. (Spikes sit away from bin edges, where rounding decides the bin.)
  const std::vector<double> trig{0.3, 0.6, 0.95};
  const auto p = va::psth(s, trig, 0.1, 0.2, 0.05);
  EXPECT_EQ(p.n_triggers_used, 2u);
  ASSERT_EQ(p.rate.size(), 6u);
  EXPECT_DOUBLE_EQ(p.time[0], -0.075);
  EXPECT_DOUBLE_EQ(p.rate[2], 2.0 / (2 * 4 * 0.05));
  EXPECT_DOUBLE_EQ(p.rate[3], 1.0 / (2 * 4 * 0.05));
  // Only neuron 3: its one spike over 2 triggers x 1 neuron.
  const std::vector<std::uint32_t> only3{3};
  const auto p3 = va::psth(s, trig, 0.1, 0.2, 0.05, only3);
  EXPECT_DOUBLE_EQ(p3.rate[2], 0.0);
  EXPECT_DOUBLE_EQ(p3.rate[3], 1.0 / (2 * 1 * 0.05));
}

// ---------------------------------------------------------------------------------------------
// Homogeneous Poisson population: 200 neurons x 20 Hz x 50 s.
// ---------------------------------------------------------------------------------------------

TEST(SpikeStatsPoisson, RatesAreTheGeneratingRate) {
  const auto rates = va::firing_rates(poisson_population());
  // Per neuron: 1000 expected spikes, sd sqrt(1000)/50 s = 0.632 Hz (3.2%). Mean over 200
  // neurons: sd 0.045 Hz (0.22%); 1% is 4.5 sigma. Each neuron within 20% is 6.3 sigma.
  const double mean = mean_of(rates), sd = sd_of(rates);
  report("Poisson mean rate (Hz)", mean, 20.0);
  report("Poisson sd of rates across neurons (Hz)", sd, std::sqrt(20.0 / 50.0));
  EXPECT_NEAR(mean, 20.0, 0.2);
  for (double r : rates) EXPECT_NEAR(r, 20.0, 4.0);
  // The spread across neurons is the Poisson one, sqrt(r/T): the sample sd of 200 values has a
  // relative sd of 1/sqrt(2 x 199) = 5%; 20% is 4 sigma.
  EXPECT_NEAR(sd, std::sqrt(20.0 / 50.0), 0.2 * std::sqrt(20.0 / 50.0));
}

TEST(SpikeStatsPoisson, CvIsOne) {
  const auto& s = poisson_population();
  const auto cv = va::cv_isi(s);
  // Per neuron (about 1000 intervals) the CV estimate has sd ~ 1/sqrt(1000) = 0.032 for
  // exponential intervals; the mean over 200 neurons has sd 0.0022. 0.02 is 9 sigma and well
  // inside the 0.05 the issue asks for.
  report("Poisson mean CV", cv.mean, 1.0);
  EXPECT_EQ(cv.n_neurons_used, kPoissonN);
  EXPECT_NEAR(cv.mean, 1.0, 0.02);
}

TEST(SpikeStatsPoisson, IsiHistogramIsExponential) {
  const auto& s = poisson_population();
  const auto h = va::isi_histogram(s, 0.01, 0.5);
  EXPECT_EQ(h.total, s.times.size() - kPoissonN);  // every neuron fired more than once
  EXPECT_EQ(std::accumulate(h.counts.begin(), h.counts.end(), std::uint64_t{0}) + h.overflow,
            h.total);
  // P(ISI in [a, b)) = exp(-r a) - exp(-r b). With ~200,000 intervals the fraction in a bin
  // has sd <= sqrt(0.25 / 200000) = 0.0011; 0.006 is > 5 sigma.
  const double n = static_cast<double>(h.total);
  const double p0 = 1.0 - std::exp(-0.2), p5 = std::exp(-1.0) - std::exp(-1.2);
  auto fraction = [&](std::uint64_t count) { return static_cast<double>(count) / n; };
  report("Poisson P(ISI < 10 ms)", fraction(h.counts[0]), p0);
  EXPECT_NEAR(fraction(h.counts[0]), p0, 0.006);
  EXPECT_NEAR(fraction(h.counts[5]), p5, 0.006);
  EXPECT_NEAR(fraction(h.overflow), std::exp(-10.0), 0.006);
}

TEST(SpikeStatsPoisson, FanoFactorIsOne) {
  const auto f = va::fano_factor(poisson_population(), 0.5);  // K = 100 windows, mean count 10
  // Per neuron, sd(F) ~ sqrt(2/(K-1)) = 0.14; over 200 neurons sd 0.010. 0.05 is 5 sigma
  // (the issue asks for 0.1).
  report("Poisson mean Fano (0.5 s windows)", f.mean, 1.0);
  EXPECT_EQ(f.n_windows, 100u);
  EXPECT_EQ(f.n_neurons_used, kPoissonN);
  EXPECT_NEAR(f.mean, 1.0, 0.05);
}

TEST(SpikeStatsPoisson, CountCorrelationsVanish) {
  const auto& s = poisson_population();
  const auto c = va::spike_count_correlations(s, 0.5, 100000, 7);  // all 19,900 pairs
  ASSERT_EQ(c.pairs.size(), kPoissonN * (kPoissonN - 1) / 2);
  EXPECT_EQ(c.n_pairs_used, c.pairs.size());
  // Under independence each r has mean 0 and sd 1/sqrt(K - 1) = 0.1005 (K = 100), and distinct
  // pairs are uncorrelated, so the mean over 19,900 pairs has sd 0.0007: |mean| < 0.005 is
  // 7 sigma (the issue asks for 0.02).
  report("Poisson mean count correlation", c.mean, 0.0);
  EXPECT_NEAR(c.mean, 0.0, 0.005);
  // The spread of r checks the normalisation: its sample sd over ~20,000 pairs is precise to
  // about 1%; 10% allows for the counts not being exactly normal.
  const double sd = sd_of(c.r);
  report("Poisson sd of pair correlations", sd, 1.0 / std::sqrt(99.0));
  EXPECT_NEAR(sd, 1.0 / std::sqrt(99.0), 0.1 / std::sqrt(99.0));
  // A sample of pairs estimates the same mean (sd 0.1/sqrt(1000) = 0.003; 0.015 = 5 sigma).
  const auto sample = va::spike_count_correlations(s, 0.5, 1000, 7);
  EXPECT_EQ(sample.pairs.size(), 1000u);
  EXPECT_NEAR(sample.mean, 0.0, 0.015);
}

TEST(SpikeStatsPoisson, SynchronyIsOneOverSqrtN) {
  const auto& s = poisson_population();
  // For independent neurons Var(average) = mean Var / N exactly, so chi sqrt(N) -> 1. The
  // filtered signal (tau 3 ms) has ~T/(2 tau) = 8000 independent samples, so the variance of
  // the average is estimated to sqrt(2/8000) = 1.6% and chi to 0.8%; 5% is 6 sigma.
  const auto filtered = va::golomb_synchrony(s, 3e-3, 5e-4);
  report("Poisson chi x sqrt(N), tau = 3 ms", filtered.chi * std::sqrt(200.0), 1.0);
  EXPECT_EQ(filtered.n_neurons_used, kPoissonN);
  EXPECT_EQ(filtered.n_samples, 100000u);
  EXPECT_LT(filtered.chi, 0.2);
  EXPECT_NEAR(filtered.chi * std::sqrt(200.0), 1.0, 0.05);
  // Binned counts (5 ms bins): 10,000 independent bins, chi to 0.7%; 5% is 7 sigma.
  const auto binned = va::golomb_synchrony(s, 0.0, 5e-3);
  report("Poisson chi x sqrt(N), 5 ms bins", binned.chi * std::sqrt(200.0), 1.0);
  EXPECT_NEAR(binned.chi * std::sqrt(200.0), 1.0, 0.05);
}

TEST(SpikeStatsPoisson, ResultsDoNotDependOnSpikeOrder) {
  const auto& s = poisson_population();
  va::SpikeTrains shuffled = s;
  std::vector<std::size_t> perm(s.times.size());
  std::iota(perm.begin(), perm.end(), 0);
  Rng rng(3);
  std::shuffle(perm.begin(), perm.end(), rng);
  for (std::size_t k = 0; k < perm.size(); ++k) {
    shuffled.times[k] = s.times[perm[k]];
    shuffled.units[k] = s.units[perm[k]];
  }
  EXPECT_EQ(va::cv_isi(shuffled).cv, va::cv_isi(s).cv);
  EXPECT_EQ(va::fano_factor(shuffled, 0.5).fano, va::fano_factor(s, 0.5).fano);
  EXPECT_EQ(va::spike_count_correlations(shuffled, 0.5, 500, 1).r,
            va::spike_count_correlations(s, 0.5, 500, 1).r);
  EXPECT_EQ(va::golomb_synchrony(shuffled, 3e-3, 1e-3).chi,
            va::golomb_synchrony(s, 3e-3, 1e-3).chi);
  EXPECT_EQ(va::population_rate(shuffled, 1e-3).rate, va::population_rate(s, 1e-3).rate);
}

TEST(SpikeStatsPoisson, SimulationStatsAgreeWithTheSingleFunctions) {
  const auto& s = poisson_population();
  va::SimulationStatsOptions o;
  o.fano_window = 0.5;
  o.correlation_window = 0.5;
  const auto st = va::simulation_stats(s, o);
  EXPECT_EQ(st.n_neurons, kPoissonN);
  EXPECT_EQ(st.n_spikes, s.times.size());
  EXPECT_DOUBLE_EQ(st.rate_mean, mean_of(va::firing_rates(s)));
  std::vector<double> rates = va::firing_rates(s);
  std::sort(rates.begin(), rates.end());
  EXPECT_DOUBLE_EQ(st.rate_median, 0.5 * (rates[99] + rates[100]));
  EXPECT_DOUBLE_EQ(st.rate_max, rates.back());
  EXPECT_EQ(st.fraction_silent, 0.0);
  EXPECT_EQ(st.cv_isi_mean, va::cv_isi(s).mean);
  EXPECT_EQ(st.fano_mean, va::fano_factor(s, 0.5).mean);
  EXPECT_EQ(st.correlation_mean, va::spike_count_correlations(s, 0.5, o.max_pairs, o.seed).mean);
  EXPECT_EQ(st.correlation_pairs, o.max_pairs);
  EXPECT_EQ(st.synchrony_chi, va::golomb_synchrony(s, o.synchrony_tau, o.synchrony_dt).chi);
  EXPECT_GT(st.population_peak_hz, 0.0);  // noise: some frequency up to the Nyquist 500 Hz
  EXPECT_LE(st.population_peak_hz, 500.0);

  const auto entries = va::stat_entries(st);
  std::set<std::string> names;
  for (const auto& e : entries) EXPECT_TRUE(names.insert(e.name).second) << e.name;
  auto value = [&](const std::string& name) {
    for (const auto& e : entries)
      if (e.name == name) return std::pair{e.value, e.unit};
    ADD_FAILURE() << "no entry " << name;
    return std::pair{0.0, std::string{}};
  };
  EXPECT_EQ(value("rate_mean"), (std::pair{st.rate_mean, std::string("Hz")}));
  EXPECT_EQ(value("synchrony_chi").first, st.synchrony_chi);
  EXPECT_EQ(value("n_spikes").first, static_cast<double>(s.times.size()));
  EXPECT_EQ(value("population_peak_frequency").second, "Hz");
}

TEST(SpikeStatsPoisson, ShortRecordingGivesNaNInsteadOfErrors) {
  va::SpikeTrains s = empty_trains(3, 0.0, 0.15);  // one 0.1-s window only
  add_times(s, 0, {0.01, 0.05, 0.09});
  const auto st = va::simulation_stats(s);
  EXPECT_TRUE(std::isnan(st.fano_mean));
  EXPECT_TRUE(std::isnan(st.correlation_mean));
  EXPECT_DOUBLE_EQ(st.fraction_silent, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(st.rate_median, 0.0);
  EXPECT_NEAR(st.cv_isi_mean, 0.0, 1e-12);
  // A silent population: rates 0, everything else undefined.
  const auto quiet = va::simulation_stats(empty_trains(4, 0.0, 1.0));
  EXPECT_EQ(quiet.fraction_silent, 1.0);
  EXPECT_TRUE(std::isnan(quiet.cv_isi_mean));
  EXPECT_TRUE(std::isnan(quiet.fano_mean));
  EXPECT_TRUE(std::isnan(quiet.correlation_mean));
  EXPECT_TRUE(std::isnan(quiet.synchrony_chi));
  EXPECT_TRUE(std::isnan(quiet.population_peak_hz));
}

// ---------------------------------------------------------------------------------------------
// Other processes with known statistics
// ---------------------------------------------------------------------------------------------

TEST(SpikeStatsProcesses, JitteredPeriodicTrainsHaveCvAndFanoNearZero) {
  // 100 neurons, period 50 ms (20 Hz) with random phase, each spike jittered by N(0, 0.5 ms),
  // 20 s. An interval's sd is sqrt(2) x 0.5 ms, so CV = 0.0141.
  Rng rng(11);
  const double period = 0.05, jitter = 5e-4, T = 20.0;
  va::SpikeTrains s = empty_trains(100, 0.0, T);
  std::uniform_real_distribution<double> phase(0.0, period);
  std::normal_distribution<double> noise(0.0, jitter);
  for (std::uint32_t i = 0; i < 100; ++i) {
    std::vector<double> t;
    for (double x = phase(rng); x < T; x += period) {
      const double y = x + noise(rng);
      if (y >= 0.0 && y <= T) t.push_back(y);
    }
    add_times(s, i, t);
  }
  const auto cv = va::cv_isi(s);
  report("periodic mean CV", cv.mean, std::sqrt(2.0) * jitter / period);
  EXPECT_LT(cv.mean, 0.05);
  // ~400 intervals per neuron: each CV is within a few % of 0.0141, the mean far closer; 10%.
  EXPECT_NEAR(cv.mean, std::sqrt(2.0) * jitter / period, 0.1 * std::sqrt(2.0) * jitter / period);
  for (double w : {0.5, 1.0}) {  // 10 and 20 periods
    // The count changes only when a spike jitters across a window edge: probability
    // ~ E|jitter| / period = 0.008 per edge, so F ~ 0.016 / 20 ~ 1e-3.
    const auto f = va::fano_factor(s, w);
    report("periodic mean Fano", f.mean, 0.0);
    EXPECT_LT(f.mean, 0.01) << "window " << w;
  }
}

TEST(SpikeStatsProcesses, GammaProcessCvIsOneOverSqrtK) {
  // 100 neurons, 20 Hz, 50 s (~1000 intervals each). For order k the CV is 1/sqrt(k); the
  // per-neuron estimate has sd ~ 0.02 and the mean over 100 neurons ~ 0.002; 0.02 is 10 sigma
  // (the issue asks for 0.05).
  for (double k : {2.0, 4.0, 9.0}) {
    Rng rng(100 + static_cast<std::uint64_t>(k));
    va::SpikeTrains s = empty_trains(100, 0.0, 50.0);
    for (std::uint32_t i = 0; i < 100; ++i) add_times(s, i, gamma_times(k, 20.0, 0.0, 50.0, rng));
    const auto cv = va::cv_isi(s);
    report(("gamma k = " + std::to_string(static_cast<int>(k)) + " mean CV").c_str(), cv.mean,
           1.0 / std::sqrt(k));
    EXPECT_NEAR(cv.mean, 1.0 / std::sqrt(k), 0.02) << "k = " << k;
    // A renewal process has Fano -> CV^2 = 1/k for windows much longer than an interval (Cox
    // 1962). 2-s windows hold ~40 intervals (finite-window bias O(1/40)); with K = 25 windows the
    // per-neuron sd is ~ F sqrt(2/24) = 0.29 F and the mean over 100 neurons ~ 0.03 F <= 0.015,
    // so 0.1 is > 6 sigma.
    const auto f = va::fano_factor(s, 2.0);
    EXPECT_NEAR(f.mean, 1.0 / k, 0.1) << "k = " << k;
  }
}

TEST(SpikeStatsProcesses, SharedSpikesGiveTheirFractionAsCountCorrelation) {
  // Pair p = (2p, 2p+1): each neuron has an independent Poisson train at (1 - c) r plus a train
  // at c r shared by the pair, so both fire at r, cov(n_i, n_j) = Var(shared count) = c r W and
  // the count correlation is exactly c for any window W. 100 pairs, r = 20 Hz, 500 s, W = 0.5 s
  // (K = 1000): per pair sd(r) ~ (1 - c^2)/sqrt(K) <= 0.032, the mean over 100 pairs sd <= 0.0032;
  // 0.02 is >= 6 sigma (the issue asks for 0.05). Each pair within 0.16 is >= 5 sigma.
  const double r = 20.0, T = 500.0;
  for (double c : {0.1, 0.3, 0.5}) {
    Rng rng(static_cast<std::uint64_t>(1000 * c));
    va::SpikeTrains s = empty_trains(200, 0.0, T);
    std::vector<va::NeuronPair> pairs;
    for (std::uint32_t p = 0; p < 100; ++p) {
      const auto shared = poisson_times(c * r, 0.0, T, rng);
      add_times(s, 2 * p, merged(poisson_times((1 - c) * r, 0.0, T, rng), shared));
      add_times(s, 2 * p + 1, merged(poisson_times((1 - c) * r, 0.0, T, rng), shared));
      pairs.emplace_back(2 * p, 2 * p + 1);
    }
    const auto cc = va::spike_count_correlations(s, 0.5, pairs);
    report(("shared fraction c = " + std::to_string(c) + ": mean r").c_str(), cc.mean, c);
    EXPECT_NEAR(cc.mean, c, 0.02);
    for (double x : cc.r) EXPECT_NEAR(x, c, 0.16);
  }
}

TEST(SpikeStatsProcesses, SynchronousPopulationHasChiNearOne) {
  // 50 neurons firing one 20 Hz Poisson train: the averaged signal is each neuron's signal,
  // so chi = 1 up to rounding.
  Rng rng(5);
  const auto mother = poisson_times(20.0, 0.0, 20.0, rng);
  va::SpikeTrains same = empty_trains(50, 0.0, 20.0);
  for (std::uint32_t i = 0; i < 50; ++i) add_times(same, i, mother);
  EXPECT_NEAR(va::golomb_synchrony(same, 3e-3, 5e-4).chi, 1.0, 1e-9);
  EXPECT_NEAR(va::golomb_synchrony(same, 0.0, 1e-3).chi, 1.0, 1e-9);
  // With each spike jittered by N(0, 0.1 ms) two filtered trains correlate to about
  // 1 - E|jitter difference| / tau = 1 - 0.113 ms / 3 ms = 0.96, so chi ~ 0.98 > 0.95.
  va::SpikeTrains jittered = empty_trains(50, 0.0, 20.0);
  std::normal_distribution<double> noise(0.0, 1e-4);
  for (std::uint32_t i = 0; i < 50; ++i) {
    std::vector<double> t;
    for (double x : mother) t.push_back(std::clamp(x + noise(rng), 0.0, 20.0));
    add_times(jittered, i, t);
  }
  const double chi = va::golomb_synchrony(jittered, 3e-3, 5e-4).chi;
  report("jittered synchronous chi (tau 3 ms)", chi, 0.98);
  EXPECT_GT(chi, 0.95);
}

TEST(SpikeStatsProcesses, PsthRecoversARateStep) {
  // 50 neurons at 5 Hz; for 200 ms after each of 200 triggers (1 s apart) the rate is 50 Hz.
  Rng rng(17);
  const double T = 202.0;
  std::vector<double> triggers;
  for (int k = 0; k < 200; ++k) triggers.push_back(1.0 + k);
  auto rate = [&](double t) {
    const double since = t - std::floor(t);  // time since the last trigger (triggers at integers)
    return (t >= 1.0 && t < 201.0 && since < 0.2) ? 50.0 : 5.0;
  };
  va::SpikeTrains s = empty_trains(50, 0.0, T);
  for (std::uint32_t i = 0; i < 50; ++i) add_times(s, i, thinned_times(rate, 50.0, 0.0, T, rng));
  const auto p = va::psth(s, triggers, 0.2, 0.4, 0.01);
  ASSERT_EQ(p.rate.size(), 60u);
  EXPECT_EQ(p.n_triggers_used, 200u);
  // Per 10-ms bin: baseline 5 Hz x 0.01 s x 50 x 200 = 500 spikes (sd 4.5%), step 5000 spikes
  // (sd 1.4%). Bins within 25% / 8% are > 5.5 sigma; segment means (20 bins) within 3% / 2%
  // are > 4 / 7 sigma.
  std::vector<double> base, step;
  for (std::size_t b = 0; b < p.rate.size(); ++b) {
    const bool in_step = p.time[b] > 0.0 && p.time[b] < 0.2;
    (in_step ? step : base).push_back(p.rate[b]);
    EXPECT_NEAR(p.rate[b], in_step ? 50.0 : 5.0, in_step ? 4.0 : 1.25) << "t = " << p.time[b];
  }
  ASSERT_EQ(step.size(), 20u);
  report("PSTH step rate (Hz)", mean_of(step), 50.0);
  report("PSTH baseline rate (Hz)", mean_of(base), 5.0);
  EXPECT_NEAR(mean_of(step), 50.0, 1.0);
  EXPECT_NEAR(mean_of(base), 5.0, 0.15);
}

// ---------------------------------------------------------------------------------------------
// Fourier transform and spectrum
// ---------------------------------------------------------------------------------------------

TEST(SpikeStatsSpectrum, FourierTransformMatchesTheDirectSum) {
  Rng rng(23);
  std::normal_distribution<double> g;
  for (std::size_t n : {1u, 2u, 3u, 5u, 8u, 12u, 97u, 128u, 1000u, 1001u, 1009u}) {
    std::vector<std::complex<double>> x(n);
    for (auto& v : x) v = {g(rng), g(rng)};
    const auto X = va::discrete_fourier_transform(x);
    ASSERT_EQ(X.size(), n);
    double worst = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      std::complex<double> direct{};
      for (std::size_t m = 0; m < n; ++m)
        direct += x[m] * std::polar(1.0, -2.0 * kPi * static_cast<double>((k * m) % n) /
                                             static_cast<double>(n));
      worst = std::max(worst, std::abs(X[k] - direct));
    }
    // |X_k| ~ sqrt(n); rounding in an FFT grows like log n: 1e-12 x n is generous.
    EXPECT_LT(worst, 1e-12 * static_cast<double>(n)) << "n = " << n;
  }
}

TEST(SpikeStatsSpectrum, SinusoidPowerAndParseval) {
  // x_n = 3 sin(2 pi 5 Hz n dt) with a whole number of periods: psd df at 5 Hz = A^2/2 = 4.5 and
  // nothing elsewhere. Once with N = 256 (radix 2), once with N = 200 (Bluestein).
  for (auto [n, dt] : {std::pair{256u, 1.0 / 256.0}, std::pair{200u, 0.01}}) {
    std::vector<double> x(n);
    for (std::size_t k = 0; k < n; ++k)
      x[k] = 3.0 * std::sin(2.0 * kPi * 5.0 * static_cast<double>(k) * dt);
    const auto sp = va::population_rate_spectrum(x, dt);
    ASSERT_EQ(sp.psd.size(), n / 2 + 1);
    const std::size_t at5 = static_cast<std::size_t>(std::lround(5.0 / sp.df));
    EXPECT_NEAR(sp.frequency[at5], 5.0, 1e-12);
    EXPECT_NEAR(sp.psd[at5] * sp.df, 4.5, 1e-9) << "n = " << n;
    for (std::size_t k = 0; k < sp.psd.size(); ++k) {
      if (k == at5) continue;
      EXPECT_LT(sp.psd[k] * sp.df, 1e-18) << "n = " << n << ", k = " << k;
    }
    EXPECT_DOUBLE_EQ(va::peak_frequency(sp), 5.0);
  }
}

TEST(SpikeStatsSpectrum, ModulatedPopulationPeaksAtTheModulationAndParsevalHolds) {
  // 200 neurons, rate 20 (1 + 0.5 sin(2 pi 10 Hz t)) Hz. The population rate carries a 10 Hz
  // sinusoid of amplitude 10 Hz (power A^2/2 = 50 Hz^2) on Poisson noise of total variance
  // r / (N bin) = 100 Hz^2 spread over ~N_bins/2 frequencies (~0.02 Hz^2 per bin).
  for (double T : {10.0, 8.192}) {  // 10,000 bins (Bluestein) and 8192 bins (radix 2)
    Rng rng(31);
    auto rate = [](double t) { return 20.0 * (1.0 + 0.5 * std::sin(2.0 * kPi * 10.0 * t)); };
    va::SpikeTrains s = empty_trains(200, 0.0, T);
    for (std::uint32_t i = 0; i < 200; ++i) add_times(s, i, thinned_times(rate, 30.0, 0.0, T, rng));
    const auto pr = va::population_rate(s, 1e-3);
    ASSERT_EQ(pr.rate.size(), static_cast<std::size_t>(std::lround(T * 1000)));
    const auto sp = va::population_rate_spectrum(pr.rate, pr.bin);
    const double peak = va::peak_frequency(sp);
    report("modulated population: peak frequency (Hz)", peak, 10.0);
    EXPECT_NEAR(peak, 10.0, sp.df);  // the nearest bin (10 Hz is not on the grid for 8.192 s)
    // Parseval: sum psd df = the variance of the rate (divide by N), to rounding.
    const double m = mean_of(pr.rate);
    double var = 0.0;
    for (double x : pr.rate) var += (x - m) * (x - m);
    var /= static_cast<double>(pr.rate.size());
    double total = 0.0;
    for (double p : sp.psd) total += p * sp.df;
    EXPECT_NEAR(total / var, 1.0, 1e-9) << "T = " << T;
    if (T == 10.0) {
      // On-grid at 10 Hz: the bin holds |a + n|^2 with |a|^2 = 50 Hz^2 and noise E|n|^2 ~ 0.02
      // Hz^2; the cross term 2 Re(a conj(n)) has sd ~ sqrt(2 x 50 x 0.02) = 1.4 Hz^2, so 5 Hz^2
      // (10%) is 3.5 sigma.
      const double p10 = sp.psd[static_cast<std::size_t>(std::lround(10.0 / sp.df))] * sp.df;
      report("modulated population: power at 10 Hz (Hz^2)", p10, 50.0);
      EXPECT_NEAR(p10, 50.0, 5.0);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Pair sampling
// ---------------------------------------------------------------------------------------------

TEST(SpikeStatsPairs, SampleIsDeterministicDistinctAndInRange) {
  EXPECT_EQ(va::sample_pairs(10, 45, 1).size(), 45u);  // all pairs
  EXPECT_EQ(va::sample_pairs(10, 1000, 1), va::sample_pairs(10, 45, 9));
  const auto a = va::sample_pairs(1000, 500, 42);
  ASSERT_EQ(a.size(), 500u);
  EXPECT_EQ(a, va::sample_pairs(1000, 500, 42));
  EXPECT_NE(a, va::sample_pairs(1000, 500, 43));
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::set<va::NeuronPair>(a.begin(), a.end()).size(), 500u);
  for (const auto& [i, j] : a) {
    EXPECT_LT(i, j);
    EXPECT_LT(j, 1000u);
  }
  // Nearly all pairs of 30 (435): still distinct, and the sample is uniform enough that every
  // neuron appears (each is in 29 of 435 pairs; missing from 430 drawn has probability ~1e-7).
  const auto most = va::sample_pairs(30, 430, 5);
  EXPECT_EQ(std::set<va::NeuronPair>(most.begin(), most.end()).size(), 430u);
  std::set<std::uint32_t> seen;
  for (const auto& [i, j] : most) {
    EXPECT_LT(i, j);
    EXPECT_LT(j, 30u);
    seen.insert(i);
    seen.insert(j);
  }
  EXPECT_EQ(seen.size(), 30u);
  // Uniformity: over 2000 seeds of 10 pairs from 10 neurons (45 pairs), each pair is drawn with
  // probability 10/45; its count ~ Binomial(2000, 2/9): mean 444, sd 18.6; +-100 is 5.4 sigma.
  std::map<va::NeuronPair, int> hits;
  for (std::uint64_t seed = 0; seed < 2000; ++seed)
    for (const auto& p : va::sample_pairs(10, 10, seed)) ++hits[p];
  EXPECT_EQ(hits.size(), 45u);
  for (const auto& [p, h] : hits) EXPECT_NEAR(h, 2000.0 * 10.0 / 45.0, 100.0);
}

// ---------------------------------------------------------------------------------------------
// Trained networks
// ---------------------------------------------------------------------------------------------

TEST(SpikeStatsTraining, TuningSelectivitySilentAndSaturatedOnConstructedCounts) {
  // 4 classes, 2 samples each, 100 steps per sample, 12 neurons:
  //   j < 8: 10 spikes for class j % 4, 2 otherwise -> selectivity (10 - 2)/(10 + 2) = 2/3;
  //   8: 5 always (untuned, 0); 9: 90 always (= 0.9 x 100 steps: not above, so not saturated);
  //   10: silent; 11: 95 always (saturated).
  va::SampleCounts c;
  c.n_samples = 8;
  c.n_neurons = 12;
  c.n_steps = 100;
  for (std::size_t s = 0; s < 8; ++s) {
    const int label = static_cast<int>(s % 4);
    c.labels.push_back(label);
    for (std::size_t j = 0; j < 12; ++j) {
      std::uint32_t n = 0;
      if (j < 8) n = static_cast<int>(j % 4) == label ? 10 : 2;
      if (j == 8) n = 5;
      if (j == 9) n = 90;
      if (j == 11) n = 95;
      c.counts.push_back(n);
    }
  }
  const auto tc = va::tuning_curves(c, 4);
  EXPECT_THAT(tc.samples_per_class, ::testing::ElementsAre(2u, 2u, 2u, 2u));
  EXPECT_DOUBLE_EQ(tc.at(1, 5), 10.0);
  EXPECT_DOUBLE_EQ(tc.at(2, 5), 2.0);
  const auto sel = va::selectivity(tc);
  for (std::size_t j = 0; j < 8; ++j) {
    EXPECT_EQ(sel.preferred_class[j], static_cast<int>(j % 4));
    EXPECT_NEAR(sel.index[j], 2.0 / 3.0, 1e-15);
  }
  EXPECT_DOUBLE_EQ(sel.index[8], 0.0);
  EXPECT_EQ(sel.preferred_class[8], 0);  // ties: lowest class
  EXPECT_DOUBLE_EQ(sel.index[10], 0.0);
  EXPECT_EQ(sel.preferred_class[10], -1);  // silent
  EXPECT_DOUBLE_EQ(va::silent_fraction(c), 1.0 / 12.0);
  EXPECT_DOUBLE_EQ(va::saturated_fraction(c), 1.0 / 12.0);
  EXPECT_DOUBLE_EQ(va::saturated_fraction(c, 0.85), 2.0 / 12.0);

  // A class without samples: its tuning is NaN and selectivity uses the other classes.
  const auto tc5 = va::tuning_curves(c, 5);
  EXPECT_TRUE(std::isnan(tc5.at(4, 0)));
  EXPECT_EQ(va::selectivity(tc5).index, sel.index);
}

TEST(SpikeStatsTraining, PreferredClassesRecoveredFromNoisyCounts) {
  // 10 classes x 40 samples; neurons 0-19 fire Poisson(8) for class j % 10 and Poisson(2)
  // otherwise (selectivity (8 - 2)/(8 + 2) = 0.6); neurons 20-29 fire Poisson(5) for all.
  // Class means over 40 samples have sd <= sqrt(8/40) = 0.45, far below the 6-spike gap.
  Rng rng(41);
  va::SampleCounts c;
  c.n_samples = 400;
  c.n_neurons = 30;
  std::poisson_distribution<std::uint32_t> hi(8.0), lo(2.0), flat(5.0);
  for (std::size_t s = 0; s < 400; ++s) {
    const int label = static_cast<int>(s % 10);
    c.labels.push_back(label);
    for (std::size_t j = 0; j < 30; ++j)
      c.counts.push_back(j >= 20 ? flat(rng)
                                 : (static_cast<int>(j % 10) == label ? hi(rng) : lo(rng)));
  }
  const auto sel = va::selectivity(va::tuning_curves(c, 10));
  double tuned_min = 1.0, untuned_max = 0.0;
  for (std::size_t j = 0; j < 30; ++j) {
    if (j < 20) {
      EXPECT_EQ(sel.preferred_class[j], static_cast<int>(j % 10));
      // r_max has sd 0.45 and r_other 0.07: SI = 0.6 +- ~0.03; 0.1 is > 3 sigma.
      EXPECT_NEAR(sel.index[j], 0.6, 0.1);
      tuned_min = std::min(tuned_min, sel.index[j]);
    } else {
      untuned_max = std::max(untuned_max, sel.index[j]);
    }
  }
  report("noisy tuning: least selective tuned neuron", tuned_min, 0.6);
  report("noisy tuning: most selective untuned neuron", untuned_max, 0.05);
  // Untuned: the max of 10 class means (each 5 +- 0.35) exceeds their mean by ~0.5-1 spike,
  // SI ~ 0.05-0.1.
  EXPECT_LT(untuned_max, 0.2);
  EXPECT_GT(tuned_min, untuned_max);
  EXPECT_DOUBLE_EQ(va::silent_fraction(c), 0.0);
}

TEST(SpikeStatsTraining, SynapticOperationsAreSpikesTimesFanOut) {
  const std::vector<va::LayerActivity> layers{
      {"hidden", {3, 0, 5, 7}, {100}},         // uniform fan-out: 15 x 100
      {"recurrent", {1, 2, 3}, {10, 20, 30}},  // per-neuron: 10 + 40 + 90
      {"total_only", {1000}, {7}},             // layer total: 1000 x 7
  };
  const auto ops = va::synaptic_operations(layers, 4);
  ASSERT_EQ(ops.layers.size(), 3u);
  EXPECT_EQ(ops.layers[0].spikes, 15u);
  EXPECT_EQ(ops.layers[0].synops, 1500u);
  EXPECT_EQ(ops.layers[1].synops, 140u);
  EXPECT_EQ(ops.layers[2].synops, 7000u);
  EXPECT_EQ(ops.total_spikes, 1021u);
  EXPECT_EQ(ops.total_synops, 8640u);
  EXPECT_DOUBLE_EQ(ops.layers[0].synops_per_sample, 375.0);
  EXPECT_DOUBLE_EQ(ops.synops_per_sample, 2160.0);
  EXPECT_DOUBLE_EQ(ops.spikes_per_sample, 1021.0 / 4.0);
}

// ---------------------------------------------------------------------------------------------
// Bad input: every error names the offending field.
// ---------------------------------------------------------------------------------------------

TEST(SpikeStatsValidation, ErrorsNameTheOffendingField) {
  auto good = [] {
    va::SpikeTrains s = empty_trains(3, 0.0, 2.0);
    add_times(s, 0, {0.1, 0.5, 1.5});
    add_times(s, 1, {0.2, 1.0});
    return s;
  };
  auto with = [&](const std::function<void(va::SpikeTrains&)>& change) {
    va::SpikeTrains s = good();
    change(s);
    return s;
  };
  // Trains.
  expect_parameter_error([&] { va::firing_rates(with([](auto& s) { s.units[1] = 3; })); },
                         "units[1]");
  expect_parameter_error([&] { va::cv_isi(with([](auto& s) { s.times[0] = NAN; })); }, "times[0]");
  expect_parameter_error([&] { va::cv_isi(with([](auto& s) { s.times[2] = 2.5; })); }, "times[2]");
  expect_parameter_error([&] { va::firing_rates(with([](auto& s) { s.t_stop = 0.0; })); },
                         "t_stop");
  expect_parameter_error([&] { va::firing_rates(with([](auto& s) { s.t_start = NAN; })); },
                         "t_start");
  expect_parameter_error([&] { va::firing_rates(with([](auto& s) { s.units.pop_back(); })); },
                         "times/units");
  expect_parameter_error([&] { va::firing_rates(with([](auto& s) { s.n_neurons = 0; })); },
                         "n_neurons");
  expect_parameter_error([&] { va::time_window(good(), 0.5, 0.4); }, "t1");
  // Windows and bins.
  expect_parameter_error([&] { va::fano_factor(good(), 0.0); }, "window");
  expect_parameter_error([&] { va::fano_factor(good(), 1.5); }, "window");  // one window only
  expect_parameter_error([&] { va::isi_histogram(good(), -1e-3, 0.1); }, "bin_width");
  expect_parameter_error([&] { va::isi_histogram(good(), 1e-2, 1e-3); }, "max_isi");
  expect_parameter_error([&] { va::population_rate(good(), NAN); }, "bin");
  expect_parameter_error([&] { va::golomb_synchrony(good(), -1e-3, 1e-3); }, "tau");
  expect_parameter_error([&] { va::golomb_synchrony(good(), 3e-3, 0.0); }, "dt");
  expect_parameter_error([&] { va::population_rate_spectrum(std::vector<double>{1.0}, 1e-3); },
                         "rate");
  // PSTH.
  const std::vector<double> trig{1.0};
  expect_parameter_error([&] { va::psth(good(), trig, -0.1, 0.1, 0.01); }, "window_before");
  expect_parameter_error([&] { va::psth(good(), trig, 0.1, 0.1, 0.0); }, "bin");
  expect_parameter_error([&] { va::psth(good(), std::vector<double>{1.95}, 0.1, 0.1, 0.01); },
                         "trigger_times");
  const std::vector<std::uint32_t> bad_neuron{7};
  expect_parameter_error([&] { va::psth(good(), trig, 0.1, 0.1, 0.01, bad_neuron); }, "neurons[0]");
  // Correlations.
  const std::vector<va::NeuronPair> self{{1, 1}};
  expect_parameter_error([&] { va::spike_count_correlations(good(), 0.5, self); }, "pairs[0]");
  expect_parameter_error([&] { va::spike_count_correlations(good(), 0.5, 0, 1); }, "max_pairs");
  expect_parameter_error([&] { va::sample_pairs(1, 10, 1); }, "n_neurons");
  // Summary options.
  va::SimulationStatsOptions o;
  o.fano_window = 0.0;
  expect_parameter_error([&] { va::simulation_stats(good(), o); }, "fano_window");
  // Training statistics.
  va::SampleCounts c;
  c.n_samples = 2;
  c.n_neurons = 2;
  c.counts = {1, 2, 3, 4};
  c.labels = {0, 5};
  expect_parameter_error([&] { va::tuning_curves(c, 2); }, "labels[1]");
  expect_parameter_error([&] { va::tuning_curves(c, 1); }, "n_classes");
  c.counts.pop_back();
  expect_parameter_error([&] { va::silent_fraction(c); }, "counts");
  c.counts.push_back(4);
  expect_parameter_error([&] { va::saturated_fraction(c); }, "n_steps");
  c.n_steps = 10;
  expect_parameter_error([&] { va::saturated_fraction(c, 1.5); }, "saturation");
  const std::vector<va::LayerActivity> mismatch{{"h", {1, 2}, {3, 4, 5}}};
  expect_parameter_error([&] { va::synaptic_operations(mismatch, 1); }, "fan_out");
  expect_parameter_error([&] { va::synaptic_operations(mismatch, 0); }, "n_samples");
}

// summary.json's cv_isi comes from cv_isi: neuron 0 fires with intervals 10, 30, 10, 30 ms
// (CV 0.5), neuron 1 periodically (CV 0), neuron 2 once (no interval); an unmonitored
// population has none.
TEST(SpikeStatsSummary, CvIsiOfTheRunComesFromCvIsi) {
  volley::Network net(1e-3, 1);
  std::vector<volley::SpikeEvent> ev;
  double t = 0.005;
  for (int k = 0; k < 5; ++k, t += k % 2 ? 0.010 : 0.030) ev.push_back({t, 0});
  for (int k = 0; k < 5; ++k) ev.push_back({0.005 + 0.02 * k, 1});
  ev.push_back({0.05, 2});
  net.add<volley::SpikeGenerator>("g", 3, ev);
  net.add<volley::SpikeGenerator>("quiet", 1, std::vector<volley::SpikeEvent>{{0.01, 0}, {0.02, 0}, {0.05, 0}});
  net.record_spikes("m", "g");
  net.run(0.2);
  volley::io::SimSummary s = volley::io::summarize(net, {0.0, 0.0, 0.2, 1, "test", 0});
  ASSERT_NE(s.find("g"), nullptr);
  EXPECT_FALSE(s.find("g")->cv_isi.has_value()) << "io leaves statistics to analysis";
  va::add_spike_statistics(s, net);
  ASSERT_TRUE(s.find("g")->cv_isi.has_value());
  EXPECT_NEAR(*s.find("g")->cv_isi, (0.5 + 0.0) / 2.0, 1e-9);  // neuron 2 has no interval
  EXPECT_EQ(s.find("g")->spikes, 11u);
  EXPECT_FALSE(s.find("quiet")->cv_isi.has_value()) << "no spike monitor";
}


// Golomb's chi: 1 for identical traces, about 1/sqrt(n) for independent ones, in between for a
// shared signal plus private noise (chi² = s² / (s² + σ²) for large n), NaN without variation.
TEST(VoltageSynchronyChi, IdenticalIndependentAndPartlySharedTraces) {
  const std::size_t n = 400, steps = 2000;
  std::mt19937 gen(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> same(n * steps), independent(n * steps), mixed(n * steps);
  for (std::size_t k = 0; k < steps; ++k) {
    const float common = std::sin(0.01f * static_cast<float>(k)) * 2.0f;
    for (std::size_t i = 0; i < n; ++i) {
      same[k * n + i] = common;
      independent[k * n + i] = normal(gen);
      mixed[k * n + i] = common + normal(gen) * 2.0f;
    }
  }
  EXPECT_NEAR(volley::analysis::voltage_synchrony_chi(same, n), 1.0, 1e-6);
  EXPECT_NEAR(volley::analysis::voltage_synchrony_chi(independent, n), 1.0 / std::sqrt(400.0),
              0.01);
  // Shared variance 2 (a sine of amplitude 2), private variance 4: chi² ≈ 2 / 6.
  EXPECT_NEAR(volley::analysis::voltage_synchrony_chi(mixed, n), std::sqrt(2.0 / 6.0), 0.03);
  EXPECT_TRUE(std::isnan(
      volley::analysis::voltage_synchrony_chi(std::vector<float>(n * steps, 1.0f), n)));
  EXPECT_TRUE(std::isnan(volley::analysis::voltage_synchrony_chi(same, 1)));
}
