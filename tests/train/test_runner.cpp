// The runners (train::fit, train::evolve) through an in-memory writer: the events come in order
// with the right numbers, a resume from a checkpoint held in memory equals an uninterrupted run,
// a NaN stops the run without a checkpoint, and data or checkpoints that do not fit the network
// are rejected before anything changes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "support/toy_events.hpp"
#include "volley/error.hpp"
#include "volley/train/runner.hpp"

namespace vt = volley::train;
using ::testing::HasSubstr;

namespace {

using volley::test::toy_data;

vt::NetConfig toy_net() { return volley::test::toy_net(16); }

vt::TrainSettings settings(int epochs) {
  vt::TrainSettings st;
  st.epochs = epochs;
  st.batch_size = 40;
  st.chunk = 8;
  st.threads = 2;
  return st;
}

vt::OptimizerConfig adam(double lr = 5e-3) {
  vt::OptimizerConfig o;
  o.lr = lr;
  return o;
}

// Keeps everything a run writes, as a list of events ("start", "trained 0", "epoch 1", ...).
struct MemoryWriter final : vt::FitWriter {
  std::optional<vt::ResumePoint> from;
  std::vector<std::string> events;
  std::vector<vt::EpochRecord> records;
  std::vector<vt::Checkpoint> checkpoints;
  vt::FitStart started;
  std::optional<vt::FitEnd> end;
  std::size_t batches = 0;

  std::optional<vt::ResumePoint> resume() override { return from; }
  void start(const vt::FitStart& s) override {
    started = s;
    events.push_back("start");
  }
  void batch(int, int, const vt::BatchProgress&, double) override { ++batches; }
  void trained(int epoch, const vt::EpochStats&) override {
    events.push_back("trained " + std::to_string(epoch));
  }
  void epoch(const vt::EpochRecord& r) override {
    records.push_back(r);
    events.push_back("epoch " + std::to_string(r.epoch));
  }
  void checkpoint(const vt::Checkpoint& ck) override {
    checkpoints.push_back(ck);
    events.push_back("checkpoint " + std::to_string(ck.epochs_done));
  }
  void finish(const vt::FitEnd& e) override {
    end = e;
    events.push_back("finish");
  }
};

const vt::RunIdentity kIdentity{"toy.toml", "text of toy.toml", {"seed=1"}};

}  // namespace

TEST(Fit, TheWriterSeesEveryEpochInOrder) {
  const auto data = toy_data(200, 3), test = toy_data(80, 4);
  vt::Net net(toy_net());
  vt::Trainer trainer(net, vt::LossConfig{}, adam(), settings(3));
  MemoryWriter w;
  const vt::FitResult r = vt::fit(trainer, data, test, kIdentity, w);

  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.epochs_done, 3);
  EXPECT_EQ(w.events, (std::vector<std::string>{"start", "trained 0", "epoch 1", "checkpoint 1",
                                                 "trained 1", "epoch 2", "checkpoint 2",
                                                 "trained 2", "epoch 3", "checkpoint 3",
                                                 "finish"}));
  EXPECT_EQ(w.started.first_epoch, 0);
  EXPECT_EQ(w.started.epochs, 3);
  EXPECT_EQ(w.started.train_samples, 200u);
  EXPECT_EQ(w.started.test_samples, 80u);
  EXPECT_EQ(w.batches, 3u * (200u / 40u));  // the last incomplete batch is dropped (none here)
  for (std::size_t k = 0; k < w.records.size(); ++k) {
    EXPECT_EQ(w.records[k].epochs, 3);
    EXPECT_EQ(w.records[k].train.samples, 200u);
    EXPECT_EQ(w.records[k].test.samples, 80u);
    EXPECT_DOUBLE_EQ(w.records[k].lr, adam().lr_at(static_cast<int>(k), 3));
  }
  // Each checkpoint carries the identity; the last one holds the final parameters.
  for (const auto& ck : w.checkpoints) {
    EXPECT_EQ(ck.config_name, kIdentity.config_name);
    EXPECT_EQ(ck.config_text, kIdentity.config_text);
    EXPECT_EQ(ck.options, kIdentity.options);
    EXPECT_EQ(ck.params.size(), net.params().size());
    EXPECT_EQ(ck.opt_m.size(), net.params().size());
  }
  for (std::size_t k = 0; k < net.params().size(); ++k)
    EXPECT_EQ(w.checkpoints.back().params[k].second, net.params()[k].value);
  EXPECT_EQ(w.checkpoints.back().optimizer_steps, trainer.optimizer().steps());
  ASSERT_TRUE(w.end.has_value());
  EXPECT_EQ(w.end->epochs_done, 3);
  EXPECT_EQ(w.end->n_classes, 2u);
  EXPECT_EQ(w.end->test.confusion.size(), 4u);
  EXPECT_DOUBLE_EQ(w.end->test.accuracy, r.test_accuracy);
  EXPECT_DOUBLE_EQ(w.records.back().test.accuracy, r.test_accuracy);
  EXPECT_GT(r.test_accuracy, 0.8);  // it learns (chance: 0.5)
}

