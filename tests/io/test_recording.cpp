// Recordings read back: spikes.h5 from a simulation (sizes, duration, spikes, state and rate
// monitors equal what the monitors hold) and record.h5 from a trained network (every spike of
// every layer, its sample, traces equal to the forward pass's V − θ, labels and predictions).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "support/temp_dir.hpp"
#include "volley/error.hpp"
#include "volley/io/model_file.hpp"
#include "volley/io/network_recording.hpp"
#include "volley/io/outputs.hpp"
#include "volley/io/recording.hpp"
#include "volley/monitors.hpp"

namespace io = volley::io;
namespace vt = volley::train;
using ::testing::HasSubstr;

namespace {

constexpr std::string_view kModel = R"(
[simulation]
dt = "0.1 ms"
duration = "200 ms"
seed = 3

[populations.G]
model = "poisson"
size = 50
rate = "40 Hz"

[populations.P]
model = "lif"
size = 20
tau_m = "20 ms"
v_rest = "-70 mV"
v_th = "-50 mV"
v_reset = "-60 mV"
t_ref = "2 ms"

[populations.P.channels.exc]
tau = "5 ms"

[projections.GP]
source = "G"
target = "P"
connect = { rule = "all_to_all" }
weight = "3 mV"
channel = "exc"

[monitors.sg]
type = "spikes"
population = "G"

[monitors.sp]
type = "spikes"
population = "P[0:10]"

[monitors.v]
type = "state"
population = "P"
variables = ["v"]
every = "1 ms"

[monitors.rate]
type = "rate"
population = "P"
bin = "5 ms"

[projections.GP.plasticity]
rule = "stdp"
a_plus = "0.2 mV"
a_minus = "0.25 mV"
w_max = "6 mV"

[monitors.w]
type = "weights"
projection = "GP"
synapses = [[0, 0], [3, 7], [49, 19]]
every = "2 ms"
)";

}  // namespace

TEST(Recording, SpikeFileReadsBackAsWritten) {
  volley::test::TempDir dir;
  io::LoadedModel m = io::load_model_string(kModel, "m.toml");
  m.network->run(m.duration);
  const std::string path = dir / "spikes.h5";
  io::write_spike_file(path, *m.network);
  const io::Recording r = io::read_recording(path);
  EXPECT_DOUBLE_EQ(r.duration, 0.2);
  EXPECT_DOUBLE_EQ(r.dt, 1e-4);
  const io::PopulationRecording* g = r.find("G");
  const io::PopulationRecording* p = r.find("P");
  ASSERT_NE(g, nullptr);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(g->size, 50u);
  EXPECT_EQ(p->size, 20u);  // the population's size, though only P[0:10] is monitored
  const auto& mons = m.network->spike_monitors();
  ASSERT_EQ(mons.size(), 2u);
  EXPECT_EQ(g->times, mons[0]->times);
  EXPECT_EQ(g->units, mons[0]->units);
  EXPECT_EQ(p->units, mons[1]->units);
  EXPECT_GT(g->times.size(), 300u);  // 50 × 40 Hz × 0.2 s = 400 expected
  ASSERT_EQ(p->states.size(), 1u);
  EXPECT_EQ(p->states[0].variable, "v");
  EXPECT_EQ(p->states[0].unit, "V");
  EXPECT_EQ(p->states[0].indices.size(), 20u);
  EXPECT_EQ(p->states[0].values.size(), p->states[0].t.size() * 20u);
  EXPECT_EQ(p->states[0].values, m.network->state_monitors()[0]->values[0]);
  ASSERT_EQ(p->rates.size(), 1u);
  EXPECT_EQ(p->rates[0].rate, m.network->rate_monitors()[0]->rates);
  // The weight monitor lives under its projection's source population.
  ASSERT_EQ(g->weights.size(), 1u);
  const io::WeightRecording& w = g->weights[0];
  const auto& wm = *m.network->weight_monitors()[0];
  EXPECT_EQ(w.projection, "GP");
  EXPECT_EQ(w.target, "P");
  EXPECT_EQ(w.unit, "V");
  EXPECT_EQ(w.pre, (std::vector<std::uint32_t>{0, 3, 49}));
  EXPECT_EQ(w.post, (std::vector<std::uint32_t>{0, 7, 19}));
  ASSERT_EQ(w.t.size(), 100u);  // every 2 ms over 200 ms
  EXPECT_DOUBLE_EQ(w.t.front(), 2e-3);
  EXPECT_EQ(w.w, wm.values);
  EXPECT_EQ(w.mean, wm.means);
  // The last sample is the projection's final state, and STDP did move the weights.
  const auto& proj = m.network->projection("GP");
  const double f = proj.weight_factor();
  EXPECT_FLOAT_EQ(w.w[99 * 3 + 1], static_cast<float>(proj.weights()[proj.find_synapse(3, 7)] / f));
  double sum = 0.0;
  for (float x : proj.weights()) sum += x;
  EXPECT_NEAR(w.mean.back(), sum / static_cast<double>(proj.weights().size()) / f, 1e-9);
  EXPECT_NE(w.mean.back(), 3e-3) << "plasticity changed the weights";
}

