#pragma once
// Turning a step's per-neuron spike flags into the sorted spike list. Kernels write one byte per
// neuron from a vectorised loop (no branch per neuron); this scan then visits only the 64-byte
// blocks holding a spike. Spikes are rare in a step, so most blocks cost one vector compare: a
// branch per neuron (lif_cond's old threshold loop) or per eight bytes (lif's) cost 20-65 % of
// the neuron update on CUBA and Auryn's COBA.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace volley {

// Appends lo + k for every nonzero fired[k], k < n, in increasing order. Flags must be 0 or 1.
inline void collect_spikes(const std::uint8_t* fired, std::size_t lo, std::size_t n,
                           std::vector<std::uint32_t>& spikes) {
  std::size_t k = 0;
#if defined(__AVX512BW__) || defined(__AVX2__)
  // One mask of the 64 flags per block (a byte test, or two byte compares and movemasks), then
  // one step per set bit. The portable loop below spilled its eight words to the stack: on CUBA
  // the scan was 13 % of the whole run loop (perf, bench/RESULTS.md).
  for (; k + 64 <= n; k += 64) {
#if defined(__AVX512BW__)
    const __m512i x = _mm512_loadu_si512(fired + k);
    std::uint64_t m = _mm512_test_epi8_mask(x, x);
#else
    const __m256i zero = _mm256_setzero_si256();
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(fired + k));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(fired + k + 32));
    const auto ma = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpgt_epi8(a, zero)));
    const auto mb = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpgt_epi8(b, zero)));
    std::uint64_t m = (static_cast<std::uint64_t>(mb) << 32) | ma;
#endif
    for (; m != 0; m &= m - 1)
      spikes.push_back(static_cast<std::uint32_t>(lo + k + static_cast<std::size_t>(std::countr_zero(m))));
  }
#endif
  for (; k + 64 <= n; k += 64) {
    std::uint64_t word[8];
    std::memcpy(word, fired + k, 64);
    std::uint64_t any = 0;
    for (std::uint64_t w : word) any |= w;
    if (any == 0) continue;
    // One step per spike, not per byte: the lowest nonzero byte of each word is found by
    // counting trailing zero bits (flags are 0 or 1, so byte j sets bit 8 j).
    for (std::size_t q = 0; q < 8; ++q)
      for (std::uint64_t w = word[q]; w != 0; w &= w - 1)
        spikes.push_back(static_cast<std::uint32_t>(
            lo + k + 8 * q + static_cast<std::size_t>(std::countr_zero(w)) / 8));
  }
  for (; k < n; ++k)
    if (fired[k]) spikes.push_back(static_cast<std::uint32_t>(lo + k));
}

// Appends lo + k for every x[k] == value, k < n, in increasing order: the spike list of a kernel
// that marks this step's spikes in a state it writes anyway (lif: the refractory counter set to
// ref_steps + 1), so it stores no flags at all.
inline void collect_equal(const std::int32_t* x, std::int32_t value, std::size_t lo, std::size_t n,
                          std::vector<std::uint32_t>& spikes) {
  std::size_t k = 0;
#if defined(__AVX512F__)
  const __m512i v = _mm512_set1_epi32(value);
  for (; k + 64 <= n; k += 64) {
    const std::uint64_t m =
        static_cast<std::uint64_t>(_mm512_cmpeq_epi32_mask(_mm512_loadu_si512(x + k), v)) |
        static_cast<std::uint64_t>(_mm512_cmpeq_epi32_mask(_mm512_loadu_si512(x + k + 16), v)) << 16 |
        static_cast<std::uint64_t>(_mm512_cmpeq_epi32_mask(_mm512_loadu_si512(x + k + 32), v)) << 32 |
        static_cast<std::uint64_t>(_mm512_cmpeq_epi32_mask(_mm512_loadu_si512(x + k + 48), v)) << 48;
    for (std::uint64_t w = m; w != 0; w &= w - 1)
      spikes.push_back(static_cast<std::uint32_t>(lo + k + static_cast<std::size_t>(std::countr_zero(w))));
  }
#elif defined(__AVX2__)
  const __m256i v = _mm256_set1_epi32(value);
  for (; k + 32 <= n; k += 32) {
    std::uint32_t m = 0;
    for (int q = 0; q < 4; ++q) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k + 8 * q));
      m |= static_cast<std::uint32_t>(
               _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(a, v))))
           << (8 * q);
    }
    for (; m != 0; m &= m - 1)
      spikes.push_back(static_cast<std::uint32_t>(lo + k + static_cast<std::size_t>(std::countr_zero(m))));
  }
#endif
  for (; k < n; ++k)
    if (x[k] == value) spikes.push_back(static_cast<std::uint32_t>(lo + k));
}

}  // namespace volley
