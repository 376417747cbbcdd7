// `volley export`: a trained network run by the simulator reproduces the trainer's forward pass
// spike for spike (every spike of every layer at the same step, identical readout outputs), for
// every layer type, reset mode, recurrent and sparse weights, binned count inputs and threads;
// and what cannot be exported, or a broken synapse file, is refused with a clear error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.hpp"
#include "support/toy_events.hpp"
#include "volley/error.hpp"
#include "volley/io/export.hpp"
#include "volley/io/model_file.hpp"
#include "volley/io/outputs.hpp"
#include "volley/io/synapse_file.hpp"
#include "volley/network.hpp"
#include "volley/train/net.hpp"

namespace vt = volley::train;
namespace io = volley::io;
using volley::test::TempDir;

namespace {

// Input events that are spike counts 1..3 (as binned spike data are).
volley::data::StoredEvents count_data(std::size_t samples) {
  volley::data::StoredEvents set(20, 30, 2, "counts");
  for (std::size_t b = 0; b < samples; ++b) {
    volley::CounterRng rng(7, 2, static_cast<std::uint32_t>(b), 0);
    std::vector<std::uint32_t> st, un;
    std::vector<float> va;
    for (std::uint32_t t = 0; t < 30; ++t)
      for (std::uint32_t i = 0; i < 20; ++i)
        if (rng.uniform() < 0.3) {
          st.push_back(t);
          un.push_back(i);
          va.push_back(static_cast<float>(1 + static_cast<int>(rng.uniform() * 3)));
        }
    volley::data::SampleEvents s;
    volley::data::build_sample(st, un, va, 30, s);
    set.add(s, static_cast<int>(b % 2));
  }
  return set;
}

struct Variant {
  const char* name;
  void (*edit)(vt::NetConfig&);
  bool counts = false;
  int threads = 1;
  void (*edit_net)(vt::Net&) = nullptr;
};

// Per-neuron decay factors, as training with learn_tau leaves them.
void learned_taus(vt::Net& net) {
  for (std::size_t l = 0; l < net.config().layers.size(); ++l) {
    auto& beta = net.params()[net.beta_param(l)].value;
    auto& alpha = net.params()[net.alpha_param(l)].value;
    for (std::size_t i = 0; i < beta.size(); ++i) {
      beta[i] *= 1.0f - 0.01f * static_cast<float>(i % 7);
      alpha[i] *= 1.0f - 0.02f * static_cast<float>(i % 5);
    }
  }
}

// Per-neuron thresholds and adlif parameters, as learn_threshold and learn_adapt leave them.
void learned_dynamics(vt::Net& net) {
  learned_taus(net);
  for (std::size_t l = 0; l < net.config().layers.size(); ++l) {
    auto scale = [&](std::size_t param, float step, int period) {
      if (param == vt::Net::kNone) return;
      auto& x = net.params()[param].value;
      for (std::size_t i = 0; i < x.size(); ++i)
        x[i] *= 1.0f - step * static_cast<float>(i % static_cast<std::size_t>(period));
    };
    scale(net.threshold_param(l), 0.05f, 4);
    scale(net.adlif_rho_param(l), 0.02f, 3);
    scale(net.adlif_a_param(l), 0.1f, 5);
    scale(net.adlif_b_param(l), 0.1f, 6);
  }
}

// Delays as learn_delay leaves them at the end of training: σ annealed to 0, so rounded.
void annealed_delays(vt::Net& net) { net.set_training_progress(1.0); }

// The same with every sample's delayed currents gathered time-major (delay_kernels.hpp).
void annealed_delays_time_major(vt::Net& net) {
  net.set_training_progress(1.0);
  net.set_delay_layout(vt::DelayLayout::gather);
}

void delays(vt::NetConfig& c) {
  for (vt::LayerConfig& lc : c.layers) {
    lc.max_delay = 5e-3;  // 5 steps of the default dt
    lc.delay_sigma = 2e-3;
    lc.learn_delay = true;
  }
}

void adlif(vt::LayerConfig& h) {
  h.kind = vt::LayerKind::adlif;
  h.tau_adapt = 20e-3;
  h.adapt_coupling = 1.5;
  h.adapt_strength = 0.5;
  h.recurrent = true;
}

const Variant kVariants[] = {
    {"lif", [](vt::NetConfig&) {}},
    {"recurrent", [](vt::NetConfig& c) { c.layers[0].recurrent = true; }},
    {"alif_subtract_no_synapse",
     [](vt::NetConfig& c) {
       c.layers[0].kind = vt::LayerKind::alif;
       c.layers[0].reset = vt::ResetMode::subtract;
       c.layers[0].tau_syn = 0.0;
       c.layers[0].recurrent = true;
     }},
    {"sparse_two_hidden_reset_none",
     [](vt::NetConfig& c) {
       c.layers[0].density = 0.3;
       c.layers[0].reset = vt::ResetMode::none;
       vt::LayerConfig h2 = c.layers[0];
       h2.size = 12;
       h2.reset = vt::ResetMode::multiply;
       h2.recurrent = true;
       h2.recurrent_density = 0.5;
       c.layers.insert(c.layers.begin() + 1, h2);
       c.layers.back().tau_syn = 0.0;
     }},
    {"counts", [](vt::NetConfig& c) { c.layers[0].recurrent = true; }, true},
    {"two_threads", [](vt::NetConfig& c) { c.layers[0].recurrent = true; }, false, 2},
    {"learned_time_constants", [](vt::NetConfig& c) { c.layers[0].learn_tau = true; }, false, 1,
     learned_taus},
    {"adlif_subtract", [](vt::NetConfig& c) {
       adlif(c.layers[0]);
       c.layers[0].reset = vt::ResetMode::subtract;
     }},
    {"adlif_learned_dynamics",
     [](vt::NetConfig& c) {
       adlif(c.layers[0]);
       vt::LayerConfig& h = c.layers[0];
       h.learn_tau = h.learn_adapt = h.learn_threshold = true;
       c.layers[1].learn_tau = true;
     },
     false, 2, learned_dynamics},
    {"learned_delays_rounded", [](vt::NetConfig& c) {
       delays(c);
       c.layers[0].recurrent = true;
     }, false, 1, annealed_delays},
    {"learned_delays_rounded_time_major", [](vt::NetConfig& c) {
       delays(c);
       for (vt::LayerConfig& lc : c.layers) lc.max_delay = 9e-3;
     }, false, 2, annealed_delays_time_major},
    {"learned_delays_counts_sparse", [](vt::NetConfig& c) {
       delays(c);
       c.layers[0].density = 0.5;
     }, true, 2, annealed_delays},
};

}  // namespace

