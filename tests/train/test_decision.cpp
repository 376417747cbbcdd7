// Decisions in time (train/decision.hpp): the step-by-step score gives, at the last step, exactly
// the prediction of the loss on a full forward pass; early exit really stops (fewer synaptic
// operations, counted independently from the forward records); results do not depend on threads.
#include <gtest/gtest.h>

#include "support/toy_events.hpp"
#include "volley/error.hpp"
#include "volley/train/decision.hpp"
#include "volley/train/loss.hpp"
#include "volley/train/net.hpp"

namespace vt = volley::train;

namespace {

// Synaptic operations of one sample from a full forward record: every input event and spike
// times the row it adds (next layer, and the layer itself when recurrent, for all but the last
// step's spikes, which have no next step to be delivered in).
double synops_from_record(const vt::Net& net, const volley::data::SampleEvents& ev,
                          const vt::SampleRecord& rec) {
  auto row = [](const vt::WeightLayout& W, std::uint32_t i) {
    return static_cast<double>(W.dense ? W.n_post : W.row_ptr[i + 1] - W.row_ptr[i]);
  };
  const auto& c = net.config();
  double n = 0.0;
  for (std::uint32_t u : ev.units) n += row(net.input_weights(0), u);
  for (std::size_t l = 0; l + 1 <= c.layers.size(); ++l) {
    if (!net.spiking(l)) continue;
    const auto& r = rec.layers[l];
    for (std::size_t t = 0; t < c.n_steps; ++t)
      for (std::uint32_t e = r.off[t]; e < r.off[t + 1]; ++e) {
        if (l + 1 < c.layers.size()) n += row(net.input_weights(l + 1), r.idx[e]);
        if (c.layers[l].recurrent && t + 1 < c.n_steps) n += row(net.recurrent_weights(l), r.idx[e]);
      }
  }
  return n;
}

}  // namespace

TEST(Decisions, LastStepEqualsTheLossAndEarlyExitReallyStops) {
  const auto data = volley::test::toy_data(60, 5);
  for (const bool recurrent : {false, true}) {
    SCOPED_TRACE(recurrent ? "recurrent" : "feed-forward");
    const vt::Net net(volley::test::toy_net(25, recurrent));
    const vt::LossConfig loss;  // max_ce
    vt::DecisionOptions o;
    const vt::DecisionStats full = vt::evaluate_decisions(net, loss, data, o);

    // The decision at the last step is the loss's prediction on a full forward pass, and the
    // synaptic operations are those the forward records imply.
    vt::Workspace ws;
    vt::SampleRecord rec;
    volley::data::SampleEvents ev;
    std::size_t correct = 0;
    double synops = 0.0;
    for (std::size_t s = 0; s < data.size(); ++s) {
      data.fill(s, 0, ev);
      net.forward(ev, rec, ws, false);
      correct += vt::sample_loss(loss, net, rec, data.label(s), 1.0f, nullptr).predicted ==
                 data.label(s);
      synops += synops_from_record(net, ev, rec);
    }
    const double n = static_cast<double>(data.size());
    EXPECT_DOUBLE_EQ(full.accuracy, static_cast<double>(correct) / n);
    EXPECT_DOUBLE_EQ(full.accuracy_at_step.back(), full.accuracy);
    EXPECT_NEAR(full.synops_per_sample, synops / n, 1e-9 * synops);
    EXPECT_GT(full.synops_per_sample, 100.0);
    EXPECT_DOUBLE_EQ(full.synops_by_step.back(), full.synops_per_sample);
    EXPECT_DOUBLE_EQ(full.mean_decision_step, 30.0);

    // A margin no softmax exceeds (p1 − p2 <= 1) changes nothing; a small one stops early and
    // spends less.
    o.margin = 1.0;
    const vt::DecisionStats never = vt::evaluate_decisions(net, loss, data, o);
    EXPECT_EQ(never.accuracy, full.accuracy);
    EXPECT_EQ(never.synops_per_sample, full.synops_per_sample);
    o.margin = 0.05;
    const vt::DecisionStats early = vt::evaluate_decisions(net, loss, data, o);
    EXPECT_LT(early.mean_decision_step, 25.0);
    EXPECT_LT(early.synops_per_sample, full.synops_per_sample);
    EXPECT_TRUE(early.accuracy_at_step.empty());

    // Threads do not change anything.
    o.threads = 2;
    const vt::DecisionStats early2 = vt::evaluate_decisions(net, loss, data, o);
    EXPECT_EQ(early2.accuracy, early.accuracy);
    EXPECT_EQ(early2.mean_decision_step, early.mean_decision_step);
    EXPECT_EQ(early2.synops_per_sample, early.synops_per_sample);
  }
}

