#include "volley/models/ode.hpp"

#include <fmt/format.h>

#include "volley/error.hpp"

namespace volley {

Integrator parse_integrator(std::string_view name) {
  if (name == "euler") return Integrator::kEuler;
  if (name == "exponential_euler") return Integrator::kExponentialEuler;
  if (name == "rk4") return Integrator::kRk4;
  if (name == "exponential_midpoint") return Integrator::kExponentialMidpoint;
  throw ParameterError(fmt::format(
      "unknown integrator '{}' (choose euler, exponential_euler, exponential_midpoint or rk4)", name));
}

std::string_view integrator_name(Integrator m) {
  switch (m) {
    case Integrator::kEuler: return "euler";
    case Integrator::kExponentialEuler: return "exponential_euler";
    case Integrator::kRk4: return "rk4";
    case Integrator::kExponentialMidpoint: return "exponential_midpoint";
  }
  return "?";
}

}  // namespace volley
