// Neurons added and removed during a run, from a model file ([[events]] and
// [neuron_rules.NAME], see docs/model-format.md): the changes apply at their times, the removed
// neurons never spike again, spikes.h5 records every population's sizes over time and its
// removed neurons (read back equal), the run is the same on 1 and 2 threads, bad schedules are
// refused at load time naming the file and the key, and a malformed sizes group is an IoError.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <string>

#include "support/error_of.hpp"
#include "support/temp_dir.hpp"
#include "volley/error.hpp"
#include "volley/io/model_file.hpp"
#include "volley/io/outputs.hpp"
#include "volley/io/recording.hpp"
#include "volley/network.hpp"

using namespace volley;
using ::testing::AllOf;
using ::testing::HasSubstr;
using volley::test::error_of;
using volley::test::TempDir;

namespace {

// 100 LIF neurons driven to fire at ~20 Hz, recurrently connected; three scheduled changes.
constexpr const char* kModel = R"(
[simulation]
duration = "0.5 s"
seed = 3

[populations.E]
model = "lif"
size = 100
tau_m = "10 ms"
v_init = { dist = "uniform", low = "-70 mV", high = "-55 mV" }
channels = { exc = { tau = "2 ms" }, ext = { tau = "2 ms" } }

[inputs.bg]
type = "poisson_input"
target = "E"
channel = "ext"
n = 100
rate = "20 Hz"
weight = "6 mV"

[projections.EE]
source = "E"
target = "E"
connect = { rule = "fixed_probability", p = 0.1 }
weight = "0.5 mV"
delay = "5 ms"

[monitors.spikes]
type = "spikes"
population = "E"

[[events]]
time = "0.1 s"
action = "remove"
population = "E"
indices = [0, 1, 2]

[[events]]
time = "0.3 s"
action = "grow"
population = "E"
n = 20
connect = { EE = { rule = "fixed_probability", p = 0.1 } }

[[events]]          # listed after the growth but earlier: applied in time order
time = "0.2 s"
action = "remove"
population = "E"
fraction = 0.1
)";

io::LoadedModel loaded(const std::string& text, int threads = 1) {
  io::LoadOptions o;
  o.threads = threads;
  return io::load_model_string(text, "m.toml", o);
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::string load_error(const std::string& text) {
  return error_of<ConfigError>([&] { loaded(text); });
}

}  // namespace

TEST(NeuronChangesFile, EventsApplyInTimeOrderAndTheRecordingKeepsTheSizes) {
  auto m = loaded(kModel);
  m.network->run(m.duration);
  const Network& net = *m.network;
  const auto& h = net.size_history("E");
  ASSERT_EQ(h.size(), 4u);
  EXPECT_DOUBLE_EQ(h[0].time, 0.0);
  EXPECT_EQ(h[0].size, 100u);
  EXPECT_NEAR(h[1].time, 0.1, 1e-9);
  EXPECT_EQ(h[1].living, 97u);
  EXPECT_NEAR(h[2].time, 0.2, 1e-9);  // 10 % of the 97 living
  EXPECT_EQ(h[2].living, 87u);
  EXPECT_NEAR(h[3].time, 0.3, 1e-9);
  EXPECT_EQ(h[3].size, 120u);
  EXPECT_EQ(h[3].living, 107u);

  const auto& mon = *net.spike_monitors()[0];
  const Population& pop = net.populations()[0]->name() == "E" ? *net.populations()[0]
                                                              : *net.populations()[1];
  std::size_t late_new = 0;
  for (std::size_t k = 0; k < mon.times.size(); ++k) {
    const auto u = mon.units[k];
    if (u < 3) EXPECT_LT(mon.times[k], 0.1 + 1e-9) << "neuron " << u;
    if (!pop.alive(u)) EXPECT_LT(mon.times[k], 0.2 + 1e-9) << "neuron " << u;
    if (u >= 100) {
      EXPECT_GE(mon.times[k], 0.3 - 1e-9);
      ++late_new;
    }
  }
  EXPECT_GT(late_new, 0u) << "the grown neurons are driven by the background and fire";

  TempDir dir;
  const std::string path = dir / "spikes.h5";
  io::write_spike_file(path, net);
  const io::Recording rec = io::read_recording(path);
  const io::PopulationRecording* e = rec.find("E");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->size, 120u);
  ASSERT_TRUE(e->sizes.has_value());
  ASSERT_EQ(e->sizes->t.size(), h.size());
  for (std::size_t k = 0; k < h.size(); ++k) {
    EXPECT_DOUBLE_EQ(e->sizes->t[k], h[k].time);
    EXPECT_EQ(e->sizes->size[k], h[k].size);
    EXPECT_EQ(e->sizes->living[k], h[k].living);
  }
  ASSERT_EQ(e->removed.size(), 13u);
  EXPECT_EQ(e->removed[0], 0u);
  for (const auto i : e->removed) EXPECT_FALSE(pop.alive(i));
  EXPECT_TRUE(std::is_sorted(e->removed.begin(), e->removed.end()));
}