TEST(Fit, ResumingFromAMemoryCheckpointEqualsAnUninterruptedRun) {
  const auto data = toy_data(200, 3), test = toy_data(40, 4);
  vt::Net straight_net(toy_net());
  vt::Trainer straight(straight_net, vt::LossConfig{}, adam(), settings(3));
  MemoryWriter a;
  vt::fit(straight, data, test, kIdentity, a);

  vt::Net first_net(toy_net());
  vt::Trainer first(first_net, vt::LossConfig{}, adam(), settings(1));
  MemoryWriter b;
  vt::fit(first, data, test, kIdentity, b);

  vt::Net resumed_net(toy_net());  // fresh weights: the checkpoint must replace them
  vt::Trainer resumed(resumed_net, vt::LossConfig{}, adam(), settings(3));
  MemoryWriter c;
  c.from = vt::ResumePoint{b.checkpoints.back(), "memory"};
  const vt::FitResult r = vt::fit(resumed, data, test, kIdentity, c);

  EXPECT_EQ(r.epochs_done, 3);
  EXPECT_EQ(c.started.first_epoch, 1);
  EXPECT_EQ(c.events.front(), "start");
  EXPECT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records.front().epoch, 2);
  const vt::Checkpoint& x = a.checkpoints.back();
  const vt::Checkpoint& y = c.checkpoints.back();
  EXPECT_EQ(x.epochs_done, 3u);
  EXPECT_EQ(y.epochs_done, 3u);
  EXPECT_TRUE(x.params == y.params) << "parameters differ";
  EXPECT_TRUE(x.opt_m == y.opt_m && x.opt_v == y.opt_v) << "optimiser state differs";
  EXPECT_EQ(x.optimizer_steps, y.optimizer_steps);
  EXPECT_DOUBLE_EQ(a.end->test.accuracy, c.end->test.accuracy);
  // The resumed run's training time counts only the epochs it trained.
  EXPECT_DOUBLE_EQ(c.end->train_seconds, c.records[0].train.seconds + c.records[1].train.seconds);

  // A checkpoint that is already complete: no training, one evaluation, the same end.
  vt::Net done_net(toy_net());
  vt::Trainer done(done_net, vt::LossConfig{}, adam(), settings(3));
  MemoryWriter d;
  d.from = vt::ResumePoint{x, "memory"};
  const vt::FitResult rd = vt::fit(done, data, test, kIdentity, d);
  EXPECT_EQ(rd.epochs_done, 3);
  EXPECT_EQ(d.events, (std::vector<std::string>{"start", "finish"}));
  EXPECT_DOUBLE_EQ(rd.test_accuracy, a.end->test.accuracy);
}

TEST(Fit, ANanStopsTheRunWithoutACheckpoint) {
  const auto data = toy_data(80, 1);
  vt::Net net(toy_net());
  vt::Trainer trainer(net, vt::LossConfig{}, adam(1e300), settings(2));  // Inf in float
  MemoryWriter w;
  const vt::FitResult r = vt::fit(trainer, data, data, kIdentity, w);
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.epochs_done, 0);
  EXPECT_THAT(r.message, HasSubstr("epoch 1: the loss, a gradient or a parameter became NaN or Inf"));
  EXPECT_EQ(w.events, (std::vector<std::string>{"start", "trained 0"}));
  EXPECT_TRUE(w.checkpoints.empty());
  EXPECT_FALSE(w.end.has_value());
}

TEST(Fit, DataThatDoesNotFitTheNetworkIsRejected) {
  const auto data = toy_data(40, 1);
  volley::data::StoredEvents wide(21, 30, 2, "wide");
  volley::data::StoredEvents three_classes(20, 30, 3, "three classes");
  vt::Net net(toy_net());
  vt::Trainer trainer(net, vt::LossConfig{}, adam(), settings(1));
  MemoryWriter w;
  EXPECT_THAT([&] { vt::fit(trainer, wide, data, kIdentity, w); },
              ::testing::ThrowsMessage<volley::ParameterError>(HasSubstr("training data wide has 21 inputs")));
  EXPECT_THAT([&] { vt::fit(trainer, data, three_classes, kIdentity, w); },
              ::testing::ThrowsMessage<volley::ParameterError>(HasSubstr("3 classes")));
  EXPECT_TRUE(w.events.empty());
}

