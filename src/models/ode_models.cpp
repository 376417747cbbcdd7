// Explicit instantiations of the ODE populations (see ode_models.hpp for the compile flags).
#include "volley/models/ode_models.hpp"

namespace volley {
template class OdePopulation<HodgkinHuxley>;
template class OdePopulation<TraubHH>;
template class OdePopulation<MorrisLecar>;
template class OdePopulation<WangBuzsaki>;
template class OdePopulation<AdEx>;
template class OdePopulation<Qif>;
template class OdePopulation<Alif>;
}  // namespace volley
