// STDP on single synapses against closed-form weight changes: the pair rule (one pair at dt
// changes w by a_plus exp(-dt/tau_plus) for dt > 0 and -a_minus exp(dt/tau_minus) for dt < 0),
// the triplet rule of Pfister & Gerstner (2006) on spike triplets, nearest-neighbour pairing on
// bursts, multiplicative (soft-bound) weight dependence; thread-count determinism; model-file
// errors; and the pairing-frequency protocol (Sjoestroem et al. 2001; Pfister & Gerstner Fig. 4).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "support/kicked_synapse.hpp"
#include "volley/analysis/stdp_protocol.hpp"
#include "volley/error.hpp"
#include "volley/io/model_file.hpp"
#include "volley/models/lif.hpp"
#include "volley/models/sources.hpp"
#include "volley/network.hpp"

using namespace volley;

namespace {
constexpr double kDt = 1e-4;

// Weight change of one synapse when the pre neuron fires at t_pre and the post neuron at t_post.
double weight_change(double t_pre, double t_post, const StdpParams& stdp, double w0) {
  Network net(kDt, 1);
  test::add_kicked_synapse(net, {t_pre}, {t_post}, stdp, w0);
  auto& post = net.record_spikes("s", "post");
  net.run(std::max(t_pre, t_post) + 5e-3);
  EXPECT_EQ(post.times.size(), 1u);
  if (!post.times.empty()) {
    EXPECT_NEAR(post.times[0], t_post, 1e-9);
  }
  return net.projection("syn").weights()[0] - w0;
}
}  // namespace

TEST(Stdp, PairWindowMatchesExponentials) {
  StdpParams p;
  p.tau_plus = 16.8e-3;
  p.tau_minus = 33.7e-3;
  p.a_plus = 0.01e-3;
  p.a_minus = 0.005e-3;
  p.w_min = 0.0;
  p.w_max = 1.0;
  const double w0 = 1e-4;  // 0.1 mV: too weak to move the post spike
  for (int ms = 1; ms <= 50; ++ms) {
    const double d = ms * 1e-3;
    const double ltp = weight_change(0.060, 0.060 + d, p, w0);
    const double ltd = weight_change(0.060 + d, 0.060, p, w0);
    EXPECT_NEAR(ltp, p.a_plus * std::exp(-d / p.tau_plus), 1e-4 * p.a_plus + 1e-12) << "dt=+" << ms;
    EXPECT_NEAR(ltd, -p.a_minus * std::exp(-d / p.tau_minus), 1e-4 * p.a_minus + 1e-12)
        << "dt=-" << ms;
  }
}

TEST(Stdp, WeightsStayInsideBounds) {
  StdpParams p;
  p.a_plus = 1e-3;
  p.a_minus = 1e-3;
  p.w_min = 0.0;
  p.w_max = 1.5e-3;
  EXPECT_NEAR(weight_change(0.010, 0.011, p, 1e-3), 0.5e-3, 1e-9);   // clipped at w_max
  EXPECT_NEAR(weight_change(0.011, 0.010, p, 0.2e-3), -0.2e-3, 1e-9);  // clipped at w_min
}

// ---- the rule family: closed-form changes on spike pairs, triplets and bursts ----------------

namespace {

// Final weight of one synapse (w0, weight units = volts) whose pre neuron fires at `pre` and whose
// post neuron is made to fire exactly at `post` (times on the dt grid, s).
double final_weight(const std::vector<double>& pre, const std::vector<double>& post,
                    const StdpParams& stdp, double w0) {
  Network net(kDt, 1);
  test::add_kicked_synapse(net, pre, post, stdp, w0);
  double last = 0.0;
  for (double t : pre) last = std::max(last, t);
  for (double t : post) last = std::max(last, t);
  auto& mon = net.record_spikes("s", "post");
  net.run(last + 5e-3);
  EXPECT_EQ(mon.times.size(), post.size());
  for (std::size_t k = 0; k < std::min(mon.times.size(), post.size()); ++k)
    EXPECT_NEAR(mon.times[k], post[k], 1e-9);
  return net.projection("syn").weights()[0];
}

StdpParams triplet_params() {
  StdpParams p;
  p.rule = StdpRule::kTriplet;
  p.tau_plus = 16.8e-3;
  p.tau_minus = 33.7e-3;
  p.tau_x = 101e-3;
  p.tau_y = 125e-3;
  p.a_plus = 4e-6;    // A2+ (V)
  p.a3_plus = 6e-6;   // A3+
  p.a_minus = 5e-6;   // A2-
  p.a3_minus = 3e-6;  // A3-
  p.w_min = 0.0;
  p.w_max = 1.0;
  return p;
}

constexpr double kW0 = 1e-4;
// Tolerance for float traces and weights against double closed forms.
constexpr double kTol = 2e-10;

}  // namespace

