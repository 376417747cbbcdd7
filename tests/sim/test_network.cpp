// Whole-network behaviour: determinism across threads and seeds, delays, inputs, monitors,
// structural changes between runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "volley/error.hpp"
#include "volley/models/lif.hpp"
#include "volley/models/sources.hpp"
#include "volley/network.hpp"

using namespace volley;
using ::testing::HasSubstr;

namespace {
constexpr double kDt = 1e-4;

// A CUBA-like network with every mechanism switched on: Poisson drive, a Poisson group,
// heterogeneous delays, lognormal weights and STDP.
std::unique_ptr<Network> busy_network(std::uint64_t seed, std::size_t n = 1000) {
  auto net = std::make_unique<Network>(kDt, seed);
  LifParams p;
  p.tau_m = 20e-3;
  p.v_rest = -49e-3;
  p.v_th = -50e-3;
  p.v_reset = -60e-3;
  p.t_ref = 5e-3;
  p.v_init = Distribution::uniform(-60e-3, -50e-3);
  net->add<LifPopulation>("P", n, p);
  net->add<PoissonGroup>("X", 200, PoissonGroupParams{20.0, {}, 0.0});
  ProjectionSpec e;
  e.name = "Ce";
  e.source = "P";
  e.source_slice = {0, n * 4 / 5};
  e.target = "P";
  e.connector = FixedProbability{0.02, true};
  e.weight = Distribution::lognormal(std::log(1.62e-3), 0.3).clipped(0.0, 5e-3);
  e.delay = Distribution::uniform(0.1e-3, 3e-3);
  StdpParams stdp;
  stdp.a_plus = 0.01e-3;
  stdp.a_minus = 0.0105e-3;
  stdp.w_max = 5e-3;
  e.stdp = stdp;
  net->connect(e);
  ProjectionSpec i;
  i.name = "Ci";
  i.source = "P";
  i.source_slice = {n * 4 / 5, Slice::npos};
  i.target = "P";
  i.channel = "inh";
  i.connector = FixedInDegree{20, false};
  i.weight = Distribution::constant(-9e-3);
  net->connect(i);
  ProjectionSpec x;
  x.name = "Cx";
  x.source = "X";
  x.target = "P";
  x.connector = FixedOutDegree{10, true};
  x.weight = Distribution::normal(0.5e-3, 0.1e-3);
  net->connect(x);
  net->add_input(PoissonInputSpec{"drive", "P", {}, "exc", 50, 5.0, 0.1e-3, Dimension::volts()});
  net->record_spikes("spikes", "P");
  return net;
}

// A spike generator "g" driving n LIF neurons "n" at -70 mV through an instantaneous channel
// "jump": returns the spec of projection "c" from g to n, for the caller to finish and connect.
ProjectionSpec generator_into_jump(Network& net, std::size_t n, std::vector<SpikeEvent> spikes) {
  LifParams p;
  p.channels = {{"jump", 0.0}};
  p.v_init = Distribution::constant(-70e-3);
  net.add<LifPopulation>("n", n, p);
  net.add(std::make_unique<SpikeGenerator>("g", std::move(spikes)), 1);
  ProjectionSpec s;
  s.name = "c";
  s.source = "g";
  s.target = "n";
  s.channel = "jump";
  return s;
}
}  // namespace

TEST(Network, SameSeedSameSpikesForAnyThreadCount) {
  auto a = busy_network(42);
  auto b = busy_network(42);
  a->run(0.3, {1});
  b->run(0.3, {2});
  const auto& sa = *a->spike_monitors()[0];
  const auto& sb = *b->spike_monitors()[0];
  ASSERT_GT(sa.times.size(), 500u);
  EXPECT_EQ(sa.times, sb.times);
  EXPECT_EQ(sa.units, sb.units);
  const auto& wa = a->projection("Ce").weights();
  const auto& wb = b->projection("Ce").weights();
  ASSERT_EQ(wa.size(), wb.size());
  EXPECT_TRUE(std::equal(wa.begin(), wa.end(), wb.begin()));
}

TEST(Network, ThreeThreadsAndUnevenSizesAgreeToo) {
  auto a = busy_network(5, 333);
  auto b = busy_network(5, 333);
  a->run(0.2, {1});
  b->run(0.2, {3});
  EXPECT_EQ(a->spike_monitors()[0]->units, b->spike_monitors()[0]->units);
  EXPECT_EQ(a->spike_monitors()[0]->times, b->spike_monitors()[0]->times);
}

