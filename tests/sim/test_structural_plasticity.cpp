// Homeostatic structural plasticity: growth-curve integration against fine forward Euler (NEST's
// scheme), calcium against its analytic sum, synapse creation and deletion against the element
// counts, thread determinism, and clear errors for impossible set-ups.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "volley/error.hpp"
#include "volley/models/lif.hpp"
#include "volley/models/sources.hpp"
#include "volley/network.hpp"

using namespace volley;

namespace {

// NEST's integration: forward Euler with step h, Ca decaying by Ca/tau per step.
double euler(const GrowthCurve& c, double z, double ca, double span, double tau, double h) {
  const auto n = static_cast<long>(std::llround(span / h));
  for (long k = 0; k < n; ++k) {
    ca -= ca / tau * h;
    z += h * c.growth_rate * c.shape(ca);
  }
  return std::max(z, 0.0);
}

LifParams quiet() {
  LifParams p;
  p.tau_m = 10e-3;
  p.v_rest = -70e-3;
  p.v_th = -55e-3;
  p.v_reset = -70e-3;
  p.R = 40e6;
  p.channels = {{"exc", 2e-3}, {"inh", 2e-3}};
  p.v_init = Distribution::constant(-70e-3);
  return p;
}

ProjectionSpec empty_projection(std::string name, std::string src, std::string tgt,
                                std::string channel, double w) {
  ProjectionSpec s;
  s.name = std::move(name);
  s.source = std::move(src);
  s.target = std::move(tgt);
  s.channel = std::move(channel);
  s.connector = FixedProbability{0.0};
  s.weight = Distribution::constant(w);
  s.weight_dim = Dimension::amperes();
  s.delay = Distribution::constant(1e-3);
  return s;
}

SynapticElementSpec element(std::string pop, std::string name, GrowthCurve c) {
  SynapticElementSpec e;
  e.population = std::move(pop);
  e.name = std::move(name);
  e.curve = c;
  return e;
}

GrowthCurve linear(double rate, double eps = 0.05) {
  GrowthCurve c;
  c.kind = GrowthCurveKind::kLinear;
  c.growth_rate = rate;
  c.eps = eps;
  return c;
}

// Out-degree and in-degree per neuron of a projection.
std::pair<std::vector<int>, std::vector<int>> degrees(const Projection& p) {
  std::vector<int> out(p.pre_count(), 0), in(p.post_count(), 0);
  for (std::size_t i = 0; i < p.pre_count(); ++i)
    for (std::uint64_t s = p.row_ptr()[i]; s < p.row_ptr()[i + 1]; ++s) {
      ++out[i];
      ++in[p.targets()[s] - p.post_begin()];
    }
  return {out, in};
}

}  // namespace

TEST(GrowthCurve, QuadratureMatchesFineEuler) {
  GrowthCurve g;
  g.kind = GrowthCurveKind::kGaussian;
  g.growth_rate = 0.1;
  g.eta = 0.0;
  g.eps = 0.05;
  GrowthCurve s;
  s.kind = GrowthCurveKind::kSigmoid;
  s.growth_rate = 0.3;
  s.eps = 0.05;
  s.psi = 0.01;
  for (const GrowthCurve& c : {g, s, linear(0.2)})
    for (const double ca : {0.0, 0.02, 0.05, 0.3})
      for (const double span : {1e-3, 0.25, 10.0}) {
        const double ref = euler(c, 3.0, ca, span, 10.0, span > 1.0 ? 1e-5 : 1e-6);
        EXPECT_NEAR(c.advance(3.0, ca, span, 10.0), ref, 1e-5 * std::max(1.0, span))
            << "ca " << ca << " span " << span;
      }
  // Zero crossings of the gaussian curve at eta and eps, maximum between.
  EXPECT_NEAR(g.shape(0.0), 0.0, 1e-12);
  EXPECT_NEAR(g.shape(0.05), 0.0, 1e-12);
  EXPECT_NEAR(g.shape(0.025), 1.0, 1e-12);
  EXPECT_NEAR(g.shape(10.0), -1.0, 1e-12);
  // z never goes negative.
  EXPECT_EQ(linear(-1.0).advance(0.5, 0.0, 10.0, 10.0), 0.0);
}

