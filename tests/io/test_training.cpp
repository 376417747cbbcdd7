// Training files and runs: config errors name file, line and field; a run writes metrics,
// checkpoint and summary; --resume equals an uninterrupted run bit for bit; a NaN stops the run
// and keeps the last good checkpoint; corrupt checkpoints are rejected.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "volley/error.hpp"
#include "volley/io/shd.hpp"
#include "volley/io/train_config.hpp"
#include "volley/io/training.hpp"
#include "volley/train/checkpoint.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using volley::ConfigError;
using volley::IoError;

namespace {

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("volley_test_training_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A small SHD-layout pair of files: 3 classes, each firing its own band of 30 channels.
void write_toy_shd(const fs::path& dir) {
  std::mt19937 rng(5);
  for (const char* split : {"train", "test"}) {
    std::vector<std::vector<double>> times;
    std::vector<std::vector<std::uint32_t>> units;
    std::vector<int> labels;
    const int n = std::string(split) == "train" ? 96 : 48;
    for (int k = 0; k < n; ++k) {
      const int label = k % 3;
      std::vector<double> t;
      std::vector<std::uint32_t> u;
      std::uniform_real_distribution<double> when(0.0, 0.05);
      std::uniform_int_distribution<int> band(0, 29), any(0, 89);
      for (int s = 0; s < 40; ++s) {
        t.push_back(when(rng));
        u.push_back(static_cast<std::uint32_t>(label * 30 + band(rng)));
      }
      for (int s = 0; s < 10; ++s) {
        t.push_back(when(rng));
        u.push_back(static_cast<std::uint32_t>(any(rng)));
      }
      times.push_back(t);
      units.push_back(u);
      labels.push_back(label);
    }
    volley::io::write_shd((dir / (std::string(split) + ".h5")).string(), times, units, labels);
  }
}

std::string toy_config(const std::string& extra_optimizer = "") {
  return R"(
[data]
dataset = "shd"
train = "train.h5"
test = "test.h5"
inputs = 90
classes = 3

[network]
dt = "1 ms"
steps = 50

[[layers]]
type = "lif"
size = 20
tau_mem = "10 ms"
tau_syn = "5 ms"
recurrent = true
weight_scale = 20.0

[[layers]]
type = "readout"
size = 3

[optimizer]
lr = 2e-2
)" + extra_optimizer + R"(
[training]
epochs = 3
batch_size = 16
threads = 2
)";
}

volley::io::TrainConfig load(const fs::path& dir, const std::string& text,
                             const volley::io::TrainOptions& o = {}) {
  const fs::path p = dir / "config.toml";
  std::ofstream(p) << text;
  return volley::io::load_train_config(p.string(), o);
}

volley::train::FitResult fit(const volley::io::TrainConfig& cfg, const fs::path& out,
                          bool resume = false) {
  volley::io::FitOptions o;
  o.out_dir = out.string();
  o.resume = resume;
  o.log = std::fopen("/dev/null", "w");
  auto r = volley::io::fit(cfg, o);
  std::fclose(o.log);
  return r;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void expect_config_error(const std::string& text, const std::string& where,
                         const std::string& what) {
  const fs::path d = temp_dir("cfgerr");
  try {
    load(d, text);
    ADD_FAILURE() << "no error for " << where;
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr(where));
    EXPECT_THAT(e.what(), HasSubstr(what));
  }
}

}  // namespace

TEST(TrainConfig, ReadsTheFashionMnistExample) {
  const auto cfg = volley::io::load_train_config(std::string(VOLLEY_EXAMPLES) + "/fmnist.toml");
  EXPECT_EQ(cfg.net.layers.size(), 2u);
  EXPECT_EQ(cfg.net.layers[0].size, 100u);
  EXPECT_DOUBLE_EQ(cfg.net.layers[0].tau_mem, 10e-3);
  EXPECT_DOUBLE_EQ(cfg.net.layers[0].tau_syn, 5e-3);
  EXPECT_EQ(cfg.net.n_steps, 100u);
  EXPECT_DOUBLE_EQ(cfg.data.encoder.tau_eff, 20.0);  // steps
  EXPECT_DOUBLE_EQ(cfg.optimizer.lr, 2e-4);
  EXPECT_EQ(cfg.training.batch_size, 256u);
  EXPECT_EQ(cfg.training.epochs, 30);
  EXPECT_EQ(cfg.net.surrogate.scale, 100.0f);
}

