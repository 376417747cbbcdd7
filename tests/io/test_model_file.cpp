// Model files: building networks from TOML, overrides, options, and the error messages for bad
// input (each must name the file, the line and the dotted field).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "volley/equations/model.hpp"
#include "volley/error.hpp"
#include "volley/io/model_file.hpp"
#include "volley/models/lif.hpp"
#include "volley/models/registry.hpp"

using namespace volley;
using io::load_model_file;
using io::load_model_string;
using io::LoadedModel;
using io::LoadOptions;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

// A small model touching every section. Line numbers matter for nothing here.
constexpr std::string_view kSmallModel = R"(
[simulation]
dt = "0.1 ms"
duration = "50 ms"
seed = 3
threads = 1

[populations.P]
model = "lif"
size = 10
tau_m = "20 ms"
v_rest = "-70 mV"
v_th = "-50 mV"
v_reset = "-60 mV"
t_ref = "2 ms"
v_init = { dist = "uniform", low = "-70 mV", high = "-55 mV" }

[populations.P.channels.exc]
tau = "5 ms"

[populations.P.channels.inh]
tau = "10 ms"

[populations.G]
model = "poisson"
size = 10
rate = "50 Hz"

[projections.GP]
source = "G"
target = "P"
connect = { rule = "one_to_one" }
weight = "1 mV"
delay = "1 ms"

[projections.PP]
source = "P[0:8]"
target = "P[8:]"
channel = "inh"
connect = { rule = "all_to_all" }
weight = { dist = "normal", mean = "-1 mV", std = "0.1 mV", max = "0 mV" }

[projections.X]
source = "G"
target = "P"
connect = { rule = "fixed_probability", p = 0.1 }
weight = "0.5 mV"

[inputs.drive]
type = "poisson_input"
target = "P"
n = 100
rate = "10 Hz"
weight = "0.1 mV"

[monitors.spikes]
type = "spikes"
population = "P"

[monitors.v]
type = "state"
population = "P"
variables = ["v"]
every = "1 ms"

[monitors.rate]
type = "rate"
population = "P"
bin = "5 ms"
)";

LoadedModel load(std::string_view text, const LoadOptions& options = {}) {
  return load_model_string(text, "m.toml", options);
}

