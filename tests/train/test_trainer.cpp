// Trainer: learning happens, results do not depend on the thread count, optimisers follow
// PyTorch's update rules, and a NaN stops an epoch.
#include <gtest/gtest.h>

#include <cmath>

#include "support/thread_comm.hpp"
#include "support/toy_events.hpp"
#include "volley/error.hpp"
#include "volley/rng.hpp"
#include "volley/train/trainer.hpp"

namespace vt = volley::train;

namespace {

using volley::test::toy_data;

vt::NetConfig toy_net(bool recurrent = false) { return volley::test::toy_net(16, recurrent); }

// `comm`: data-parallel over its processes (Trainer::distribute).
std::vector<vt::Param> train(int threads, int epochs, bool recurrent, double* acc = nullptr,
                             volley::Communicator* comm = nullptr,
                             vt::GradientKind gradient = vt::GradientKind::bptt) {
  const auto data = toy_data(200, 3);
  vt::Net net(toy_net(recurrent));
  vt::TrainSettings st;
  st.threads = threads;
  st.batch_size = 40;
  st.chunk = 8;
  st.gradient = gradient;
  vt::OptimizerConfig opt;
  opt.lr = 5e-3;
  vt::LossConfig loss;
  if (gradient == vt::GradientKind::eprop) loss.kind = vt::LossKind::mean_ce;  // online loss
  vt::Trainer trainer(net, loss, opt, st);
  if (comm) trainer.distribute(*comm);
  for (int e = 0; e < epochs; ++e) trainer.train_epoch(data, e);
  if (acc) *acc = trainer.evaluate(data).accuracy;
  return net.params();
}

}  // namespace

TEST(Trainer, LearnsASimpleSpikePatternTask) {
  double before = 0.0, after = 0.0;
  train(1, 0, false, &before);
  train(1, 15, false, &after);
  EXPECT_GT(after, 0.95) << "before training: " << before;
  EXPECT_GT(after, before + 0.2);
}

TEST(Trainer, OneAndTwoThreadsGiveIdenticalWeights) {
  for (bool recurrent : {false, true}) {
    const auto a = train(1, 2, recurrent);
    const auto b = train(2, 2, recurrent);
    const auto c = train(3, 2, recurrent);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
      EXPECT_EQ(a[k].value, b[k].value) << a[k].name;
      EXPECT_EQ(a[k].value, c[k].value) << a[k].name;
    }
  }
}

// Processes played by threads (tests/support/thread_comm.hpp): each takes a share of every
// batch's 5 chunks (1 to 3 processes: some take none or one), and the gradients, losses and
// the evaluation are merged in rank order: the weights of one process, bit for bit.
TEST(Trainer, DataParallelProcessesGiveTheWeightsOfOne) {
  for (auto gradient : {vt::GradientKind::bptt, vt::GradientKind::eprop}) {
    double acc_one = 0.0;
    const auto one = train(1, 2, false, &acc_one, nullptr, gradient);
    for (int ranks : {2, 3, 6}) {
      std::vector<std::vector<vt::Param>> got(static_cast<std::size_t>(ranks));
      std::vector<double> acc(static_cast<std::size_t>(ranks));
      const auto errors = volley::test_support::run_ranks(ranks, [&](volley::Communicator& comm) {
        const auto r = static_cast<std::size_t>(comm.rank());
        got[r] = train(comm.rank() % 2 + 1, 2, false, &acc[r], &comm, gradient);
      });
      for (int r = 0; r < ranks; ++r) {
        const auto k = static_cast<std::size_t>(r);
        ASSERT_EQ(errors[k], "");
        EXPECT_EQ(acc[k], acc_one);
        for (std::size_t p = 0; p < one.size(); ++p)
          EXPECT_EQ(got[k][p].value, one[p].value) << one[p].name << ", " << ranks << " processes";
      }
    }
  }
}

TEST(Trainer, NanStopsTheEpochWithoutUpdating) {
  const auto data = toy_data(80, 1);
  vt::Net net(toy_net());
  // A NaN in the readout's leak: every sample's output is NaN.
  for (auto& p : net.params())
    if (p.name == "layer1.beta") p.value[0] = std::nanf("");
  const auto before = net.params();
  vt::TrainSettings st;
  st.batch_size = 40;
  vt::Trainer trainer(net, vt::LossConfig{}, vt::OptimizerConfig{}, st);
  const vt::EpochStats s = trainer.train_epoch(data, 0);
  EXPECT_FALSE(s.finite);
  for (std::size_t k = 0; k < before.size(); ++k)
    if (before[k].name != "layer1.beta") EXPECT_EQ(before[k].value, net.params()[k].value);
}

