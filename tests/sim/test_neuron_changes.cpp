// Neurons removed and grown during a run: a removed neuron never spikes again and receives
// nothing (not even events already in flight), spikes before the change equal those of a run
// without it, growth connects new neurons by rule, results do not depend on the thread count,
// and impossible changes are refused with a clear message.
#include <gtest/gtest.h>

#include "volley/error.hpp"
#include "volley/models/lif.hpp"
#include "volley/models/sources.hpp"
#include "volley/network.hpp"

using namespace volley;

namespace {

std::unique_ptr<Network> driven(const std::vector<NeuronChange>& changes) {
  auto net = std::make_unique<Network>(1e-4, 11);
  LifParams p;
  p.tau_m = 10e-3;
  p.channels = {{"exc", 2e-3}, {"ext", 2e-3}};  // ext: the background only
  p.v_init = Distribution::uniform(-70e-3, -55e-3);
  net->add<LifPopulation>("E", 60, p);
  PoissonInputSpec in;
  in.name = "bg";
  in.target = "E";
  in.channel = "ext";
  in.n = 100;
  in.rate = 20.0;
  in.weight = 6e-3;  // mean drive ~24 mV above rest: fluctuation-driven firing
  net->add_input(in);
  ProjectionSpec s;
  s.name = "EE";
  s.source = "E";
  s.target = "E";
  s.connector = FixedProbability{0.1};
  s.weight = Distribution::constant(0.5e-3);
  s.delay = Distribution::constant(5e-3);
  net->connect(s);
  net->record_spikes("spikes", "E");
  net->record_state("g", "E", {"exc"}, {3});
  for (const auto& c : changes) net->schedule(c);
  return net;
}

NeuronChange removal(double t, std::vector<std::uint32_t> idx) {
  NeuronChange c;
  c.kind = NeuronChange::Kind::kRemove;
  c.time = t;
  c.population = "E";
  c.indices = std::move(idx);
  return c;
}

}  // namespace

TEST(NeuronChanges, RemovedNeuronsGoSilentAndDeaf) {
  auto plain = driven({});
  auto cut = driven({removal(0.2, {3, 7})});
  plain->run(0.5);
  cut->run(0.5);
  const auto& a = *plain->spike_monitors()[0];
  const auto& b = *cut->spike_monitors()[0];
  ASSERT_GT(a.times.size(), 200u);
  std::size_t before = 0;
  while (before < a.times.size() && a.times[before] < 0.2 - 1e-9) ++before;
  ASSERT_GE(b.times.size(), before);
  for (std::size_t k = 0; k < before; ++k) {  // identical up to the change
    EXPECT_EQ(a.times[k], b.times[k]);
    EXPECT_EQ(a.units[k], b.units[k]);
  }
  bool earlier = false;
  for (std::size_t k = 0; k < b.times.size(); ++k) {
    if (b.units[k] == 3 && b.times[k] < 0.2) earlier = true;
    if (b.times[k] >= 0.2) EXPECT_TRUE(b.units[k] != 3 && b.units[k] != 7) << b.times[k];
  }
  EXPECT_TRUE(earlier);  // neuron 3 did fire before it was removed
  // No synapse touches the removed neurons; its channel gets nothing after the change (the
  // ring entries in flight were cleared), so it only decays.
  const Projection& ee = cut->projection("EE");
  for (std::size_t i = 0; i < ee.pre_count(); ++i)
    for (std::uint64_t s = ee.row_ptr()[i]; s < ee.row_ptr()[i + 1]; ++s) {
      EXPECT_TRUE(i != 3 && i != 7);
      EXPECT_TRUE(ee.targets()[s] != 3 && ee.targets()[s] != 7);
    }
  const auto& g = *cut->state_monitors()[0];
  for (std::size_t k = 1; k < g.times.size(); ++k)
    if (g.times[k] > 0.2 + 1e-9) EXPECT_LE(g.values[0][k], g.values[0][k - 1] + 1e-12);
  EXPECT_EQ(cut->population("E").living(), 58u);
  const auto& h = cut->size_history("E");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_NEAR(h[1].time, 0.2, 1e-12);
  EXPECT_EQ(h[1].size, 60u);
  EXPECT_EQ(h[1].living, 58u);
}

TEST(NeuronChanges, GrowthConnectsNewNeuronsAndThreadsAgree) {
  NeuronChange grow;
  grow.kind = NeuronChange::Kind::kGrow;
  grow.time = 0.1;
  grow.population = "E";
  grow.n = 20;
  grow.connect = {{"EE", FixedProbability{0.5}}};
  NeuronChange cut = removal(0.25, {});
  cut.fraction = 0.25;
  auto one = driven({grow, cut});
  auto two = driven({grow, cut});
  const std::size_t before = one->projection("EE").synapse_count();
  one->run(0.4, {.threads = 1});
  two->run(0.4, {.threads = 2});
  EXPECT_EQ(one->population("E").size(), 80u);
  EXPECT_EQ(one->population("E").living(), 60u);  // 25 % of 80 removed at random
  EXPECT_EQ(one->spike_monitors()[0]->units, two->spike_monitors()[0]->units);
  EXPECT_EQ(one->spike_monitors()[0]->times, two->spike_monitors()[0]->times);
  EXPECT_EQ(one->projection("EE").row_ptr(), two->projection("EE").row_ptr());
  bool new_fired = false;
  for (auto u : one->spike_monitors()[0]->units) new_fired = new_fired || u >= 60;
  EXPECT_TRUE(new_fired);
  // The grown network had (80^2 - 60^2) new ordered pairs at p = 0.5 before the removal.
  auto only_grown = driven({grow});
  only_grown->run(0.15);
  const double added = static_cast<double>(only_grown->projection("EE").synapse_count() - before);
  EXPECT_NEAR(added, 0.5 * (80 * 80 - 60 * 60), 150.0);
}

TEST(NeuronChanges, ImpossibleChangesAreRefused) {
  Network net(1e-4, 1);
  net.add<LifPopulation>("E", 10, LifParams{});
  net.add(std::make_unique<SpikeGenerator>("G", std::vector<SpikeEvent>{{0.01, 0}}), 1);
  auto message = [](auto f) {
    try {
      f();
    } catch (const ParameterError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] { net.grow("G", 2); }).find("spike generator"), std::string::npos);
  EXPECT_NE(message([&] { net.remove_neurons("E", {12}); }).find("it has 10 neurons"),
            std::string::npos);
  net.remove_neurons("E", {1});
  EXPECT_NE(message([&] { net.remove_neurons("E", {1}); }).find("already removed"),
            std::string::npos);
  NeuronChange c = removal(-1.0, {2});
  EXPECT_NE(message([&] { net.schedule(c); }).find("before now"), std::string::npos);
  c = removal(0.1, {});
  c.fraction = 1.5;
  EXPECT_NE(message([&] { net.schedule(c); }).find("fraction"), std::string::npos);
  NeuronRule r;
  r.population = "E";
  r.name = "prune";
  EXPECT_NE(message([&] { net.add_neuron_rule(r); }).find("calcium"), std::string::npos);
}
