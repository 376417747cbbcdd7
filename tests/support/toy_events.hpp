#pragma once
// Event datasets for training tests.
//   toy_data: two classes, 20 inputs, 30 steps; class c fires the inputs of its own half early
//     and often (probability 0.9 within the first 10 steps), the other half rarely (0.2,
//     anywhere). Deterministic for (n, seed).
//   bernoulli_data: `samples` samples of `n_in` inputs × `steps` steps, each (input, step) an
//     event of value 1 with probability `p` (0.25 unless given; std::mt19937 seeded with
//     `seed`), label b % classes.
//   toy_net: the network for toy_data: 20 inputs, 30 steps, `hidden` LIF neurons (optionally
//     recurrent), 2 leaky readouts.
#include <cstdint>
#include <random>
#include <vector>

#include "volley/rng.hpp"
#include "volley/data/events.hpp"
#include "volley/train/net.hpp"

namespace volley::test {

inline data::StoredEvents toy_data(std::size_t n, std::uint64_t seed) {
  data::StoredEvents set(20, 30, 2, "toy");
  data::SampleEvents s;
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
    data::build_sample(st, un, va, 30, s);
    set.add(s, label);
  }
  return set;
}

inline data::StoredEvents bernoulli_data(std::size_t n_in, std::size_t steps, std::size_t classes,
                                          std::size_t samples, unsigned seed, double p = 0.25) {
  data::StoredEvents set(n_in, steps, classes, "test");
  std::mt19937 rng(seed);
  std::bernoulli_distribution spike(p);
  for (std::size_t b = 0; b < samples; ++b) {
    std::vector<std::uint32_t> st, un;
    std::vector<float> va;
    for (std::size_t t = 0; t < steps; ++t)
      for (std::size_t i = 0; i < n_in; ++i)
        if (spike(rng)) {
          st.push_back(static_cast<std::uint32_t>(t));
          un.push_back(static_cast<std::uint32_t>(i));
          va.push_back(1.0f);
        }
    data::SampleEvents s;
    data::build_sample(st, un, va, steps, s);
    set.add(s, static_cast<int>(b % classes));
  }
  return set;
}

inline train::NetConfig toy_net(std::size_t hidden, bool recurrent = false) {
  train::NetConfig c;
  c.n_inputs = 20;
  c.n_steps = 30;
  train::LayerConfig h;
  h.size = hidden;
  h.recurrent = recurrent;
  h.weight_scale = 20.0;
  train::LayerConfig o;
  o.kind = train::LayerKind::readout;
  o.size = 2;
  c.layers = {h, o};
  return c;
}

}  // namespace volley::test
