// Deep R (train/rewiring.hpp): synapses whose θ crosses zero go dormant and exactly as many
// dormant ones come alive, signs never change, values and optimiser state follow their
// synapses, the L1 term and the noise act as stated, training keeps the budget and is the same
// for any thread count, and checkpoints carry the rewired patterns.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "support/error_of.hpp"
#include "support/temp_dir.hpp"
#include "support/toy_events.hpp"
#include "volley/error.hpp"
#include "volley/train/checkpoint.hpp"
#include "volley/train/rewiring.hpp"
#include "volley/train/runner.hpp"
#include "volley/train/trainer.hpp"

namespace vt = volley::train;
using ::testing::HasSubstr;
using volley::test::error_of;

namespace {

vt::NetConfig sparse_net(double density = 0.25, bool recurrent = false) {
  vt::NetConfig c = volley::test::toy_net(16, recurrent);
  c.layers[0].density = density;
  if (recurrent) c.layers[0].recurrent_density = 0.3;
  return c;
}

vt::RewiringConfig deep_r(double l1 = 0.0, double temperature = 0.0,
                          vt::L1Mode mode = vt::L1Mode::gradient) {
  vt::RewiringConfig r;
  r.kind = vt::RewiringKind::deep_r;
  r.l1 = l1;
  r.temperature = temperature;
  r.l1_mode = mode;
  return r;
}

// (row, column) -> weight of a CSR matrix.
std::map<std::pair<std::uint32_t, std::uint32_t>, float> synapses(const vt::Net& net,
                                                                  const vt::WeightLayout& W) {
  std::map<std::pair<std::uint32_t, std::uint32_t>, float> out;
  const auto& w = net.params()[W.param].value;
  for (std::uint32_t i = 0; i < W.n_pre; ++i)
    for (std::uint32_t k = W.row_ptr[i]; k < W.row_ptr[i + 1]; ++k) out[{i, W.cols[k]}] = w[k];
  return out;
}

}  // namespace

TEST(DeepR, SynapsesCrossingZeroGoDormantAndAsManyComeAlive) {
  vt::Net net(sparse_net());
  vt::OptimizerConfig oc;
  vt::Optimizer opt(oc, net.params());
  vt::DeepR r(deep_r(), net);
  ASSERT_EQ(r.matrices().size(), 1u);
  const vt::DeepR::Matrix& m = r.matrices()[0];
  const vt::WeightLayout& W = net.input_weights(0);
  EXPECT_EQ(m.name, "layer0.w");
  EXPECT_EQ(m.active, W.cols.size());
  EXPECT_EQ(m.potential, 20u * 16u);

  // Every active synapse carries its fixed sign.
  for (const auto& [ij, w] : synapses(net, W))
    EXPECT_EQ(std::signbit(w), r.sign(m, ij.first, ij.second) < 0) << ij.first << "," << ij.second;

  // Flip the weights of the first 5 synapses against their signs (θ < 0), and mark every
  // synapse's optimiser state with its position.
  auto& w = net.params()[W.param].value;
  std::set<std::pair<std::uint32_t, std::uint32_t>> flipped;
  std::map<std::pair<std::uint32_t, std::uint32_t>, float> state;
  const auto before = synapses(net, W);
  {
    std::size_t k = 0;
    for (std::uint32_t i = 0; i < W.n_pre; ++i)
      for (std::uint32_t q = W.row_ptr[i]; q < W.row_ptr[i + 1]; ++q, ++k) {
        opt.m()[W.param][q] = 1.0f + static_cast<float>(k);
        state[{i, W.cols[q]}] = 1.0f + static_cast<float>(k);
        if (k < 5) {
          w[q] = -w[q];
          flipped.insert({i, W.cols[q]});
        }
      }
  }
  const std::size_t budget = W.cols.size();
  r.rewire(net, opt, 1e-3, 1);
  const auto after = synapses(net, W);
  EXPECT_EQ(W.cols.size(), budget);
  EXPECT_EQ(net.params()[W.param].value.size(), budget);
  EXPECT_EQ(r.matrices()[0].rewired, 5u);
  std::size_t kept = 0, born = 0;
  for (const auto& [ij, value] : after) {
    if (before.count(ij) && !flipped.count(ij)) {
      ++kept;
      EXPECT_EQ(value, before.at(ij));  // l1 = 0, T = 0: unchanged
      const auto q = static_cast<std::size_t>(std::distance(after.begin(), after.find(ij)));
      EXPECT_EQ(opt.m()[W.param][q], state.at(ij)) << "the state follows its synapse";
    } else {
      ++born;
      EXPECT_EQ(value, 0.0f) << "a new synapse starts at θ = reset_value = 0";
      const auto q = static_cast<std::size_t>(std::distance(after.begin(), after.find(ij)));
      EXPECT_EQ(opt.m()[W.param][q], 0.0f);
      EXPECT_EQ(opt.v()[W.param][q], 0.0f);
    }
  }
  EXPECT_EQ(kept, budget - 5);
  EXPECT_EQ(born, 5u);
  for (const auto& ij : flipped)
    if (after.count(ij)) EXPECT_EQ(after.at(ij), 0.0f) << "pruned, then drawn again: fresh";
}

