// Rate-based Hebbian plasticity on projections (rule "oja" and "bcm", plasticity.hpp): the fixed
// points of the rules with regular pre and post spike trains of known rates (Oja: u -> x/y
// without centring, u -> 0 with it; BCM: potentiation below the sliding threshold, depression
// above), weight bounds, thread-count determinism with Poisson inputs, model-file errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "support/kicked_synapse.hpp"
#include "volley/error.hpp"
#include "volley/io/model_file.hpp"
#include "volley/models/lif.hpp"
#include "volley/models/sources.hpp"
#include "volley/network.hpp"

using namespace volley;

namespace {
constexpr double kDt = 1e-3;

std::vector<double> regular(double rate, double duration, double offset) {
  std::vector<double> v;
  for (double t = offset; t < duration; t += 1.0 / rate) v.push_back(t);
  return v;
}

// pre fires regularly at `pre_rate`, post at `post_rate` (kicked one step early); one synapse
// of weight w0 with the rule `p`. Returns the final weight.
double run_pair(const StdpParams& p, double pre_rate, double post_rate, double duration,
                double w0) {
  Network net(kDt, 1);
  test::add_kicked_synapse(net, regular(pre_rate, duration, 3e-3),
                           regular(post_rate, duration, 10e-3 + kDt), p, w0);
  auto& post = net.record_spikes("s", "post");
  net.run(duration);
  EXPECT_NEAR(static_cast<double>(post.times.size()), post_rate * duration, 2.0)
      << "the post neuron fires only when kicked";
  return net.projection("syn").weights()[0];
}

StdpParams oja() {
  StdpParams p;
  p.rule = StdpRule::kOja;
  p.eta = 1.0;
  p.tau_rate = 0.5;
  p.rate_ref = 10.0;
  p.w_ref = 0.1e-3;
  p.w_min = -10e-3;
  p.w_max = 10e-3;
  p.update_interval = 10e-3;
  return p;
}

StdpParams bcm() {
  StdpParams p = oja();
  p.rule = StdpRule::kBcm;
  p.tau_theta = 2.0;
  p.y0 = 10.0;
  p.eta = 0.05;
  return p;
}
}  // namespace

// du/dt = eta y (x - y u) settles at u = x / y: pre 20 Hz and post 10 Hz with rate_ref 10 Hz
// give u = 2 (w = 2 w_ref) from either side.
TEST(RateHebbian, OjaSettlesAtRatioOfRates) {
  const StdpParams p = oja();
  EXPECT_NEAR(run_pair(p, 20.0, 10.0, 60.0, 1.0 * p.w_ref) / p.w_ref, 2.0, 0.06);
  EXPECT_NEAR(run_pair(p, 20.0, 10.0, 60.0, 3.0 * p.w_ref) / p.w_ref, 2.0, 0.06);
  EXPECT_NEAR(run_pair(p, 10.0, 20.0, 60.0, 1.0 * p.w_ref) / p.w_ref, 0.5, 0.03);
}

// With centring, a constant input carries no variance: x - x̄ -> 0 and the weight decays to 0
// (Oja's rule learns the covariance, not the mean).
TEST(RateHebbian, OjaCentringRemovesTheMean) {
  StdpParams p = oja();
  p.tau_mean = 2.0;
  EXPECT_NEAR(run_pair(p, 20.0, 10.0, 60.0, 1.0 * p.w_ref) / p.w_ref, 0.0, 0.05);
}

// BCM with the threshold settled at y²/y0: a post rate below y0 potentiates, above depresses.
TEST(RateHebbian, BcmSignFollowsTheSlidingThreshold) {
  const StdpParams p = bcm();
  const double w0 = 1.0 * p.w_ref;
  EXPECT_GT(run_pair(p, 20.0, 5.0, 30.0, w0), 1.2 * w0) << "post 5 Hz < y0 = 10 Hz";
  EXPECT_LT(run_pair(p, 20.0, 20.0, 30.0, w0), 0.8 * w0) << "post 20 Hz > y0";
  // The sign turns at y0 itself (so rates are estimated in Hz, not up to a factor).
  EXPECT_GT(run_pair(p, 20.0, 8.0, 30.0, w0), w0) << "post 8 Hz";
  EXPECT_LT(run_pair(p, 20.0, 12.5, 30.0, w0), w0) << "post 12.5 Hz";
}

TEST(RateHebbian, WeightsStayInsideBounds) {
  StdpParams p = oja();
  p.w_min = 0.0;
  p.w_max = 1.5 * p.w_ref;  // below the fixed point u = 2
  EXPECT_FLOAT_EQ(static_cast<float>(run_pair(p, 20.0, 10.0, 30.0, p.w_ref)),
                  static_cast<float>(p.w_max));
}

