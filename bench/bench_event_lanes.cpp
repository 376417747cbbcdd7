// Google Benchmark of the granularity of the event mode's neuron work (src/train/event_layer.cpp,
// issue 19 part 3): one lif update with the analytic jump over k quiet steps (α^k, β^k, c_k
// from tables) for 16 neurons, either a block of 16 consecutive neurons (contiguous loads and
// stores, one jump for the block: what the event mode does) or 16 neurons anywhere in the layer
// (per-lane gathers of the state and of the jump tables, scatters back: what a neuron-granular
// event mode would do). Items are neurons updated; compare the time per neuron with the fraction
// of neurons each scheme has to touch.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace {

constexpr int kNeurons = 1024, kSteps = 128;

struct Layer {
  std::vector<float> syn, mem, cur, thr, wake, pa, pb, pc;
  std::vector<std::int32_t> at;
  std::vector<std::int32_t> picks;  // 16 random neurons per update (gathered) or block starts
  Layer()
      : syn(kNeurons, 0.1f), mem(kNeurons, 0.2f), cur(kNeurons, 0.05f), thr(kNeurons, 1.0f),
        wake(kNeurons, 0.5f), pa(kSteps), pb(kSteps), pc(kSteps), at(kNeurons, 0) {
    double a = 1.0, b = 1.0, c = 0.0;
    for (int k = 0; k < kSteps; ++k) {
      pa[k] = static_cast<float>(a);
      pb[k] = static_cast<float>(b);
      pc[k] = static_cast<float>(c);
      c = 0.95 * c + a;
      a *= 0.9;
      b *= 0.95;
    }
    std::mt19937 rng(1);
    std::uniform_int_distribution<std::int32_t> any(0, kNeurons - 1);
    picks.resize(4096 * 16);
    for (auto& p : picks) p = any(rng);
  }
};

#if defined(__AVX512F__)
// The step after the jump, shared by both layouts: returns the lanes that spiked or stay awake.
inline __mmask16 lif_lanes(__m512 s, __m512 m, __m512 c, __m512 th, __m512 w, __m512 ka,
                           __m512 kb, __m512 kc, __m512& s1, __m512& m1) {
  const __m512 m0 = _mm512_fmadd_ps(kb, m, _mm512_mul_ps(kc, s));
  const __m512 s0 = _mm512_mul_ps(ka, s);
  const __mmask16 spike = _mm512_cmp_ps_mask(_mm512_sub_ps(m0, th), _mm512_setzero_ps(), _CMP_GT_OQ);
  m1 = _mm512_maskz_mov_ps(static_cast<__mmask16>(~spike), _mm512_fmadd_ps(_mm512_set1_ps(0.95f), m0, s0));
  s1 = _mm512_fmadd_ps(_mm512_set1_ps(0.9f), s0, c);
  return spike | _mm512_cmp_ps_mask(m1, w, _CMP_GE_OQ);
}

// Runs update(n) — the n-th update of 16 neurons, returning the lanes that spiked or stay awake —
// once per iteration; items are neurons updated.
template <class Update>
void run_updates(benchmark::State& state, Update update) {
  std::int64_t n = 0, kept = 0;
  for (auto _ : state) kept += __builtin_popcount(update(n++));
  benchmark::DoNotOptimize(kept);
  state.SetItemsProcessed(n * 16);
}

void BM_BlockOf16(benchmark::State& state) {
  Layer L;
  std::vector<std::int32_t> block_at(kNeurons / 16, 0);
  run_updates(state, [&](std::int64_t n) {
    const std::int32_t b = L.picks[n & 4095] / 16, j0 = b * 16, t = static_cast<std::int32_t>(n % 100);
    const std::int32_t k = (t - block_at[b]) & (kSteps - 1);
    __m512 s1, m1;
    const __mmask16 m = lif_lanes(_mm512_loadu_ps(&L.syn[j0]), _mm512_loadu_ps(&L.mem[j0]),
                                  _mm512_loadu_ps(&L.cur[j0]), _mm512_loadu_ps(&L.thr[j0]),
                                  _mm512_loadu_ps(&L.wake[j0]), _mm512_set1_ps(L.pa[k]),
                                  _mm512_set1_ps(L.pb[k]), _mm512_set1_ps(L.pc[k]), s1, m1);
    _mm512_storeu_ps(&L.syn[j0], s1);
    _mm512_storeu_ps(&L.mem[j0], m1);
    _mm512_storeu_ps(&L.cur[j0], _mm512_setzero_ps());
    block_at[b] = t + 1;
    return m;
  });
}
BENCHMARK(BM_BlockOf16);

void BM_Gathered16(benchmark::State& state) {
  Layer L;
  run_updates(state, [&](std::int64_t n) {
    const __m512i j = _mm512_loadu_si512(&L.picks[(n & 4095) * 16]);
    const __m512i t = _mm512_set1_epi32(static_cast<std::int32_t>(n % 100));
    const __m512i k = _mm512_and_si512(_mm512_sub_epi32(t, _mm512_i32gather_epi32(j, L.at.data(), 4)),
                                       _mm512_set1_epi32(kSteps - 1));
    __m512 s1, m1;
    const __mmask16 m = lif_lanes(
        _mm512_i32gather_ps(j, L.syn.data(), 4), _mm512_i32gather_ps(j, L.mem.data(), 4),
        _mm512_i32gather_ps(j, L.cur.data(), 4), _mm512_i32gather_ps(j, L.thr.data(), 4),
        _mm512_i32gather_ps(j, L.wake.data(), 4), _mm512_i32gather_ps(k, L.pa.data(), 4),
        _mm512_i32gather_ps(k, L.pb.data(), 4), _mm512_i32gather_ps(k, L.pc.data(), 4), s1, m1);
    _mm512_i32scatter_ps(L.syn.data(), j, s1, 4);
    _mm512_i32scatter_ps(L.mem.data(), j, m1, 4);
    _mm512_i32scatter_ps(L.cur.data(), j, _mm512_setzero_ps(), 4);
    _mm512_i32scatter_epi32(L.at.data(), j, _mm512_add_epi32(t, _mm512_set1_epi32(1)), 4);
    return m;
  });
}
BENCHMARK(BM_Gathered16);
#endif  // __AVX512F__ (without it the binary has no benchmarks)

}  // namespace

BENCHMARK_MAIN();
