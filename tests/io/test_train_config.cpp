// Training files read through the registries (include/volley/registry.hpp): every registered
// name is accepted, an unknown one gets the registry's "unknown X 'y' (expected one of ...)" at
// FILE:LINE: FIELD, numbers are checked against their Param ranges, and the generated reference
// (training_reference_markdown) names every key and every registered name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "volley/error.hpp"
#include "volley/io/train_config.hpp"
#include "volley/train/eprop.hpp"
#include "volley/train/evolution.hpp"
#include "volley/train/loss.hpp"
#include "volley/train/net.hpp"
#include "volley/train/optimizer.hpp"
#include "volley/train/surrogate.hpp"

namespace vt = volley::train;
namespace vio = volley::io;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

// Line numbers matter: the tests below expect the error on the line of the key they change.
const std::string kBase = R"([data]
dataset = "fashion-mnist"
[[layers]]
type = "lif"
size = 20
[[layers]]
type = "readout"
size = 10
[surrogate]
kind = "fast_sigmoid"
[backward]
mode = "sparse"
[loss]
kind = "max_ce"
[optimizer]
kind = "adam"
schedule = "none"
[training]
gradient = "bptt"
[evolution]
kind = "openai_es"
)";

std::string with(std::string text, const std::string& from, const std::string& to) {
  const auto p = text.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) text.replace(p, from.size(), to);
  return text;
}