TEST(TrainConfig, ErrorsNameFileLineAndField) {
  const std::string base = toy_config();
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = base;
    const auto p = s.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    return s.replace(p, from.size(), to);
  };
  expect_config_error(with("tau_mem = \"10 ms\"", "tau_mem = 10"), "config.toml:16: layers[0].tau_mem",
                      "needs a unit");
  expect_config_error(with("tau_mem = \"10 ms\"", "tau_mem = \"10 mV\""), "layers[0].tau_mem",
                      "");
  expect_config_error(with("size = 20", "size = 0"), "config.toml:15: layers[0].size", ">= 1");
  expect_config_error(with("type = \"lif\"", "type = \"lifx\""), "layers[0].type",
                      "'lifx'");
  expect_config_error(with("lr = 2e-2", "lr = -1"), "optimizer.lr", "must be > 0");
  expect_config_error(with("lr = 2e-2", "lr = 2e-2\nlearning_rate = 1"),
                      "optimizer.learning_rate", "unknown key");
  expect_config_error(with("type = \"readout\"", "type = \"lif\""), "layers[1]",
                      "must be a readout");
  expect_config_error(with("dataset = \"shd\"", "dataset = \"mnist\""), "data.dataset",
                      "expected one of");
  expect_config_error(with("batch_size = 16", "batch_size = 0"), "training.batch_size", ">= 1");
  expect_config_error(with("recurrent = true", "recurrent = true\ndensity = 1.5"),
                      "layers[0].density", "in (0, 1]");
  expect_config_error("[data\n", "config.toml:1", "invalid TOML");
}

TEST(TrainConfig, WrongDatasetPathSaysHowToInstall) {
  const fs::path d = temp_dir("nodata");
  std::string text = toy_config();
  auto cfg = load(d, R"(
[data]
dataset = "fashion-mnist"
path = "no/such/dir"
[[layers]]
type = "lif"
size = 10
[[layers]]
type = "readout"
size = 10
)");
  try {
    volley::io::load_data(cfg);
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no/such/dir"));
    EXPECT_THAT(e.what(), HasSubstr("apt-get install dataset-fashion-mnist"));
  }
  cfg = load(d, toy_config());
  cfg.data.train_file = (d / "missing.h5").string();
  EXPECT_THROW(volley::io::load_data(cfg), IoError);
}

TEST(Training, RunWritesMetricsCheckpointAndSummaryAndLearns) {
  const fs::path d = temp_dir("run");
  write_toy_shd(d);
  const auto cfg = load(d, toy_config());
  const auto r = fit(cfg, d / "out");
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.epochs_done, 3);
  EXPECT_GT(r.test_accuracy, 0.8);  // chance is 1/3
  std::ifstream m(d / "out" / "metrics.jsonl");
  int lines = 0;
  for (std::string l; std::getline(m, l); ++lines) {
    EXPECT_THAT(l, HasSubstr("\"epoch\":" + std::to_string(lines + 1)));
    for (const char* key : {"train_loss", "train_acc", "test_acc", "epoch_seconds",
                            "samples_per_second", "active_fraction"})
      EXPECT_THAT(l, HasSubstr(key));
  }
  EXPECT_EQ(lines, 3);
  EXPECT_TRUE(fs::exists(d / "out" / "summary.json"));
  // A second run into the same directory is refused: nothing is overwritten.
  const std::string before = read(d / "out" / "checkpoint.bin");
  EXPECT_THROW(fit(cfg, d / "out"), IoError);
  EXPECT_TRUE(read(d / "out" / "checkpoint.bin") == before) << "the checkpoint changed";
}

