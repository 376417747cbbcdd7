// Synapses written as equations (Brian2's Synapses: model, on_pre, on_post): `on_pre: exc += w`
// against the built-in channel projection, pair STDP written as equations against an independent
// replay of the recorded spike trains (with and without a delay), thread-count determinism with
// random numbers in the synapse code, and the errors of the model file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "support/error_of.hpp"
#include "support/temp_dir.hpp"
#include "volley/equations/synapse_model.hpp"
#include "volley/io/model_file.hpp"
#include "volley/models/lif.hpp"
#include "volley/models/sources.hpp"
#include "volley/monitors.hpp"
#include "volley/network.hpp"

using namespace volley;
using ::testing::HasSubstr;
using test::error_of;

namespace {

constexpr double kDt = 1e-4;

class SynapseEquations : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv("VOLLEY_KERNEL_CACHE", (dir_ / "cache").c_str(), 1); }
  test::TempDir dir_;
};

// 80 Poisson inputs at 20 Hz onto 40 LIF neurons; "drive" (100 more at 40 Hz through a built-in
// projection, about 30 mV of mean depolarisation) makes them fire whatever the projection under
// test does.
void add_populations(Network& net) {
  PoissonGroupParams pg;
  pg.rate = 20.0;
  net.add<PoissonGroup>("in", 80, pg);
  pg.rate = 40.0;
  net.add<PoissonGroup>("drive", 100, pg);
  LifParams lp;
  lp.channels = {{"exc", 5e-3}};
  lp.v_init = Distribution::uniform(-70e-3, -55e-3);
  net.add<LifPopulation>("out", 40, lp);
  ProjectionSpec d;
  d.name = "drive_out";
  d.source = "drive";
  d.target = "out";
  d.connector = FixedProbability{0.5, true};
  d.weight = Distribution::constant(3e-3);
  net.connect(d);
}

ProjectionSpec synapse_spec(const std::string& model, const std::string& on_pre,
                            const std::string& on_post, bool single = false) {
  auto text = std::make_shared<eq::SynapseText>();
  text->model = model;
  text->on_pre = on_pre;
  text->on_post = on_post;
  text->single_precision = single;
  text->constants = {{"taupre", {20e-3, Dimension::none()}}, {"taupost", {20e-3, Dimension::none()}}};
  text->constants[0].second.dim = Dimension::seconds();
  text->constants[1].second.dim = Dimension::seconds();
  text->constants.push_back({"dApre", {0.01, Dimension::none()}});
  text->constants.push_back({"dApost", {-0.0105, Dimension::none()}});
  text->constants.push_back({"wmax", {1.0, Dimension::none()}});
  ProjectionSpec s;
  s.name = "syn";
  s.source = "in";
  s.target = "out";
  s.connector = FixedProbability{0.3, true};
  s.synapse_equations = text;
  return s;
}

const char* kStdpModel = R"(w : 1
dApre/dt = -Apre / taupre : 1 (event-driven)
dApost/dt = -Apost / taupost : 1 (event-driven)
)";
const char* kStdpPre = "Apre += dApre\nw = clip(w + Apost, 0, wmax)";
const char* kStdpPost = "Apost += dApost; w = clip(w + Apre, 0, wmax)";

}  // namespace

TEST_F(SynapseEquations, OnPreAddingWIsTheBuiltInChannelProjection) {
  auto spikes = [](bool equations) {
    Network net(kDt, 3);
    add_populations(net);
    ProjectionSpec s = synapse_spec("w : volt", "exc += w", "", true);
    if (!equations) {
      s.synapse_equations.reset();
      s.channel = "exc";
    }
    s.weight = Distribution::uniform(0.5e-3, 2e-3);
    s.weight_dim = Dimension::volts();
    net.connect(s);
    auto& m = net.record_spikes("s", "out");
    net.run(0.5);
    return std::pair(m.times, m.units);
  };
  const auto builtin = spikes(false), eqs = spikes(true);
  ASSERT_GT(builtin.first.size(), 200u);
  EXPECT_EQ(eqs.first, builtin.first);
  EXPECT_EQ(eqs.second, builtin.second);
}