TEST(NeuronChangesFile, TheSummaryRateIsPerLivingNeuron) {
  auto m = loaded(kModel);
  m.network->run(m.duration);
  io::RunInfo info;
  info.duration = m.duration;
  const io::SimSummary s = io::summarize(*m.network, info);
  ASSERT_EQ(s.populations.size(), 1u);
  const auto& e = s.populations[0];
  ASSERT_GT(e.spikes, 0u);
  // Living neuron-seconds: 100 for 0.1 s, 97 for 0.1 s, 87 for 0.1 s, 107 for 0.2 s.
  const double alive = 100 * 0.1 + 97 * 0.1 + 87 * 0.1 + 107 * 0.2;
  EXPECT_NEAR(e.rate_hz, static_cast<double>(e.spikes) / alive, 1e-6 * e.rate_hz);
  EXPECT_GT(e.rate_hz, static_cast<double>(e.spikes) / (120 * 0.5) * 1.01)
      << "not the final size times the duration";
}

TEST(NeuronChangesFile, OneAndTwoThreadsGiveTheSameSpikes) {
  auto a = loaded(kModel, 1);
  auto b = loaded(kModel, 2);
  a.network->run(a.duration, {1});
  b.network->run(b.duration, {2});
  const auto& ma = *a.network->spike_monitors()[0];
  const auto& mb = *b.network->spike_monitors()[0];
  EXPECT_EQ(ma.times, mb.times);
  EXPECT_EQ(ma.units, mb.units);
}

TEST(NeuronChangesFile, AFixedSizePopulationWritesNoSizes) {
  const std::string text = kModel;
  auto m = loaded(text.substr(0, text.find("[[events]]")));
  m.network->run(0.05);
  TempDir dir;
  const std::string path = dir / "spikes.h5";
  io::write_spike_file(path, *m.network);
  const io::Recording rec = io::read_recording(path);
  EXPECT_FALSE(rec.find("E")->sizes.has_value());
  EXPECT_TRUE(rec.find("E")->removed.empty());
}

TEST(NeuronChangesFile, NeuronRulesRemoveSilentNeuronsByTheirCalcium) {
  // Neurons 0-49 get no background, so their calcium stays 0: the rule removes them after they
  // stayed below the level for 0.1 s (at the checks of 0.05, ..., 0.15 s).
  std::string text = replaced(kModel, "target = \"E\"\nchannel = \"ext\"",
                              "target = \"E[50:100]\"\nchannel = \"ext\"");
  text = text.substr(0, text.find("[[events]]")) + R"(
[structural_plasticity]
update_interval = "0.1 s"
[structural_plasticity.calcium.E]
tau = "0.1 s"
beta = 0.01

[neuron_rules.prune]
type = "remove_inactive"
population = "E"
every = "50 ms"
level = 0.001
duration = "0.1 s"
)";
  auto m = loaded(text);
  m.network->run(m.duration);
  const auto& h = m.network->size_history("E");
  ASSERT_GE(h.size(), 2u);
  EXPECT_NEAR(h[1].time, 0.15, 1e-9);
  const Population& pop = *m.network->populations()[0];
  for (std::size_t i = 0; i < 50; ++i) EXPECT_FALSE(pop.alive(i)) << i;
  std::size_t alive = 0;
  for (std::size_t i = 50; i < 100; ++i) alive += pop.alive(i);
  EXPECT_EQ(alive, 50u) << "the driven half keeps its calcium above the level";
}

