// Golden regression test against Brian2: examples/cuba.toml (B1) at N = 4000 for 10 s, seeds
// 1-5. Brian2 2.5.1 (cpp_standalone, exact integration) on the same parameters gave, over the
// same five seeds, a mean rate of 5.602 Hz and a mean per-neuron ISI CV of 0.720
// (bench/run_b1.sh, bench/RESULTS.md). volley must stay within 3 % and 0.05 of those.
#include <gtest/gtest.h>

#include <filesystem>

#include "volley/io/model_file.hpp"
#include "volley/analysis/spike_stats.hpp"

namespace {
const std::filesystem::path kExamples =
    std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "examples";
}

TEST(CubaFidelity, RateAndIrregularityMatchBrian2) {
  constexpr double kBrian2Rate = 5.602, kBrian2Cv = 0.720;
  double rate = 0.0, cv = 0.0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    volley::io::LoadOptions opt;
    opt.seed = seed;
    opt.duration = 10.0;
    auto m = volley::io::load_model_file((kExamples / "cuba.toml").string(), opt);
    m.network->run(m.duration, {m.threads});
    const auto& spikes = *m.network->spike_monitors().at(0);
    rate += static_cast<double>(spikes.times.size()) / 4000.0 / 10.0 / 5.0;
    volley::analysis::SpikeTrains st{spikes.times, spikes.units, 4000, 0.0, m.network->time()};
    cv += volley::analysis::cv_isi(st).mean / 5.0;
  }
  EXPECT_NEAR(rate, kBrian2Rate, 0.03 * kBrian2Rate);
  EXPECT_NEAR(cv, kBrian2Cv, 0.05);
}
