#pragma once
// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011). A draw is a pure function
// of (seed, stream, index, step, draw number), so results do not depend on the number of
// threads or on the order in which neurons are visited.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace volley {

namespace detail {
inline std::uint32_t mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi) {
  const std::uint64_t p = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(p >> 32);
  return static_cast<std::uint32_t>(p);
}
}  // namespace detail

using PhiloxBlock = std::array<std::uint32_t, 4>;

// The Philox4x32 bijection with 10 rounds.
inline PhiloxBlock philox4x32(PhiloxBlock ctr, std::uint64_t key64) {
  std::uint32_t k0 = static_cast<std::uint32_t>(key64);
  std::uint32_t k1 = static_cast<std::uint32_t>(key64 >> 32);
  for (int round = 0; round < 10; ++round) {
    std::uint32_t hi0, hi1;
    const std::uint32_t lo0 = detail::mulhilo(0xD2511F53u, ctr[0], hi0);
    const std::uint32_t lo1 = detail::mulhilo(0xCD9E8D57u, ctr[2], hi1);
    ctr = {hi1 ^ ctr[1] ^ k0, lo1, hi0 ^ ctr[3] ^ k1, lo0};
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return ctr;
}

// Well-known stream identifiers; objects add their own id so each has distinct numbers.
enum class RngStream : std::uint32_t {
  kInitialState = 1u << 24,
  kConnectivity = 2u << 24,
  kWeights = 3u << 24,
  kDelays = 4u << 24,
  kPoissonGroup = 5u << 24,
  kPoissonInput = 6u << 24,
  kUser = 7u << 24,
  kReward = 8u << 24,
  kNoise = 9u << 24,
  kStructural = 10u << 24,
  kSynapsePre = 11u << 24,   // synapse equations' on_pre
  kSynapsePost = 12u << 24,  // and on_post
};

inline std::uint32_t stream_id(RngStream s, std::uint32_t object_id) {
  return static_cast<std::uint32_t>(s) + (object_id & 0xFFFFFFu);
}

// A short sequence of random numbers for one (stream, index, step) triple.
class CounterRng {
 public:
  CounterRng(std::uint64_t seed, std::uint32_t stream, std::uint32_t index, std::uint64_t step)
      : key_(seed),
        ctr_{stream, index, static_cast<std::uint32_t>(step),
             static_cast<std::uint32_t>((step >> 32) << 16)} {}

  std::uint32_t next_u32() {
    if (used_ == 4) {
      block_ = philox4x32(ctr_, key_);
      ++ctr_[3];
      used_ = 0;
    }
    return block_[used_++];
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() {
    const std::uint64_t a = next_u32() >> 5, b = next_u32() >> 6;
    return (static_cast<double>(a) * 67108864.0 + static_cast<double>(b)) * 0x1.0p-53;
  }
  // Uniform in (0, 1], safe for log().
  double uniform_open0() { return 1.0 - uniform(); }
  // Uniform in [0, 1) from 24 bits (cheap, for Bernoulli tests against a float threshold).
  float uniform_float() { return static_cast<float>(next_u32() >> 8) * 0x1.0p-24f; }
  double normal() {  // Box-Muller; one value per call keeps the sequence simple
    const double u1 = uniform_open0(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double exponential() { return -std::log(uniform_open0()); }
  // Gamma(shape k > 0, scale 1) by Marsaglia & Tsang (2000); k < 1 through Gamma(k + 1)·U^(1/k).
  double gamma(double k) {
    if (k < 1.0) return gamma(k + 1.0) * std::pow(uniform_open0(), 1.0 / k);
    const double d = k - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x, v;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = uniform_open0();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
    }
  }
  // Poisson(mean) by inversion for small means, normal approximation above 30.
  std::uint32_t poisson(double mean);
  // Binomial(n, p): exact inversion when n*p is small, else the normal approximation
  // (the same strategy as Brian2's BinomialFunction).
  std::uint32_t binomial(std::uint32_t n, double p);

 private:
  std::uint64_t key_;
  PhiloxBlock ctr_;
  PhiloxBlock block_{};
  int used_ = 4;
};

// out[i - lo] = CounterRng(seed, stream, i, step).uniform() for every i in [lo, hi): the same
// numbers, computed by a loop the compiler vectorises (one Philox block per neuron).
inline void uniform_batch(std::uint64_t seed, std::uint32_t stream, std::uint64_t step,
                          std::size_t lo, std::size_t hi, double* __restrict out) {
  const auto key0 = static_cast<std::uint32_t>(seed), key1 = static_cast<std::uint32_t>(seed >> 32);
  const auto ctr2 = static_cast<std::uint32_t>(step);
  const auto ctr3 = static_cast<std::uint32_t>((step >> 32) << 16);
  // The 32-bit words live in 64-bit lanes: (x & mask) * M is then one 32x32->64 multiply per
  // lane (vpmuludq), where 32-bit words widened on the fly cost a full 64-bit multiply.
  constexpr std::uint64_t kLow = 0xFFFFFFFFu;
  for (std::size_t i = lo; i < hi; ++i) {
    std::uint64_t c0 = stream, c1 = static_cast<std::uint32_t>(i), c2 = ctr2, c3 = ctr3;
    std::uint64_t k0 = key0, k1 = key1;
    for (int round = 0; round < 10; ++round) {
      const std::uint64_t p0 = std::uint64_t{0xD2511F53u} * (c0 & kLow);
      const std::uint64_t p1 = std::uint64_t{0xCD9E8D57u} * (c2 & kLow);
      const std::uint64_t n0 = (p1 >> 32) ^ c1 ^ k0;
      const std::uint64_t n2 = (p0 >> 32) ^ c3 ^ k1;
      c1 = p1 & kLow;
      c3 = p0 & kLow;
      c0 = n0;
      c2 = n2;
      k0 = (k0 + 0x9E3779B9u) & kLow;
      k1 = (k1 + 0xBB67AE85u) & kLow;
    }
    const auto a = static_cast<std::int32_t>((c0 & kLow) >> 5),
               b = static_cast<std::int32_t>(c1 >> 6);
    out[i - lo] = (static_cast<double>(a) * 67108864.0 + static_cast<double>(b)) * 0x1.0p-53;
  }
}

inline std::uint32_t CounterRng::poisson(double mean) {
  if (mean <= 0.0) return 0;
  if (mean > 30.0) {
    const double x = std::round(mean + std::sqrt(mean) * normal());
    return x < 0.0 ? 0u : static_cast<std::uint32_t>(x);
  }
  const double limit = std::exp(-mean);
  double prod = uniform_open0();
  std::uint32_t k = 0;
  while (prod > limit) {
    prod *= uniform_open0();
    ++k;
  }
  return k;
}

inline std::uint32_t CounterRng::binomial(std::uint32_t n, double p) {
  if (n == 0 || p <= 0.0) return 0;
  if (p >= 1.0) return n;
  const double mean = n * p;
  if (mean > 30.0 && n * (1.0 - p) > 30.0) {
    const double x = std::round(mean + std::sqrt(mean * (1.0 - p)) * normal());
    return x < 0.0 ? 0u : (x > n ? n : static_cast<std::uint32_t>(x));
  }
  if (p > 0.5) return n - binomial(n, 1.0 - p);
  // Inversion: walk the CDF from k = 0.
  const double q = 1.0 - p, ratio = p / q;
  double pk = std::pow(q, static_cast<double>(n));
  double u = uniform();
  std::uint32_t k = 0;
  while (u > pk && k < n) {
    u -= pk;
    pk *= ratio * static_cast<double>(n - k) / static_cast<double>(k + 1);
    ++k;
  }
  return k;
}

}  // namespace volley