// The ConfigError message of loading `text` ("" and a test failure when it loads).
std::string error_of(std::string_view text, const LoadOptions& options = {}) {
  try {
    load(text, options);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << text;
  return {};
}

LoadOptions with_override(std::string set) {
  LoadOptions o;
  o.overrides.push_back(std::move(set));
  return o;
}

std::string write_temp(const std::string& name, std::string_view text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

// ---- valid models -------------------------------------------------------------------------

TEST(ModelFile, BuildsSmallModel) {
  LoadedModel m = load(kSmallModel);
  Network& net = *m.network;
  EXPECT_EQ(m.path, "m.toml");
  EXPECT_DOUBLE_EQ(m.duration, 0.05);
  EXPECT_EQ(m.threads, 1);
  EXPECT_DOUBLE_EQ(net.dt(), 1e-4);
  EXPECT_EQ(net.seed(), 3u);

  ASSERT_EQ(net.populations().size(), 2u);
  EXPECT_EQ(net.populations()[0]->name(), "P");  // file order, not key order
  EXPECT_EQ(net.population("P").size(), 10u);
  EXPECT_EQ(net.population("G").size(), 10u);
  EXPECT_EQ(net.population("P").model(), "lif");
  EXPECT_EQ(net.population("G").model(), "poisson");
  ASSERT_EQ(net.population("P").channels().size(), 2u);
  EXPECT_EQ(net.population("P").channels()[1].name, "inh");

  Projection& gp = net.projection("GP");
  EXPECT_EQ(gp.synapse_count(), 10u);
  for (float w : gp.weights()) EXPECT_FLOAT_EQ(w, 1e-3f);
  EXPECT_EQ(gp.max_delay_steps(), 10u);

  Projection& pp = net.projection("PP");
  EXPECT_EQ(pp.synapse_count(), 8u * 2u);
  EXPECT_EQ(pp.channel(), 1u);
  EXPECT_EQ(pp.max_delay_steps(), 1u);  // default delay = dt
  for (float w : pp.weights()) EXPECT_LE(w, 0.0f);

  ASSERT_EQ(net.spike_monitors().size(), 1u);
  ASSERT_EQ(net.state_monitors().size(), 1u);
  ASSERT_EQ(net.rate_monitors().size(), 1u);
  EXPECT_EQ(net.state_monitors()[0]->every(), 10u);
  EXPECT_EQ(net.state_monitors()[0]->indices().size(), 10u);  // all neurons of a small population

  net.run(0.01);
  EXPECT_EQ(net.step(), 100u);
  EXPECT_EQ(net.state_monitors()[0]->times.size(), 10u);
}

TEST(ModelFile, DefaultsWithoutSimulationTable) {
  LoadedModel m = load(R"(
[populations.G]
model = "poisson"
size = 3
rate = "1 Hz"
)");
  EXPECT_DOUBLE_EQ(m.network->dt(), 1e-4);
  EXPECT_DOUBLE_EQ(m.duration, 1.0);
  EXPECT_EQ(m.network->seed(), 1u);
  EXPECT_EQ(m.threads, 1);
}

TEST(ModelFile, OverrideChangesPopulationSize) {
  LoadOptions o;
  o.overrides = {"populations.P.size=50", "populations.G.size=50"};  // GP is one_to_one
  LoadedModel m = load(kSmallModel, o);
  EXPECT_EQ(m.network->population("P").size(), 50u);
  EXPECT_EQ(m.network->projection("GP").synapse_count(), 50u);
  EXPECT_EQ(m.network->projection("PP").synapse_count(), 8u * 42u);  // "P[8:]" follows the size
}

TEST(ModelFile, OverrideChangesConnectionProbability) {
  const auto count = [](const char* set) {
    return load(kSmallModel, with_override(set)).network->projection("X").synapse_count();
  };
  EXPECT_EQ(count("projections.X.connect.p=1.0"), 100u);
  EXPECT_EQ(count("projections.X.connect.p=0"), 0u);
  const std::size_t half = count("projections.X.connect.p=0.5");
  EXPECT_GT(half, 20u);
  EXPECT_LT(half, 80u);
}

TEST(ModelFile, OverrideValuesAreTomlOrBareStrings) {
  LoadOptions o;
  o.overrides = {"populations.P.tau_m=10 ms",            // not TOML: taken as a string
                 "projections.PP.source=\"P[0:5]\"",     // a TOML string
                 "populations.P.i_offset = \"0.1 nA\"",  // spaces around '=' are fine
                 "populations.P.R=\"100 MOhm\"",         // a new key in an existing table
                 "monitors.v.indices=[0, 2]"};
  LoadedModel m = load(kSmallModel, o);
  const auto& lif = dynamic_cast<const LifPopulation&>(m.network->population("P"));
  EXPECT_DOUBLE_EQ(lif.params().tau_m, 0.01);
  EXPECT_DOUBLE_EQ(lif.params().R, 1e8);
  EXPECT_DOUBLE_EQ(lif.params().i_offset, 1e-10);
  EXPECT_EQ(m.network->projection("PP").synapse_count(), 5u * 2u);
  EXPECT_EQ(m.network->state_monitors()[0]->indices(), (std::vector<std::uint32_t>{0, 2}));
}

TEST(ModelFile, OverrideOfMissingTableFails) {
  EXPECT_THAT(error_of(kSmallModel, with_override("populations.Q.size=5")),
              AllOf(HasSubstr("m.toml: populations.Q.size (set by --set)"),
                    HasSubstr("no table 'populations.Q'")));
  EXPECT_THAT(error_of(kSmallModel, with_override("populations.P.size.x=5")),
              AllOf(HasSubstr("populations.P.size.x (set by --set)"), HasSubstr("not a table")));
  EXPECT_THAT(error_of(kSmallModel, with_override("populations.P.size")),
              HasSubstr("expected dotted.path=VALUE"));
}

TEST(ModelFile, BadOverriddenValueNamesTheOverride) {
  EXPECT_THAT(
      error_of(kSmallModel, with_override("populations.P.tau_m=20")),
      AllOf(HasSubstr("m.toml: populations.P.tau_m (set by --set):"), HasSubstr("needs a unit")));
  EXPECT_THAT(
      error_of(kSmallModel, with_override("populations.P.tau_mm=\"20 ms\"")),
      AllOf(HasSubstr("populations.P.tau_mm (set by --set)"), HasSubstr("unknown key 'tau_mm'")));
}

TEST(ModelFile, OptionsOverrideSimulationTable) {
  LoadOptions o;
  o.seed = 99;
  o.duration = 0.25;
  o.threads = 4;
  LoadedModel m = load(kSmallModel, o);
  EXPECT_EQ(m.network->seed(), 99u);
  EXPECT_DOUBLE_EQ(m.duration, 0.25);
  EXPECT_EQ(m.threads, 4);

  LoadOptions bad;
  bad.threads = 0;
  EXPECT_THAT(error_of(kSmallModel, bad), AllOf(HasSubstr("m.toml"), HasSubstr("threads")));
}

TEST(ModelFile, OtherModelsAndDistributions) {
  LoadedModel m = load(R"(
[populations.I]
model = "izhikevich"
size = 4
a = "0.02 /ms"
b = 0.25
c = "-65 mV"
d = "2 mV"
v_init = { dist = "constant", value = "-70 mV" }
u_init = { dist = "normal", mean = "-14 mV", std = "1 mV", min = "-20 mV", max = "-10 mV" }
[populations.I.channels.fast]
tau = "0 ms"

[populations.C]
model = "lif_cond"
size = 4
C_m = "200 pF"
g_L = "10 nS"
method = "euler"
v_init = { dist = "lognormal", median = "60 mV", sigma = 0.1 }
[populations.C.channels.ampa]
tau = "5 ms"
e_rev = "0 mV"

[projections.IC]
source = "I"
target = "C"
channel = "ampa"
connect = { rule = "fixed_indegree", k = 2, allow_self = false }
weight = { dist = "uniform", low = "1 nS", high = "2 nS" }
delay = { dist = "uniform", low = "0.5 ms", high = "2 ms" }

[projections.II]
source = "I"
target = "I"
channel = "fast"
connect = { rule = "list", pairs = [[0, 1], [2, 3]] }
weight = "1 mV"
[projections.II.plasticity]
rule = "stdp"
tau_plus = "10 ms"
a_plus = "0.01 mV"
a_minus = "0.012 mV"
w_max = "2 mV"

[inputs.step]
type = "current"
target = "C[0:2]"
times = ["0 ms", "5 ms"]
values = ["0 nA", "0.3 nA"]

[inputs.array]
type = "current"
target = "I"
values = ["1 mV", "2 mV"]
dt = "1 ms"
)");
  Network& net = *m.network;
  EXPECT_EQ(net.population("I").model(), "izhikevich");
  EXPECT_EQ(net.population("C").model(), "lif_cond");
  EXPECT_EQ(net.projection("IC").synapse_count(), 4u * 2u);
  EXPECT_FALSE(net.projection("IC").homogeneous_delay());
  for (float w : net.projection("IC").weights()) {
    EXPECT_GE(w, 1e-9f);
    EXPECT_LE(w, 2e-9f);
  }
  EXPECT_EQ(net.projection("II").synapse_count(), 2u);
  EXPECT_TRUE(net.projection("II").plastic());
  net.run(0.01);
}

TEST(ModelFile, SpikeGeneratorAndConnectionListFromFiles) {
  const std::string dir = ::testing::TempDir();
  write_temp("volley_spikes.txt", "# index time\n0 1.0\n3 2.5\n");
  write_temp("volley_pairs.txt", "0 1\n3 0\n");
  const std::string model = write_temp("volley_files.toml", R"(
[simulation]
duration = "5 ms"

[populations.S]
model = "spike_generator"
file = "volley_spikes.txt"
time_unit = "ms"

[populations.P]
model = "lif"
size = 2

[projections.SP]
source = "S"
target = "P"
connect = { rule = "list", file = "volley_pairs.txt" }
weight = "2 mV"

[monitors.s]
type = "spikes"
population = "S"
)");
  LoadedModel m = load_model_file(model);
  EXPECT_EQ(m.path, model);
  Network& net = *m.network;
  EXPECT_EQ(net.population("S").size(), 4u);  // max index + 1
  EXPECT_EQ(net.projection("SP").synapse_count(), 2u);
  net.run(m.duration);
  const auto& mon = *net.spike_monitors()[0];
  EXPECT_EQ(mon.units, (std::vector<std::uint32_t>{0, 3}));
  ASSERT_EQ(mon.times.size(), 2u);
  EXPECT_NEAR(mon.times[0], 1e-3, 1e-9);
  EXPECT_NEAR(mon.times[1], 2.5e-3, 1e-9);
}

TEST(ModelFile, InlineSpikeGenerator) {
  LoadedModel m = load(R"(
[populations.S]
model = "spike_generator"
size = 8
times = ["1 ms", "2.5 ms"]
indices = [0, 3]
)");
  EXPECT_EQ(m.network->population("S").size(), 8u);
}

// A file of the repository (tests/CMakeLists.txt defines VOLLEY_SOURCE_DIR).
std::filesystem::path repository_file(const char* relative) {
  return std::filesystem::path(VOLLEY_SOURCE_DIR) / relative;
}

TEST(ModelFile, ExampleCubaLoads) {
  const auto path = repository_file("examples/cuba.toml");
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  LoadedModel m = load_model_file(path.string());
  EXPECT_EQ(m.network->population("P").size(), 4000u);
}

TEST(ModelFile, DocumentationFullExampleLoads) {
  const auto path = repository_file("docs/model-format.md");
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  std::ifstream in(path);
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto section = doc.find("## Full example");
  ASSERT_NE(section, std::string::npos);
  const auto begin = doc.find("```toml\n", section);
  ASSERT_NE(begin, std::string::npos);
  const auto end = doc.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  LoadedModel m = load_model_string(doc.substr(begin + 8, end - begin - 8), "full-example.toml");
  Network& net = *m.network;
  EXPECT_EQ(net.populations().size(), 4u);
  EXPECT_EQ(net.projections().size(), 6u);
  EXPECT_TRUE(net.projection("stim_E").plastic());
  net.run(0.02);
}

// ---- errors ---------------------------------------------------------------------------------

TEST(ModelFileErrors, UnknownKeyAtTopLevel) {
  EXPECT_THAT(
      error_of(R"([populations.P]
model = "lif"
size = 1
[simulaton]
dt = "0.1 ms"
)"),
      AllOf(HasSubstr("m.toml:4: simulaton: unknown key 'simulaton'"), HasSubstr("'simulation'")));
}

TEST(ModelFileErrors, UnknownKeyInPopulation) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
tau_mm = "20 ms"
)"),
              AllOf(HasSubstr("m.toml:4: populations.P.tau_mm: unknown key 'tau_mm'"),
                    HasSubstr("'tau_m'")));
}

