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

namespace volley {

// Appends lo + k for every nonzero fired[k], k < n, in increasing order. Flags must be 0 or 1.
inline void collect_spikes(const std::uint8_t* fired, std::size_t lo, std::size_t n,
                           std::vector<std::uint32_t>& spikes) {
  std::size_t k = 0;
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

}  // namespace volley