TEST(Restore, AForeignCheckpointChangesNothing) {
  vt::Net net(toy_net());
  vt::Trainer trainer(net, vt::LossConfig{}, adam(), settings(1));
  const auto before = net.params();
  MemoryWriter w;
  const auto data = toy_data(40, 1);
  vt::Net other(toy_net());
  vt::Trainer other_trainer(other, vt::LossConfig{}, adam(), settings(1));
  vt::fit(other_trainer, data, data, kIdentity, w);
  vt::Checkpoint ck = w.checkpoints.back();

  vt::Checkpoint renamed = ck;
  renamed.params[1].first = "layer9.w";
  EXPECT_THAT([&] { vt::restore(renamed, net, &trainer.optimizer(), "ck.bin"); },
              ::testing::ThrowsMessage<volley::IoError>(HasSubstr("ck.bin: checkpoint parameter 'layer9.w'")));
  vt::Checkpoint short_state = ck;
  // One parameter's optimiser state one element short (the first parameter that has state).
  const auto with_state = std::find_if(short_state.opt_v.begin(), short_state.opt_v.end(),
                                       [](const auto& e) { return !e.second.empty(); });
  ASSERT_NE(with_state, short_state.opt_v.end()) << "the checkpoint holds no optimiser state";
  with_state->second.pop_back();
  EXPECT_THAT([&] { vt::restore(short_state, net, &trainer.optimizer(), "ck.bin"); },
              ::testing::ThrowsMessage<volley::IoError>(HasSubstr("optimiser state of")));
  for (std::size_t k = 0; k < before.size(); ++k)
    EXPECT_EQ(before[k].value, net.params()[k].value) << "half-restored " << before[k].name;

  vt::restore(ck, net, &trainer.optimizer(), "ck.bin");
  for (std::size_t k = 0; k < before.size(); ++k) EXPECT_EQ(ck.params[k].second, net.params()[k].value);
  EXPECT_EQ(trainer.optimizer().steps(), ck.optimizer_steps);
}

namespace {

struct EvolveMemory final : vt::EvolveWriter {
  std::vector<vt::GenerationRecord> generations;
  std::vector<vt::Checkpoint> checkpoints;
  std::optional<vt::EvolveStart> started;
  std::optional<vt::EvolveEnd> end;
  void start(const vt::EvolveStart& s) override { started = s; }
  void generation(const vt::GenerationRecord& r) override { generations.push_back(r); }
  void checkpoint(const vt::Checkpoint& ck) override { checkpoints.push_back(ck); }
  void finish(const vt::EvolveEnd& e) override { end = e; }
};

EvolveMemory evolve(int threads, std::size_t generations) {
  const auto data = toy_data(100, 3), test = toy_data(40, 4);
  vt::Net net(toy_net());
  vt::EvolutionConfig ec;
  ec.population = 8;
  ec.batch_size = 500;  // more than the data: the batch is the data's size
  ec.generations = generations;
  ec.threads = threads;
  vt::Evolution evo(net, vt::LossConfig{}, adam(), ec);
  vt::Trainer tester(net, vt::LossConfig{}, adam(), settings(1));
  EvolveMemory w;
  vt::EvolveOptions o;
  o.test_every = 4;
  vt::evolve(evo, tester, data, test, kIdentity, w, o);
  return w;
}

}  // namespace

TEST(Evolve, TheWriterSeesEveryGenerationAndOneCheckpoint) {
  const EvolveMemory w = evolve(1, 10);
  ASSERT_TRUE(w.started.has_value());
  EXPECT_EQ(w.started->batch_size, 100u);
  EXPECT_EQ(w.started->config.population, 8u);
  ASSERT_EQ(w.generations.size(), 10u);
  std::size_t evaluations = 0;
  for (std::size_t g = 0; g < 10; ++g) {
    const auto& r = w.generations[g];
    EXPECT_EQ(r.generation, g + 1);
    EXPECT_EQ(r.generations, 10u);
    EXPECT_EQ(r.batch_size, 100u);
    evaluations += r.stats.evaluations;
    EXPECT_EQ(r.evaluations, evaluations);
    // Tested every 4 generations and after the last.
    EXPECT_EQ(r.test.has_value(), g + 1 == 4 || g + 1 == 8 || g + 1 == 10) << "generation " << g + 1;
  }
  ASSERT_EQ(w.checkpoints.size(), 1u);
  EXPECT_EQ(w.checkpoints[0].epochs_done, 10u);
  EXPECT_EQ(w.checkpoints[0].config_text, kIdentity.config_text);
  EXPECT_TRUE(w.checkpoints[0].opt_m.empty());
  ASSERT_TRUE(w.end.has_value());
  EXPECT_EQ(w.end->evaluations, evaluations);
  EXPECT_DOUBLE_EQ(w.end->test.accuracy, w.generations.back().test->accuracy);
}

TEST(Evolve, OneAndTwoThreadsGiveTheSameCheckpoint) {
  const EvolveMemory a = evolve(1, 3), b = evolve(2, 3);
  EXPECT_TRUE(a.checkpoints.at(0).params == b.checkpoints.at(0).params);
}