// RunOptions::fall_back: one thread and the requested threads each run a probe stretch, the
// faster one the rest; the spikes are those of one thread whatever it chose, and the choice is
// kept for the next run of the same network.
TEST(Network, FallingBackToOneThreadChangesNoSpikeAndIsKept) {
  auto a = busy_network(11);
  auto b = busy_network(11);
  a->run(0.2, {1});
  RunOptions o{2};
  o.fall_back = true;
  const RunStats first = b->run(0.1, o);  // 1000 steps: two probes of 125
  ASSERT_GT(first.one_thread_step_seconds, 0.0);
  ASSERT_GT(first.threads_step_seconds, 0.0);
  EXPECT_EQ(first.threads_used,
            first.one_thread_step_seconds < first.threads_step_seconds ? 1 : 2);
  const RunStats second = b->run(0.1, o);
  EXPECT_EQ(second.threads_used, first.threads_used);
  EXPECT_EQ(second.one_thread_step_seconds, first.one_thread_step_seconds);
  EXPECT_EQ(second.threads_step_seconds, first.threads_step_seconds);
  EXPECT_EQ(a->spike_monitors()[0]->times, b->spike_monitors()[0]->times);
  EXPECT_EQ(a->spike_monitors()[0]->units, b->spike_monitors()[0]->units);
  // Without fall_back, or in a run too short to probe, the requested threads run every step.
  auto c = busy_network(11);
  const RunStats fixed = c->run(0.05, {2});
  EXPECT_EQ(fixed.threads_used, 2);
  EXPECT_EQ(fixed.one_thread_step_seconds, 0.0);
  auto d = busy_network(11);
  const RunStats short_run = d->run(0.05, o);  // 500 steps
  EXPECT_EQ(short_run.threads_used, 2);
  EXPECT_EQ(short_run.one_thread_step_seconds, 0.0);
}

TEST(Network, DifferentSeedsDiffer) {
  auto a = busy_network(1);
  auto b = busy_network(2);
  a->run(0.1);
  b->run(0.1);
  EXPECT_NE(a->spike_monitors()[0]->units, b->spike_monitors()[0]->units);
}

TEST(Network, SplittingARunChangesNothing) {
  auto a = busy_network(9);
  auto b = busy_network(9);
  a->run(0.2);
  b->run(0.05);
  b->run(0.15);
  EXPECT_EQ(a->spike_monitors()[0]->times, b->spike_monitors()[0]->times);
  EXPECT_EQ(a->spike_monitors()[0]->units, b->spike_monitors()[0]->units);
}

TEST(Network, HeterogeneousDelaysArriveOnTheirStep) {
  Network net(kDt, 1);
  ProjectionSpec s = generator_into_jump(net, 3, {{1e-3, 0}});
  s.connector = AllToAll{};
  s.weight = Distribution::constant(1e-3);
  s.delay = Distribution::constant(2e-3);
  net.connect(s);
  s.name = "c2";
  s.delay = Distribution::uniform(0.5e-3, 4.5e-3);
  auto& c2 = net.connect(s);
  ASSERT_FALSE(c2.homogeneous_delay());
  auto& mon = net.record_state("v", "n", {"v"}, {0, 1, 2});
  net.run(0.01);
  // Emitted at step 10; delay d steps -> applied in step 10 + d -> visible at step 11 + d.
  for (std::size_t j = 0; j < 3; ++j) {
    const std::size_t d1 = 20, d2 = c2.delay_steps(j);
    auto v = [&](std::size_t step) { return mon.values[0][step * 3 + j]; };
    const std::size_t first = std::min(d1, d2), second = std::max(d1, d2);
    EXPECT_NEAR(v(10 + first), -70e-3, 1e-7);
    EXPECT_GT(v(11 + first), -70e-3 + 0.9e-3);
    if (first != second) EXPECT_LT(v(10 + second), -68.9e-3);
    EXPECT_GT(v(11 + second), -70e-3 + 1.8e-3);
  }
}