TEST(NeuronChangesFile, BadSchedulesAreRefusedAtLoadTime) {
  const std::string head = std::string(kModel).substr(0, std::string(kModel).find("[[events]]"));
  auto event = [&](const std::string& body) { return head + "[[events]]\n" + body; };
  EXPECT_THAT(load_error(event("time = \"2 s\"\naction = \"grow\"\npopulation = \"E\"\nn = 5\n")),
              AllOf(HasSubstr("m.toml"), HasSubstr("events"), HasSubstr("time"),
                    HasSubstr("beyond the run's duration")));
  EXPECT_THAT(load_error(event("time = \"0.1 s\"\naction = \"remove\"\npopulation = \"E\"\n"
                               "indices = [3, 100]\n")),
              AllOf(HasSubstr("m.toml"), HasSubstr("cannot remove neuron 100"),
                    HasSubstr("100 neurons")));
  EXPECT_THAT(load_error(event("time = \"0.1 s\"\naction = \"remove\"\npopulation = \"E\"\n"
                               "n = 101\n")),
              AllOf(HasSubstr("cannot remove 101 neurons"), HasSubstr("100 will be alive")));
  // A growth before makes a later index valid; a removal before makes a later count too big.
  EXPECT_NO_THROW(loaded(event("time = \"0.1 s\"\naction = \"grow\"\npopulation = \"E\"\n"
                               "n = 5\n[[events]]\ntime = \"0.2 s\"\naction = \"remove\"\n"
                               "population = \"E\"\nindices = [104]\n")));
  EXPECT_THAT(load_error(event("time = \"0.1 s\"\naction = \"remove\"\npopulation = \"E\"\n"
                               "n = 60\n[[events]]\ntime = \"0.2 s\"\naction = \"remove\"\n"
                               "population = \"E\"\nn = 50\n")),
              HasSubstr("40 will be alive"));
  EXPECT_THAT(load_error(event("time = \"0.1 s\"\naction = \"remove\"\npopulation = \"E\"\n"
                               "n = 5\nfraction = 0.1\n")),
              HasSubstr("exactly one of indices, a fraction or a count"));
  EXPECT_THAT(load_error(event("time = \"0.1 s\"\naction = \"explode\"\npopulation = \"E\"\n")),
              AllOf(HasSubstr("action"), HasSubstr("unknown action 'explode'")));
  EXPECT_THAT(load_error(event("time = \"0.1 s\"\naction = \"grow\"\npopulation = \"F\"\nn = 1\n")),
              HasSubstr("'F'"));
  EXPECT_THAT(load_error(event("time = \"0.1 s\"\naction = \"grow\"\npopulation = \"E\"\nn = 1\n"
                               "connect = { XY = { rule = \"all_to_all\" } }\n")),
              HasSubstr("unknown projection 'XY'"));
  EXPECT_THAT(load_error(event("time = \"100 ms\"\naction = \"grow\"\npopulation = \"E\"\nn = 1\n"
                               "colour = 3\n")),
              HasSubstr("colour"));
  const std::string generator = R"(
[simulation]
duration = "1 s"
[populations.S]
model = "spike_generator"
times = ["1 ms"]
indices = [0]
[[events]]
time = "0.5 s"
action = "grow"
population = "S"
n = 2
)";
  EXPECT_THAT(load_error(generator), AllOf(HasSubstr("m.toml"), HasSubstr("spike generator"),
                                           HasSubstr("cannot grow")));
  EXPECT_THAT(load_error(head + "[neuron_rules.prune]\ntype = \"remove_inactive\"\n"
                                "population = \"E\"\nlevel = 0.01\n"),
              AllOf(HasSubstr("prune"), HasSubstr("needs a calcium trace")));
  EXPECT_THAT(load_error(head + "[neuron_rules.prune]\ntype = \"shrink\"\npopulation = \"E\"\n"
                                "level = 0.01\n"),
              HasSubstr("unknown neuron rule type 'shrink'"));
}

TEST(NeuronChangesFile, AMalformedSizesGroupIsAnIoErrorNamingIt) {
  auto m = loaded(kModel);
  m.network->run(m.duration);
  TempDir dir;
  const std::string path = dir / "spikes.h5";
  io::write_spike_file(path, *m.network);
  {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    ASSERT_GE(H5Ldelete(f, "E/sizes/living", H5P_DEFAULT), 0);
    const hsize_t n = 2;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t ds = H5Dcreate2(f, "E/sizes/living", H5T_NATIVE_UINT64, space, H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT);
    const std::uint64_t v[2] = {1, 1};
    H5Dwrite(ds, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(ds);
    H5Sclose(space);
    H5Fclose(f);
  }
  EXPECT_THAT(error_of([&] { io::read_recording(path); }),
              AllOf(HasSubstr(path), HasSubstr("E/sizes/living"), HasSubstr("t has 4")));
}

// examples/neuron_turnover.toml runs as its header says: a lesion of half the inhibitory
// neurons makes the network run away, growing them back restores balance.
TEST(NeuronChangesFile, TheTurnoverExampleLosesAndRegainsBalance) {
  auto m = io::load_model_file(std::string(VOLLEY_SOURCE_DIR) + "/examples/neuron_turnover.toml");
  m.network->run(m.duration);
  const auto& rate = *m.network->rate_monitors()[0];
  ASSERT_EQ(rate.population().name(), "E");
  ASSERT_EQ(rate.rates.size(), 30u);
  for (std::size_t b = 0; b < 30; ++b) {
    const double r = rate.rates[b];
    if (b < 10) EXPECT_TRUE(r > 40 && r < 55) << b << ": " << r;
    if (b >= 10 && b < 20) EXPECT_GT(r, 250) << b;
    if (b >= 21) EXPECT_TRUE(r > 40 && r < 65) << b << ": " << r;
  }
  const auto& h = m.network->size_history("I");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[1].living, 500u);
  EXPECT_EQ(h[2].size, 1500u);
  EXPECT_EQ(h[2].living, 1000u);
}
