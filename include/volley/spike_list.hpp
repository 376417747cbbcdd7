#pragma once
// The spikes of one population in one step, as the simulator hands them around: one ascending
// index list per thread slice, slices in ascending order, so their concatenation is sorted.
// Nobody copies them into one list: readers visit the parts in order.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace volley {

using SpikeList = std::span<const std::vector<std::uint32_t>>;

// Calls f(index) for every spike with lo <= index < hi, in ascending order.
template <class F>
void for_each_spike(SpikeList spikes, std::size_t lo, std::size_t hi, F&& f) {
  for (const auto& part : spikes) {
    if (part.empty() || part.back() < lo) continue;
    if (part.front() >= hi) break;
    auto first = std::lower_bound(part.begin(), part.end(), lo);
    for (auto it = first; it != part.end() && *it < hi; ++it) f(*it);
  }
}

inline std::size_t spike_count(SpikeList spikes) {
  std::size_t n = 0;
  for (const auto& part : spikes) n += part.size();
  return n;
}

}  // namespace volley