TEST(StructuralPlasticity, CalciumFollowsSpikesExactly) {
  Network net(1e-4, 1);
  const std::vector<SpikeEvent> ev{{0.01, 0}, {0.0505, 0}, {0.2, 0}, {0.2001, 0}};
  net.add(std::make_unique<SpikeGenerator>("g", ev), 1);
  StructuralPlasticitySpec spec;
  spec.update_interval = 0.3;
  spec.record_interval = 0.1;
  spec.calcium = {{"g", 0.5, 0.01}};
  net.enable_structural_plasticity(spec);
  net.run(0.3);
  const auto& rec = net.structural_plasticity()->recorded();
  ASSERT_EQ(rec.t.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    double ca = 0.0;
    // A spike in step s is stamped at the end of the step, (s + 1) dt (NEST's convention).
    for (const auto& e : ev)
      if (e.time + 1e-4 <= rec.t[k] + 1e-12) ca += 0.01 * std::exp(-(rec.t[k] - e.time - 1e-4) / 0.5);
    EXPECT_NEAR(rec.mean_ca[0][k], ca, 1e-12) << "t " << rec.t[k];
  }
}

// Without spikes Ca stays 0, so the linear curve grows every element by growth_rate per second:
// after the update at T, each neuron has floor(rate T) elements and the pairing makes
// min(sum of pre, sum of post) synapses, every connected count matching a synapse.
TEST(StructuralPlasticity, VacantElementsPairIntoSynapses) {
  Network net(1e-4, 3);
  net.add<LifPopulation>("A", 50, quiet());
  net.add<LifPopulation>("B", 30, quiet());
  net.connect(empty_projection("AB", "A", "B", "exc", 10e-12));
  net.connect(empty_projection("AA", "A", "A", "exc", 10e-12));
  StructuralPlasticitySpec spec;
  spec.update_interval = 1.0;
  spec.calcium = {{"A"}, {"B"}};
  spec.elements = {element("A", "axon", linear(3.0)), element("A", "den", linear(1.0)),
                   element("B", "den", linear(2.0))};
  spec.elements[0].tau_vacant = 0.0;
  spec.rules = {{"ex", "axon", "den", {"AB", "AA"}, false}};
  auto& sp = net.enable_structural_plasticity(spec);
  net.run(1.0);
  // Axons: 50 * 3 = 150 vacant; dendrites: 50 * 1 + 30 * 2 = 110: 110 pairs, minus autapses.
  const Projection& ab = net.projection("AB");
  const Projection& aa = net.projection("AA");
  const std::size_t made = ab.synapse_count() + aa.synapse_count();
  EXPECT_EQ(sp.created(), made);
  EXPECT_LE(made, 110u);
  EXPECT_GE(made, 100u);  // few of the 110 pairs are autapses
  const auto [ab_out, ab_in] = degrees(ab);
  const auto [aa_out, aa_in] = degrees(aa);
  for (std::size_t i = 0; i < 50; ++i) {
    EXPECT_LE(ab_out[i] + aa_out[i], 3);
    EXPECT_LE(aa_in[i], 1);
    for (std::uint64_t s = aa.row_ptr()[i]; s < aa.row_ptr()[i + 1]; ++s)
      EXPECT_NE(aa.targets()[s], i) << "autapse";
  }
  for (std::size_t j = 0; j < 30; ++j) EXPECT_LE(ab_in[j], 2);
  // The record's connected totals equal the synapses.
  const auto& rec = sp.recorded();
  ASSERT_EQ(rec.t.size(), 1u);
  EXPECT_EQ(rec.connected[0][0], made);  // A.axon
  EXPECT_EQ(rec.synapses[0][0] + rec.synapses[1][0], made);
}

