// Google Benchmark of the whole-sample delay kernels (src/train/delay_kernels.hpp) at the shape
// of learned delays on spoken digits: 700 inputs → 256 neurons, 100 steps, a window of 11 steps,
// about 21 % of the (input, step) pairs carrying an event. Per iteration: one sample's delayed
// currents (forward: its raster filled, then the time-major gather in arrival order) or its
// correlations with dL/dI (backward), for whole-step taps (σ = 0: rounded delays).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "train/delay_kernels.hpp"
#include "volley/train/delays.hpp"

namespace vt = volley::train;
namespace vd = volley::train::detail;

namespace {

constexpr std::size_t kPre = 700, kPost = 256, kSteps = 100, kWindow = 11;

struct Fixture {
  std::vector<std::uint32_t> off{0}, idx;
  std::vector<float> val, w, g;
  vt::DelayTaps D;

  Fixture() {
    const double sigma = 0.0;
    std::mt19937 rng(1);
    std::bernoulli_distribution fire(0.21);
    for (std::size_t t = 0; t < kSteps; ++t) {
      for (std::size_t i = 0; i < kPre; ++i)
        if (fire(rng)) {
          idx.push_back(static_cast<std::uint32_t>(i));
          val.push_back(1.0f);
        }
      off.push_back(static_cast<std::uint32_t>(idx.size()));
    }
    std::uniform_real_distribution<float> delay(0.0f, kWindow - 1.0f);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    std::vector<float> d(kPre * kPost);
    w.resize(kPre * kPost);
    for (float& x : d) x = delay(rng);
    for (float& x : w) x = normal(rng);
    g.resize((kSteps + kWindow) * kPost);
    for (float& x : g) x = normal(rng);
    vt::compute_delay_taps(d.data(), d.size(), kWindow, sigma, D);
    D.gather = D.gather_always = true;
    vd::build_time_major_taps(D, w.data(), kPre, kPost, kSteps);
  }
};

void BM_GatherCurrents(benchmark::State& state) {
  Fixture f;
  vt::DelayRaster r;
  volley::AlignedVector<float> scratch;
  std::vector<float> cur(kSteps * kPost);
  for (auto _ : state) {
    vd::fill_delay_raster(f.D, kPre, kSteps, f.off.data(), f.idx.data(), f.val.data(), r);
    vd::gather_delayed_currents(f.D, kPost, kSteps, r, scratch, cur.data());
    benchmark::DoNotOptimize(cur.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPre * kPost));
}
BENCHMARK(BM_GatherCurrents)->Unit(benchmark::kMicrosecond);

void BM_GatherCorrelation(benchmark::State& state) {
  Fixture f;
  vt::DelayRaster r;
  vd::fill_delay_raster(f.D, kPre, kSteps, f.off.data(), f.idx.data(), f.val.data(), r);
  volley::AlignedVector<float> scratch;
  std::vector<float> c(kPre * kPost);
  for (auto _ : state) {
    vd::gather_delayed_correlation(f.D, kPost, kSteps, r, f.g.data(), scratch, c.data());
    benchmark::DoNotOptimize(c.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPre * kPost));
}
BENCHMARK(BM_GatherCorrelation)->Unit(benchmark::kMicrosecond);

// The dense blocks of blurred delays (σ wide: every synapse has all kWindow taps), as the
// training forward and backward use them; the same events as above, sorted by row.
struct BlockFixture : Fixture {
  std::vector<std::uint32_t> row_off, step, event, fill, first_nz;
  std::vector<std::uint8_t> touched;
  BlockFixture() {
    std::mt19937 rng(2);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    D.kernel.resize(kPre * kWindow * kPost);
    for (float& x : D.kernel) x = normal(rng);
    D.lo.assign(kPre, 0);
    D.hi.assign(kPre, static_cast<std::uint32_t>(kWindow - 1));
    vd::sort_events_by_row(kPre, kSteps, off.data(), idx.data(), row_off, step, event, fill);
    first_nz.resize(kSteps + kWindow + 1);
    for (std::size_t t = 0; t <= kSteps + kWindow; ++t) first_nz[t] = static_cast<std::uint32_t>(t);
    touched.assign(kPre, 0);
  }
};

void BM_BlockCurrents(benchmark::State& state) {
  BlockFixture f;
  volley::AlignedVector<float> tile;
  std::vector<float> cur((kSteps + kWindow) * kPost);
  for (auto _ : state) {
    vd::block_delayed_currents(f.D, kPre, kPost, kSteps, f.row_off.data(), f.step.data(),
                               f.event.data(), f.val.data(), tile, cur.data());
    benchmark::DoNotOptimize(cur.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * f.val.size() * kWindow * kPost));
}
BENCHMARK(BM_BlockCurrents)->Unit(benchmark::kMicrosecond);

void BM_BlockCorrelation(benchmark::State& state) {
  BlockFixture f;
  volley::AlignedVector<float> tile;
  std::vector<float> c(kPre * kWindow * kPost);
  for (auto _ : state) {
    vd::block_delayed_correlation(f.D, kPre, kPost, kSteps, f.row_off.data(), f.step.data(),
                                  f.event.data(), f.val.data(), f.first_nz.data(), f.g.data(),
                                  tile, c.data(), f.touched.data());
    benchmark::DoNotOptimize(c.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * f.val.size() * kWindow * kPost));
}
BENCHMARK(BM_BlockCorrelation)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
