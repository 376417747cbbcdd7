// fi.json and fi.csv: what the writer writes the reader reads back; a damaged file is an IoError
// that names the file and the line or key; files of the previous layout still read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.hpp"
#include "volley/error.hpp"
#include "volley/io/fi_file.hpp"

using namespace volley;
using ::testing::HasSubstr;
using volley::test::TempDir;

namespace {

io::FiResult sample() {
  io::FiResult r;
  r.model = "morris_lecar";
  r.preset = "hopf";
  r.unit = "A";
  r.excitability_class = "II";
  r.decision = "class II: a jump";
  r.criterion = "the rule";
  r.rheobase = 93.7e-6;
  r.onset_rate_hz = 10.78;
  r.min_rate_hz = 3.0;
  r.jump_ratio = 3.59;
  r.period_growth = 0.137;
  r.max_rate_hz = 25.5;
  r.hysteresis = true;
  r.search.scan_lo = 0.0;
  r.search.scan_hi = 8.6e-3;
  r.search.scan_ratio = std::sqrt(2.0);
  r.search.scan_points = 68;
  r.search.scan = {.settle = 0.1, .ramp = 0.3, .transient = 0.1, .window = 0.5};
  r.search.coarse_silent = 67.1e-6;
  r.search.coarse_firing = 94.9e-6;
  r.search.silent = 93.698e-6;
  r.search.firing = 93.705e-6;
  r.search.tolerance = 9.5e-9;
  r.search.rounds = 5;
  r.search.windows = {1.0, 4.0};
  r.protocol = {.settle = 0.2, .ramp = 0.5, .transient = 1.2, .window = 4.0};
  r.onset = {{93.705e-6, 10.78}, {93.8e-6, 10.76}, {94.0e-6, 10.79}};
  r.sqrt_fit = {.valid = true,
                .rheobase = 58.9e-6,
                .coefficient = 1824,
                .exponent = 0.5,
                .r2 = 0.9976,
                .points = 3,
                .current_lo = 93.705e-6,
                .current_hi = 94.0e-6};
  r.power_fit = {.valid = false,
                 .rheobase = std::nan(""),
                 .coefficient = 0,
                 .exponent = std::nan(""),
                 .r2 = 0,
                 .points = 2,
                 .current_lo = 0,
                 .current_hi = 0};
  r.reference_current = 121.8e-6;
  r.reference_rate_hz = 13.73;
  r.bistability = {{92.8e-6, 0.0, 10.53}, {84.3e-6, 0.0, 0.0}};
  r.curve_protocol = {.settle = 0.2, .ramp = 0.3, .transient = 0.5, .window = 0.5};
  r.curve = {{0.0, 0.0, 0.0}, {90e-6, 0.0, 10.1}, {100e-6, 11.2, 11.2}};
  r.dt = 1e-4;
  r.neuron_seconds = 295.5;
  return r;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(FiFile, RoundTrip) {
  TempDir dir;
  const io::FiResult w = sample();
  io::write_fi(dir.str(), w);
  EXPECT_FALSE(std::filesystem::exists(dir / "fi.json.partial"));
  const io::FiResult r = io::read_fi(dir.str());
  EXPECT_EQ(r.model, w.model);
  EXPECT_EQ(r.preset, w.preset);
  EXPECT_EQ(r.unit, w.unit);
  EXPECT_EQ(r.excitability_class, w.excitability_class);
  EXPECT_EQ(r.decision, w.decision);
  EXPECT_EQ(r.criterion, w.criterion);
  EXPECT_DOUBLE_EQ(r.rheobase, w.rheobase);
  EXPECT_DOUBLE_EQ(r.onset_rate_hz, w.onset_rate_hz);
  EXPECT_DOUBLE_EQ(r.min_rate_hz, w.min_rate_hz);
  EXPECT_DOUBLE_EQ(r.jump_ratio, w.jump_ratio);
  EXPECT_DOUBLE_EQ(r.period_growth, w.period_growth);
  EXPECT_DOUBLE_EQ(r.max_rate_hz, w.max_rate_hz);
  EXPECT_EQ(r.hysteresis, w.hysteresis);
  EXPECT_DOUBLE_EQ(r.search.scan_hi, w.search.scan_hi);
  EXPECT_DOUBLE_EQ(r.search.scan_ratio, w.search.scan_ratio);
  EXPECT_EQ(r.search.scan_points, w.search.scan_points);
  EXPECT_DOUBLE_EQ(r.search.scan.window, w.search.scan.window);
  EXPECT_DOUBLE_EQ(r.search.coarse_silent, w.search.coarse_silent);
  EXPECT_DOUBLE_EQ(r.search.coarse_firing, w.search.coarse_firing);
  EXPECT_DOUBLE_EQ(r.search.silent, w.search.silent);
  EXPECT_DOUBLE_EQ(r.search.firing, w.search.firing);
  EXPECT_DOUBLE_EQ(r.search.tolerance, w.search.tolerance);
  EXPECT_EQ(r.search.rounds, w.search.rounds);
  EXPECT_EQ(r.search.windows, w.search.windows);
  EXPECT_DOUBLE_EQ(r.protocol.transient, w.protocol.transient);
  EXPECT_DOUBLE_EQ(r.protocol.window, w.protocol.window);
  ASSERT_EQ(r.onset.size(), w.onset.size());
  EXPECT_DOUBLE_EQ(r.onset[1].current, w.onset[1].current);
  EXPECT_DOUBLE_EQ(r.onset[1].rate, w.onset[1].rate);
  EXPECT_TRUE(r.sqrt_fit.valid);
  EXPECT_DOUBLE_EQ(r.sqrt_fit.rheobase, w.sqrt_fit.rheobase);
  EXPECT_DOUBLE_EQ(r.sqrt_fit.coefficient, w.sqrt_fit.coefficient);
  EXPECT_DOUBLE_EQ(r.sqrt_fit.r2, w.sqrt_fit.r2);
  EXPECT_EQ(r.sqrt_fit.points, 3);
  EXPECT_DOUBLE_EQ(r.sqrt_fit.current_hi, w.sqrt_fit.current_hi);
  EXPECT_FALSE(r.power_fit.valid);
  EXPECT_TRUE(std::isnan(r.power_fit.rheobase));  // NaN travels as null
  EXPECT_DOUBLE_EQ(r.reference_current, w.reference_current);
  ASSERT_EQ(r.bistability.size(), 2u);
  EXPECT_DOUBLE_EQ(r.bistability[0].rate_from_firing, 10.53);
  EXPECT_DOUBLE_EQ(r.curve_protocol.window, 0.5);
  ASSERT_EQ(r.curve.size(), 3u);
  EXPECT_DOUBLE_EQ(r.curve[1].current, 90e-6);
  EXPECT_DOUBLE_EQ(r.curve[1].rate_from_firing, 10.1);
  EXPECT_DOUBLE_EQ(r.curve[2].rate_from_rest, 11.2);
  EXPECT_DOUBLE_EQ(r.dt, 1e-4);
  EXPECT_DOUBLE_EQ(r.neuron_seconds, 295.5);
  // The JSON records per probe whether it was bistable.
  std::ifstream in(dir / "fi.json");
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(json, HasSubstr("\"bistable\": true"));
}

TEST(FiFile, NothingFiredRoundTrips) {
  TempDir dir;
  io::FiResult w;
  w.model = "lif";
  w.unit = "V";
  w.excitability_class = "none";
  w.curve = {{0.0, 0.0, 0.0}, {1e-3, 0.0, 0.0}};
  io::write_fi(dir.str(), w);
  const io::FiResult r = io::read_fi(dir.str());
  EXPECT_EQ(r.excitability_class, "none");
  EXPECT_TRUE(std::isnan(r.rheobase));
  EXPECT_EQ(r.unit, "V");
  EXPECT_EQ(r.curve.size(), 2u);
}

TEST(FiFile, DamagedFilesNameTheFileAndThePlace) {
  TempDir dir;
  io::write_fi(dir.str(), sample());
  const std::string csv = dir / "fi.csv", json = dir / "fi.json";
  auto message = [&] {
    try {
      io::read_fi(dir.str());
    } catch (const IoError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  write_text(csv, "current_A,rate_from_rest_hz,rate_from_firing_hz\n1e-6,0,0\n2e-6,3.5\n");
  EXPECT_THAT(message(), HasSubstr("fi.csv:3: expected three numbers"));
  write_text(csv, "current_A,rate_from_rest_hz,rate_from_firing_hz\n1e-6,0,0x\n");
  EXPECT_THAT(message(), HasSubstr("fi.csv:2:"));
  write_text(csv, "I,f\n");
  EXPECT_THAT(message(), HasSubstr("fi.csv:1: expected the header"));
  write_text(csv, "current_V,rate_from_rest_hz,rate_from_firing_hz\n");
  EXPECT_THAT(message(), HasSubstr("currents in V but fi.json says unit \"A\""));
  io::write_fi(dir.str(), sample());
  write_text(json, "{\"model\": \"hh\"}");
  EXPECT_THAT(message(), HasSubstr("fi.json: missing key 'class'"));
  write_text(json, "{\"model\": \"hh\", \"class\": \"I\", \"rheobase\": \"9 uA\"}");
  EXPECT_THAT(message(), HasSubstr("'rheobase' must be a number"));
  write_text(json,
             "{\"model\": \"hh\", \"class\": \"I\", \"onset\": {\"sqrt_fit\": {\"r2\": true}}}");
  EXPECT_THAT(message(), HasSubstr("'onset.sqrt_fit.r2' must be a number"));
  write_text(json, "{\"model\": ");
  EXPECT_THAT(message(), HasSubstr("fi.json: not valid JSON"));
  std::filesystem::remove(json);
  EXPECT_THAT(message(), HasSubstr("cannot read"));
}

// Directories written before the from-rest / from-firing layout (a staircase swept up and down)
// still read, the upward sweep as from rest.
TEST(FiFile, ReadsThePreviousLayout) {
  TempDir dir;
  write_text(dir / "fi.json",
             "{\"model\": \"hh\", \"preset\": \"\", \"class\": \"II\", \"rheobase\": 9e-06, "
             "\"rheobase_unit\": \"A\", "
             "\"onset_rate_hz\": 66.0, \"max_rate_hz\": 86.0, \"hysteresis\": true, \"criterion\": "
             "\"old\"}\n");
  write_text(dir / "fi.csv", "current_A,rate_up_hz,rate_down_hz\n0,0,0\n1e-05,66,70\n");
  const io::FiResult r = io::read_fi(dir.str());
  EXPECT_EQ(r.excitability_class, "II");
  EXPECT_EQ(r.unit, "A");
  EXPECT_DOUBLE_EQ(r.rheobase, 9e-6);
  ASSERT_EQ(r.curve.size(), 2u);
  EXPECT_DOUBLE_EQ(r.curve[1].rate_from_rest, 66.0);
  EXPECT_DOUBLE_EQ(r.curve[1].rate_from_firing, 70.0);
}

}  // namespace