TEST(ModelFileErrors, UnknownKeyInConnect) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
[projections.X]
source = "P"
target = "P"
connect = { rule = "all_to_all", p = 0.1 }
weight = "1 mV"
)"),
              HasSubstr("m.toml:7: projections.X.connect.p: unknown key 'p'"));
}

TEST(ModelFileErrors, UnknownKeyInChannel) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
[populations.P.channels.exc]
tau = "5 ms"
e_rev = "0 mV"
)"),
              HasSubstr("m.toml:6: populations.P.channels.exc.e_rev: unknown key 'e_rev'"));
}

TEST(ModelFileErrors, MissingModel) {
  EXPECT_THAT(error_of(R"([populations.P]
size = 10
)"),
              HasSubstr("m.toml:1: populations.P.model: missing required field"));
}

TEST(ModelFileErrors, MissingSize) {
  EXPECT_THAT(error_of(R"(
[populations.P]
model = "lif"
)"),
              HasSubstr("m.toml:2: populations.P.size: missing required field"));
}

TEST(ModelFileErrors, MissingSource) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10

[projections.X]
target = "P"
connect = { rule = "one_to_one" }
weight = "1 mV"
)"),
              HasSubstr("m.toml:5: projections.X.source: missing required field"));
}

TEST(ModelFileErrors, MissingPopulations) {
  EXPECT_THAT(error_of("[simulation]\nseed = 2\n"),
              AllOf(HasSubstr("m.toml"), HasSubstr("populations: missing required field")));
}

