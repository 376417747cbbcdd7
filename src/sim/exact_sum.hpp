#pragma once
// ExactSum: a float sum that does not depend on the order of its terms or on how they were split
// between processes (weight monitors' means, a reward's mean of the other weights).
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace volley::detail {

// The exact sum of floats: their significands added as integers, one sum per exponent (2^39
// floats before any can overflow), so the result does not depend on the order of the terms or
// on how they were split between processes; the count rides along in slot kCount.
// Infinities and NaNs are counted apart (slots kCount + 1..3: +inf, -inf, NaN).
struct ExactSum {
  static constexpr std::size_t kCount = 255;  // finite exponents 0..254
  std::array<std::int64_t, kCount + 4> bins{};
  void add(float x) {
    const auto bits = std::bit_cast<std::uint32_t>(x);
    const std::uint32_t e = (bits >> 23) & 0xFFu;
    ++bins[kCount];
    if (e == 0xFFu) {
      ++bins[kCount + ((bits & 0x7FFFFFu) != 0 ? 3 : (bits >> 31) ? 2 : 1)];
      return;
    }
    auto m = static_cast<std::int64_t>(bits & 0x7FFFFFu);
    if (e != 0) m |= 0x800000;
    bins[e] += (bits >> 31) ? -m : m;
  }
  // The sum, rounded once per exponent from the smallest up (the same operations for the same
  // bins, so the same double).
  double value() const {
    const bool pos_inf = bins[kCount + 1] > 0, neg_inf = bins[kCount + 2] > 0;
    if (bins[kCount + 3] > 0 || (pos_inf && neg_inf)) return std::numeric_limits<double>::quiet_NaN();
    if (pos_inf) return std::numeric_limits<double>::infinity();
    if (neg_inf) return -std::numeric_limits<double>::infinity();
    double sum = 0.0;
    for (std::size_t e = 0; e < kCount; ++e)
      if (bins[e] != 0)
        sum += std::ldexp(static_cast<double>(bins[e]), static_cast<int>(std::max<std::size_t>(e, 1)) - 150);
    return sum;
  }
};


}  // namespace volley::detail