TEST(StdpTriplet, SinglePairIsThePairTerm) {
  // Before any earlier spike r2 = o2 = 0: one pair changes w by A2+ exp(-d/tau_plus) or
  // -A2- exp(-d/tau_minus), whatever A3+- are.
  const StdpParams p = triplet_params();
  for (int ms : {1, 5, 10, 30}) {
    const double d = ms * 1e-3;
    EXPECT_NEAR(final_weight({0.050}, {0.050 + d}, p, kW0) - kW0,
                p.a_plus * std::exp(-d / p.tau_plus), kTol)
        << "+" << ms;
    EXPECT_NEAR(final_weight({0.050 + d}, {0.050}, p, kW0) - kW0,
                -p.a_minus * std::exp(-d / p.tau_minus), kTol)
        << "-" << ms;
  }
}

TEST(StdpTriplet, PrePostPre) {
  // pre at t0, post at t0 + d1, pre at t0 + d1 + d2:
  //   post: + A2+ e^{-d1/tau_plus}                          (o2 = 0 before the first post spike)
  //   pre:  - e^{-d2/tau_minus} (A2- + A3- e^{-(d1+d2)/tau_x})   (r2 of the first pre spike)
  const StdpParams p = triplet_params();
  const double t0 = 0.050, d1 = 7e-3, d2 = 12e-3;
  const double expected =
      p.a_plus * std::exp(-d1 / p.tau_plus) -
      std::exp(-d2 / p.tau_minus) * (p.a_minus + p.a3_minus * std::exp(-(d1 + d2) / p.tau_x));
  EXPECT_NEAR(final_weight({t0, t0 + d1 + d2}, {t0 + d1}, p, kW0) - kW0, expected, kTol);
  // The triplet term is visible: without it the change differs by more than the tolerance.
  StdpParams pair_only = p;
  pair_only.a3_minus = 0.0;
  EXPECT_GT(std::abs(final_weight({t0, t0 + d1 + d2}, {t0 + d1}, pair_only, kW0) - kW0 - expected),
            100 * kTol);
}

TEST(StdpTriplet, PostPrePost) {
  // post at t0, pre at t0 + d1, post at t0 + d1 + d2:
  //   pre:  - A2- e^{-d1/tau_minus}                         (r2 = 0 before the first pre spike)
  //   post: + e^{-d2/tau_plus} (A2+ + A3+ e^{-(d1+d2)/tau_y})   (o2 of the first post spike)
  const StdpParams p = triplet_params();
  const double t0 = 0.050, d1 = 8e-3, d2 = 6e-3;
  const double expected =
      -p.a_minus * std::exp(-d1 / p.tau_minus) +
      std::exp(-d2 / p.tau_plus) * (p.a_plus + p.a3_plus * std::exp(-(d1 + d2) / p.tau_y));
  EXPECT_NEAR(final_weight({t0 + d1}, {t0, t0 + d1 + d2}, p, kW0) - kW0, expected, kTol);
}