TEST(Network, PoissonInputDeliversExpectedMeanDrive) {
  Network net(kDt, 3);
  LifParams p;
  p.channels = {{"exc", 5e-3}};
  p.v_th = 1.0;  // never fires
  p.v_reset = 0.0;
  p.v_rest = 0.0;
  p.v_init = Distribution::constant(0.0);
  net.add<LifPopulation>("n", 500, p);
  // 1000 sources at 10 Hz, 0.1 mV each: lambda = 1 event per step. Sampled at the start of a
  // step (after that step's decay d), the mean is lambda w d / (1 - d) = 4.950 mV (5 mV in
  // continuous time).
  net.add_input(PoissonInputSpec{"pi", "n", {}, "exc", 1000, 10.0, 0.1e-3, Dimension::volts()});
  std::vector<std::uint32_t> idx(500);
  std::iota(idx.begin(), idx.end(), 0u);
  auto& mon = net.record_state("g", "n", {"exc"}, idx, 100);
  net.run(0.5);
  double mean = 0;
  std::size_t count = 0;
  for (std::size_t k = 10; k < mon.times.size(); ++k)
    for (std::size_t j = 0; j < 500; ++j, ++count) mean += mon.values[0][k * 500 + j];
  mean /= static_cast<double>(count);
  const double d = std::exp(-kDt / 5e-3);
  EXPECT_NEAR(mean, 1.0 * 0.1e-3 * d / (1 - d), 0.01e-3);
}

TEST(Network, PoissonGroupFiresAtItsRate) {
  Network net(kDt, 11);
  net.add<PoissonGroup>("x", 1000, PoissonGroupParams{25.0, {}, 0.0});
  net.add<PoissonGroup>("y", 1000, PoissonGroupParams{0.0, {0.0, 50.0}, 0.5});
  net.run(1.0);
  EXPECT_NEAR(static_cast<double>(net.spike_count("x")) / 1000.0, 25.0, 0.6);
  EXPECT_NEAR(static_cast<double>(net.spike_count("y")) / 1000.0, 25.0, 0.6);
}

TEST(Network, CurrentStepsAndTimedArrayDriveTheMembrane) {
  Network net(kDt, 1);
  LifParams p;
  p.R = 1e8;
  p.v_init = Distribution::constant(-70e-3);
  net.add<LifPopulation>("n", 2, p);
  CurrentInputSpec steps{"steps", "n", {0, 1}, {}, Dimension::amperes()};
  steps.series.kind = TimeSeries::Kind::kSteps;
  steps.series.times = {0.0, 0.05};
  steps.series.values = {0.0, 0.1e-9};
  net.add_input(steps);
  CurrentInputSpec arr{"arr", "n", {1, 1}, {}, Dimension::volts()};
  arr.series.kind = TimeSeries::Kind::kArray;
  arr.series.values = {5e-3, 0.0};
  arr.series.array_dt = 0.05;
  net.add_input(arr);
  auto& mon = net.record_state("v", "n", {"v"}, {0, 1});
  net.run(0.2);
  EXPECT_NEAR(mon.values[0][499 * 2 + 0], -70e-3, 1e-7);  // before the step
  EXPECT_NEAR(mon.values[0][1999 * 2 + 0], -60e-3, 0.1e-3);  // 10 mV after 7.5 tau
  EXPECT_NEAR(mon.values[0][499 * 2 + 1], -65e-3 - 5e-3 * std::exp(-0.0499 / 0.02), 1e-6);
  EXPECT_NEAR(mon.values[0][1999 * 2 + 1], -70e-3, 1e-5);  // array ended at 0: decays back
}

TEST(Network, RateMonitorBinsSpikes) {
  Network net(kDt, 4);
  net.add<PoissonGroup>("x", 2000, PoissonGroupParams{40.0, {}, 0.0});
  auto& r = net.record_rate("r", "x", 100);
  net.run(0.5);
  ASSERT_EQ(r.rates.size(), 50u);
  EXPECT_NEAR(r.times[1], 0.01, 1e-12);
  const double mean = std::accumulate(r.rates.begin(), r.rates.end(), 0.0) / 50.0;
  EXPECT_NEAR(mean, 40.0, 1.5);
  EXPECT_NEAR(mean * 2000 * 0.5, static_cast<double>(net.spike_count("x")), 1e-6);
}