TEST(ModelFileErrors, WrongUnit) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
tau_m = "20 mV"
)"),
              AllOf(HasSubstr("m.toml:4: populations.P.tau_m:"), HasSubstr("voltage"),
                    HasSubstr("expected a time")));
}

TEST(ModelFileErrors, MissingUnitInString) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
tau_m = "20"
)"),
              AllOf(HasSubstr("m.toml:4: populations.P.tau_m:"), HasSubstr("no unit")));
}

TEST(ModelFileErrors, MissingUnitInNumber) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
tau_m = 20
)"),
              HasSubstr("m.toml:4: populations.P.tau_m: needs a unit, e.g. \"20 ms\""));
}

TEST(ModelFileErrors, WrongType) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = "10"
)"),
              HasSubstr("m.toml:3: populations.P.size: expected an integer, got a string"));
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 0
)"),
              HasSubstr("m.toml:3: populations.P.size: must be >= 1"));
}

TEST(ModelFileErrors, NegativeTimeConstant) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
tau_m = "-5 ms"
)"),
              HasSubstr("m.toml:4: populations.P.tau_m: must be > 0"));
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
[populations.P.channels.exc]
tau = "-1 ms"
)"),
              HasSubstr("m.toml:5: populations.P.channels.exc.tau: must be >= 0"));
}

std::string probability_model(const char* p) {
  return std::string(R"([populations.P]
model = "lif"
size = 10
[projections.X]
source = "P"
target = "P"
connect = { rule = "fixed_probability", p = )") +
         p + " }\nweight = \"1 mV\"\n";
}

TEST(ModelFileErrors, ProbabilityAboveOne) {
  EXPECT_THAT(error_of(probability_model("1.5")),
              AllOf(HasSubstr("m.toml:7: projections.X.connect.p:"), HasSubstr("[0, 1]"),
                    HasSubstr("1.5")));
}

TEST(ModelFileErrors, ProbabilityNegative) {
  EXPECT_THAT(error_of(probability_model("-0.1")),
              AllOf(HasSubstr("m.toml:7: projections.X.connect.p:"), HasSubstr("[0, 1]")));
}

TEST(ModelFileErrors, UnknownPopulationInSource) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
[projections.X]
source = "Q[0:5]"
target = "P"
connect = { rule = "all_to_all" }
weight = "1 mV"
)"),
              AllOf(HasSubstr("m.toml:5: projections.X.source: unknown population 'Q'"),
                    HasSubstr("known: P")));
}

TEST(ModelFileErrors, UnknownPopulationInTarget) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
[projections.X]
source = "P"
target = "Q"
connect = { rule = "all_to_all" }
weight = "1 mV"
)"),
              HasSubstr("m.toml:6: projections.X.target: unknown population 'Q'"));
}

TEST(ModelFileErrors, UnknownPopulationInMonitor) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
[monitors.m]
type = "spikes"
population = "Q"
)"),
              HasSubstr("m.toml:6: monitors.m.population: unknown population 'Q'"));
}

TEST(ModelFileErrors, UnknownModel) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "hodgkin_huxley"
size = 10
)"),
              HasSubstr("m.toml:2: populations.P.model: " +
                        neuron_models().unknown("hodgkin_huxley")));
  EXPECT_THAT(neuron_models().unknown("x"),
              HasSubstr("unknown model 'x' (expected one of 'lif', 'lif_cond', 'izhikevich', "));
}

TEST(ModelFileErrors, SyntaxError) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = = 10
)"),
              AllOf(HasSubstr("m.toml:3:"), HasSubstr("invalid TOML")));
}

TEST(ModelFileErrors, SyntaxErrorInFileNamesThePath) {
  const std::string path =
      write_temp("volley_broken.toml", "[populations.P]\nmodel = \"lif\nsize = 1\n");
  try {
    load_model_file(path);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ":2:"));
  }
}

TEST(ModelFileErrors, UnreadableFile) {
  const std::string path = ::testing::TempDir() + "volley_no_such_dir/model.toml";
  try {
    load_model_file(path);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr(path), HasSubstr("cannot read")));
  }
}

TEST(ModelFileErrors, BadSlice) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
[monitors.m]
type = "spikes"
population = "P[5:2]"
)"),
              AllOf(HasSubstr("m.toml:6: monitors.m.population: bad slice 'P[5:2]'")));
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
[monitors.m]
type = "spikes"
population = "P[5:20]"
)"),
              AllOf(HasSubstr("m.toml:6: monitors.m.population:"), HasSubstr("exceeds")));
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
[monitors.m]
type = "spikes"
population = "P[a:3]"
)"),
              HasSubstr("m.toml:6: monitors.m.population: bad slice"));
}