TEST(Decisions, RefusesDataThatDoNotFit) {
  const auto data = volley::test::bernoulli_data(7, 30, 2, 4, 1);
  const vt::Net net(volley::test::toy_net(10));
  try {
    vt::evaluate_decisions(net, {}, data, {});
    ADD_FAILURE() << "7 inputs accepted by a 20-input network";
  } catch (const volley::ParameterError& e) {
    EXPECT_NE(std::string(e.what()).find("7 inputs"), std::string::npos) << e.what();
  }
}

// Per-layer counts add up to the totals, spikes equal the forward records', and the energy lines
// follow the stated assumptions.
TEST(Decisions, EnergyFollowsTheCountsAndAssumptions) {
  const auto data = volley::test::toy_data(30, 9);
  const vt::Net net(volley::test::toy_net(25, true));
  const vt::DecisionStats d = vt::evaluate_decisions(net, {}, data, {});
  ASSERT_EQ(d.layers.size(), 2u);
  EXPECT_NEAR(d.layers[0].synops + d.layers[1].synops, d.synops_per_sample,
              1e-9 * d.synops_per_sample);
  vt::Workspace ws;
  vt::SampleRecord rec;
  volley::data::SampleEvents ev;
  double spikes = 0.0;
  for (std::size_t s = 0; s < data.size(); ++s) {
    data.fill(s, 0, ev);
    net.forward(ev, rec, ws, false);
    spikes += static_cast<double>(rec.layers[0].idx.size());
  }
  EXPECT_NEAR(d.layers[0].spikes, spikes / static_cast<double>(data.size()), 1e-9 * spikes);
  EXPECT_GT(d.layers[0].spikes, 1.0);
  EXPECT_EQ(d.layers[0].neuron_updates, 25.0 * 30.0);

  vt::EnergyAssumptions a;
  a.pj_accumulate = 2.0;
  a.pj_mac = 7.0;
  a.pj_sram_32bit = 3.0;
  const auto e = vt::estimate_energy(net, d, 4, a);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_DOUBLE_EQ(e[0].snn_arithmetic_pj, 2.0 * d.layers[0].synops);
  EXPECT_DOUBLE_EQ(e[0].ann_macs, 4.0 * (20.0 * 25.0 + 25.0 * 25.0));  // input + recurrent, 4 passes
  EXPECT_DOUBLE_EQ(e[1].ann_macs, 4.0 * 25.0 * 2.0);
  EXPECT_DOUBLE_EQ(e[0].ann_arithmetic_pj, 7.0 * e[0].ann_macs);
  EXPECT_DOUBLE_EQ(e[0].ann_memory_pj, 3.0 * e[0].ann_macs);
  // Synaptic operations: weight read + read-modify-write of the input (3 accesses); neuron updates:
  // read and write of the input current, mem and syn (a LIF layer with a synapse: 3 states).
  EXPECT_DOUBLE_EQ(e[0].snn_memory_pj,
                   3.0 * (3.0 * d.layers[0].synops + 6.0 * d.layers[0].neuron_updates));
}