TEST(Export, SimulatorReproducesTheTrainerSpikeForSpike) {
  const auto toy = volley::test::toy_data(40, 3);
  const auto counts = count_data(40);
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.name);
    vt::NetConfig c = volley::test::toy_net(30);
    v.edit(c);
    vt::Net net(c);
    if (v.edit_net) v.edit_net(net);
    const auto& data = v.counts ? counts : toy;
    TempDir dir;
    io::ExportOptions o;
    o.first = 5;
    o.count = 30;
    const io::ExportLayout layout = io::export_network(net, data, o, dir.str());
    EXPECT_EQ(layout.samples.size(), 30u);
    std::size_t slack = 0;  // delayed layers: K − 1 steps each between samples
    for (const vt::LayerConfig& lc : c.layers)
      if (lc.max_delay > 0.0) slack += static_cast<std::size_t>(std::lround(lc.max_delay / c.dt));
    EXPECT_EQ(layout.window, c.n_steps + c.layers.size() + 1 + slack);
    if (v.counts) EXPECT_EQ(layout.input_copies, 3u);
    const io::ExportCheck check = io::check_export(net, {}, data, layout, dir.str(), v.threads);
    EXPECT_GT(check.trainer_spikes, 100u) << "too quiet to test anything";
    EXPECT_EQ(check.simulator_spikes, check.trainer_spikes);
    EXPECT_EQ(check.spike_mismatches, 0u);
    EXPECT_EQ(check.samples_identical, 30u);
    EXPECT_EQ(check.prediction_agreements, 30u);
    EXPECT_EQ(check.max_output_difference, 0.0);
  }
}