TEST(StdpPairing, NearestVersusAllToAllOnBursts) {
  StdpParams all;
  all.tau_plus = 16.8e-3;
  all.tau_minus = 33.7e-3;
  all.a_plus = 5e-6;
  all.a_minus = 4e-6;
  StdpParams nearest = all;
  nearest.pairing = StdpPairing::kNearest;
  const double t0 = 0.050, b = 5e-3, d = 10e-3;
  // Pre burst (t0, t0+b, t0+2b), then one post spike d after the last pre spike: all-to-all sums
  // the three pairs, nearest takes only the last pre spike.
  const std::vector<double> burst = {t0, t0 + b, t0 + 2 * b};
  double sum_plus = 0.0, sum_minus = 0.0;
  for (int k = 0; k < 3; ++k) {
    sum_plus += std::exp(-(d + k * b) / all.tau_plus);
    sum_minus += std::exp(-(d + k * b) / all.tau_minus);
  }
  const double post_after = t0 + 2 * b + d;
  EXPECT_NEAR(final_weight(burst, {post_after}, all, kW0) - kW0, all.a_plus * sum_plus, kTol);
  EXPECT_NEAR(final_weight(burst, {post_after}, nearest, kW0) - kW0,
              all.a_plus * std::exp(-d / all.tau_plus), kTol);
  // Post burst, then one pre spike: the same for depression.
  EXPECT_NEAR(final_weight({post_after}, burst, all, kW0) - kW0, -all.a_minus * sum_minus, kTol);
  EXPECT_NEAR(final_weight({post_after}, burst, nearest, kW0) - kW0,
              -all.a_minus * std::exp(-d / all.tau_minus), kTol);
  // One pre spike, then a post burst: every post spike's nearest pre spike is that one, so the
  // two schemes agree exactly (each post spike pairs with it once).
  const std::vector<double> post_burst = {t0 + d, t0 + d + b, t0 + d + 2 * b};
  double expected = 0.0;
  for (int k = 0; k < 3; ++k) expected += all.a_plus * std::exp(-(d + k * b) / all.tau_plus);
  const double w_all = final_weight({t0}, post_burst, all, kW0);
  EXPECT_NEAR(w_all - kW0, expected, kTol);
  EXPECT_EQ(final_weight({t0}, post_burst, nearest, kW0), w_all);
}

TEST(StdpPairing, NearestTripletKeepsOnlyTheLatestSpikes) {
  // post at t0 and t0+b, pre at t0+b+d1, post at t0+b+d1+d2. All-to-all: o1 and o2 sum both
  // earlier post spikes; nearest: only the one at t0+b.
  StdpParams all = triplet_params();
  StdpParams nearest = all;
  nearest.pairing = StdpPairing::kNearest;
  const double t0 = 0.050, b = 6e-3, d1 = 9e-3, d2 = 7e-3;
  const double t_pre = t0 + b + d1, t_last = t_pre + d2;
  const double o1_all = std::exp(-d1 / all.tau_minus) + std::exp(-(d1 + b) / all.tau_minus);
  const double o2_all = std::exp(-(d1 + d2) / all.tau_y) + std::exp(-(b + d1 + d2) / all.tau_y);
  const double o1_near = std::exp(-d1 / all.tau_minus);
  const double o2_near = std::exp(-(d1 + d2) / all.tau_y);
  const double r1 = std::exp(-d2 / all.tau_plus);
  const double exp_all = -all.a_minus * o1_all + r1 * (all.a_plus + all.a3_plus * o2_all);
  const double exp_near = -all.a_minus * o1_near + r1 * (all.a_plus + all.a3_plus * o2_near);
  EXPECT_NEAR(final_weight({t_pre}, {t0, t0 + b, t_last}, all, kW0) - kW0, exp_all, kTol);
  EXPECT_NEAR(final_weight({t_pre}, {t0, t0 + b, t_last}, nearest, kW0) - kW0, exp_near, kTol);
}

