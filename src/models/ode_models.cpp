// Explicit instantiations of the ODE populations (see ode_models.hpp for the compile flags).
#include "volley/models/ode_models.hpp"

namespace volley {
#define VOLLEY_INSTANTIATE_ODE_POPULATION(M) template class OdePopulation<M>;
VOLLEY_ODE_MODELS(VOLLEY_INSTANTIATE_ODE_POPULATION)
#undef VOLLEY_INSTANTIATE_ODE_POPULATION
}  // namespace volley