TEST(DeepR, TheL1TermShrinksAndTheNoiseSpreadsTheParameters) {
  vt::Net net(sparse_net());
  vt::Optimizer opt(vt::OptimizerConfig{}, net.params());
  vt::DeepR r(deep_r(0.5, 0.0, vt::L1Mode::update), net);
  const vt::WeightLayout& W = net.input_weights(0);
  const auto before = synapses(net, W);
  const double lr = 1e-3;  // θ shrinks by lr·l1 = 5e-4
  r.rewire(net, opt, lr, 1);
  for (const auto& [ij, w] : synapses(net, W)) {
    if (!before.count(ij) || std::abs(before.at(ij)) <= 5e-4f) continue;
    EXPECT_NEAR(std::abs(w), std::abs(before.at(ij)) - 5e-4, 1e-6);
    EXPECT_EQ(std::signbit(w), std::signbit(before.at(ij)));
  }

  // Noise alone (T): the change of θ has std sqrt(2·lr·T).
  vt::Net net2(sparse_net(0.9));
  vt::Optimizer opt2(vt::OptimizerConfig{}, net2.params());
  const double T = 2.0;  // std = sqrt(2e-3 · 2) ≈ 0.063
  vt::DeepR r2(deep_r(0.0, T), net2);
  const vt::WeightLayout& W2 = net2.input_weights(0);
  for (auto& x : net2.params()[W2.param].value) x = std::copysign(10.0f, x);  // none crosses 0
  const auto b2 = synapses(net2, W2);
  r2.rewire(net2, opt2, lr, 7);
  double sum = 0.0, sq = 0.0;
  std::size_t n = 0;
  for (const auto& [ij, w] : synapses(net2, W2)) {
    const double d = std::abs(w) - std::abs(b2.at(ij));
    sum += d;
    sq += d * d;
    ++n;
  }
  const double mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
  EXPECT_NEAR(sd, std::sqrt(2 * lr * T), 0.15 * std::sqrt(2 * lr * T)) << n << " synapses";
  EXPECT_NEAR(mean, 0.0, 4 * std::sqrt(2 * lr * T) / std::sqrt(static_cast<double>(n)));
}

