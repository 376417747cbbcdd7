#include "volley/distribution.hpp"

#include <fmt/format.h>

#include "volley/error.hpp"

namespace volley {

void Distribution::validate(const std::string& what) const {
  if (kind == Kind::kUniform && !(b >= a))
    throw ParameterError(fmt::format("{}: uniform high ({}) must be >= low ({})", what, b, a));
  if ((kind == Kind::kNormal || kind == Kind::kLognormal) && !(b >= 0.0))
    throw ParameterError(fmt::format("{}: standard deviation must be >= 0, got {}", what, b));
  if (!(max >= min))
    throw ParameterError(fmt::format("{}: clip max ({}) must be >= min ({})", what, max, min));
}

}  // namespace volley
