// Evolution strategies: they learn a toy task from forward passes alone, give the same result
// for any thread count, follow their update rules on a problem with a known optimum, and reject
// bad settings by name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "support/toy_events.hpp"
#include "volley/error.hpp"
#include "volley/rng.hpp"
#include "volley/train/evolution.hpp"
#include "volley/train/trainer.hpp"

namespace vt = volley::train;
using ::testing::HasSubstr;

namespace {

using volley::test::toy_data;

vt::NetConfig toy_net() {
  vt::NetConfig c = volley::test::toy_net(8);
  c.seed = 3;
  return c;
}

double mean_loss(vt::Net& net, const vt::EventSource& data) {
  vt::TrainSettings ts;
  vt::Trainer t(net, vt::LossConfig{}, vt::OptimizerConfig{}, ts);
  return t.evaluate(data).loss;
}

std::vector<std::size_t> all(std::size_t n) {
  std::vector<std::size_t> b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = i;
  return b;
}

}  // namespace

class EvolutionKinds : public ::testing::TestWithParam<vt::EvolutionKind> {};

TEST_P(EvolutionKinds, LearnsTheToyTaskFromForwardPassesAlone) {
  const vt::StoredEvents data = toy_data(64, 7);
  vt::Net net(toy_net());
  const double before = mean_loss(net, data);
  vt::EvolutionConfig ec;
  ec.kind = GetParam();
  ec.population = 20;
  ec.sigma = 0.05;
  vt::OptimizerConfig oc;
  oc.lr = 0.01;
  vt::Evolution evo(net, vt::LossConfig{}, oc, ec);
  const auto batch = all(data.size());
  for (int g = 0; g < 40; ++g) evo.step(data, batch);
  const double after = mean_loss(net, data);
  std::printf("%s: loss %.4f -> %.4f\n", GetParam() == vt::EvolutionKind::openai_es ? "openai_es" : "sep_cmaes",
              before, after);
  EXPECT_LT(after, 0.6 * before);
}

TEST_P(EvolutionKinds, SameResultForAnyThreadCount) {
  const vt::StoredEvents data = toy_data(32, 9);
  std::vector<std::vector<float>> finals;
  for (int threads : {1, 3}) {
    vt::Net net(toy_net());
    vt::EvolutionConfig ec;
    ec.kind = GetParam();
    ec.population = 12;
    ec.threads = threads;
    vt::Evolution evo(net, vt::LossConfig{}, vt::OptimizerConfig{}, ec);
    for (int g = 0; g < 3; ++g) evo.step(data, all(data.size()));
    finals.push_back(net.params()[0].value);
  }
  EXPECT_EQ(finals[0], finals[1]);
  vt::Net fresh(toy_net());
  EXPECT_NE(finals[0], fresh.params()[0].value);  // it did move
}

INSTANTIATE_TEST_SUITE_P(Both, EvolutionKinds,
                         ::testing::Values(vt::EvolutionKind::openai_es, vt::EvolutionKind::sep_cmaes));

TEST(Evolution, OpenAiEsStepIsTheRankShapedAntitheticEstimate) {
  // With SGD (lr 1, no momentum) one generation moves θ by exactly
  // lr · Σ_pairs (F+ − F−) ε / (λσ), the ranks F in [−0.5, 0.5]; recompute it independently.
  const vt::StoredEvents data = toy_data(16, 3);
  vt::Net net(toy_net());
  vt::EvolutionConfig ec;
  ec.population = 6;
  ec.sigma = 0.1;
  ec.seed = 5;
  vt::OptimizerConfig oc;
  oc.kind = vt::OptimizerKind::sgd;
  oc.momentum = 0.0;
  oc.lr = 1.0;
  std::vector<float> theta0;
  for (const auto& p : net.params())
    if (p.trainable) theta0.insert(theta0.end(), p.value.begin(), p.value.end());
  vt::Net probe = net;
  vt::Evolution evo(net, vt::LossConfig{}, oc, ec);
  evo.step(data, all(data.size()));
  const std::size_t n = theta0.size();
  // Fitness of each candidate, as the evolution computes it: −mean loss.
  auto fitness = [&](const std::vector<float>& theta) {
    std::size_t k = 0;
    for (auto& p : probe.params())
      if (p.trainable)
        for (float& v : p.value) v = theta[k++];
    vt::TrainSettings ts;
    vt::Trainer t(probe, vt::LossConfig{}, oc, ts);
    return -t.evaluate(data).loss;
  };
  std::vector<std::vector<float>> eps(3, std::vector<float>(n));
  std::vector<double> f(6);
  for (std::size_t k = 0; k < 3; ++k) {
    volley::CounterRng rng(5, 0xE5000000, static_cast<std::uint32_t>(k), 0);
    for (float& x : eps[k]) x = static_cast<float>(rng.normal());
    for (int sgn = 0; sgn < 2; ++sgn) {
      std::vector<float> x(n);
      for (std::size_t i = 0; i < n; ++i) x[i] = theta0[i] + (sgn ? -0.1f : 0.1f) * eps[k][i];
      f[2 * k + sgn] = fitness(x);
    }
  }
  std::vector<double> rank(6);
  for (int j = 0; j < 6; ++j) {
    int r = 0;
    for (int k = 0; k < 6; ++k) r += f[k] < f[j] || (f[k] == f[j] && k < j);
    rank[j] = r / 5.0 - 0.5;
  }
  std::vector<float> theta1;
  for (const auto& p : net.params())
    if (p.trainable) theta1.insert(theta1.end(), p.value.begin(), p.value.end());
  for (std::size_t i = 0; i < n; ++i) {
    double g = 0.0;
    for (std::size_t k = 0; k < 3; ++k) g += (rank[2 * k] - rank[2 * k + 1]) * eps[k][i];
    ASSERT_NEAR(theta1[i] - theta0[i], g / (6 * 0.1), 1e-5) << "parameter " << i;
  }
}

TEST(Evolution, BadSettingsAreNamed) {
  vt::Net net(toy_net());
  auto error = [&](vt::EvolutionConfig ec) {
    try {
      vt::Evolution(net, vt::LossConfig{}, vt::OptimizerConfig{}, ec);
    } catch (const volley::ParameterError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  vt::EvolutionConfig ec;
  ec.population = 7;
  EXPECT_THAT(error(ec), HasSubstr("population"));
  ec = {};
  ec.population = 2;
  EXPECT_THAT(error(ec), HasSubstr("population"));
  ec = {};
  ec.sigma = 0.0;
  EXPECT_THAT(error(ec), HasSubstr("sigma"));
  ec = {};
  ec.threads = 0;
  EXPECT_THAT(error(ec), HasSubstr("threads"));
}
