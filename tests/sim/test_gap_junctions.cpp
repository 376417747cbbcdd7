// Gap junctions: which neurons are joined, the coupled dynamics against the analytic solution
// of two passive neurons (and the scheme's first-order convergence), thread independence, and
// the errors for populations that cannot take them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "volley/error.hpp"
#include "volley/models/lif.hpp"
#include "volley/models/sources.hpp"
#include "volley/network.hpp"

using namespace volley;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

constexpr double kTau = 20e-3, kR = 1e8, kG = 5e-9;  // R g = 0.5
constexpr double kRest = -65e-3, kV0 = -60e-3, kV1 = -70e-3;

LifParams passive() {
  LifParams p;
  p.tau_m = kTau;
  p.v_rest = kRest;
  p.v_th = 1.0;  // never reached
  p.v_reset = 0.0;
  p.R = kR;
  p.channels = {};
  return p;
}

// v0 - v1 after `t` seconds of two coupled passive neurons started at kV0, kV1, at step dt.
double simulated_difference(double dt, double t) {
  Network net(dt, 1);
  net.add<LifPopulation>("P", 2, passive());
  GapJunctionSpec gj{"gap", "P", {}, {}, ExplicitList{{{0, 1}}}, kG};
  net.add_gap_junctions(gj);
  auto v = net.population("P").variable("v");
  v.data[0] = static_cast<float>(kV0);
  v.data[1] = static_cast<float>(kV1);
  net.run(t);
  return v.at(0) - v.at(1);
}

}  // namespace

TEST(GapJunctions, PairsAreUndirectedDistinctAndNeverSelf) {
  Network net(1e-4, 1);
  LifParams p = passive();
  net.add<LifPopulation>("P", 5, p);
  GapJunctionSpec gj{"gap", "P", {}, {}, ExplicitList{{{0, 1}, {1, 0}, {2, 2}, {1, 3}, {4, 2}}}, kG};
  auto& g = net.add_gap_junctions(gj);
  EXPECT_EQ(g.junction_count(), 3u);
  EXPECT_THAT(g.partners(0), ElementsAre(1u));
  EXPECT_THAT(g.partners(1), ElementsAre(0u, 3u));
  EXPECT_THAT(g.partners(2), ElementsAre(4u));
  EXPECT_THAT(g.partners(4), ElementsAre(2u));
}

// C dv_i/dt = g_L (E - v_i) + g (v_j - v_i): the mean relaxes with tau, the difference with
// tau / (1 + 2 R g). The simulated difference follows it, with an error that halves with dt.
TEST(GapJunctions, TwoPassiveNeuronsFollowTheAnalyticSolutionToFirstOrder) {
  const double t = 10e-3;
  const double exact = (kV0 - kV1) * std::exp(-(1.0 + 2.0 * kR * kG) * t / kTau);
  const double coarse = simulated_difference(1e-4, t), fine = simulated_difference(5e-5, t);
  EXPECT_NEAR(coarse, exact, 0.02 * std::abs(exact));
  const double ratio = std::abs(coarse - exact) / std::abs(fine - exact);
  EXPECT_GT(ratio, 1.7);  // first order: halving dt halves the error
  EXPECT_LT(ratio, 2.3);
  // Uncoupled, the difference would only decay with tau: the coupling is doing the work.
  EXPECT_LT(coarse, 0.9 * (kV0 - kV1) * std::exp(-t / kTau));
}

TEST(GapJunctions, TheMeanPotentialIsUntouchedByTheCoupling) {
  Network net(1e-4, 1);
  net.add<LifPopulation>("P", 2, passive());
  net.add_gap_junctions({"gap", "P", {}, {}, ExplicitList{{{0, 1}}}, kG});
  auto v = net.population("P").variable("v");
  v.data[0] = static_cast<float>(kV0);
  v.data[1] = static_cast<float>(kV1);
  net.run(10e-3);
  const double mean = 0.5 * (v.at(0) + v.at(1));
  EXPECT_NEAR(mean, kRest + (0.5 * (kV0 + kV1) - kRest) * std::exp(-10e-3 / kTau), 1e-7);
}

TEST(GapJunctions, SpikesAreTheSameForAnyThreadCount) {
  auto spikes = [](int threads) {
    Network net(1e-4, 3);
    LifParams p;
    p.R = kR;
    p.i_offset = 0.21e-9;  // R I = 21 mV above rest: regular firing
    p.v_init = Distribution::uniform(-70e-3, -50e-3);
    net.add<LifPopulation>("P", 300, p);
    net.add_gap_junctions({"gap", "P", {}, {}, FixedProbability{0.02, false}, 2e-9});
    auto& m = net.record_spikes("s", "P");
    net.run(0.1, RunOptions{threads});
    return std::pair(m.times, m.units);
  };
  const auto one = spikes(1);
  EXPECT_GT(one.first.size(), 100u);
  EXPECT_EQ(one, spikes(2));
}

TEST(GapJunctions, RejectsWhatCannotBeCoupled) {
  Network net(1e-4, 1);
  net.add<LifPopulation>("P", 4, passive());
  LifParams no_r = passive();
  no_r.R = 0.0;
  net.add<LifPopulation>("Q", 4, no_r);
  net.add(std::make_unique<SpikeGenerator>("G", std::vector<SpikeEvent>{{1e-3, 0}}), 2);
  auto attempt = [&](const std::string& pop, double g) {
    net.add_gap_junctions({"gap_" + pop + std::to_string(g), pop, {}, {}, AllToAll{}, g});
  };
  EXPECT_THAT([&] { attempt("P", -1e-9); },
              ThrowsMessage<ParameterError>(HasSubstr("conductance must be >= 0")));
  EXPECT_THAT([&] { attempt("Q", 1e-9); },
              ThrowsMessage<ParameterError>(HasSubstr("membrane resistance R")));
  EXPECT_THAT([&] { attempt("G", 1e-9); },
              ThrowsMessage<ParameterError>(HasSubstr("does not accept injected current")));
}