TEST(StdpWeightDependence, MultiplicativeChangeScalesWithDistanceToBound) {
  StdpParams p;
  p.weight_dependence = WeightDependence::kMultiplicative;
  p.tau_plus = 16.8e-3;
  p.tau_minus = 33.7e-3;
  p.a_plus = 2e-5;
  p.a_minus = 3e-5;
  p.w_min = 0.5e-4;
  p.w_max = 2.5e-4;
  const double range = p.w_max - p.w_min, d = 10e-3;
  for (double w0 : {0.6e-4, 1.5e-4, 2.4e-4}) {
    const double ltp = final_weight({0.050}, {0.050 + d}, p, w0) - w0;
    const double ltd = final_weight({0.050 + d}, {0.050}, p, w0) - w0;
    EXPECT_NEAR(ltp, p.a_plus * std::exp(-d / p.tau_plus) * (p.w_max - w0) / range, 1e-10) << w0;
    EXPECT_NEAR(ltd, -p.a_minus * std::exp(-d / p.tau_minus) * (w0 - p.w_min) / range, 1e-10) << w0;
  }
  // Triplet rule, post-pre-post: the second change starts from the weight after the first.
  StdpParams t = triplet_params();
  t.weight_dependence = WeightDependence::kMultiplicative;
  t.a_plus *= 20;
  t.a3_plus *= 20;
  t.a_minus *= 20;
  t.a3_minus *= 20;
  t.w_min = p.w_min;
  t.w_max = p.w_max;
  const double w0 = 1.2e-4, d1 = 8e-3, d2 = 6e-3;
  const double w1 = w0 - t.a_minus * std::exp(-d1 / t.tau_minus) * (w0 - t.w_min) / range;
  const double w2 = w1 + std::exp(-d2 / t.tau_plus) *
                             (t.a_plus + t.a3_plus * std::exp(-(d1 + d2) / t.tau_y)) *
                             (t.w_max - w1) / range;
  EXPECT_NEAR(final_weight({0.050 + d1}, {0.050, 0.050 + d1 + d2}, t, w0), w2,
              1e-5 * (std::abs(w1 - w0) + std::abs(w2 - w1)));
}

TEST(StdpWeightDependence, MultiplicativeStaysInsideSoftBounds) {
  // 100 pre->post pairs (+5 ms, every 20 ms) with potentiation only drive w up; each pairing
  // closes a fraction of the gap to w_max, so the gap shrinks and w never leaves
  // [w_min, w_max], also when one change would overshoot (a_plus larger than the range). The
  // same downwards with post->pre pairs and depression only.
  for (double a : {0.2, 3.0}) {
    for (int sign : {+1, -1}) {
      StdpParams p;
      p.weight_dependence = WeightDependence::kMultiplicative;
      p.w_min = 0.5e-4;
      p.w_max = 2.5e-4;
      p.a_plus = sign > 0 ? a * (p.w_max - p.w_min) : 0.0;
      p.a_minus = sign < 0 ? a * (p.w_max - p.w_min) : 0.0;
      std::vector<double> pre, post;
      for (int k = 0; k < 100; ++k) {
        const double t = 0.010 + 0.020 * k;
        pre.push_back(sign > 0 ? t : t + 5e-3);
        post.push_back(sign > 0 ? t + 5e-3 : t);
      }
      Network net(kDt, 1);
      test::add_kicked_synapse(net, pre, post, p, 1.5e-4);
      const float lo = static_cast<float>(p.w_min), hi = static_cast<float>(p.w_max);
      double previous_gap = 1.0;
      for (int k = 0; k < 100; ++k) {
        net.run(0.020);
        const float w = net.projection("syn").weights()[0];
        ASSERT_GE(w, lo) << "a=" << a << " sign=" << sign << " pairing " << k;
        ASSERT_LE(w, hi) << "a=" << a << " sign=" << sign << " pairing " << k;
        const double gap = sign > 0 ? hi - w : w - lo;
        EXPECT_LE(gap, previous_gap);
        previous_gap = gap;
      }
      // Close to the bound it was pushed towards.
      EXPECT_LT(previous_gap, 1e-3 * (p.w_max - p.w_min)) << "a=" << a << " sign=" << sign;
    }
  }
}

// ---- determinism and equivalences on a network -----------------------------------------------