TEST(Optimizer, AdamMatchesPyTorchsFirstSteps) {
  // One parameter, constant gradient g: Adam's bias-corrected first step is lr·sign(g)
  // (m̂ = g, v̂ = g²), and the k-th step too while the gradient is constant.
  std::vector<vt::Param> p{{"x", {1.0f, -2.0f}, true}};
  vt::OptimizerConfig c;
  c.lr = 0.1;
  vt::Optimizer opt(c, p);
  const std::vector<std::vector<float>> g{{0.5f, -3.0f}};
  opt.step(p, g, c.lr, 1);
  EXPECT_NEAR(p[0].value[0], 0.9f, 1e-6);
  EXPECT_NEAR(p[0].value[1], -1.9f, 1e-6);
  opt.step(p, g, c.lr, 1);
  EXPECT_NEAR(p[0].value[0], 0.8f, 1e-5);
}

// A parameter's lr_scale (the time constants' tau_lr_scale) scales its steps, for every optimiser;
// the other parameters are untouched by it.
TEST(Optimizer, LearningRateScalePerParameter) {
  for (auto kind : {vt::OptimizerKind::adam, vt::OptimizerKind::adamax, vt::OptimizerKind::sgd}) {
    std::vector<vt::Param> p{{"w", {1.0f}, true}, {"beta", {0.5f}, true, 0.1}};
    vt::OptimizerConfig c;
    c.kind = kind;
    c.lr = 0.01;
    vt::Optimizer opt(c, p);
    opt.step(p, {{1.0f}, {1.0f}}, c.lr, 1);
    const float dw = 1.0f - p[0].value[0], db = 0.5f - p[1].value[0];
    EXPECT_GT(dw, 0.0f);
    EXPECT_NEAR(db, 0.1f * dw, 1e-6f) << vt::optimizer_name(kind);
  }
}

TEST(Optimizer, SgdMomentumAndWeightDecay) {
  std::vector<vt::Param> p{{"x", {1.0f}, true}};
  vt::OptimizerConfig c;
  c.kind = vt::OptimizerKind::sgd;
  c.lr = 0.1;
  c.momentum = 0.5;
  c.weight_decay = 0.1;
  vt::Optimizer opt(c, p);
  const std::vector<std::vector<float>> g{{1.0f}};
  opt.step(p, g, c.lr, 1);  // b = 1 + 0.1·1 = 1.1 → x = 0.89
  EXPECT_NEAR(p[0].value[0], 0.89f, 1e-6);
  opt.step(p, g, c.lr, 1);  // g' = 1.089, b = 0.55 + 1.089 = 1.639 → x = 0.7261
  EXPECT_NEAR(p[0].value[0], 0.7261f, 1e-5);
}

TEST(Optimizer, AdamaxAndSchedules) {
  std::vector<vt::Param> p{{"x", {0.0f}, true}};
  vt::OptimizerConfig c;
  c.kind = vt::OptimizerKind::adamax;
  c.lr = 0.01;
  vt::Optimizer opt(c, p);
  opt.step(p, {{2.0f}}, c.lr, 1);  // m = 0.2, u = 2, step lr/(1−0.9)·0.2/2 = lr
  EXPECT_NEAR(p[0].value[0], -0.01f, 1e-6);
  c.schedule = vt::Schedule::step;
  c.step_size = 10;
  c.gamma = 0.5;
  EXPECT_DOUBLE_EQ(c.lr_at(9, 30), 0.01);
  EXPECT_DOUBLE_EQ(c.lr_at(10, 30), 0.005);
  c.schedule = vt::Schedule::cosine;
  c.lr_min = 0.001;
  EXPECT_DOUBLE_EQ(c.lr_at(0, 30), 0.01);
  EXPECT_NEAR(c.lr_at(15, 30), 0.0055, 1e-12);
  c.lr = -1;
  EXPECT_THROW(c.validate(), volley::ParameterError);
}

TEST(Net, RejectsImpossibleConfigurations) {
  vt::NetConfig c = toy_net();
  c.layers[0].tau_mem = -1;
  EXPECT_THROW(vt::Net{c}, volley::ParameterError);
  c = toy_net();
  c.layers[0].density = 0.0;
  EXPECT_THROW(vt::Net{c}, volley::ParameterError);
  c = toy_net();
  c.layers[0].kind = vt::LayerKind::readout;
  EXPECT_THROW(vt::Net{c}, volley::ParameterError);  // readout not last
  c = toy_net();
  c.layers[1].recurrent = true;
  EXPECT_THROW(vt::Net{c}, volley::ParameterError);
}

TEST(Net, SparseConnectivityStoresOnlyExistingSynapses) {
  vt::NetConfig c = toy_net();
  c.n_inputs = 1000;
  c.layers[0].size = 500;
  c.layers[0].density = 0.1;
  vt::Net net(c);
  const auto& W = net.input_weights(0);
  EXPECT_FALSE(W.dense);
  EXPECT_NEAR(static_cast<double>(W.size()) / (1000.0 * 500.0), 0.1, 0.005);
  EXPECT_EQ(net.params()[W.param].value.size(), W.size());
}