namespace {

// Pair STDP as Brian2 runs it, replayed from the recorded spikes of one synapse: on_pre at the
// step `lag` after a presynaptic spike (if before step `end`), on_post at the step of a postsynaptic spike, on_pre
// first within a step, each advancing the traces exactly from the last event.
double replay_pair_stdp(std::vector<std::uint64_t> pre_steps, const std::vector<std::uint64_t>& post_steps,
                        std::uint64_t lag, std::uint64_t end, double w) {
  for (auto& s : pre_steps) s += lag;
  // Spikes still in flight at the end (arriving at or after step `end`) have not acted.
  while (!pre_steps.empty() && pre_steps.back() >= end) pre_steps.pop_back();
  double apre = 0, apost = 0, last = 0;
  std::size_t a = 0, b = 0;
  auto advance = [&](double t) {
    apre *= std::exp(-(t - last) / 20e-3);
    apost *= std::exp(-(t - last) / 20e-3);
    last = t;
  };
  while (a < pre_steps.size() || b < post_steps.size()) {
    const bool pre = b == post_steps.size() || (a < pre_steps.size() && pre_steps[a] <= post_steps[b]);
    const double t = static_cast<double>(pre ? pre_steps[a++] : post_steps[b++]) * kDt;
    advance(t);
    if (pre) {
      apre += 0.01;
      w = static_cast<float>(std::clamp(w + apost, 0.0, 1.0));  // w is held in float
    } else {
      apost += -0.0105;
      w = static_cast<float>(std::clamp(w + apre, 0.0, 1.0));
    }
  }
  return w;
}

}  // namespace

TEST_F(SynapseEquations, PairStdpMatchesAReplayOfTheSpikes) {
  for (const double delay : {kDt, 2e-3}) {
    Network net(kDt, 5);
    add_populations(net);
    ProjectionSpec s = synapse_spec(kStdpModel, kStdpPre, kStdpPost);
    s.weight = Distribution::uniform(0.2, 0.8);
    s.weight_dim = Dimension::none();
    s.delay = Distribution::constant(delay);
    Projection& p = net.connect(s);
    const std::vector<double> w0 = p.synapse_variable("w");
    auto& pre = net.record_spikes("pre", "in");
    auto& post = net.record_spikes("post", "out");
    net.run(1.0);
    ASSERT_GT(post.times.size(), 500u);
    std::map<std::uint32_t, std::vector<std::uint64_t>> pre_steps, post_steps;
    for (std::size_t k = 0; k < pre.times.size(); ++k)
      pre_steps[pre.units[k]].push_back(static_cast<std::uint64_t>(std::llround(pre.times[k] / kDt)));
    for (std::size_t k = 0; k < post.times.size(); ++k)
      post_steps[post.units[k]].push_back(static_cast<std::uint64_t>(std::llround(post.times[k] / kDt)));
    const std::vector<double> w = p.synapse_variable("w");
    const std::uint64_t lag = static_cast<std::uint64_t>(std::llround(delay / kDt)) - 1;
    std::size_t changed = 0;
    for (std::uint32_t i = 0; i < 80; ++i)
      for (std::uint64_t k = p.row_ptr()[i]; k < p.row_ptr()[i + 1]; ++k) {
        const std::uint32_t j = p.targets()[k];
        const double expect = replay_pair_stdp(pre_steps[i], post_steps[j], lag, 10000, w0[k]);
        ASSERT_NEAR(w[k], expect, 1e-6) << "synapse " << i << "->" << j << " delay " << delay;
        if (std::abs(w[k] - w0[k]) > 1e-3) ++changed;
      }
    EXPECT_GT(changed, w.size() / 2) << "delay " << delay;
  }
}

TEST_F(SynapseEquations, RandomNumbersAndTracesDoNotDependOnTheThreadCount) {
  auto run = [](int threads) {
    Network net(kDt, 9);
    add_populations(net);
    ProjectionSpec s = synapse_spec(kStdpModel, std::string(kStdpPre) + "\nw = w * (1 + 0.01 * randn())\nexc += 1*mV * w",
                                    kStdpPost);
    s.weight = Distribution::uniform(0.2, 0.8);
    s.weight_dim = Dimension::none();
    Projection& p = net.connect(s);
    auto& m = net.record_spikes("s", "out");
    net.run(0.4, RunOptions{threads});
    return std::tuple(p.synapse_variable("w"), p.synapse_variable("Apost"), m.times.size());
  };
  const auto one = run(1), two = run(2);
  EXPECT_EQ(std::get<0>(one), std::get<0>(two));
  EXPECT_EQ(std::get<1>(one), std::get<1>(two));
  EXPECT_EQ(std::get<2>(one), std::get<2>(two));
  EXPECT_GT(std::get<2>(one), 100u);
}