std::string error_of(const std::string& text) {
  try {
    vio::load_train_string(text, "t.toml");
  } catch (const volley::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

template <class Entry>
std::string unknown(const volley::Registry<Entry>& r, const std::string& name) {
  return "unknown " + std::string(r.what()) + " '" + name + "' (expected one of " + r.names() + ")";
}

}  // namespace

TEST(TrainConfig, UnknownNamesGetTheRegistrysMessageAtFileLineField) {
  struct Case {
    std::string from, to, where, message;
  };
  const std::vector<Case> cases = {
      {"dataset = \"fashion-mnist\"", "dataset = \"mnist\"", "t.toml:2: data.dataset",
       unknown(vio::datasets(), "mnist")},
      {"type = \"lif\"", "type = \"lifx\"", "t.toml:4: layers[0].type",
       unknown(vt::layer_kinds(), "lifx")},
      {"kind = \"fast_sigmoid\"", "kind = \"superspike\"", "t.toml:10: surrogate.kind",
       unknown(vt::surrogates(), "superspike")},
      {"mode = \"sparse\"", "mode = \"active\"", "t.toml:12: backward.mode",
       unknown(vt::backward_modes(), "active")},
      {"kind = \"max_ce\"", "kind = \"hinge\"", "t.toml:14: loss.kind",
       unknown(vt::losses(), "hinge")},
      {"kind = \"adam\"", "kind = \"adamw\"", "t.toml:16: optimizer.kind",
       unknown(vt::optimizers(), "adamw")},
      {"schedule = \"none\"", "schedule = \"linear\"", "t.toml:17: optimizer.schedule",
       unknown(vt::schedules(), "linear")},
      {"gradient = \"bptt\"", "gradient = \"rtrl\"", "t.toml:19: training.gradient",
       unknown(vt::gradient_methods(), "rtrl")},
      {"kind = \"openai_es\"", "kind = \"cmaes\"", "t.toml:21: evolution.kind",
       unknown(vt::evolution_kinds(), "cmaes")},
      {"size = 20", "size = 20\nreset = \"zero\"", "t.toml:6: layers[0].reset",
       unknown(vt::reset_modes(), "zero")},
      {"kind = \"fast_sigmoid\"", "kind = \"fast_sigmoid\"\nforward = \"soft\"",
       "t.toml:11: surrogate.forward", unknown(vt::forward_modes(), "soft")},
      {"gradient = \"bptt\"", "gradient = \"eprop\"\nfeedback = \"mirror\"",
       "t.toml:20: training.feedback", unknown(vt::feedback_kinds(), "mirror")},
      {"dataset = \"fashion-mnist\"", "dataset = \"fashion-mnist\"\nencoding = \"rate\"",
       "t.toml:3: data.encoding", unknown(vio::encodings(), "rate")},
  };
  for (const Case& c : cases) {
    const std::string e = error_of(with(kBase, c.from, c.to));
    EXPECT_THAT(e, HasSubstr(c.where + ": " + c.message)) << c.to;
  }
  // The message names the known ones.
  EXPECT_THAT(unknown(vt::surrogates(), "x"), HasSubstr("'fast_sigmoid', 'sigmoid'"));
}

TEST(TrainConfig, EveryRegisteredSurrogateIsReadWithItsDefaultScale) {
  for (const vt::SurrogateInfo& s : vt::surrogates()) {
    const std::string name(s.name);
    const auto cfg = vio::load_train_string(
        with(kBase, "kind = \"fast_sigmoid\"", "kind = \"" + name + "\""), "t.toml");
    EXPECT_EQ(cfg.net.surrogate.kind, s.value) << name;
    EXPECT_EQ(cfg.net.surrogate.scale, s.default_scale) << name;
    const auto scaled = vio::load_train_string(
        with(kBase, "kind = \"fast_sigmoid\"", "kind = \"" + name + "\"\nscale = 3.5"), "t.toml");
    EXPECT_EQ(scaled.net.surrogate.scale, 3.5f) << name;
    EXPECT_EQ(vt::surrogate_name(scaled.net.surrogate.kind), s.name);
  }
  // Without a [surrogate] table: the first surrogate at its default (SpyTorch's 100).
  const auto plain = vio::load_train_string(with(kBase, "kind = \"fast_sigmoid\"\n", ""), "t.toml");
  EXPECT_EQ(plain.net.surrogate.kind, vt::surrogate_index<vt::FastSigmoid>());
  EXPECT_EQ(plain.net.surrogate.scale, 100.0f);
}

TEST(TrainConfig, EveryRegisteredChoiceIsRead) {
  for (const vt::LossInfo& l : vt::losses()) {
    std::string text = with(kBase, "kind = \"max_ce\"", "kind = \"" + std::string(l.name) + "\"");
    if (l.counts) text = with(text, "type = \"readout\"", "type = \"lif\"");
    EXPECT_EQ(vio::load_train_string(text, "t.toml").loss.kind, l.value) << l.name;
  }
  for (const auto& o : vt::optimizers())
    EXPECT_EQ(vio::load_train_string(with(kBase, "kind = \"adam\"", "kind = \"" + std::string(o.name) + "\""),
                                     "t.toml")
                  .optimizer.kind,
              o.value);
  for (const auto& s : vt::schedules())
    EXPECT_EQ(vio::load_train_string(
                  with(kBase, "schedule = \"none\"", "schedule = \"" + std::string(s.name) + "\""), "t.toml")
                  .optimizer.schedule,
              s.value);
  for (const auto& k : vt::layer_kinds()) {
    if (k.value == vt::LayerKind::readout) continue;  // not as a hidden layer
    EXPECT_EQ(vio::load_train_string(with(kBase, "type = \"lif\"", "type = \"" + std::string(k.name) + "\""),
                                     "t.toml")
                  .net.layers[0]
                  .kind,
              k.value);
  }
  for (const auto& r : vt::reset_modes())
    EXPECT_EQ(vio::load_train_string(
                  with(kBase, "size = 20", "size = 20\nreset = \"" + std::string(r.name) + "\""), "t.toml")
                  .net.layers[0]
                  .reset,
              r.value);
  for (const auto& e : vt::evolution_kinds())
    EXPECT_EQ(vio::load_train_string(
                  with(kBase, "kind = \"openai_es\"", "kind = \"" + std::string(e.name) + "\""), "t.toml")
                  .evolution.kind,
              e.value);
}

TEST(TrainConfig, NumbersAreCheckedAgainstTheirDeclaredRanges) {
  struct Case {
    std::string from, to, where, message;
  };
  const std::vector<Case> cases = {
      {"size = 20", "size = 0", "t.toml:5: layers[0].size", "must be >= 1, got 0"},
      {"size = 20", "size = 20\ntau_mem = \"-1 ms\"", "t.toml:6: layers[0].tau_mem",
       "must be > 0"},
      {"size = 20", "size = 20\ndensity = 0", "t.toml:6: layers[0].density",
       "must be in (0, 1], got 0"},
      {"kind = \"fast_sigmoid\"", "kind = \"fast_sigmoid\"\nscale = 0", "t.toml:11: surrogate.scale",
       "must be > 0, got 0"},
      {"mode = \"sparse\"", "mode = \"sparse\"\nwindow = -1", "t.toml:13: backward.window",
       "must be >= 0, got -1"},
      {"kind = \"max_ce\"", "kind = \"max_ce\"\nr_correct = 1.5", "t.toml:15: loss.r_correct",
       "must be in [0, 1], got 1.5"},
      {"kind = \"adam\"", "kind = \"adam\"\nbeta1 = 1", "t.toml:17: optimizer.beta1",
       "must be in [0, 1), got 1"},
      {"kind = \"adam\"", "kind = \"adam\"\nlr = 1e-3\nlr_min = 1e-2", "t.toml:18: optimizer.lr_min",
       "must be in [0, lr]"},
      {"gradient = \"bptt\"", "gradient = \"bptt\"\nbatch_size = 0", "t.toml:20: training.batch_size",
       "must be >= 1, got 0"},
      {"kind = \"openai_es\"", "kind = \"openai_es\"\npopulation = 7",
       "t.toml:22: evolution.population", "must be even"},
      {"kind = \"openai_es\"", "kind = \"openai_es\"\npopulation = 2",
       "t.toml:22: evolution.population", "must be in [4, 100000], got 2"},
      {"size = 20", "size = 20.5", "t.toml:5: layers[0].size", "expected an integer"},
      {"size = 20", "size = 20\ntau_mem = 10", "t.toml:6: layers[0].tau_mem", "needs a unit"},
      {"size = 20", "size = 20\nlearn_adapt = true", "t.toml:3: layers[0]",
       "learn_adapt needs type = \"adlif\""},
      {"type = \"lif\"\nsize = 20", "type = \"adlif\"\nsize = 20\nlearn_adapt = true\nadapt_strength = 3",
       "t.toml:7: layers[0].adapt_strength", "must be at most 2 with learn_adapt, got 3"},
      {"type = \"lif\"\nsize = 20", "type = \"adlif\"\nsize = 20\nadapt_coupling = -1",
       "t.toml:6: layers[0].adapt_coupling", "must be >= 0"},
      {"type = \"lif\"\nsize = 20", "type = \"lif\"\nsize = 20\nadapt_coupling = 1",
       "t.toml:6: layers[0].adapt_coupling", "unknown key 'adapt_coupling'"},
      {"size = 20", "size = 20\nlearn_threshold = true\nthreshold = 0.001",
       "t.toml:7: layers[0].threshold", "must be at least 0.01 with learn_threshold"},
      // A key of another layer type is unknown here.
      {"type = \"readout\"\nsize = 10", "type = \"readout\"\nsize = 10\nthreshold = 2",
       "t.toml:9: layers[1].threshold", "unknown key 'threshold'"},
  };
  for (const Case& c : cases) {
    const std::string e = error_of(with(kBase, c.from, c.to));
    EXPECT_THAT(e, HasSubstr(c.where + ": ")) << c.to << "\n" << e;
    EXPECT_THAT(e, HasSubstr(c.message)) << c.to;
  }
}

TEST(TrainConfig, AbsentKeysKeepTheDeclaredDefaults) {
  const auto cfg = vio::load_train_string(kBase, "t.toml");
  const vt::LayerConfig layer;
  for (const auto& p : vt::layer_params())
    if (p.key != "size") EXPECT_EQ(p.get(cfg.net.layers[0]), p.get(layer)) << p.key;
  for (const auto& p : vt::spiking_layer_params())
    EXPECT_EQ(p.get(cfg.net.layers[0]), p.get(layer)) << p.key;
  const vt::NetConfig net;
  for (const auto& p : vt::network_params()) EXPECT_EQ(p.get(cfg.net), p.get(net)) << p.key;
  const vt::OptimizerConfig opt;
  for (const auto& p : vt::optimizer_params()) EXPECT_EQ(p.get(cfg.optimizer), p.get(opt)) << p.key;
  const vt::LossConfig loss;
  for (const auto& p : vt::loss_params()) EXPECT_EQ(p.get(cfg.loss), p.get(loss)) << p.key;
  // recurrent_scale follows the layer's weight_scale unless given.
  const auto scaled =
      vio::load_train_string(with(kBase, "size = 20", "size = 20\nweight_scale = 3.0"), "t.toml");
  EXPECT_EQ(scaled.net.layers[0].recurrent_scale, 3.0);
}

TEST(TrainConfig, ReferenceNamesEveryKeyAndEveryRegisteredName) {
  const std::string md = vio::training_reference_markdown();
  auto has_key = [&](std::string_view key) {
    EXPECT_THAT(md, HasSubstr("| `" + std::string(key) + "` |")) << key;
  };
  for (auto params : {vt::layer_params(), vt::spiking_layer_params(), vt::alif_params()})
    for (const auto& p : params) has_key(p.key);
  for (auto params : {vt::network_params(), vt::smooth_forward_params(), vt::backward_params()})
    for (const auto& p : params) has_key(p.key);
  for (const auto& p : vt::surrogate_params()) has_key(p.key);
  for (const auto& p : vt::loss_params()) has_key(p.key);
  for (const auto& p : vt::optimizer_params()) has_key(p.key);
  for (const auto& p : vt::evolution_params()) has_key(p.key);
  for (const char* key : {"dataset", "encoding", "tau_eff", "max_rate", "threshold", "type", "reset",
                          "kind", "forward", "mode", "schedule", "gradient", "feedback",
                          "epochs", "batch_size", "threads", "seed", "ridge", "time_bins",
                          "memory_capacity", "train_limit", "fibres", "inputs"})
    has_key(key);
  auto has_names = [&](const auto& registry) {
    for (const auto& e : registry) {
      EXPECT_THAT(md, HasSubstr("| `" + std::string(e.name) + "` |")) << e.name;
      EXPECT_THAT(md, HasSubstr(std::string(e.meaning))) << e.name;
    }
  };
  has_names(vio::datasets());
  has_names(vio::encodings());
  has_names(vt::layer_kinds());
  has_names(vt::reset_modes());
  has_names(vt::surrogates());
  has_names(vt::forward_modes());
  has_names(vt::backward_modes());
  has_names(vt::losses());
  has_names(vt::optimizers());
  has_names(vt::schedules());
  has_names(vt::gradient_methods());
  has_names(vt::feedback_kinds());
  has_names(vt::evolution_kinds());
  has_names(vt::l1_modes());
  // Defaults and ranges come from the declarations.
  EXPECT_THAT(md, HasSubstr("| `tau_mem` | 10 ms | > 0 |"));
  EXPECT_THAT(md, HasSubstr("| `exponential` | 1 |"));
  EXPECT_EQ(md, vio::training_reference_markdown());  // deterministic
}

TEST(TrainConfig, RewiringIsReadWithItsKindAndParameters) {
  EXPECT_EQ(vio::load_train_string(kBase, "t.toml").rewiring.kind, vt::RewiringKind::none);
  const auto cfg = vio::load_train_string(
      kBase + "[rewiring]\nkind = \"deep_r\"\nl1 = 1e-5\ntemperature = 1e-9\n", "t.toml");
  EXPECT_EQ(cfg.rewiring.kind, vt::RewiringKind::deep_r);
  EXPECT_DOUBLE_EQ(cfg.rewiring.l1, 1e-5);
  EXPECT_DOUBLE_EQ(cfg.rewiring.temperature, 1e-9);
  EXPECT_EQ(cfg.rewiring.l1_mode, vt::L1Mode::gradient);  // the default
  EXPECT_EQ(vio::load_train_string(kBase + "[rewiring]\nl1_mode = \"update\"\n", "t.toml")
                .rewiring.l1_mode,
            vt::L1Mode::update);
  EXPECT_THAT(error_of(kBase + "[rewiring]\nl1_mode = \"decay\"\n"),
              HasSubstr(unknown(vt::l1_modes(), "decay")));
  EXPECT_FALSE(vio::load_train_string(kBase + "[rewiring]\nkind = \"deep_r\"\nbudget = \"per_matrix\"\n",
                                      "t.toml")
                   .rewiring.global_budget);
  EXPECT_THAT(error_of(kBase + "[rewiring]\nbudget = \"local\"\n"),
              AllOf(HasSubstr("rewiring.budget"), HasSubstr("unknown budget 'local'")));
  EXPECT_THAT(error_of(kBase + "[rewiring]\nkind = \"deep_q\"\n"),
              HasSubstr(unknown(vt::rewiring_kinds(), "deep_q")));
  EXPECT_THAT(error_of(kBase + "[rewiring]\nkind = \"deep_r\"\nl1 = -1\n"),
              AllOf(HasSubstr("t.toml:"), HasSubstr("rewiring.l1")));
}