TEST(DeepR, TheL1TermInTheGradientIsTheUpdateTermWithSgdAndShrinksUnneededSynapsesWithAdam) {
  // l1_mode = gradient adds l1·s_k to the gradient of each active synapse, nothing elsewhere.
  vt::Net net(sparse_net());
  vt::DeepR r(deep_r(0.25), net);
  const vt::DeepR::Matrix& m = r.matrices()[0];
  const vt::WeightLayout& W = net.input_weights(0);
  auto grads = net.zero_grads();
  for (auto& g : grads) std::fill(g.begin(), g.end(), 0.5f);
  r.add_l1_gradient(net, grads);
  for (std::size_t p = 0; p < grads.size(); ++p)
    for (std::size_t k = 0; k < grads[p].size(); ++k) {
      if (p != W.param) {
        ASSERT_EQ(grads[p][k], 0.5f) << net.params()[p].name;
        continue;
      }
      const auto i = static_cast<std::uint32_t>(
          std::upper_bound(W.row_ptr.begin(), W.row_ptr.end(), k) - W.row_ptr.begin() - 1);
      ASSERT_EQ(grads[p][k], 0.5f + 0.25f * r.sign(m, i, W.cols[k])) << k;
    }
  // The update mode adds nothing to the gradient.
  auto g2 = net.zero_grads();
  vt::DeepR(deep_r(0.25, 0.0, vt::L1Mode::update), net).add_l1_gradient(net, g2);
  for (const auto& g : g2)
    for (float x : g) ASSERT_EQ(x, 0.0f);

  // With plain SGD both modes move θ by −lr·l1 (no loss gradient here).
  vt::OptimizerConfig sgd;
  sgd.kind = vt::OptimizerKind::sgd;
  sgd.momentum = 0.0;
  const double lr = 1e-3;
  std::map<vt::L1Mode, std::map<std::pair<std::uint32_t, std::uint32_t>, float>> after;
  for (const vt::L1Mode mode : {vt::L1Mode::gradient, vt::L1Mode::update}) {
    vt::Net n2(sparse_net());
    for (auto& x : n2.params()[n2.input_weights(0).param].value) x = std::copysign(1.0f, x);
    vt::Optimizer opt(sgd, n2.params());
    vt::DeepR dr(deep_r(0.5, 0.0, mode), n2);
    auto g = n2.zero_grads();
    dr.add_l1_gradient(n2, g);
    opt.step(n2.params(), g, lr, 1);
    dr.rewire(n2, opt, lr, opt.steps());
    after[mode] = synapses(n2, n2.input_weights(0));
    for (const auto& [ij, w] : after[mode]) ASSERT_NEAR(std::abs(w), 1.0 - 5e-4, 1e-6);
  }
  EXPECT_EQ(after[vt::L1Mode::gradient], after[vt::L1Mode::update]);

  // With Adam, a synapse the loss does not need shrinks by ≈ lr per update whatever l1 is, so it
  // goes dormant after about |θ|/lr updates; in the update mode it shrinks by lr·l1 only.
  for (const vt::L1Mode mode : {vt::L1Mode::gradient, vt::L1Mode::update})
    for (const double l1 : {1e-3, 0.1}) {
      vt::Net n3(sparse_net());
      const vt::WeightLayout& W3 = n3.input_weights(0);
      for (auto& x : n3.params()[W3.param].value) x = std::copysign(0.01f, x);
      vt::Optimizer opt(vt::OptimizerConfig{}, n3.params());
      vt::DeepR dr(deep_r(l1, 0.0, mode), n3);
      const double per_update = mode == vt::L1Mode::gradient ? lr : lr * l1;
      auto update = [&] {
        auto g = n3.zero_grads();
        dr.add_l1_gradient(n3, g);
        opt.step(n3.params(), g, lr, 1);
        dr.rewire(n3, opt, lr, opt.steps());
      };
      for (int u = 0; u < 5; ++u) update();
      for (const auto& [ij, w] : synapses(n3, W3))
        ASSERT_NEAR(std::abs(w), 0.01 - 5 * per_update, 1e-5) << l1;
      for (int u = 0; u < 6; ++u) update();
      if (mode == vt::L1Mode::gradient)
        EXPECT_GE(dr.matrices()[0].rewired, W3.cols.size()) << "all went dormant, l1 = " << l1;
      else
        EXPECT_EQ(dr.matrices()[0].rewired, 0u) << l1;
    }
}

