// Gap junctions in model files ([projections.NAME] with type = "gap_junction"): the errors for
// what they cannot be, and two Wang–Buzsáki neurons started out of phase that the
// junction brings into phase.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>

#include "volley/error.hpp"
#include "volley/io/model_file.hpp"

using namespace volley;
using io::load_model_string;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

// Two identical Wang–Buzsáki neurons with the same drive, started at different potentials,
// joined by one junction of conductance G (a 1 cm² patch: "0.1 mS" is 0.1 mS/cm²).
std::string pair_model(const std::string& g) {
  return R"([simulation]
dt = "0.01 ms"
duration = "400 ms"

[populations.WB]
model = "wang_buzsaki"
size = 2
v_init = { dist = "ramp", from = "-64 mV", to = "-30 mV" }

[projections.gap]
type = "gap_junction"
source = "WB"
target = "WB"
connect = { rule = "list", pairs = [[0, 1]] }
weight = ")" + g + R"("

[inputs.drive]
type = "current"
target = "WB"
amplitude = "1 uA"

[monitors.spikes]
type = "spikes"
population = "WB"
)";
}

// |phase difference| (s, in [0, period/2]) between the two neurons over their last spikes.
double final_lag(const std::string& g) {
  auto m = load_model_string(pair_model(g), "m.toml", {});
  m.network->run(m.duration);
  const auto& mon = *m.network->spike_monitors().front();
  std::vector<double> t0, t1;
  for (std::size_t k = 0; k < mon.times.size(); ++k) (mon.units[k] == 0 ? t0 : t1).push_back(mon.times[k]);
  EXPECT_GT(t0.size(), 10u);
  EXPECT_GT(t1.size(), 10u);
  const double period = (t0.back() - t0[t0.size() - 6]) / 5.0;
  double lag = std::fmod(std::abs(t0.back() - t1.back()), period);
  return std::min(lag, period - lag);
}

std::string error_of(const std::string& text) {
  try {
    load_model_string(text, "m.toml", {});
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return {};
}

std::string with(std::string text, const std::string& from, const std::string& to) {
  return std::regex_replace(text, std::regex(from), to);
}

}  // namespace

TEST(GapJunctionFile, OutOfPhaseWangBuzsakiNeuronsSynchroniseOnlyWhenCoupled) {
  const double uncoupled = final_lag("0 mS"), coupled = final_lag("0.1 mS");
  EXPECT_GT(uncoupled, 5e-3);  // identical neurons keep their initial lag
  EXPECT_LT(coupled, 0.2e-3);
}

TEST(GapJunctionFile, BadTablesNameTheFieldAndWhy) {
  const std::string base = pair_model("0.1 mS");
  EXPECT_THAT(error_of(with(base, "weight = \"0.1 mS\"", "weight = \"1 mV\"")),
              AllOf(HasSubstr("m.toml:15"), HasSubstr("projections.gap.weight")));
  EXPECT_THAT(error_of(with(base, "weight = \"0.1 mS\"", "weight = \"-1 mS\"")),
              HasSubstr("must be >= 0"));
  EXPECT_THAT(error_of(with(base, "weight = \"0.1 mS\"",
                            "weight = { dist = \"uniform\", low = \"0 mS\", high = \"1 mS\" }")),
              HasSubstr("one conductance for every junction"));
  EXPECT_THAT(error_of(with(base, "type = \"gap_junction\"", "type = \"gap_junction\"\ndelay = \"1 ms\"")),
              AllOf(HasSubstr("projections.gap.delay"), HasSubstr("gap junctions have no 'delay'")));
  EXPECT_THAT(error_of(with(base, "type = \"gap_junction\"", "type = \"electrical\"")),
              AllOf(HasSubstr("projections.gap.type"), HasSubstr("unknown projection type 'electrical'")));
  const std::string two = with(base, "\\[projections.gap\\]",
                               "[populations.X]\nmodel = \"wang_buzsaki\"\nsize = 2\n\n[projections.gap]");
  EXPECT_THAT(error_of(with(two, "target = \"WB\"\nconnect", "target = \"X\"\nconnect")),
              AllOf(HasSubstr("projections.gap.source"), HasSubstr("join neurons of one population")));
}
