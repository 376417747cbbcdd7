// Pair-based STDP on one synapse: the weight change for a single pre/post pair at dt follows
// a_plus exp(-dt/tau_plus) for dt > 0 and -a_minus exp(dt/tau_minus) for dt < 0.
#include <gtest/gtest.h>

#include <cmath>

#include "volley/models/lif.hpp"
#include "volley/models/sources.hpp"
#include "volley/network.hpp"

using namespace volley;

namespace {
constexpr double kDt = 1e-4;

// Weight change of one synapse when the pre neuron fires at t_pre and the post neuron at t_post.
double weight_change(double t_pre, double t_post, const StdpParams& stdp, double w0) {
  Network net(kDt, 1);
  LifParams lp;
  lp.channels = {{"exc", 5e-3}, {"kick", 0.0}};
  lp.v_init = Distribution::constant(-70e-3);
  net.add<LifPopulation>("post", 1, lp);
  net.add(std::make_unique<SpikeGenerator>("pre", std::vector<SpikeEvent>{{t_pre, 0}}), 1);
  // The kicker fires one step before the wanted post spike; its 30 mV jump lands in that step.
  net.add(std::make_unique<SpikeGenerator>("kicker", std::vector<SpikeEvent>{{t_post - kDt, 0}}), 1);
  ProjectionSpec plastic;
  plastic.name = "syn";
  plastic.source = "pre";
  plastic.target = "post";
  plastic.connector = OneToOne{};
  plastic.weight = Distribution::constant(w0);
  plastic.stdp = stdp;
  net.connect(plastic);
  ProjectionSpec kick;
  kick.name = "kick";
  kick.source = "kicker";
  kick.target = "post";
  kick.channel = "kick";
  kick.connector = OneToOne{};
  kick.weight = Distribution::constant(30e-3);
  net.connect(kick);
  auto& post = net.record_spikes("s", "post");
  net.run(std::max(t_pre, t_post) + 5e-3);
  EXPECT_EQ(post.times.size(), 1u);
  if (!post.times.empty()) EXPECT_NEAR(post.times[0], t_post, 1e-9);
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