// Elements that shrink delete synapses at random until no neuron has more synapses than
// floor(z); synapses present at the start count as connected elements.
TEST(StructuralPlasticity, LostElementsDeleteSynapses) {
  Network net(1e-4, 5);
  net.add<LifPopulation>("A", 40, quiet());
  auto spec_p = empty_projection("AA", "A", "A", "exc", 10e-12);
  spec_p.connector = FixedProbability{0.25};
  net.connect(spec_p);
  const std::size_t before = net.projection("AA").synapse_count();
  const auto [out0, in0] = degrees(net.projection("AA"));
  StructuralPlasticitySpec spec;
  spec.update_interval = 1.0;
  spec.calcium = {{"A"}};
  // The axon loses 4.5 elements per update, the dendrite keeps what it has.
  spec.elements = {element("A", "axon", linear(-4.5)), element("A", "den", linear(0.0))};
  spec.rules = {{"ex", "axon", "den", {"AA"}, true}};
  auto& sp = net.enable_structural_plasticity(spec);
  net.run(1.0);
  const Projection& aa = net.projection("AA");
  const auto [out1, in1] = degrees(aa);
  std::size_t expect_deleted = 0;
  for (std::size_t i = 0; i < 40; ++i) {
    // z started at the out-degree (+ fraction 0), fell by 4.5: floor leaves max(0, d - 5).
    const int keep = std::max(0, out0[i] - 5);
    EXPECT_EQ(out1[i], keep) << "neuron " << i;
    expect_deleted += static_cast<std::size_t>(out0[i] - keep);
    EXPECT_LE(in1[i], in0[i]);
  }
  EXPECT_EQ(sp.deleted(), expect_deleted);
  EXPECT_EQ(aa.synapse_count(), before - expect_deleted);
  // The freed dendrites are vacant but no axon is: nothing was created.
  EXPECT_EQ(sp.created(), 0u);
}

namespace {

// A small recurrent network that fires (Poisson drive) and rewires every 0.5 s.
std::unique_ptr<Network> firing_network(std::uint64_t seed) {
  auto net = std::make_unique<Network>(1e-4, seed);
  auto p = quiet();
  p.channels = {{"exc", 2e-3, true}, {"inh", 2e-3, true}};
  net->add<LifPopulation>("E", 80, p);
  net->add<LifPopulation>("I", 20, p);
  net->connect(empty_projection("EE", "E", "E", "exc", 300e-12));
  net->connect(empty_projection("EI", "E", "I", "exc", 300e-12));
  net->connect(empty_projection("IE", "I", "E", "inh", -300e-12));
  net->connect(empty_projection("II", "I", "I", "inh", -300e-12));
  for (const char* pop : {"E", "I"}) {
    PoissonInputSpec in;
    in.name = std::string("bg_") + pop;
    in.target = pop;
    in.n = 10000;
    in.rate = 1.0;
    in.weight = 6.2e-12;
    in.weight_dim = Dimension::amperes();
    net->add_input(in);
    net->record_spikes(std::string("s_") + pop, pop);
  }
  GrowthCurve g;
  g.kind = GrowthCurveKind::kGaussian;
  g.growth_rate = 2.0;
  g.eta = 0.0;
  g.eps = 0.05;
  StructuralPlasticitySpec spec;
  spec.update_interval = 0.5;
  spec.calcium = {{"E", 1.0, 0.01}, {"I", 1.0, 0.01}};
  spec.elements = {element("E", "Axon_ex", g), element("E", "Den_ex", g),
                   element("E", "Den_in", g), element("I", "Axon_in", g),
                   element("I", "Den_ex", g), element("I", "Den_in", g)};
  spec.rules = {{"ex", "Axon_ex", "Den_ex", {"EE", "EI"}, true},
                {"in", "Axon_in", "Den_in", {"IE", "II"}, true}};
  net->enable_structural_plasticity(spec);
  return net;
}

}  // namespace