TEST(DeepR, TrainingKeepsTheBudgetRewiresAndIsTheSameForAnyThreadCount) {
  auto run = [](int threads) {
    const auto data = volley::test::toy_data(200, 3);
    auto net = std::make_unique<vt::Net>(sparse_net(0.25, true));
    vt::TrainSettings st;
    st.threads = threads;
    st.batch_size = 40;
    st.chunk = 8;
    vt::OptimizerConfig opt;
    opt.lr = 5e-3;
    vt::Trainer trainer(*net, vt::LossConfig{}, opt, st);
    trainer.enable_rewiring(deep_r(1e-2, 1e-6));
    std::vector<vt::EpochStats> stats;
    for (int e = 0; e < 15; ++e) stats.push_back(trainer.train_epoch(data, e));
    const double acc = trainer.evaluate(data).accuracy;
    return std::tuple{std::move(net), stats, acc};
  };
  auto [a, sa, acc] = run(1);
  auto [b, sb, acc_b] = run(2);
  ASSERT_EQ(sa.back().rewiring.size(), 2u);  // layer0.w and layer0.v
  std::uint64_t rewired = 0, grown = 0;
  const std::size_t budget = 20 * 16 * 0.25 + 16 * 16 * 0.3;  // about: drawn per synapse
  for (const auto& s : sa) {
    std::size_t active = 0;
    for (const auto& m : s.rewiring) {
      active += m.active;
      rewired += m.rewired;
      grown += m.grown;
    }
    EXPECT_EQ(active, a->input_weights(0).cols.size() + a->recurrent_weights(0).cols.size())
        << "the budget is kept over both matrices together";
    EXPECT_NEAR(static_cast<double>(active), budget, 0.3 * budget);
  }
  EXPECT_EQ(sa.back().rewiring[0].active, a->input_weights(0).cols.size());
  EXPECT_GT(rewired, 0u) << "some synapses crossed zero in 15 epochs";
  EXPECT_EQ(grown, rewired);
  EXPECT_GT(acc, 0.9) << "it still learns the toy task";
  EXPECT_EQ(a->input_weights(0).cols, b->input_weights(0).cols);
  EXPECT_EQ(a->recurrent_weights(0).cols, b->recurrent_weights(0).cols);
  for (std::size_t k = 0; k < a->params().size(); ++k)
    EXPECT_EQ(a->params()[k].value, b->params()[k].value) << a->params()[k].name;
  // Signs held throughout.
  vt::Net fresh(sparse_net(0.25, true));
  vt::Optimizer o(vt::OptimizerConfig{}, fresh.params());
  vt::DeepR signs(deep_r(), fresh);
  for (const auto& [ij, w] : synapses(*a, a->input_weights(0)))
    if (w != 0.0f) EXPECT_EQ(std::signbit(w), signs.sign(signs.matrices()[0], ij.first, ij.second) < 0);
}