TEST(ModelFileErrors, SpikeGeneratorLengthMismatch) {
  EXPECT_THAT(error_of(R"([populations.S]
model = "spike_generator"
times = ["1 ms", "2 ms"]
indices = [0, 1, 2]
)"),
              AllOf(HasSubstr("m.toml:4: populations.S.indices:"), HasSubstr("3 entries"),
                    HasSubstr("times has 2")));
}

TEST(ModelFileErrors, UnknownChannel) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
[projections.X]
source = "P"
target = "P"
channel = "nmda"
connect = { rule = "one_to_one" }
weight = "1 mV"
)"),
              AllOf(HasSubstr("m.toml:7: projections.X.channel:"), HasSubstr("'nmda'")));
}

TEST(ModelFileErrors, LibraryErrorsNameTheTable) {
  // v_th below v_reset is checked by LifParams::validate.
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
v_th = "-65 mV"
)"),
              AllOf(HasSubstr("m.toml:1: populations.P:"), HasSubstr("v_th")));
  // one_to_one between different sizes is refused by the connector.
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
[projections.X]
source = "P[0:3]"
target = "P"
connect = { rule = "one_to_one" }
weight = "1 mV"
)"),
              AllOf(HasSubstr("m.toml:4: projections.X:"), HasSubstr("one_to_one")));
}

TEST(ModelFileErrors, DistributionDimensionsMustAgree) {
  EXPECT_THAT(
      error_of(R"([populations.P]
model = "lif"
size = 10
v_init = { dist = "uniform", low = "-60 mV", high = "5 ms" }
)"),
      AllOf(HasSubstr("m.toml:4: populations.P.v_init.high:"), HasSubstr("expected a voltage")));
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
v_init = { dist = "gamma", k = 2 }
)"),
              HasSubstr("m.toml:4: populations.P.v_init.dist: unknown distribution 'gamma'"));
}

TEST(ModelFileErrors, StateMonitorOfLargePopulationNeedsIndices) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 1000
[monitors.v]
type = "state"
population = "P"
variables = ["v"]
)"),
              AllOf(HasSubstr("m.toml:6: monitors.v.indices:"), HasSubstr("1000 neurons")));
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
[monitors.v]
type = "state"
population = "P"
variables = ["v"]
every = "0.25 ms"
)"),
              AllOf(HasSubstr("m.toml:8: monitors.v.every:"), HasSubstr("multiple of dt")));
}

TEST(ModelFileErrors, CurrentInputNeedsCurrentOrVoltage) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
R = "100 MOhm"
[inputs.i]
type = "current"
target = "P"
amplitude = "5 nS"
)"),
              AllOf(HasSubstr("m.toml:8: inputs.i.amplitude:"), HasSubstr("current")));
}

TEST(ModelFileErrors, RateAboveOneOverDt) {
  EXPECT_THAT(error_of(R"([populations.G]
model = "poisson"
size = 10
rates = ["10 Hz", "20 kHz"]
rate_dt = "1 ms"
)"),
              AllOf(HasSubstr("m.toml:4: populations.G.rates[1]:"), HasSubstr("exceeds 1/dt")));
}

TEST(ModelFileErrors, UnknownStateVariable) {
  EXPECT_THAT(error_of(R"([populations.P]
model = "lif"
size = 10
[monitors.v]
type = "state"
population = "P"
variables = ["v", "w"]
)"),
              AllOf(HasSubstr("m.toml:7: monitors.v.variables[1]:"), HasSubstr("no variable 'w'")));
}

TEST(ModelFileErrors, MissingDataFile) {
  EXPECT_THAT(error_of(R"([populations.S]
model = "spike_generator"
file = "volley_definitely_missing.txt"
time_unit = "ms"
)"),
              AllOf(HasSubstr("m.toml:3: populations.S.file:"), HasSubstr("cannot open")));
}

}  // namespace

// ---- ramps and rate modulation (the Jeffress model's delay lines and ear fibres) ----------

namespace {
const char* kRampModel = R"(
[simulation]
dt = "0.1 ms"
[populations.src]
model = "poisson"
size = 2
rate = "400 Hz"
modulation = { frequency = "50 Hz", phase_deg = 90, power = 2 }
[populations.dst]
model = "lif"
size = 5
tau_m = "1 ms"
v_rest = "0 mV"
v_th = "1 mV"
v_reset = "0 mV"
[populations.dst.channels.jump]
tau = "0 ms"
[projections.p]
source = "src"
target = "dst"
channel = "jump"
connect = { rule = "all_to_all" }
weight = { dist = "ramp", from = "0.1 mV", to = "0.5 mV" }
delay = { dist = "ramp", from = "1 ms", to = "2 ms", over = "source" }
)";
}  // namespace

TEST(ModelFile, RampWeightsFollowTargetAndDelaysFollowSource) {
  LoadedModel m = load(kRampModel);
  const auto& p = m.network->projection("p");
  ASSERT_EQ(p.synapse_count(), 10u);
  for (std::size_t s = 0; s < 10; ++s) {
    const std::size_t pre = s / 5, post = p.targets()[s] - p.post_begin();
    EXPECT_NEAR(p.weights()[s], 1e-4 + 1e-4 * static_cast<double>(post), 1e-9) << s;
    EXPECT_EQ(p.delay_steps(s), pre == 0 ? 10u : 20u) << s;
  }
}