// The check is not blind: a changed weight in the exported file makes spikes differ.
TEST(Export, CheckSeesAChangedWeight) {
  const auto data = volley::test::toy_data(10, 3);
  const vt::Net net(volley::test::toy_net(30, true));
  TempDir dir;
  io::ExportOptions o;
  o.count = 10;
  const io::ExportLayout layout = io::export_network(net, data, o, dir.str());
  const std::string h5 = dir / "synapses.h5";
  io::SynapseTable w = io::read_synapses(h5, "layer0.w");
  io::SynapseTable v = io::read_synapses(h5, "layer0.v");
  const io::SynapseTable r = io::read_synapses(h5, "layer1.w");
  for (auto& x : w.weight) x *= 1.5f;
  io::write_synapses(h5, {{"layer0.w", w}, {"layer0.v", v}, {"layer1.w", r}});
  const io::ExportCheck check = io::check_export(net, {}, data, layout, dir.str());
  EXPECT_GT(check.spike_mismatches, 0u);
  EXPECT_LT(check.samples_identical, 10u);
}

TEST(Export, RefusesWhatTheSimulatorCannotRunAsTrained) {
  const auto data = volley::test::toy_data(4, 3);
  TempDir dir;
  auto message = [&](const vt::Net& net, const volley::data::EventSource& d,
                     io::ExportOptions o) -> std::string {
    try {
      io::export_network(net, d, o, dir.str());
    } catch (const volley::Error& e) {
      return e.what();
    }
    return "no error";
  };
  {
    vt::NetConfig c = volley::test::toy_net(8);
    c.forward = vt::ForwardMode::smooth;
    EXPECT_NE(message(vt::Net(c), data, {}).find("smooth forward mode"), std::string::npos);
  }
  {
    vt::Net net(volley::test::toy_net(8));
    net.params()[net.beta_param(0)].value[3] = 1.0f;  // no time constant gives β = 1
    const std::string m = message(net, data, {});
    EXPECT_NE(m.find("layer 0: neuron 3 has the learned membrane (β) factor 1"), std::string::npos)
        << m;
  }
  {
    volley::data::StoredEvents analog(20, 30, 2, "analog");
    volley::data::SampleEvents s;
    const std::uint32_t st[] = {4}, un[] = {7};
    const float va[] = {0.5f};
    volley::data::build_sample(st, un, va, 30, s);
    analog.add(s, 0);
    const std::string m = message(vt::Net(volley::test::toy_net(8)), analog, {});
    EXPECT_NE(m.find("sample 0 has input 7 at step 4 with value 0.5"), std::string::npos) << m;
  }
  {
    io::ExportOptions o;
    o.first = 3;
    o.count = 2;
    const std::string m = message(vt::Net(volley::test::toy_net(8)), data, o);
    EXPECT_NE(m.find("samples 3..4 exceed the data (4 samples"), std::string::npos) << m;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "model.toml")) << "nothing written on refusal";
}

