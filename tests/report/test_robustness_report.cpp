// volley report on a robustness run: robustness.json (as `volley robustness --against` writes it)
// becomes a "Robustness" section with a noise figure per kind, accuracy and robust accuracy
// against ε per norm, the robust-accuracy table naming the worst attack and the energy tables with
// their assumptions; a malformed file is an error naming the file and the key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/error_of.hpp"
#include "support/temp_dir.hpp"
#include "volley/error.hpp"
#include "volley/report/report.hpp"

namespace vr = volley::report;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

bool have_gnuplot() { return std::system("command -v gnuplot > /dev/null 2>&1") == 0; }

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string read(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const char* const kAssumptions =
    R"("assumptions": {"pj_accumulate": 0.9, "pj_multiply_accumulate": 4.6,
    "pj_sram_32bit": 5.0, "source": "45 nm, Horowitz 2014", "ann_passes_per_sample": 1})";

// An SNN and its ANN twin: gaussian noise, L∞ FGSM/PGD/transfer at 1 and 2/255 (transfer the
// worst on the SNN), L2 PGD at 0.5 and 1 on the SNN only.
std::string robustness_json() {
  return std::string(R"({"checkpoint": "snn.bin", "data": "toy", "samples": 100, "seed": 1,
  "models": [
   {"role": "model", "checkpoint": "snn.bin", "network": "snn", "clean_accuracy": 0.9,
    "energy": {)") +
         kAssumptions + R"(, "network": "snn", "ann_total_pj": 2000.0, "snn_total_pj": 1500.0,
      "layers": [{"layer": 0, "ann_macs": 200, "ann_arithmetic_pj": 920, "ann_memory_pj": 1000, "spikes": 12.5,
                  "synops": 300, "neuron_updates": 100, "snn_arithmetic_pj": 270, "snn_memory_pj": 1230}]},
    "noise": [{"noise": "gaussian", "unit": "1", "levels": [0, 0.1, 0.2], "accuracy": [0.9, 0.8, 0.5]}],
    "attacks": [
      {"attack": "fgsm", "norm": "linf", "eps": 0.00392156862745098, "eps_255": 1, "samples": 100, "accuracy": 0.8},
      {"attack": "pgd", "norm": "linf", "eps": 0.00392156862745098, "eps_255": 1, "samples": 100, "accuracy": 0.7},
      {"attack": "transfer_pgd", "norm": "linf", "eps": 0.00392156862745098, "eps_255": 1, "samples": 100,
       "accuracy": 0.6},
      {"attack": "fgsm", "norm": "linf", "eps": 0.00784313725490196, "eps_255": 2, "samples": 100, "accuracy": 0.6},
      {"attack": "pgd", "norm": "linf", "eps": 0.00784313725490196, "eps_255": 2, "samples": 100, "accuracy": 0.5},
      {"attack": "transfer_pgd", "norm": "linf", "eps": 0.00784313725490196, "eps_255": 2, "samples": 100,
       "accuracy": 0.4},
      {"attack": "pgd", "norm": "l2", "eps": 0.5, "samples": 100, "accuracy": 0.6},
      {"attack": "pgd", "norm": "l2", "eps": 1.0, "samples": 100, "accuracy": 0.3}],
    "robust": [
      {"norm": "linf", "eps": 0.00392156862745098, "eps_255": 1, "samples": 100, "accuracy": 0.55,
       "attacks": ["fgsm", "pgd", "transfer_pgd"], "worst_attack": "transfer_pgd", "worst_attack_accuracy": 0.6},
      {"norm": "linf", "eps": 0.00784313725490196, "eps_255": 2, "samples": 100, "accuracy": 0.35,
       "attacks": ["fgsm", "pgd", "transfer_pgd"], "worst_attack": "transfer_pgd", "worst_attack_accuracy": 0.4},
      {"norm": "l2", "eps": 0.5, "samples": 100, "accuracy": 0.6, "attacks": ["pgd"], "worst_attack": "pgd",
       "worst_attack_accuracy": 0.6},
      {"norm": "l2", "eps": 1.0, "samples": 100, "accuracy": 0.3, "attacks": ["pgd"], "worst_attack": "pgd",
       "worst_attack_accuracy": 0.3}]},
   {"role": "against", "checkpoint": "ann.bin", "network": "ann", "clean_accuracy": 0.92,
    "energy": {)" +
         kAssumptions + R"(, "network": "ann", "ann_total_pj": 2000.0,
      "layers": [{"layer": 0, "ann_macs": 200, "ann_arithmetic_pj": 920, "ann_memory_pj": 1000}]},
    "noise": [{"noise": "gaussian", "unit": "1", "levels": [0, 0.1, 0.2], "accuracy": [0.92, 0.7, 0.4]}],
    "attacks": [
      {"attack": "pgd", "norm": "linf", "eps": 0.00392156862745098, "eps_255": 1, "samples": 100, "accuracy": 0.5},
      {"attack": "pgd", "norm": "linf", "eps": 0.00784313725490196, "eps_255": 2, "samples": 100, "accuracy": 0.2}],
    "robust": [
      {"norm": "linf", "eps": 0.00392156862745098, "eps_255": 1, "samples": 100, "accuracy": 0.5,
       "attacks": ["pgd"], "worst_attack": "pgd", "worst_attack_accuracy": 0.5},
      {"norm": "linf", "eps": 0.00784313725490196, "eps_255": 2, "samples": 100, "accuracy": 0.2,
       "attacks": ["pgd"], "worst_attack": "pgd", "worst_attack_accuracy": 0.2}]}]})";
}

}  // namespace

