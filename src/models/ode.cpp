#include "volley/models/ode.hpp"

namespace volley {

const Registry<Choice<Integrator>>& integrators() {
  static const Registry<Choice<Integrator>> r(
      "method",
      {{"euler", Integrator::kEuler, "forward Euler, first order"},
       {"exponential_euler", Integrator::kExponentialEuler,
        "each state exact for dx/dt = a x + b with a, b frozen over the step (Brian2's "
        "exponential_euler), first order"},
       {"exponential_midpoint", Integrator::kExponentialMidpoint,
        "exponential Euler over the step with a, b taken at the exponential-Euler midpoint, "
        "second order"},
       {"rk4", Integrator::kRk4, "classic fourth-order Runge-Kutta"}});
  return r;
}

Integrator parse_integrator(std::string_view name) { return integrators().get(name).value; }

std::string_view integrator_name(Integrator m) { return integrators().name_of(m); }

}  // namespace volley