TEST(StructuralPlasticity, SameSeedSameNetworkForAnyThreadCount) {
  auto one = firing_network(7), two = firing_network(7);
  one->run(3.0, {.threads = 1});
  two->run(3.0, {.threads = 2});
  const auto* sp = one->structural_plasticity();
  EXPECT_GT(sp->created(), 50u);  // the test means something only if synapses were made
  EXPECT_EQ(sp->created(), two->structural_plasticity()->created());
  EXPECT_EQ(sp->deleted(), two->structural_plasticity()->deleted());
  for (const char* name : {"EE", "EI", "IE", "II"}) {
    const Projection& a = one->projection(name);
    const Projection& b = two->projection(name);
    EXPECT_EQ(a.row_ptr(), b.row_ptr()) << name;
    ASSERT_EQ(a.synapse_count(), b.synapse_count()) << name;
    for (std::size_t s = 0; s < a.synapse_count(); ++s) ASSERT_EQ(a.targets()[s], b.targets()[s]);
  }
  for (std::size_t m = 0; m < 2; ++m) {
    EXPECT_EQ(one->spike_monitors()[m]->times, two->spike_monitors()[m]->times);
    EXPECT_EQ(one->spike_monitors()[m]->units, two->spike_monitors()[m]->units);
  }
  EXPECT_EQ(sp->recorded().mean_ca, two->structural_plasticity()->recorded().mean_ca);
  // A different seed rewires differently.
  auto other = firing_network(8);
  other->run(3.0);
  EXPECT_NE(other->projection("EI").row_ptr(), one->projection("EI").row_ptr());
}

TEST(StructuralPlasticity, RejectsImpossibleSetups) {
  auto make = [] {
    auto net = std::make_unique<Network>(1e-4, 1);
    net->add<LifPopulation>("A", 10, quiet());
    net->add<LifPopulation>("B", 10, quiet());
    net->connect(empty_projection("AB", "A", "B", "exc", 1e-12));
    net->connect(empty_projection("AA", "A", "A", "exc", 1e-12));
    return net;
  };
  auto base = [] {
    StructuralPlasticitySpec s;
    s.calcium = {{"A"}, {"B"}};
    s.elements = {element("A", "axon", linear(1.0)), element("B", "den", linear(1.0))};
    s.rules = {{"r", "axon", "den", {"AB"}, true}};
    return s;
  };
  auto fails_with = [&](StructuralPlasticitySpec s, const std::string& text) {
    auto net = make();
    try {
      net->enable_structural_plasticity(s);
      net->run(0.01);
      ADD_FAILURE() << "accepted; expected an error containing '" << text << "'";
    } catch (const ParameterError& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  {
    auto net = make();
    EXPECT_NO_THROW(net->enable_structural_plasticity(base()));
    EXPECT_THROW(net->enable_structural_plasticity(base()), ParameterError);  // twice
  }
  auto s = base();
  s.update_interval = 0.0;
  fails_with(s, "update_interval");
  s = base();
  s.update_interval = 1.5e-4;  // not a whole number of steps
  fails_with(s, "whole number of steps");
  s = base();
  s.calcium[1].population = "C";
  fails_with(s, "unknown population 'C'");
  s = base();
  s.elements.push_back(element("C", "x", linear(1.0)));
  fails_with(s, "unknown population 'C'");
  s = base();
  s.calcium.pop_back();
  fails_with(s, "no calcium table");
  s = base();
  s.elements[0].curve.kind = GrowthCurveKind::kGaussian;
  s.elements[0].curve.eta = 0.1;
  s.elements[0].curve.eps = 0.05;
  fails_with(s, "eta < eps");
  s = base();
  s.rules[0].projections = {"XY"};
  fails_with(s, "unknown projection 'XY'");
  s = base();
  s.rules[0].projections = {"AA"};  // A has no dendrite
  fails_with(s, "has no element 'den'");
  s = base();
  s.elements.push_back(element("A", "den", linear(1.0)));  // A->A now possible but not listed
  fails_with(s, "no projection from 'A' (has axon) to 'A' (has den)");
  s = base();
  s.rules[0].post_element = "spine";
  fails_with(s, "no population has the post element 'spine'");
  s = base();
  s.elements[1].tau_vacant = 1.5;
  fails_with(s, "tau_vacant");
  {
    // A projection with distributed weights cannot tell what weight a new synapse gets.
    auto net = make();
    auto p = empty_projection("AB2", "A", "B", "inh", 1e-12);
    p.weight = Distribution::uniform(0.0, 1e-12);
    net->connect(p);
    auto s2 = base();
    s2.rules[0].projections = {"AB2"};
    EXPECT_THROW(net->enable_structural_plasticity(s2), ParameterError);
  }
}