TEST(ModelFileErrors, RampAndModulationMistakes) {
  std::string bad = kRampModel;
  const std::string over = "over = \"source\"";
  bad.replace(bad.find(over), over.size(), "over = \"sideways\"");
  EXPECT_THAT(error_of(bad), HasSubstr("projections.p.delay.over: unknown ramp index 'sideways' "
                                      "(expected one of 'target', 'source')"));
  bad = kRampModel;
  bad.replace(bad.find("power = 2"), 9, "power = -1");
  EXPECT_THAT(error_of(bad), HasSubstr("populations.src.modulation.power: must be > 0"));
  bad = kRampModel;
  const std::string freq = "frequency = \"50 Hz\"";
  bad.replace(bad.find(freq), freq.size(), "frequency = \"50 ms\"");
  EXPECT_THAT(error_of(bad), HasSubstr("populations.src.modulation.frequency"));
  bad = kRampModel;
  const std::string from = "dist = \"ramp\", from = \"0.1 mV\"";
  bad.replace(bad.find(from), from.size(), "dist = \"ramp\", frm = \"0.1 mV\"");
  EXPECT_THAT(error_of(bad), HasSubstr("from"));
}

// ---- the registries -------------------------------------------------------------------------

// Every model the registry lists loads from a model file with nothing but its name (and what a
// source needs), runs, and keeps finite states; and builds from C++ without any file.
TEST(ModelFile, EveryRegisteredModelBuildsAndRunsWithItsDefaults) {
  // At least every model the format has accepted so far (a new model needs no edit here).
  for (const char* name : {"lif", "lif_cond", "izhikevich", "hh", "traub_hh", "wang_buzsaki",
                           "morris_lecar", "adex", "eif", "qif", "alif", "resonate_and_fire",
                           "poisson", "spike_generator"})
    EXPECT_NE(neuron_models().find(name), nullptr) << name;
  for (const NeuronModel& m : neuron_models()) {
    SCOPED_TRACE(std::string(m.name));
    std::string text = fmt::format(
        "[simulation]\nduration = \"20 ms\"\n[populations.P]\nmodel = \"{}\"\n", m.name);
    if (m.source == SourceKind::kSpikeList)
      text += "times = [\"1 ms\"]\nindices = [2]\n";
    else
      text += "size = 3\n";
    if (m.source == SourceKind::kPoisson) text += "rate = \"100 Hz\"\n";
    if (m.channel_style == ChannelStyle::kStates)  // equations: no defaults, the shortest model
      text += "equations = \"dv/dt = -v/(10*ms) : volt\"\nthreshold = \"v > 1*volt\"\n";
    text += "[monitors.s]\ntype = \"spikes\"\npopulation = \"P\"\n";
    std::string variables;
    for (const auto& st : m.states)
      variables += fmt::format("{}\"{}\"", variables.empty() ? "" : ", ", st.name);
    if (!variables.empty())
      text += fmt::format("[monitors.v]\ntype = \"state\"\npopulation = \"P\"\nvariables = [{}]\n",
                          variables);
    LoadedModel lm = load(text);
    Network& net = *lm.network;
    EXPECT_EQ(net.population("P").model(), m.name);
    net.run(lm.duration);
    if (m.source == SourceKind::kSpikeList) EXPECT_EQ(net.spike_monitors()[0]->times.size(), 1u);
    if (!variables.empty()) {
      const auto& mon = *net.state_monitors()[0];
      ASSERT_EQ(mon.values.size(), m.states.size());
      for (const auto& v : mon.values)
        for (float x : v) ASSERT_TRUE(std::isfinite(x));
    }

    Network direct(1e-4, 1);
    PopulationSpec spec;
    if (m.channel_style == ChannelStyle::kStates) {
      eq::ModelText t;
      t.equations = "dv/dt = -v/(10*ms) : volt";
      spec.equations = std::make_shared<const eq::Model>(eq::parse_model(t));
    }
    Population& pop = add_population(direct, m.name, "Q", 4, spec);
    EXPECT_EQ(pop.size(), 4u);
    direct.run(0.005);
  }
}