namespace {

AlignedVector<float> network_weights(const StdpParams& stdp, int threads) {
  Network net(kDt, 7);
  PoissonGroupParams pg;
  pg.rate = 20.0;
  net.add<PoissonGroup>("in", 200, pg);
  LifParams lp;
  lp.channels = {{"exc", 5e-3}};
  lp.v_init = Distribution::uniform(-70e-3, -55e-3);
  net.add<LifPopulation>("out", 101, lp);
  ProjectionSpec s;
  s.name = "syn";
  s.source = "in";
  s.target = "out";
  s.connector = FixedProbability{0.2, true};
  s.weight = Distribution::uniform(2e-3, 6e-3);
  s.stdp = stdp;
  net.connect(s);
  net.run(0.25, RunOptions{threads});
  EXPECT_GT(net.spike_count("out"), 50u);
  return net.projection("syn").weights();
}

}  // namespace

TEST(StdpDeterminism, OneAndTwoThreadsGiveIdenticalWeights) {
  StdpParams pair;
  pair.a_plus = 0.05e-3;
  pair.a_minus = 0.06e-3;
  pair.w_max = 8e-3;
  std::vector<StdpParams> rules;
  for (auto pairing : {StdpPairing::kAllToAll, StdpPairing::kNearest})
    for (auto dep : {WeightDependence::kAdditive, WeightDependence::kMultiplicative}) {
      StdpParams p = pair;
      p.pairing = pairing;
      p.weight_dependence = dep;
      rules.push_back(p);
      StdpParams t = triplet_params();
      t.a_plus = 0.03e-3;
      t.a3_plus = 0.02e-3;
      t.a_minus = 0.05e-3;
      t.a3_minus = 0.01e-3;
      t.w_max = 8e-3;
      t.pairing = pairing;
      t.weight_dependence = dep;
      rules.push_back(t);
    }
  for (const auto& p : rules) {
    const std::string what = fmt::format("{} {} {}", to_string(p.rule), to_string(p.pairing),
                                         to_string(p.weight_dependence));
    const AlignedVector<float> w1 = network_weights(p, 1);
    const AlignedVector<float> w2 = network_weights(p, 2);
    ASSERT_EQ(w1.size(), w2.size());
    EXPECT_EQ(std::memcmp(w1.data(), w2.data(), w1.size() * sizeof(float)), 0) << what;
    // Plasticity acted: the weights are no longer the initial ones.
    StdpParams frozen = p;
    frozen.a_plus = frozen.a_minus = frozen.a3_plus = frozen.a3_minus = 0.0;
    const AlignedVector<float> w0 = network_weights(frozen, 1);
    EXPECT_NE(std::memcmp(w0.data(), w1.data(), w1.size() * sizeof(float)), 0) << what;
  }
}

TEST(StdpDeterminism, TripletWithoutTripletTermsIsThePairRule) {
  // A3+ = A3- = 0 leaves the pair terms: bit-identical weights to the pair rule.
  for (auto pairing : {StdpPairing::kAllToAll, StdpPairing::kNearest}) {
    StdpParams pair;
    pair.tau_plus = 16.8e-3;
    pair.tau_minus = 33.7e-3;
    pair.a_plus = 0.05e-3;
    pair.a_minus = 0.06e-3;
    pair.w_max = 8e-3;
    pair.pairing = pairing;
    StdpParams triplet = pair;
    triplet.rule = StdpRule::kTriplet;
    const AlignedVector<float> a = network_weights(pair, 1);
    const AlignedVector<float> b = network_weights(triplet, 2);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  }
}

TEST(StdpParamsTest, ValidateNamesTheField) {
  auto message = [](const StdpParams& p) -> std::string {
    try {
      p.validate("syn");
    } catch (const ParameterError& e) {
      return e.what();
    }
    return "";
  };
  StdpParams p = triplet_params();
  EXPECT_EQ(message(p), "");
  p.tau_x = 0.0;
  EXPECT_NE(message(p).find("tau_x"), std::string::npos);
  p = triplet_params();
  p.a3_minus = -1.0;
  EXPECT_NE(message(p).find("a3_minus"), std::string::npos);
  StdpParams pair;
  pair.a3_plus = 1e-3;
  EXPECT_NE(message(pair).find("a3_plus"), std::string::npos);
  pair = StdpParams{};
  pair.weight_dependence = WeightDependence::kMultiplicative;
  pair.w_min = pair.w_max = 1.0;
  EXPECT_NE(message(pair).find("multiplicative"), std::string::npos);
  EXPECT_THROW(pfister2006_visual_cortex(0.0), ParameterError);
}