namespace {

const char* kFileHead = R"([simulation]
dt = "0.1 ms"
duration = "20 ms"
[populations.pre]
model = "poisson"
size = 10
rate = "50 Hz"
[populations.post]
model = "lif"
size = 5
[projections.S]
source = "pre"
target = "post"
connect = { rule = "all_to_all" }
constants = { taupre = "20 ms", taupost = "20 ms", wmax = 0.01 }
)";

std::string file_error(const std::string& tail) {
  return error_of<ConfigError>([&] {
    io::LoadedModel m = io::load_model_string(std::string(kFileHead) + tail, "syn.toml");
    m.network->run(m.duration);
  });
}

}  // namespace

TEST_F(SynapseEquations, ModelFileRunsAndErrorsNameTheField) {
  const std::string good = R"(model = '''
w : 1
dApre/dt = -Apre/taupre : 1 (event-driven)
'''
on_pre = "Apre += 0.01*wmax; w = clip(w + Apre, 0, wmax); exc += w * mV"
weight = { dist = "uniform", low = 0, high = 0.01 }
initial = { Apre = 0.001 }
)";
  io::LoadedModel m = io::load_model_string(std::string(kFileHead) + good, "syn.toml");
  m.network->run(m.duration);
  const std::vector<double> apre = m.network->projection("S").synapse_variable("Apre");
  ASSERT_EQ(apre.size(), 50u);
  std::size_t grown = 0;
  for (double x : apre) grown += x > 0.001 ? 1 : 0;
  EXPECT_GT(grown, 0u);  // spikes came and the traces moved from their initial value

  std::string msg = file_error("model = \"dApre/dt = -Apre/taupre : 1\"\non_pre = \"Apre += 1\"\n");
  EXPECT_THAT(msg, HasSubstr("syn.toml"));
  EXPECT_THAT(msg, HasSubstr("projections.S.model"));
  EXPECT_THAT(msg, HasSubstr("clock-driven"));

  msg = file_error("model = \"w : 1\"\non_pre = \"exc += w\"\n");
  EXPECT_THAT(msg, HasSubstr("projections.S.on_pre"));
  EXPECT_THAT(msg, HasSubstr("volt"));

  msg = file_error("model = \"w : 1\"\non_pre = \"v_pre = 0*mV\"\n");
  EXPECT_THAT(msg, HasSubstr("projections.S.on_pre"));
  EXPECT_THAT(msg, HasSubstr("v_pre"));

  msg = file_error("model = \"w : 1\"\non_pre = \"exc += w*mV\"\nchannel = \"exc\"\n");
  EXPECT_THAT(msg, HasSubstr("projections.S.channel"));

  msg = file_error("model = \"w : 1\"\non_pre = \"exc += w*mV\"\ninitial = { x = 1 }\n");
  EXPECT_THAT(msg, HasSubstr("projections.S.initial.x"));
  EXPECT_THAT(msg, HasSubstr("not a variable of the synapse model"));

  msg = file_error("model = \"a : 1\"\non_pre = \"exc += a*mV\"\nweight = 0.5\n");
  EXPECT_THAT(msg, HasSubstr("projections.S.weight"));
  EXPECT_THAT(msg, HasSubstr("no variable w"));

  msg = file_error("model = \"w : 1\"\non_pre = \"exc += w*mV\"\nweight = 0.5\n"
                   "plasticity = { rule = \"pair\" }\n");
  EXPECT_THAT(msg, HasSubstr("projections.S.plasticity"));

  msg = file_error("model = \"w : 1\"\non_pre = \"exc += w*mV\"\nweight = 0.5\ndelay = { dist = \"uniform\", low = \"1 ms\", high = \"2 ms\" }\n");
  EXPECT_THAT(msg, HasSubstr("one delay for every synapse"));
}
