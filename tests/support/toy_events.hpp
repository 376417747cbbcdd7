#pragma once
// A toy two-class event dataset for training tests: 20 inputs, 30 steps; class c fires the
// inputs of its own half early and often (probability 0.9 within the first 10 steps), the other
// half rarely (0.2, anywhere). Deterministic for (n, seed).
#include <cstdint>
#include <vector>

#include "volley/rng.hpp"
#include "volley/train/dataset.hpp"

namespace volley::test {

inline train::StoredEvents toy_data(std::size_t n, std::uint64_t seed) {
  train::StoredEvents data(20, 30, 2, "toy");
  train::SampleEvents s;
  for (std::size_t k = 0; k < n; ++k) {
    CounterRng rng(seed, 1, static_cast<std::uint32_t>(k), 0);
    const int label = static_cast<int>(k % 2);
    std::vector<std::uint32_t> st, un;
    std::vector<float> va;
    for (std::uint32_t i = 0; i < 20; ++i) {
      const bool own = (i < 10) == (label == 0);
      if (rng.uniform() < (own ? 0.9 : 0.2)) {
        st.push_back(static_cast<std::uint32_t>(rng.uniform() * (own ? 10 : 30)));
        un.push_back(i);
        va.push_back(1.0f);
      }
    }
    train::build_sample(st, un, va, 30, s);
    data.add(s, label);
  }
  return data;
}

}  // namespace volley::test