TEST(Network, SynapsesAndNeuronsCanBeAddedAndRemovedBetweenRuns) {
  Network net(kDt, 1);
  ProjectionSpec s = generator_into_jump(net, 4, {{1e-3, 0}, {11e-3, 0}, {21e-3, 0}, {31e-3, 0}});
  s.connector = ExplicitList{{{0, 0}}};
  s.weight = Distribution::constant(30e-3);
  auto& c = net.connect(s);
  auto& spk = net.record_spikes("s", "n");
  net.run(0.01);
  EXPECT_EQ(spk.units, (std::vector<std::uint32_t>{0}));
  c.add_synapses({{0, 2}, {0, 3}}, 30e-3, 1e-4);
  EXPECT_EQ(c.synapse_count(), 3u);
  net.run(0.01);
  EXPECT_EQ(spk.units, (std::vector<std::uint32_t>{0, 0, 2, 3}));
  EXPECT_EQ(c.remove_synapses([](std::uint32_t, std::uint32_t post, float) { return post == 0; }), 1u);
  net.grow("n", 2);
  EXPECT_EQ(net.population("n").size(), 6u);
  c.add_synapses({{0, 5}}, 30e-3, 1e-4);
  net.run(0.01);
  EXPECT_EQ(std::vector<std::uint32_t>(spk.units.begin() + 4, spk.units.end()),
            (std::vector<std::uint32_t>{2, 3, 5}));
  // A longer delay added later enlarges the delay ring.
  c.add_synapses({{0, 1}}, 30e-3, 5e-3);
  net.run(0.01);
  EXPECT_EQ(std::vector<std::uint32_t>(spk.units.begin() + 7, spk.units.end()),
            (std::vector<std::uint32_t>{2, 3, 5, 1}));
}

// A projection whose weights are all equal delivers one shared number; a weight changed
// between runs must end that (regression guard for the per-run uniform-weight check).
TEST(Network, AWeightChangedBetweenRunsIsDeliveredEvenWhenAllWereEqual) {
  Network net(kDt, 1);
  ProjectionSpec s = generator_into_jump(net, 3, {{1e-3, 0}, {11e-3, 0}});
  s.connector = ExplicitList{{{0, 0}, {0, 1}, {0, 2}}};
  s.weight = Distribution::constant(30e-3);
  auto& c = net.connect(s);
  auto& spk = net.record_spikes("s", "n");
  net.run(0.01);
  EXPECT_EQ(spk.units, (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(c.events(), 3u);  // one spike through three synapses
  c.weights()[1] = 0.0f;
  net.run(0.01);
  EXPECT_EQ(std::vector<std::uint32_t>(spk.units.begin() + 3, spk.units.end()),
            (std::vector<std::uint32_t>{0, 2}));
  EXPECT_EQ(c.events(), 6u);
}

TEST(Network, RejectsBadReferencesAndNames) {
  Network net(kDt, 1);
  net.add<LifPopulation>("n", 4, LifParams{});
  ProjectionSpec s;
  s.name = "c";
  s.source = "nope";
  s.target = "n";
  try {
    net.connect(s);
    FAIL();
  } catch (const ParameterError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown population 'nope'"));
  }
  EXPECT_THROW(net.add<LifPopulation>("n", 4, LifParams{}), ParameterError);
  s.source = "n";
  s.channel = "dopamine";
  try {
    net.connect(s);
    FAIL();
  } catch (const ParameterError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no channel 'dopamine'"));
  }
  s.channel = "exc";
  s.weight_dim = Dimension::siemens();
  EXPECT_THROW(net.connect(s), ParameterError);
  EXPECT_THROW(net.run(-1.0), ParameterError);
}

TEST(Network, EventsInFlightSurviveAStructuralChange) {
  Network net(kDt, 1);
  LifParams p;
  p.channels = {{"jump", 0.0}};
  p.v_init = Distribution::constant(-70e-3);
  net.add<LifPopulation>("n", 2, p);
  net.add(std::make_unique<SpikeGenerator>("g", std::vector<SpikeEvent>{{8e-3, 0}}), 1);
  ProjectionSpec s;
  s.name = "c";
  s.source = "g";
  s.target = "n";
  s.channel = "jump";
  s.connector = ExplicitList{{{0, 0}}};
  s.weight = Distribution::constant(30e-3);
  s.delay = Distribution::constant(5e-3);
  auto& c = net.connect(s);
  auto& spk = net.record_spikes("s", "n");
  net.run(0.01);  // the spike at 8 ms is still travelling (arrives at 13 ms)
  EXPECT_TRUE(spk.times.empty());
  c.add_synapses({{0, 1}}, 30e-3, 9e-3);  // longer delay: the ring grows
  net.run(0.01);
  ASSERT_EQ(spk.times.size(), 1u);
  EXPECT_NEAR(spk.times[0], 13e-3, 1e-9);
}
