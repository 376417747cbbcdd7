// summary.json and metrics.jsonl: what the writers write, the readers read back (every field),
// and a malformed file is an IoError naming the file and the field or line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "support/error_of.hpp"
#include "support/temp_dir.hpp"
#include "volley/error.hpp"
#include "volley/io/outputs.hpp"

using namespace volley;
using ::testing::HasSubstr;
using volley::test::error_of;
using volley::test::TempDir;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

io::SimSummary example_summary() {
  io::SimSummary s;
  s.wall_seconds = 1.5;
  s.build_seconds = 0.25;
  s.dt = 1e-4;
  s.duration = 2.0;
  s.threads = 4;
  s.seed = 7;
  s.model = "examples/distal_reward.toml";
  s.peak_rss_bytes = 123456789;
  s.populations = {{"E", "izhikevich", 800, 16000, 10.0, 0.75}, {"in", "poisson", 10, 0, 0.0, std::nullopt}};
  s.projections = {{"EE", 64000, 12, 768000}};
  s.modulators = {{"dopamine", 3, 1, 0.01, {0.5, 1.0, 1.5}}};
  io::RewardSummary r;
  r.name = "chosen";
  r.projection = "EE";
  r.pre = 1;
  r.post = 2;
  r.pairings = 3;
  r.weight = 4e-3;
  r.others_mean = 1e-3;
  r.w_max = 4e-3;
  r.unit = "V";
  r.t = {0.0, 1.0};
  r.weights = {1e-3, 4e-3};
  r.others = {1e-3, 1e-3};
  s.rewards = {r};
  return s;
}

}  // namespace

TEST(SummaryJson, EveryFieldRoundTrips) {
  TempDir dir;
  const std::string path = dir / "summary.json";
  const io::SimSummary s = example_summary();
  io::write_summary(path, s);
  const std::string text = read(path);
  EXPECT_THAT(text, HasSubstr("\"cv_isi\": null"));  // none is written as null, not left out
  EXPECT_THAT(text, HasSubstr("\"release_times_s\""));
  const io::SimSummary r = io::read_summary(path);
  EXPECT_EQ(r.wall_seconds, s.wall_seconds);
  EXPECT_EQ(r.build_seconds, s.build_seconds);
  EXPECT_EQ(r.dt, s.dt);
  EXPECT_EQ(r.duration, s.duration);
  EXPECT_EQ(r.threads, s.threads);
  EXPECT_EQ(r.seed, s.seed);
  EXPECT_EQ(r.model, s.model);
  EXPECT_EQ(r.peak_rss_bytes, s.peak_rss_bytes);
  ASSERT_EQ(r.populations.size(), 2u);
  EXPECT_EQ(r.populations[0].name, "E");  // file order kept
  EXPECT_EQ(r.populations[0].model, "izhikevich");
  EXPECT_EQ(r.populations[0].size, 800u);
  EXPECT_EQ(r.populations[0].spikes, 16000u);
  EXPECT_EQ(r.populations[0].rate_hz, 10.0);
  EXPECT_EQ(r.populations[0].cv_isi, 0.75);
  EXPECT_FALSE(r.populations[1].cv_isi.has_value());
  ASSERT_NE(r.find("in"), nullptr);
  EXPECT_EQ(r.find("nothing"), nullptr);
  ASSERT_EQ(r.projections.size(), 1u);
  EXPECT_EQ(r.projections[0].synapses, 64000u);
  EXPECT_EQ(r.projections[0].bytes_per_synapse, 12u);
  EXPECT_EQ(r.projections[0].memory_bytes, 768000u);
  ASSERT_EQ(r.modulators.size(), 1u);
  EXPECT_EQ(r.modulators[0].releases, 3u);
  EXPECT_EQ(r.modulators[0].pending, 1u);
  EXPECT_EQ(r.modulators[0].release_times, s.modulators[0].release_times);
  ASSERT_EQ(r.rewards.size(), 1u);
  EXPECT_EQ(r.rewards[0].name, "chosen");
  EXPECT_EQ(r.rewards[0].w_max, 4e-3);
  EXPECT_EQ(r.rewards[0].unit, "V");
  EXPECT_EQ(r.rewards[0].weights, s.rewards[0].weights);
  EXPECT_EQ(r.rewards[0].others, s.rewards[0].others);
  // Written again from what was read: the same bytes.
  io::write_summary(dir / "again.json", r);
  EXPECT_EQ(read(dir / "again.json"), text);
}

TEST(SummaryJson, OptionalSectionsAreLeftOutWhenEmpty) {
  TempDir dir;
  io::SimSummary s = example_summary();
  s.modulators.clear();
  s.rewards.clear();
  s.peak_rss_bytes = 0;
  io::write_summary(dir / "s.json", s);
  const std::string text = read(dir / "s.json");
  EXPECT_THAT(text, Not(HasSubstr("modulators")));
  EXPECT_THAT(text, Not(HasSubstr("rewards")));
  EXPECT_THAT(text, Not(HasSubstr("peak_rss_bytes")));
  const io::SimSummary r = io::read_summary(dir / "s.json");
  EXPECT_TRUE(r.modulators.empty());
  EXPECT_TRUE(r.rewards.empty());
}