TEST(SynapseFile, RoundTripAndClearErrors) {
  TempDir dir;
  const std::string h5 = dir / "s.h5";
  io::SynapseTable t;
  t.pre = {2, 0, 1};
  t.post = {0, 1, 1};
  t.weight = {0.5f, -1.25f, 3.0f};
  t.unit = "mV";
  io::write_synapses(h5, {{"p", t}});
  const io::SynapseTable back = io::read_synapses(h5, "p");
  EXPECT_EQ(back.pre, t.pre);
  EXPECT_EQ(back.post, t.post);
  EXPECT_EQ(back.weight, t.weight);
  EXPECT_EQ(back.unit, "mV");

  auto error = [&](const std::string& path, const std::string& group) -> std::string {
    try {
      io::read_synapses(path, group);
    } catch (const volley::IoError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(error(h5, "q").find("group 'q': missing"), std::string::npos);
  EXPECT_NE(error(dir / "none.h5", "p").find("cannot open"), std::string::npos);
  io::SynapseTable bad = t;
  bad.weight.pop_back();
  io::write_synapses(h5, {{"p", bad}});
  EXPECT_NE(error(h5, "p").find("different lengths (3, 3, 2)"), std::string::npos);
  bad = t;
  bad.pre[2] = 2;
  bad.post[2] = 0;
  io::write_synapses(h5, {{"p", bad}});
  EXPECT_NE(error(h5, "p").find("the pair (2, 0) is given twice"), std::string::npos);
  // Per-synapse delays: read back in seconds; a negative one, or the wrong count, is named.
  io::SynapseTable d = t;
  d.delay = {1e-3, 2.5e-3, 0.0};
  io::write_synapses(h5, {{"p", d}});
  EXPECT_EQ(io::read_synapses(h5, "p").delay, d.delay);
  d.delay[1] = -1e-3;
  io::write_synapses(h5, {{"p", d}});
  EXPECT_NE(error(h5, "p").find("delay[1]: -0.001 is not a delay"), std::string::npos)
      << error(h5, "p");
  d.delay.pop_back();
  io::write_synapses(h5, {{"p", d}});
  EXPECT_NE(error(h5, "p").find("one value per synapse (3), has 2"), std::string::npos)
      << error(h5, "p");
}

// Delays still spread over several steps (σ > 0) have no whole-step equivalent: refused.
TEST(Export, RefusesDelaysThatAreNotYetRounded) {
  const auto data = volley::test::toy_data(4, 3);
  vt::NetConfig c = volley::test::toy_net(8);
  delays(c);
  vt::Net net(c);
  TempDir dir;
  io::ExportOptions o;
  o.count = 2;
  try {
    io::export_network(net, data, o, dir.str());
    ADD_FAILURE() << "exported spread delays";
  } catch (const volley::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("layer 0: the delays are still spread"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "model.toml"));
  net.set_training_progress(1.0);
  EXPECT_NO_THROW(io::export_network(net, data, o, dir.str()));
}

// A model file's projection takes pairs and weights from a synapse file, in any order, with the
// file's unit.
TEST(SynapseFile, ModelFileProjectionUsesTheFilesWeights) {
  TempDir dir;
  io::SynapseTable t;
  t.pre = {1, 0, 0};
  t.post = {0, 2, 1};
  t.weight = {0.3f, 0.1f, 0.2f};
  t.unit = "mV";
  io::write_synapses(dir / "w.h5", {{"g", t}});
  const std::string model = R"(
[populations.S]
model = "spike_generator"
times = ["1 ms"]
indices = [0]
size = 2
[populations.P]
model = "lif"
size = 3
[projections.C]
source = "S"
target = "P"
synapses = { file = "w.h5", group = "g" }
)";
  const std::string path = dir / "m.toml";
  std::ofstream(path) << model;
  auto loaded = io::load_model_file(path);
  const auto& proj = loaded.network->projection("C");
  ASSERT_EQ(proj.synapse_count(), 3u);
  // CSR order: (0,1) 0.2 mV, (0,2) 0.1 mV, (1,0) 0.3 mV.
  EXPECT_FLOAT_EQ(proj.weights()[0], 0.2e-3f);
  EXPECT_FLOAT_EQ(proj.weights()[1], 0.1e-3f);
  EXPECT_FLOAT_EQ(proj.weights()[2], 0.3e-3f);

  std::ofstream(path) << model << "weight = \"1 mV\"\n";
  try {
    io::load_model_file(path);
    ADD_FAILURE() << "synapses and weight together were accepted";
  } catch (const volley::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("give either 'synapses'"), std::string::npos) << e.what();
  }
  t.unit = "nS";
  io::write_synapses(dir / "w.h5", {{"g", t}});
  std::ofstream(path) << model;
  try {
    io::load_model_file(path);
    ADD_FAILURE() << "siemens into a lif channel was accepted";
  } catch (const volley::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("projections.C.synapses"), std::string::npos) << e.what();
  }
}