TEST(DeepR, CheckpointsCarryTheRewiredPatterns) {
  const auto data = volley::test::toy_data(120, 5);
  vt::Net net(sparse_net(0.25, true));
  vt::TrainSettings st;
  st.batch_size = 40;
  vt::OptimizerConfig oc;
  oc.lr = 5e-2;  // large steps: many synapses cross zero
  vt::Trainer trainer(net, vt::LossConfig{}, oc, st);
  trainer.enable_rewiring(deep_r(1.0));
  for (int e = 0; e < 3; ++e) trainer.train_epoch(data, e);
  vt::Net seed_only(sparse_net(0.25, true));
  ASSERT_NE(net.input_weights(0).cols, seed_only.input_weights(0).cols) << "nothing rewired";
  // The budget moved between the two matrices (so the checkpoint's sizes differ from the seed's).
  EXPECT_NE(net.input_weights(0).cols.size(), seed_only.input_weights(0).cols.size());

  // What the runner writes (every sparse matrix's pattern), to a file and back, into a fresh
  // network built from the same configuration.
  vt::Checkpoint ck;
  ck.config_name = "toy";
  for (const auto& p : net.params()) ck.params.emplace_back(p.name, p.value);
  const vt::WeightLayout& W = net.input_weights(0);
  const vt::WeightLayout& V = net.recurrent_weights(0);
  ck.patterns.push_back({"layer0.w", W.row_ptr, W.cols});
  ck.patterns.push_back({"layer0.v", V.row_ptr, V.cols});
  volley::test::TempDir dir;
  vt::write_checkpoint(dir / "ck.bin", ck);
  const vt::Checkpoint back = vt::read_checkpoint(dir / "ck.bin");
  ASSERT_EQ(back.patterns.size(), 2u);
  vt::Net restored(sparse_net(0.25, true));
  vt::restore(back, restored, nullptr, "ck.bin");
  EXPECT_EQ(restored.input_weights(0).row_ptr, W.row_ptr);
  EXPECT_EQ(restored.input_weights(0).cols, W.cols);
  EXPECT_EQ(restored.recurrent_weights(0).cols, V.cols);
  for (std::size_t k = 0; k < net.params().size(); ++k)
    EXPECT_EQ(restored.params()[k].value, net.params()[k].value) << net.params()[k].name;
  vt::Trainer tr(restored, vt::LossConfig{}, oc, st);
  EXPECT_EQ(tr.evaluate(data).accuracy, trainer.evaluate(data).accuracy);
  // A trainer made before the restore trains on with the restored sizes.
  vt::Net resumed(sparse_net(0.25, true));
  vt::Trainer tr2(resumed, vt::LossConfig{}, oc, st);
  tr2.enable_rewiring(deep_r(1.0));
  vt::restore(back, resumed, nullptr, "ck.bin");
  EXPECT_TRUE(tr2.train_epoch(data, 3).finite);

  // A pattern for a matrix the network does not have sparse is refused, naming it.
  vt::Checkpoint bad = back;
  bad.patterns[0].name = "layer1.w";
  vt::Net other(sparse_net(0.25, true));
  EXPECT_THAT(error_of([&] { vt::restore(bad, other, nullptr, "ck.bin"); }),
              HasSubstr("'layer1.w', which is not a sparse matrix"));
  bad = back;
  bad.patterns[0].cols.pop_back();
  EXPECT_THAT(error_of([&] { vt::restore(bad, other, nullptr, "ck.bin"); }),
              HasSubstr("parameter 'layer0.w' has"));
  EXPECT_EQ(other.input_weights(0).cols, seed_only.input_weights(0).cols)
      << "a refused checkpoint changes nothing";
}

TEST(DeepR, RefusesNetworksWithoutSparseMatricesAndBadParameters) {
  vt::Net dense(volley::test::toy_net(16));
  EXPECT_THAT(error_of<volley::ParameterError>([&] { vt::DeepR(deep_r(), dense); }),
              HasSubstr("no sparse weight matrix"));
  vt::Net net(sparse_net());
  EXPECT_THAT(error_of<volley::ParameterError>([&] { vt::DeepR(deep_r(-1.0), net); }),
              HasSubstr("rewiring.l1"));
}

TEST(DeepR, APerMatrixBudgetKeepsEachMatrixsCount) {
  const auto data = volley::test::toy_data(120, 5);
  vt::Net net(sparse_net(0.25, true));
  const std::size_t w0 = net.input_weights(0).cols.size(), v0 = net.recurrent_weights(0).cols.size();
  vt::TrainSettings st;
  st.batch_size = 40;
  vt::OptimizerConfig oc;
  oc.lr = 5e-2;
  vt::Trainer trainer(net, vt::LossConfig{}, oc, st);
  vt::RewiringConfig r = deep_r(1.0);
  r.global_budget = false;
  trainer.enable_rewiring(r);
  std::uint64_t rewired = 0;
  for (int e = 0; e < 3; ++e)
    for (const auto& m : trainer.train_epoch(data, e).rewiring) {
      rewired += m.rewired;
      EXPECT_EQ(m.grown, m.rewired) << m.name;
    }
  EXPECT_GT(rewired, 0u);
  EXPECT_EQ(net.input_weights(0).cols.size(), w0);
  EXPECT_EQ(net.recurrent_weights(0).cols.size(), v0);
}