TEST(RobustnessReport, RendersNoiseAttackRobustAndEnergyForBothNetworks) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed";
  volley::test::TempDir dir;
  write(dir / "robustness.json", robustness_json());
  const vr::ReportResult r = vr::write_report(dir.str());
  EXPECT_EQ(r.kinds, std::vector<std::string>{"robustness"});
  // gaussian noise; L∞ attacks and robust; L2 attacks and robust.
  ASSERT_EQ(r.figures.size(), 5u);
  for (const char* name :
       {"robustness_noise_gaussian", "robustness_linf_attacks", "robustness_linf_robust",
        "robustness_l2_attacks", "robustness_l2_robust"})
    EXPECT_TRUE(std::any_of(r.figures.begin(), r.figures.end(), [&](const std::string& f) {
      return f.ends_with(std::string("/") + name + ".svg");
    })) << name;
  const std::string html = read(r.html_path);
  EXPECT_THAT(html, HasSubstr("<h2 id=\"robustness\">Robustness</h2>"));
  EXPECT_EQ(count(html, "<figure>"), 5u);
  EXPECT_EQ(count(html, "<svg"), 5u);
  // Both networks are labelled in the figures; the legend lists every (network, attack).
  EXPECT_THAT(html, HasSubstr("SNN (model)"));
  EXPECT_THAT(html, HasSubstr("ANN twin (against)"));
  EXPECT_THAT(html, HasSubstr("SNN (model): transfer_pgd"));
  // The robust table: ε in 1/255, the robust accuracy and the worst attack with its accuracy.
  EXPECT_THAT(html,
              HasSubstr("<td>SNN (model)</td><td>L∞</td><td>1/255</td><td>100</td><td>0.55</td>"
                        "<td>transfer_pgd</td><td>0.6</td>"));
  EXPECT_THAT(html, HasSubstr("minimum over all attacks"));
  EXPECT_THAT(
      html,
      HasSubstr(
          "masking check, not plain FGSM or PGD — SNN (model): transfer_pgd (L∞ ε 1/255, 2/255)"));
  // Energy: per layer and total, with the assumptions printed beside the numbers.
  EXPECT_THAT(
      html, HasSubstr("<td>0</td><td>12.5</td><td>300</td><td>100</td><td>0.27</td><td>1.23</td>"));
  EXPECT_THAT(html, HasSubstr("<td>total</td><td>200</td><td>0.92</td><td>1</td>"));
  EXPECT_THAT(html, HasSubstr("0.9 pJ per accumulate"));
  EXPECT_THAT(html, HasSubstr("Horowitz 2014"));
}

TEST(RobustnessReport, MalformedFileIsAnErrorNamingTheFileAndKey) {
  volley::test::TempDir dir;
  const std::string file = dir / "robustness.json";
  write(file, R"({"checkpoint": "snn.bin", "samples": 100})");
  std::string msg = volley::test::error_of([&] { vr::write_report(dir.str()); });
  EXPECT_THAT(msg, HasSubstr(file));
  EXPECT_THAT(msg, HasSubstr("missing \"models\""));

  // A mistyped key deep inside names its path.
  std::string j = robustness_json();
  j.replace(j.find("\"clean_accuracy\": 0.92"), 22, "\"clean_accuracy\": \"high\"");
  write(file, j);
  msg = volley::test::error_of([&] { vr::write_report(dir.str()); });
  EXPECT_THAT(msg, HasSubstr(file));
  EXPECT_THAT(msg, HasSubstr("models[1]: \"clean_accuracy\" is not a number"));
  EXPECT_FALSE(std::filesystem::exists(dir / "report.html"));

  write(file, "{\"models\": [");
  EXPECT_THAT(volley::test::error_of([&] { vr::write_report(dir.str()); }),
              HasSubstr("is not valid JSON"));
}

TEST(RobustnessReport, EventDataAttacksAreLabelledL0) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed";
  volley::test::TempDir dir;
  // One network, no noise, no robust summary; "linf" with an L0 budget as event data write it.
  write(dir / "robustness.json", std::string(R"({"models": [{"role": "model", "network": "snn",
    "clean_accuracy": 0.8, "noise": [], "attacks": [{"attack": "pgd", "norm": "linf",
    "eps": 0.03137254901960784, "samples": 10, "accuracy": 0.5,
    "budget": "L0: at most ceil(eps * events) events added or removed"}],
    "energy": {)") + kAssumptions + R"(, "network": "ann", "ann_total_pj": 0, "layers": []}}]})");
  const vr::ReportResult r = vr::write_report(dir.str());
  ASSERT_EQ(r.figures.size(), 1u);
  EXPECT_TRUE(r.figures[0].ends_with("/robustness_l0_attacks.svg"));
  const std::string html = read(r.html_path);
  EXPECT_THAT(html, HasSubstr("<h3>L0 (events) attacks</h3>"));
  EXPECT_THAT(html, HasSubstr("ε (1/255 of the events)"));
  EXPECT_THAT(html, Not(HasSubstr("Robust accuracy")));
}