// Per-neuron time constants from a file: allowed for discrete_lif's tau_mem and tau_syn only,
// one value per neuron, in seconds.
TEST(SynapseFile, PerNeuronValuesAreChecked) {
  TempDir dir;
  io::write_synapses(dir / "v.h5", {},
                     {{"neurons/tau", {{0.01, 0.02, 0.03}, "s"}},
                      {"neurons/volts", {{0.01, 0.02, 0.03}, "V"}}});
  auto load = [&](const std::string& pop) -> std::string {
    const std::string path = dir / "m.toml";
    std::ofstream(path) << "[populations.P]\n" << pop;
    try {
      io::load_model_file(path);
    } catch (const volley::Error& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string file = R"({ file = "v.h5", dataset = "neurons/tau" })";
  EXPECT_EQ(load("model = \"discrete_lif\"\nsize = 3\ntau_mem = " + file + "\n"), "no error");
  EXPECT_NE(load("model = \"discrete_lif\"\nsize = 4\ntau_mem = " + file + "\n")
                .find("3 values for a population of 4 neurons"),
            std::string::npos);
  EXPECT_NE(load("model = \"discrete_lif\"\nsize = 3\ntau_mem = "
                 "{ file = \"v.h5\", dataset = \"neurons/volts\" }\n")
                .find("the values are in 'V', a voltage"),
            std::string::npos);
  EXPECT_NE(load("model = \"discrete_lif\"\nsize = 3\nreset_every = " + file + "\n")
                .find("takes one value of reset_every for the whole population"),
            std::string::npos);
  // Thresholds may be given per neuron (learn_threshold), but they are dimensionless.
  EXPECT_NE(load("model = \"discrete_lif\"\nsize = 3\nthreshold = " + file + "\n")
                .find("the values are in 's', a time (e.g. \"ms\"), but threshold is a dimensionless"),
            std::string::npos);
  EXPECT_NE(load("model = \"discrete_lif\"\nsize = 3\ntau_mem = "
                 "{ file = \"v.h5\", dataset = \"neurons/none\" }\n")
                .find("neurons/none: missing"),
            std::string::npos);
}

// A spike generator reads a population of a spikes.h5 (what `volley sim` writes): the output of
// one run drives another, spike for spike.
TEST(SynapseFile, SpikeGeneratorReadsSpikesH5) {
  TempDir dir;
  const std::string first = R"(
[simulation]
dt = "0.1 ms"
duration = "200 ms"
[populations.P]
model = "poisson"
size = 20
rate = "50 Hz"
[monitors.p]
type = "spikes"
population = "P"
)";
  std::ofstream(dir / "a.toml") << first;
  auto a = io::load_model_file(dir / "a.toml");
  a.network->run(a.duration);
  io::write_spike_file(dir / "spikes.h5", *a.network);
  const auto& sent = a.network->spike_monitors().front();
  ASSERT_GT(sent->times.size(), 100u);

  const std::string second = R"(
[simulation]
dt = "0.1 ms"
duration = "200 ms"
[populations.S]
model = "spike_generator"
file = "spikes.h5"
population = "P"
size = 20
[monitors.s]
type = "spikes"
population = "S"
)";
  std::ofstream(dir / "b.toml") << second;
  auto b = io::load_model_file(dir / "b.toml");
  b.network->run(b.duration);
  const auto& got = b.network->spike_monitors().front();
  EXPECT_EQ(got->units, sent->units);
  EXPECT_EQ(got->times, sent->times);

  auto error = [&](const std::string& text) -> std::string {
    std::ofstream(dir / "c.toml") << text;
    try {
      io::load_model_file(dir / "c.toml");
    } catch (const volley::ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string head = "[populations.S]\nmodel = \"spike_generator\"\nfile = \"spikes.h5\"\n";
  EXPECT_NE(error(head + "population = \"Q\"\n").find("has no population 'Q'"), std::string::npos);
  EXPECT_NE(error(head).find("population"), std::string::npos);
  EXPECT_NE(error(head + "population = \"P\"\ntime_unit = \"ms\"\n").find("its times are in seconds"),
            std::string::npos);
}