TEST(RateHebbian, OneAndTwoThreadsGiveIdenticalWeights) {
  auto run = [](int threads, StdpRule rule) {
    Network net(1e-4, 3);
    PoissonGroupParams pp;
    pp.rate = 15.0;
    net.add<PoissonGroup>("in", 300, pp);
    net.add<LifPopulation>("out", 40, LifParams{});
    ProjectionSpec s;
    s.name = "s";
    s.source = "in";
    s.target = "out";
    s.connector = FixedProbability{0.3};
    s.weight = Distribution::uniform(0.5e-3, 1.5e-3);
    StdpParams p = rule == StdpRule::kOja ? oja() : bcm();
    p.tau_mean = rule == StdpRule::kOja ? 1.0 : 0.0;
    p.w_ref = 1e-3;
    p.update_interval = 1e-3;
    s.stdp = p;
    net.connect(s);
    net.run(1.0, RunOptions{threads});
    const auto& w = net.projection("s").weights();
    return std::vector<float>(w.begin(), w.end());
  };
  for (StdpRule rule : {StdpRule::kOja, StdpRule::kBcm}) {
    const auto a = run(1, rule), b = run(2, rule);
    EXPECT_EQ(a, b);
    ASSERT_FALSE(a.empty());
  }
}

TEST(RateHebbian, ModelFileKeysAndErrors) {
  const std::string head =
      "[simulation]\ndt = \"1 ms\"\n[populations.A]\nmodel = \"poisson\"\nsize = 10\n"
      "rate = \"10 Hz\"\n[populations.B]\nmodel = \"lif\"\nsize = 2\n"
      "[projections.AB]\nsource = \"A\"\ntarget = \"B\"\nconnect = { rule = \"all_to_all\" }\n"
      "weight = \"0.5 mV\"\n[projections.AB.plasticity]\n";
  auto error = [&](const std::string& body) {
    try {
      io::load_model_string(head + body, "m.toml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string oja_ok =
      "rule = \"oja\"\neta = \"0.5 /s\"\nw_ref = \"0.5 mV\"\nw_min = \"-2 mV\"\nw_max = \"2 mV\"\n";
  EXPECT_EQ(error(oja_ok), "");
  EXPECT_EQ(error(oja_ok + "tau_mean = \"1 s\"\nrate_ref = \"20 Hz\"\ntau_rate = \"200 ms\"\n"
                           "update_interval = \"5 ms\"\n"),
            "");
  EXPECT_EQ(error("rule = \"bcm\"\neta = \"0.5 /s\"\nw_ref = \"0.5 mV\"\nw_max = \"2 mV\"\n"
                  "y0 = \"5 Hz\"\ntau_theta = \"3 s\"\n"),
            "");
  struct Case {
    std::string body, field, what;
  };
  const std::vector<Case> cases = {
      {"rule = \"hebb\"\n", "plasticity.rule", "expected one of 'stdp', 'triplet', 'oja', 'bcm'"},
      {oja_ok + "a_plus = \"1 mV\"\n", "plasticity.a_plus", "spike-timing rules"},
      {oja_ok + "y0 = \"5 Hz\"\n", "plasticity.y0", "rule = \"bcm\""},
      {"rule = \"oja\"\nw_ref = \"0.5 mV\"\nw_max = \"2 mV\"\n", "plasticity", "eta"},
      {"rule = \"oja\"\neta = \"-1 /s\"\nw_ref = \"0.5 mV\"\nw_max = \"2 mV\"\n", "plasticity.eta",
       "> 0"},
      {"rule = \"oja\"\neta = \"1 /s\"\nw_ref = \"0.5 nS\"\nw_max = \"2 mV\"\n",
       "plasticity.w_ref", ""},
      {"rule = \"stdp\"\na_plus = \"1 mV\"\na_minus = \"1 mV\"\nw_max = \"2 mV\"\neta = \"1 /s\"\n",
       "plasticity.eta", "rule = \"oja\" or \"bcm\""},
      {oja_ok + "update_interval = \"1.5 ms\"\n", "plasticity.update_interval", "whole"},
  };
  for (const auto& c : cases) {
    const std::string err = error(c.body);
    EXPECT_NE(err.find(c.field), std::string::npos) << "want " << c.field << "\ngot: " << err;
    EXPECT_NE(err.find(c.what), std::string::npos) << "want " << c.what << "\ngot: " << err;
  }
}
