#pragma once
// The ODE neuron models volley ships, and their populations. The populations are compiled once,
// in src/models/ode_models.cpp, with -ffast-math so that the loops over neurons vectorise,
// transcendental functions included (glibc's libmvec). Results still do not depend on the
// number of threads: thread slices start on 16-neuron boundaries, so every neuron is always
// computed in the same vector lane.
#include "volley/models/adex.hpp"
#include "volley/models/alif.hpp"
#include "volley/models/hodgkin_huxley.hpp"
#include "volley/models/morris_lecar.hpp"
#include "volley/models/ode_population.hpp"
#include "volley/models/qif.hpp"
#include "volley/models/traub_hh.hpp"
#include "volley/models/wang_buzsaki.hpp"

namespace volley {
extern template class OdePopulation<HodgkinHuxley>;
extern template class OdePopulation<TraubHH>;
extern template class OdePopulation<MorrisLecar>;
extern template class OdePopulation<WangBuzsaki>;
extern template class OdePopulation<AdEx>;
extern template class OdePopulation<Qif>;
extern template class OdePopulation<Alif>;
}  // namespace volley