// An unknown name anywhere in the format is answered with the registry's list.
TEST(ModelFileErrors, UnknownNamesListTheRegistry) {
  const std::string lif = "[populations.P]\nmodel = \"lif\"\nsize = 2\n";
  const std::string proj = "[projections.X]\nsource = \"P\"\ntarget = \"P\"\n";
  struct Case {
    std::string text, expected;
  };
  const std::vector<Case> cases = {
      {lif + proj + "connect = { rule = \"random\" }\nweight = \"1 mV\"\n",
       "m.toml:7: projections.X.connect.rule: unknown connection rule 'random' (expected one of "
       "'all_to_all', 'one_to_one', 'fixed_probability', 'fixed_indegree', 'fixed_outdegree', "
       "'list')"},
      {lif + "v_init = { dist = \"gamma\" }\n",
       "m.toml:4: populations.P.v_init.dist: unknown distribution 'gamma' (expected one of "
       "'constant', 'uniform', 'normal', 'lognormal', 'ramp')"},
      {lif + proj + "connect = { rule = \"all_to_all\" }\nweight = \"1 mV\"\n"
                    "plasticity = { rule = \"hebb\" }\n",
       "projections.X.plasticity.rule: unknown plasticity rule 'hebb' (expected one of 'stdp', "
       "'triplet', 'oja', 'bcm')"},
      {lif + proj + "connect = { rule = \"all_to_all\" }\nweight = \"1 mV\"\n"
                    "plasticity = { rule = \"stdp\", pairing = \"closest\" }\n",
       "unknown pairing 'closest' (expected one of 'all_to_all', 'nearest')"},
      {lif + proj + "connect = { rule = \"all_to_all\" }\nweight = \"1 mV\"\n"
                    "plasticity = { rule = \"stdp\", weight_dependence = \"soft\" }\n",
       "unknown weight dependence 'soft' (expected one of 'additive', 'multiplicative')"},
      {lif + "[inputs.I]\ntype = \"dc\"\n",
       "m.toml:5: inputs.I.type: unknown input type 'dc' (expected one of 'poisson_input', "
       "'current')"},
      {lif + "[monitors.M]\ntype = \"voltage\"\n",
       "m.toml:5: monitors.M.type: unknown monitor type 'voltage' (expected one of 'spikes', "
       "'state', 'rate', 'weights')"},
      {"[populations.P]\nmodel = \"hh\"\nsize = 2\nmethod = \"leapfrog\"\n",
       "m.toml:4: populations.P.method: unknown method 'leapfrog' (expected one of 'euler', "
       "'exponential_euler', 'exponential_midpoint', 'rk4')"},
      {"[populations.P]\nmodel = \"lif_cond\"\nsize = 2\nmethod = \"rk4\"\n",
       "m.toml:4: populations.P.method: unknown method 'rk4' (expected one of "
       "'exponential_euler', 'euler')"},
      {"[populations.P]\nmodel = \"izhikevich\"\nsize = 2\npreset = \"XX\"\n",
       "m.toml:4: populations.P.preset: unknown preset 'XX' (expected one of 'RS', 'IB', 'CH', "
       "'FS', 'LTS', 'TC', 'RZ', 'class1', 'class2')"},
      {lif + "preset = \"RS\"\n", "m.toml:4: populations.P.preset: unknown key 'preset'"},
      {"[populations.P]\nmodel = \"adex\"\nsize = 2\ninitial = { q = 0 }\n",
       "m.toml:4: populations.P.initial.q: 'q' is not a state of adex besides v (expected one of "
       "'w')"},
  };
  for (const auto& c : cases) EXPECT_THAT(error_of(c.text), HasSubstr(c.expected)) << c.text;
}

// A parameter in the wrong unit or outside its declared range names the file, line and field.
TEST(ModelFileErrors, BadParametersNameFileLineAndField) {
  auto pop = [](const char* model, const char* line) {
    return fmt::format("[populations.P]\nmodel = \"{}\"\nsize = 2\n{}\n", model, line);
  };
  EXPECT_THAT(error_of(pop("hh", "C_m = \"20 mV\"")),
              AllOf(HasSubstr("m.toml:4: populations.P.C_m:"), HasSubstr("capacitance")));
  EXPECT_THAT(error_of(pop("qif", "k = \"0.7 nS\"")), HasSubstr("m.toml:4: populations.P.k:"));
  EXPECT_THAT(error_of(pop("adex", "Delta_T = \"-1 mV\"")),
              HasSubstr("m.toml:4: populations.P.Delta_T: must be > 0, got -0.001"));
  EXPECT_THAT(error_of(pop("morris_lecar", "phi = 0")),
              HasSubstr("m.toml:4: populations.P.phi: must be > 0, got 0"));
  EXPECT_THAT(error_of(pop("resonate_and_fire", "b = \"5 Hz\"")),
              HasSubstr("m.toml:4: populations.P.b: must be < 0, got 5"));
  EXPECT_THAT(error_of(pop("lif", "t_ref = \"-2 ms\"")),
              HasSubstr("m.toml:4: populations.P.t_ref: must be >= 0, got -0.002"));
  EXPECT_THAT(error_of(pop("alif", "initial = { a = \"1 mV\" }")),
              HasSubstr("m.toml:4: populations.P.initial.a:"));
  // A state's initial value has the state's dimension: AdEx's w is a current.
  EXPECT_THAT(error_of(pop("adex", "initial = { w = 0 }")),
              HasSubstr("m.toml:4: populations.P.initial.w: needs a unit"));
  LoadedModel m = load(pop("adex", "initial = { w = \"0.1 nA\" }") +
                       "[monitors.w]\ntype = \"state\"\npopulation = \"P\"\nvariables = [\"w\"]\n");
  m.network->run(1e-4);
  EXPECT_FLOAT_EQ(m.network->state_monitors()[0]->values[0][0], 0.1e-9f);
}

