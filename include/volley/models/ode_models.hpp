#pragma once
// The ODE neuron models volley ships: the one list of them. Adding a model means its header (see
// ode.hpp for the contract) and one line in VOLLEY_ODE_MODELS below (with its #include); the
// population type, its compiled kernels, the registry entry (model files, `volley fi`, the
// reference docs) all follow from the list.
//
// The populations are compiled once, in src/models/ode_models.cpp, with -ffast-math so that the
// loops over neurons vectorise, transcendental functions included (glibc's libmvec). Results
// still do not depend on the number of threads: thread slices start on 16-neuron boundaries, so
// every neuron is always computed in the same vector lane.
#include "volley/models/adex.hpp"
#include "volley/models/alif.hpp"
#include "volley/models/hodgkin_huxley.hpp"
#include "volley/models/morris_lecar.hpp"
#include "volley/models/ode_population.hpp"
#include "volley/models/qif.hpp"
#include "volley/models/resonate_and_fire.hpp"
#include "volley/models/traub_hh.hpp"
#include "volley/models/wang_buzsaki.hpp"

// X(ModelType), in the order of the reference documentation.
#define VOLLEY_ODE_MODELS(X) \
  X(HodgkinHuxley)           \
  X(TraubHH)                 \
  X(WangBuzsaki)             \
  X(MorrisLecar)             \
  X(AdEx)                    \
  X(Eif)                     \
  X(Qif)                     \
  X(Alif)                    \
  X(ResonateAndFire)

namespace volley {
#define VOLLEY_EXTERN_ODE_POPULATION(M) extern template class OdePopulation<M>;
VOLLEY_ODE_MODELS(VOLLEY_EXTERN_ODE_POPULATION)
#undef VOLLEY_EXTERN_ODE_POPULATION
}  // namespace volley