TEST(Recording, WeightMonitorErrorsNameTheSynapse) {
  std::string text(kModel);
  text.replace(text.find("[[0, 0], [3, 7]"), 15, "[[0, 0], [3, 70]");
  try {
    io::load_model_string(text, "m.toml");
    FAIL() << "expected an error";
  } catch (const volley::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("monitors.w.synapses"));
    EXPECT_THAT(e.what(), HasSubstr("no synapse 3 -> 70"));
  }
  std::string all(kModel);
  all.replace(all.find("synapses = "), std::string("synapses = [[0, 0], [3, 7], [49, 19]]").size(), "");
  EXPECT_NO_THROW(io::load_model_string(all, "m.toml")) << "1000 synapses: all recorded by default";
  all.replace(all.find("size = 20"), 9, "size = 30");
  try {
    io::load_model_string(all, "m.toml");
    FAIL() << "expected an error";
  } catch (const volley::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("synapses"));
    EXPECT_THAT(e.what(), HasSubstr("1500 synapses"));
  }
}

TEST(Recording, BadFilesAreNamed) {
  volley::test::TempDir dir;
  const std::string missing = dir / "nope.h5";
  EXPECT_THAT([&] { io::read_recording(missing); },
              ::testing::ThrowsMessage<volley::IoError>(HasSubstr("nope.h5")));
  const std::string text = dir / "text.h5";
  std::ofstream(text) << "not hdf5\n";
  EXPECT_THAT([&] { io::read_recording(text); },
              ::testing::ThrowsMessage<volley::IoError>(HasSubstr("not an HDF5 file")));
}

TEST(Recording, NetworkRecordHoldsEveryLayerSpikeAndTrace) {
  volley::test::TempDir dir;
  vt::NetConfig nc;
  nc.n_inputs = 30;
  nc.n_steps = 40;
  nc.dt = 1e-3;
  nc.backward = vt::BackwardMode::dense;
  nc.layers = {vt::LayerConfig{}, vt::LayerConfig{}};
  nc.layers[0].size = 16;
  nc.layers[0].recurrent = true;
  nc.layers[0].weight_scale = 20.0;
  nc.layers[1].kind = vt::LayerKind::readout;
  nc.layers[1].size = 3;
  vt::Net net(nc);
  vt::StoredEvents data(30, 40, 3, "random");
  std::mt19937_64 rng(5);
  for (int s = 0; s < 6; ++s) {
    std::vector<std::uint32_t> steps, units;
    std::vector<float> values;
    for (int e = 0; e < 120; ++e) {
      steps.push_back(static_cast<std::uint32_t>(rng() % 40));
      units.push_back(static_cast<std::uint32_t>(rng() % 30));
      values.push_back(1.0f);
    }
    vt::SampleEvents ev;
    vt::build_sample(steps, units, values, 40, ev);
    data.add(ev, s % 3);
  }
  io::NetworkRecordOptions o;
  o.trace_samples = 2;
  o.class_names = {"a", "b", "c"};
  const std::string path = dir / "record.h5";
  const io::NetworkRecordSummary sum = io::record_network(net, vt::LossConfig{}, data, o, path);
  const io::Recording r = io::read_recording(path);
  EXPECT_DOUBLE_EQ(r.sample_duration, 0.04);
  EXPECT_DOUBLE_EQ(r.duration, 6 * 0.04);
  EXPECT_EQ(r.labels, (std::vector<int>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(r.predictions.size(), 6u);
  EXPECT_EQ(r.class_names, o.class_names);
  const io::PopulationRecording* in = r.find("input");
  const io::PopulationRecording* hidden = r.find("layer0");
  const io::PopulationRecording* out = r.find("output");
  ASSERT_TRUE(in && hidden && out);
  EXPECT_EQ(in->size, 30u);
  EXPECT_EQ(hidden->size, 16u);
  EXPECT_EQ(in->times.size(), 6u * 120u);

  // The forward pass again, sample by sample: the same spikes, at the same times, and the
  // trace of V − θ for the first two samples.
  vt::SampleEvents ev;
  vt::SampleRecord rec;
  vt::Workspace ws;
  std::size_t k = 0;
  for (std::size_t s = 0; s < 6; ++s) {
    data.fill(s, 0, ev);
    net.forward(ev, rec, ws, true);
    const auto& lr = rec.layers[0];
    for (std::size_t t = 0; t < 40; ++t)
      for (std::uint32_t e = lr.off[t]; e < lr.off[t + 1]; ++e, ++k) {
        ASSERT_LT(k, hidden->units.size());
        EXPECT_EQ(hidden->units[k], lr.idx[e]);
        EXPECT_EQ(hidden->samples[k], s);
        EXPECT_NEAR(hidden->times[k], 0.04 * static_cast<double>(s) + 1e-3 * static_cast<double>(t), 1e-12);
      }
    if (s < 2) {
      ASSERT_EQ(hidden->states.size(), 1u);
      const auto& tr = hidden->states[0];
      ASSERT_EQ(tr.variable, "u");
      ASSERT_EQ(tr.values.size(), 2u * 40u * 16u);
      for (std::size_t i = 0; i < 40u * 16u; ++i) ASSERT_EQ(tr.values[s * 640 + i], lr.u[i]);
      ASSERT_EQ(out->states.size(), 1u);
      EXPECT_EQ(out->states[0].variable, "y");
      for (std::size_t i = 0; i < 40u * 3u; ++i) ASSERT_EQ(out->states[0].values[s * 120 + i], rec.layers[1].y[i]);
    }
  }
  EXPECT_EQ(k, hidden->units.size());
  EXPECT_GT(k, 20u);  // the layer does spike, so the comparison above means something
  EXPECT_NEAR(sum.spikes_per_sample[0], static_cast<double>(k) / 6.0, 1e-9);
  // Sparse-mode networks are refused (their forward pass keeps no full traces).
  nc.backward = vt::BackwardMode::sparse;
  EXPECT_THROW(io::record_network(vt::Net(nc), vt::LossConfig{}, data, o, path), volley::ParameterError);
}
