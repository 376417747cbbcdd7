// The spike scan must list exactly the flagged neurons, in order, offset by lo, for any length
// (whole 64-byte blocks and the tail) and any density.
#include <gtest/gtest.h>

#include <random>

#include "volley/models/spike_scan.hpp"

using namespace volley;

TEST(SpikeScan, ListsEveryFlaggedNeuronInOrder) {
  std::mt19937 gen(7);
  for (std::size_t n : {0u, 1u, 63u, 64u, 65u, 127u, 128u, 200u, 4000u}) {
    for (double density : {0.0, 0.001, 0.05, 0.5, 1.0}) {
      std::bernoulli_distribution flag(density);
      std::vector<std::uint8_t> fired(n);
      std::vector<std::uint32_t> want;
      for (std::size_t k = 0; k < n; ++k) {
        fired[k] = flag(gen) ? 1 : 0;
        if (fired[k]) want.push_back(static_cast<std::uint32_t>(1000 + k));
      }
      std::vector<std::uint32_t> got{7};  // appends after what is there
      collect_spikes(fired.data(), 1000, n, got);
      want.insert(want.begin(), 7u);
      ASSERT_EQ(got, want) << "n " << n << " density " << density;
    }
  }
}