// The reference lists every model with its parameters and every other registry.
TEST(ModelFile, ReferenceMarkdownCoversEveryRegistry) {
  const std::string md = io::model_reference_markdown();
  for (const NeuronModel& m : neuron_models()) {
    EXPECT_THAT(md, HasSubstr(fmt::format("### `{}`", m.name)));
    for (const auto& p : m.params) EXPECT_THAT(md, HasSubstr(fmt::format("| `{}` |", p.key)));
    for (const auto& p : m.presets) EXPECT_THAT(md, HasSubstr(fmt::format("| `{}` |", p.name)));
  }
  EXPECT_THAT(md, HasSubstr("| `tau_m` | 20 ms | > 0 | membrane time constant |"));
  EXPECT_THAT(md, HasSubstr("| `b` | -10 Hz | < 0 |"));
  for (const char* name : {"lognormal", "ramp", "fixed_indegree", "list", "triplet", "bcm",
                           "multiplicative", "nearest", "pfister2006_visual_cortex",
                           "poisson_input", "current", "weights", "pairing"})
    EXPECT_THAT(md, HasSubstr(fmt::format("| `{}` |", name))) << name;
  EXPECT_EQ(md, io::model_reference_markdown());  // deterministic
}

// ---- structural plasticity and alpha channels ----------------------------------------------

TEST(ModelFile, StructuralPlasticityExampleLoads) {
  const auto path = repository_file("examples/structural_plasticity.toml");
  LoadedModel m = load_model_file(path.string());
  const StructuralPlasticity* sp = m.network->structural_plasticity();
  ASSERT_NE(sp, nullptr);
  EXPECT_EQ(sp->spec().update_interval, 1.0);
  EXPECT_EQ(sp->element_names().size(), 6u);
  EXPECT_EQ(sp->projection_names(), (std::vector<std::string>{"EE", "EI", "IE", "II"}));
  EXPECT_EQ(sp->spec().elements[0].curve.kind, GrowthCurveKind::kGaussian);
  EXPECT_DOUBLE_EQ(sp->spec().elements[3].curve.growth_rate, 0.4);  // I.Den_ex, "0.4 /s"
  const auto& lif = dynamic_cast<const LifPopulation&>(m.network->population("E"));
  EXPECT_TRUE(lif.params().channels[0].alpha);
  // NEST's weight convention: 585 pA peak -> R * 585 pA * e in h.
  EXPECT_NEAR(m.network->projection("EE").weight_factor(), 40e6 * std::exp(1.0), 1e-3);
}

namespace {
constexpr std::string_view kSpBase = R"(
[populations.A]
model = "lif"
size = 10
[projections.AA]
source = "A"
target = "A"
connect = { rule = "fixed_probability", p = 0.0 }
weight = "1 mV"
[structural_plasticity]
update_interval = "10 ms"
[structural_plasticity.calcium.A]
tau = "1 s"
[structural_plasticity.elements.A.axon]
growth_curve = "linear"
growth_rate = "10 /s"
eps = 0.05
[structural_plasticity.elements.A.den]
growth_curve = "linear"
growth_rate = "10 /s"
eps = 0.05
[structural_plasticity.rules.r]
pre_element = "axon"
post_element = "den"
projections = ["AA"]
)";

std::string sp_error(const std::string& from, const std::string& to) {
  std::string text(kSpBase);
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  return error_of(text);
}
}  // namespace

TEST(ModelFileErrors, StructuralPlasticityMistakesNameTheField) {
  EXPECT_NO_THROW(load(kSpBase));
  EXPECT_THAT(sp_error("growth_curve = \"linear\"", "growth_curve = \"cubic\""),
              AllOf(HasSubstr("m.toml:"), HasSubstr("elements.A.axon.growth_curve"),
                    HasSubstr("gaussian")));
  EXPECT_THAT(sp_error("growth_rate = \"10 /s\"", "growth_rate = \"10 ms\""),
              AllOf(HasSubstr("growth_rate"), HasSubstr("m.toml:")));
  EXPECT_THAT(sp_error("[structural_plasticity.calcium.A]", "[structural_plasticity.calcium.B]"),
              HasSubstr("unknown population 'B'"));
  EXPECT_THAT(sp_error("projections = [\"AA\"]", "projections = [\"AB\"]"),
              HasSubstr("unknown projection 'AB'"));
  EXPECT_THAT(sp_error("projections = [\"AA\"]", "projections = []"),
              HasSubstr("at least one projection"));
  EXPECT_THAT(sp_error("update_interval = \"10 ms\"", "update_interval = \"10 ms\"\nbogus = 1"),
              HasSubstr("bogus"));
  EXPECT_THAT(sp_error("weight = \"1 mV\"", "weight = { dist = \"uniform\", low = \"0 mV\", high = \"1 mV\" }"),
              HasSubstr("one constant weight"));
}

TEST(ModelFileErrors, AlphaChannelsOnlyForLif) {
  EXPECT_THAT(error_of(R"(
[populations.A]
model = "lif"
size = 1
[populations.A.channels.exc]
tau = "2 ms"
shape = "square"
)"),
              AllOf(HasSubstr("shape"), HasSubstr("alpha")));
  EXPECT_THAT(error_of(R"(
[populations.A]
model = "izhikevich"
size = 1
[populations.A.channels.exc]
tau = "2 ms"
shape = "alpha"
)"),
              HasSubstr("exponential channels only"));
  EXPECT_THAT(error_of(R"(
[populations.A]
model = "lif"
size = 1
[populations.A.channels.exc]
tau = "0 ms"
shape = "alpha"
)"),
              HasSubstr("tau > 0"));
}