TEST(Training, ResumeEqualsAnUninterruptedRun) {
  const fs::path d = temp_dir("resume");
  write_toy_shd(d);
  const auto cfg3 = load(d, toy_config());
  fit(cfg3, d / "straight");
  volley::io::TrainOptions one;
  one.epochs = 1;
  fit(load(d, toy_config(), one), d / "resumed");
  fit(cfg3, d / "resumed", true);
  const auto a = volley::train::read_checkpoint((d / "straight" / "checkpoint.bin").string());
  const auto b = volley::train::read_checkpoint((d / "resumed" / "checkpoint.bin").string());
  EXPECT_EQ(a.epochs_done, 3u);
  EXPECT_EQ(b.epochs_done, 3u);
  EXPECT_TRUE(a.params == b.params) << "parameters differ";
  EXPECT_TRUE(a.opt_m == b.opt_m) << "optimiser state differs";
  EXPECT_TRUE(a.opt_v == b.opt_v) << "optimiser state differs";
  // metrics.jsonl: the same epochs and accuracies (timings differ).
  auto accs = [](const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l.substr(l.find("\"test_acc\"")));
    return out;
  };
  EXPECT_EQ(accs(d / "straight" / "metrics.jsonl").size(), 3u);
  // A changed file is refused.
  std::string changed = toy_config();
  changed.replace(changed.find("lr = 2e-2"), 9, "lr = 1e-3");
  EXPECT_THROW(fit(load(d, changed), d / "resumed", true), ConfigError);
}

TEST(Training, NanStopsAndKeepsTheLastGoodCheckpoint) {
  const fs::path d = temp_dir("nan");
  write_toy_shd(d);
  auto cfg = load(d, toy_config("kind = \"sgd\"\nmomentum = 0.9\n"));
  auto good = cfg;
  good.training.epochs = 1;
  fit(good, d / "out");
  const std::string before = read(d / "out" / "checkpoint.bin");
  // Continue with an absurd learning rate (same file text, so --resume accepts it): the weights
  // overflow, the loss turns NaN, the run stops and the epoch-1 checkpoint is untouched.
  auto bad = cfg;
  bad.optimizer.lr = 1e300;  // inf in float: the first step makes the weights Inf/NaN
  const auto r = fit(bad, d / "out", true);
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.epochs_done, 1);
  EXPECT_THAT(r.message, HasSubstr("NaN or Inf"));
  EXPECT_THAT(r.message, HasSubstr("last good checkpoint (1 epochs)"));
  EXPECT_TRUE(read(d / "out" / "checkpoint.bin") == before) << "the checkpoint changed";
}

TEST(Training, ExplodingRunStopsWithAClearMessage) {
  // A learning rate beyond float range: the first update makes the weights Inf/NaN and the
  // second batch's loss is NaN.
  const fs::path d = temp_dir("explode");
  write_toy_shd(d);
  auto cfg = load(d, toy_config());
  cfg.optimizer.lr = 1e300;
  const auto r = fit(cfg, d / "out");
  EXPECT_TRUE(r.stopped);
  EXPECT_THAT(r.message, HasSubstr("epoch 1: the loss, a gradient or a parameter became NaN or Inf"));
  EXPECT_THAT(r.message, HasSubstr("No epoch finished"));
  EXPECT_FALSE(fs::exists(d / "out" / "checkpoint.bin"));
}

TEST(Checkpoint, CorruptOrForeignFilesAreRejected) {
  const fs::path d = temp_dir("ckpt");
  volley::train::Checkpoint ck;
  ck.config_text = "x";
  ck.params = {{"layer0.w", {1.0f, 2.0f}}};
  const std::string path = (d / "c.bin").string();
  volley::train::write_checkpoint(path, ck);
  EXPECT_EQ(volley::train::read_checkpoint(path).params, ck.params);
  std::string bytes = read(path);
  bytes[bytes.size() / 2] ^= 0x40;
  std::ofstream(path, std::ios::binary) << bytes;
  EXPECT_THAT([&] { volley::train::read_checkpoint(path); },
              ::testing::ThrowsMessage<IoError>(HasSubstr("CRC")));
  std::ofstream(path, std::ios::binary) << bytes.substr(0, 30);
  EXPECT_THROW(volley::train::read_checkpoint(path), IoError);
  std::ofstream(path, std::ios::binary) << "hello";
  EXPECT_THAT([&] { volley::train::read_checkpoint(path); },
              ::testing::ThrowsMessage<IoError>(HasSubstr("not a volley checkpoint")));
}