TEST(SummaryJson, MalformedFilesNameTheFileAndField) {
  TempDir dir;
  const std::string missing = dir / "missing.json";
  EXPECT_THAT(error_of([&] { io::read_summary(missing); }), HasSubstr(missing));
  const std::string bad = dir / "bad.json";
  write(bad, "{\"dt\": 0.001,");
  EXPECT_THAT(error_of([&] { io::read_summary(bad); }), AllOf(HasSubstr(bad), HasSubstr("not valid JSON")));
  write(bad, R"({"dt": 0.001, "duration": 1, "populations": {"P": {"model": "lif", "size": "ten",
              "spikes": 0, "rate_hz": 0}}})");
  EXPECT_THAT(error_of([&] { io::read_summary(bad); }), AllOf(HasSubstr(bad), HasSubstr("populations.P"),
                                                                 HasSubstr("\"size\"")));
  write(bad, R"({"dt": 0.001, "duration": 1})");
  EXPECT_THAT(error_of([&] { io::read_summary(bad); }), HasSubstr("\"populations\""));
}

TEST(MetricsJsonl, TrainAndEvolveLinesRoundTrip) {
  TempDir dir;
  const std::string path = dir / "metrics.jsonl";
  io::MetricsLine a;
  a.epoch = 1;
  a.train_loss = 2.0;
  a.train_acc = 0.25;
  a.test_acc = 0.5;
  a.test_loss = 1.5;
  a.epoch_seconds = 3.0;
  a.samples_per_second = 1000.0;
  a.test_seconds = 0.5;
  a.active_fraction = 0.125;
  a.lr = 1e-3;
  io::append_metrics(path, a);
  io::MetricsLine b = a;
  b.epoch = 2;
  b.test_acc = 0.75;
  io::append_metrics(path, b);
  // The line volley train has always written: keys in alphabetical order, one object a line.
  EXPECT_EQ(read(path).substr(0, read(path).find('\n')),
            R"({"active_fraction":0.125,"epoch":1,"epoch_seconds":3.0,"lr":0.001,"samples_per_second":1000.0,)"
            R"("test_acc":0.5,"test_loss":1.5,"test_seconds":0.5,"train_acc":0.25,"train_loss":2.0})");
  const auto m = io::read_metrics(path);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].epoch, 1);
  EXPECT_FALSE(m[0].generation);
  EXPECT_EQ(m[0].train_loss, 2.0);
  EXPECT_EQ(m[0].lr, 1e-3);
  EXPECT_EQ(m[1].test_acc, 0.75);
  EXPECT_TRUE(std::isnan(m[1].best_fitness));
  // Resume keeps the epochs of the checkpoint.
  io::truncate_metrics(path, 1);
  EXPECT_EQ(io::read_metrics(path).size(), 1u);

  const std::string evo = dir / "evolve.jsonl";
  io::MetricsLine g;
  g.generation = true;
  g.epoch = 10;
  g.best_fitness = -0.5;
  g.mean_fitness = -1.0;
  g.sigma = 0.1;
  g.epoch_seconds = 2.0;
  g.evaluations_per_second = 50.0;
  g.samples_per_second = 5000.0;
  io::append_metrics(evo, g);  // no test evaluation this generation
  g.epoch = 20;
  g.test_acc = 0.5;
  g.test_loss = 1.0;
  io::append_metrics(evo, g);
  EXPECT_THAT(read(evo), HasSubstr(R"({"generation":10,"best_fitness":-0.5,)"));
  const auto e = io::read_metrics(evo);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_TRUE(e[0].generation);
  EXPECT_EQ(e[0].epoch, 10);
  EXPECT_EQ(e[0].sigma, 0.1);
  EXPECT_TRUE(std::isnan(e[0].test_acc));
  EXPECT_EQ(e[1].test_acc, 0.5);
}

TEST(MetricsJsonl, AMalformedLineIsNamed) {
  TempDir dir;
  const std::string path = dir / "metrics.jsonl";
  write(path, "{\"epoch\": 1, \"train_loss\": 1}\n\n{\"epoch\": 2, \"train_loss\"\n");
  EXPECT_THAT(error_of([&] { io::read_metrics(path); }), HasSubstr(path + ":3"));
  write(path, "{\"train_loss\": 1}\n");
  EXPECT_THAT(error_of([&] { io::read_metrics(path); }), AllOf(HasSubstr(path + ":1"), HasSubstr("epoch")));
  EXPECT_THAT(error_of([&] { io::read_metrics(dir / "none.jsonl"); }), HasSubstr(dir / "none.jsonl"));
  EXPECT_THAT(error_of([&] { io::append_metrics(dir / "no/such/dir.jsonl", {}); }),
              HasSubstr(dir / "no/such/dir.jsonl"));
}