// ---- model files --------------------------------------------------------------------------

namespace {

const char* kModelHead = R"([simulation]
dt = "0.1 ms"
duration = "20 ms"
[populations.pre]
model = "spike_generator"
times = ["1 ms", "11 ms"]
indices = [0, 0]
[populations.post]
model = "lif"
size = 1
[projections.S]
source = "pre"
target = "post"
connect = { rule = "one_to_one" }
weight = "0.1 mV"
[projections.S.plasticity]
)";

// The ConfigError message of a model whose plasticity table is `table`; "" when it loads.
std::string plasticity_error(const std::string& table) {
  try {
    io::LoadedModel m = io::load_model_string(std::string(kModelHead) + table, "m.toml");
    m.network->run(m.duration);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(StdpModelFile, NewKeysLoad) {
  EXPECT_EQ(plasticity_error("rule = \"stdp\"\nweight_dependence = \"multiplicative\"\n"
                             "pairing = \"nearest\"\na_plus = \"0.01 mV\"\na_minus = \"0.01 mV\"\n"
                             "w_max = \"1 mV\"\n"),
            "");
  EXPECT_EQ(
      plasticity_error("rule = \"triplet\"\npairing = \"nearest\"\ntau_x = \"700 ms\"\n"
                       "tau_y = \"40 ms\"\na2_plus = \"0 mV\"\na3_plus = \"0.005 mV\"\n"
                       "a2_minus = \"0.0007 mV\"\na3_minus = \"0.0003 mV\"\nw_max = \"1 mV\"\n"),
      "");
  EXPECT_EQ(plasticity_error("rule = \"triplet\"\npreset = \"pfister2006_visual_cortex\"\n"
                             "w_ref = \"0.1 mV\"\n"),
            "");
  EXPECT_EQ(plasticity_error("rule = \"triplet\"\npreset = \"pfister2006_visual_cortex\"\n"
                             "w_ref = \"0.1 mV\"\ntau_y = \"100 ms\"\nw_max = \"0.3 mV\"\n"),
            "");
}

TEST(StdpModelFile, BadValuesNameTheField) {
  struct Case {
    std::string table, field, what;
  };
  const std::string f = "m.toml:";
  const std::string pf = "projections.S.plasticity.";
  const std::string triplet = "rule = \"triplet\"\n";
  const std::string amps =
      "a2_plus = \"0 mV\"\na3_plus = \"0.005 mV\"\na2_minus = \"0.0007 mV\"\n"
      "a3_minus = \"0 mV\"\nw_max = \"1 mV\"\n";
  const std::string taus = "tau_x = \"100 ms\"\ntau_y = \"100 ms\"\n";
  const std::string pair = "rule = \"stdp\"\na_plus = \"0.01 mV\"\na_minus = \"0.01 mV\"\n";
  const std::vector<Case> cases = {
      {"rule = \"tripplet\"\n", pf + "rule", "unknown plasticity rule 'tripplet'"},
      {pair + "w_max = \"1 mV\"\nweight_dependence = \"soft\"\n", pf + "weight_dependence",
       "unknown weight dependence 'soft'"},
      {pair + "w_max = \"1 mV\"\npairing = \"closest\"\n", pf + "pairing",
       "unknown pairing 'closest'"},
      {pair + "w_max = \"1 mV\"\ntau_x = \"100 ms\"\n", pf + "tau_x", "rule = \"triplet\""},
      {pair + "w_max = \"1 mV\"\npreset = \"pfister2006_visual_cortex\"\n", pf + "preset",
       "rule = \"triplet\""},
      {pair + "w_max = \"1 mV\"\nweight_dependence = \"multiplicative\"\nw_min = \"1 mV\"\n",
       pf + "w_max", "multiplicative"},
      {pair + "w_max = \"1 mV\"\nw_min = \"2 mV\"\n", pf + "w_max", "must be >= w_min"},
      {triplet + taus + amps + "a_plus = \"0.01 mV\"\n", pf + "a_plus", "a2_plus"},
      {triplet + amps, pf + "tau_x", "missing required field"},
      {triplet + "tau_x = \"-5 ms\"\ntau_y = \"100 ms\"\n" + amps, pf + "tau_x", "must be > 0"},
      {triplet + "tau_x = \"100 mV\"\ntau_y = \"100 ms\"\n" + amps, pf + "tau_x", ""},
      {triplet + taus +
           "a2_plus = \"0 mV\"\na3_plus = \"-1 mV\"\na2_minus = \"0 mV\"\n"
           "a3_minus = \"0 mV\"\nw_max = \"1 mV\"\n",
       pf + "a3_plus", "must be >= 0"},
      {triplet + taus +
           "a2_plus = \"0 mV\"\na3_plus = \"1 nS\"\na2_minus = \"0 mV\"\n"
           "a3_minus = \"0 mV\"\nw_max = \"1 mV\"\n",
       pf + "a3_plus", ""},
      {triplet + taus +
           "a2_plus = \"0 mV\"\na3_plus = \"0 mV\"\na2_minus = \"0 mV\"\n"
           "w_max = \"1 mV\"\n",
       pf + "a3_minus", "missing required field"},
      {triplet + "preset = \"pfister2006\"\nw_ref = \"0.1 mV\"\n", pf + "preset",
       "unknown preset 'pfister2006'"},
      {triplet + "preset = \"pfister2006_visual_cortex\"\n", pf + "w_ref",
       "missing required field"},
      {triplet + "preset = \"pfister2006_visual_cortex\"\nw_ref = \"0 mV\"\n", pf + "w_ref",
       "must be > 0"},
      {triplet + "preset = \"pfister2006_visual_cortex\"\nw_ref = \"0.1 mV\"\n"
                 "pairing = \"nearest\"\n",
       pf + "pairing", "all_to_all"},
      {triplet + "preset = \"pfister2006_visual_cortex\"\nw_ref = \"0.1 mV\"\n"
                 "weight_dependence = \"multiplicative\"\n",
       pf + "weight_dependence", "additive"},
      {triplet + "preset = \"pfister2006_visual_cortex\"\nw_ref = \"0.1 mV\"\n"
                 "w_min = \"1 kV\"\n",
       pf + "w_min", "must be <= w_max"},
      {triplet + taus + amps + "w_ref = \"0.1 mV\"\n", pf + "w_ref", "only used with 'preset'"},
      {triplet + taus + amps + "mu = 1\n", pf + "mu", "unknown key 'mu'"},
  };
  for (const auto& c : cases) {
    const std::string msg = plasticity_error(c.table);
    EXPECT_NE(msg.find(f), std::string::npos) << c.table << "\n-> " << msg;
    EXPECT_NE(msg.find(c.field + ":"), std::string::npos) << c.table << "\n-> " << msg;
    EXPECT_NE(msg.find(c.what), std::string::npos) << c.table << "\n-> " << msg;
  }
}

// ---- the pairing-frequency protocol ---------------------------------------------------------

namespace {

// The pair rule of the contrast: the triplet fit's time constants, a_plus = a_minus = 7e-3 w0
// (depression-dominated: a_minus tau_minus > a_plus tau_plus, as Song et al. 2000 need).
StdpParams contrast_pair_rule(double w0) {
  StdpParams p;
  p.tau_plus = 16.8e-3;
  p.tau_minus = 33.7e-3;
  p.a_plus = 7e-3 * w0;
  p.a_minus = 7e-3 * w0;
  p.w_max = 1e6 * w0;
  return p;
}

void print_table(const char* name, const analysis::PairingResult& r,
                 const analysis::PairingProtocol& proto) {
  std::printf("%s: rho [Hz] | dw/w0 (dt = +10 ms) | dw/w0 (dt = -10 ms)\n", name);
  for (double f : proto.frequencies_hz)
    std::printf("  %5.1f | %+9.4f | %+9.4f\n", f, r.change(f, 10e-3), r.change(f, -10e-3));
}

}  // namespace

TEST(StdpProtocol, TripletReproducesTheFrequencyDependence) {
  analysis::PairingProtocol proto;
  proto.frequencies_hz = {0.1, 1, 5, 10, 20, 30, 40, 50};
  const auto triplet = analysis::run_pairing_protocol(pfister2006_visual_cortex(proto.w0), proto);
  const auto pair = analysis::run_pairing_protocol(contrast_pair_rule(proto.w0), proto);
  print_table("triplet (Pfister & Gerstner 2006, visual cortex, all-to-all)", triplet, proto);
  print_table("pair (a_plus = a_minus = 7e-3 w0)", pair, proto);

  // Triplet: post-pre (-10 ms) depresses at low frequency and potentiates at high frequency.
  EXPECT_LT(triplet.change(1, -10e-3), 0.0);
  EXPECT_LT(triplet.change(0.1, -10e-3), 0.0);
  EXPECT_GT(triplet.change(50, -10e-3), 0.0);
  // Pre-post (+10 ms) potentiation grows with frequency, and is small at 0.1 Hz.
  const std::vector<double> rising = {1, 5, 10, 20, 30, 40, 50};
  for (std::size_t k = 1; k < rising.size(); ++k)
    EXPECT_GT(triplet.change(rising[k], 10e-3), triplet.change(rising[k - 1], 10e-3))
        << rising[k] << " Hz";
  EXPECT_GE(triplet.change(1, 10e-3), 0.0);
  EXPECT_LT(std::abs(triplet.change(0.1, 10e-3)), 0.05);
  EXPECT_GT(triplet.change(50, 10e-3), 0.2);
  // Pair rule: post-pre depresses at every frequency (no sign change).
  for (double f : proto.frequencies_hz) EXPECT_LT(pair.change(f, -10e-3), 0.0) << f << " Hz";
}

TEST(StdpProtocol, ExampleModelFileMatchesTheProtocol) {
  // examples/stdp_pairing.toml is the 50 Hz, -10 ms condition; its final weights equal the
  // protocol's, and their signs are those stated in its comment.
  const auto path = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                    "examples/stdp_pairing.toml";
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is part of the repository and must exist";
  io::LoadedModel m = io::load_model_file(path.string());
  m.network->run(m.duration);
  EXPECT_EQ(m.network->spike_count("post"), 120u);
  const double w0 = 1e-4;
  const double triplet = m.network->projection("triplet").weights()[0];
  const double pair = m.network->projection("pair").weights()[0];
  analysis::PairingProtocol proto;
  proto.frequencies_hz = {50};
  proto.delta_t = {-10e-3};
  const auto t = analysis::run_pairing_protocol(pfister2006_visual_cortex(w0), proto);
  const auto p = analysis::run_pairing_protocol(contrast_pair_rule(w0), proto);
  EXPECT_NEAR(triplet, t.points.at(0).w_final, 1e-12);
  EXPECT_NEAR(pair, p.points.at(0).w_final, 1e-12);
  // The numbers stated in the file's comment.
  EXPECT_NEAR((triplet - w0) / w0, 0.73, 0.005);
  EXPECT_NEAR((pair - w0) / w0, -0.36, 0.005);
  std::printf("example: triplet w = %.6g mV (dw/w0 = %+.4f), pair w = %.6g mV (dw/w0 = %+.4f)\n",
              triplet * 1e3, (triplet - w0) / w0, pair * 1e3, (pair - w0) / w0);
}

TEST(StdpProtocol, RejectsBadProtocols) {
  analysis::PairingProtocol proto;
  proto.frequencies_hz = {200};  // period 5 ms < |delta_t|
  EXPECT_THROW(analysis::run_pairing_protocol(pfister2006_visual_cortex(1e-4), proto),
               ParameterError);
  proto = {};
  proto.delta_t = {0.0};
  EXPECT_THROW(analysis::run_pairing_protocol(pfister2006_visual_cortex(1e-4), proto),
               ParameterError);
  proto = {};
  proto.pairings = 0;
  EXPECT_THROW(analysis::run_pairing_protocol(pfister2006_visual_cortex(1e-4), proto),
               ParameterError);
}
