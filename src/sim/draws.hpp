#pragma once
// Uniform integers and random subsets from the counter-based generator, for the structural
// changes of a network (synapses created and deleted, neurons removed): a pure function of
// (seed, stream, index, step), so the result does not depend on the thread count.
#include <cstdint>
#include <utility>
#include <vector>

#include "volley/rng.hpp"

namespace volley::detail {

// Uniform integers from the counter-based generator, re-keyed every 2^14 blocks so that long
// shuffles never run a single counter past its block field.
class Draws {
 public:
  Draws(std::uint64_t seed, std::uint32_t stream, std::uint32_t index, std::uint64_t step)
      : seed_(seed), stream_(stream), index_(index), step_(step), rng_(seed, stream, index, step) {}
  // Uniform in [0, n), n > 0 (Lemire's multiply-and-reject).
  std::uint32_t below(std::uint32_t n) {
    std::uint64_t m = std::uint64_t{next()} * n;
    auto low = static_cast<std::uint32_t>(m);
    if (low < n) {
      const std::uint32_t threshold = (0u - n) % n;
      while (low < threshold) {
        m = std::uint64_t{next()} * n;
        low = static_cast<std::uint32_t>(m);
      }
    }
    return static_cast<std::uint32_t>(m >> 32);
  }
  // Moves a uniformly chosen subset of m elements of v, in random order, to its front.
  template <class T>
  void choose_front(std::vector<T>& v, std::size_t m) {
    for (std::size_t k = 0; k < m && k + 1 < v.size(); ++k) {
      const std::size_t j = k + below(static_cast<std::uint32_t>(v.size() - k));
      std::swap(v[k], v[j]);
    }
  }

 private:
  std::uint32_t next() {
    if (++used_ == (1u << 16)) {
      used_ = 0;
      ++chunk_;
      rng_ = CounterRng(seed_, stream_, index_, step_ + (chunk_ << 40));
    }
    return rng_.next_u32();
  }
  std::uint64_t seed_;
  std::uint32_t stream_, index_;
  std::uint64_t step_, chunk_ = 0;
  std::uint32_t used_ = 0;
  CounterRng rng_;
};

}  // namespace volley::detail
