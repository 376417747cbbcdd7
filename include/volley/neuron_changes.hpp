#pragma once
// Neurons added and removed during a run, by schedule (NeuronChange: at a time, grow a
// population or remove given neurons or a random fraction) and by rule (NeuronRule: checked
// every `every` seconds against the calcium traces of structural plasticity).
//
// Network::run stops at every change time and rule check and applies them on one thread before
// going on, so results do not depend on the thread count, and a run that is split there is
// otherwise identical to one that is not.
//
// Removing a neuron: its index is never reused (monitors keep stable ids); it never spikes
// again; every synapse from or to it goes; events already in flight to it are dropped (its delay
// ring entries are cleared). Its state variables keep integrating external inputs but mean
// nothing. A population with gap junctions cannot lose neurons (not supported yet).
// Growing: new neurons get the population's parameters and initial-state distributions (drawn
// per neuron index, so growth never changes existing neurons); projections that span the
// population to its end take them in, and `connect` gives them synapses by a connection rule,
// with the projection's (constant) weight and delay: for a projection into the population,
// from every source neuron onto the new ones; out of it, from the new ones onto every target;
// both for a projection within it (each ordered pair once).
#include <cstdint>
#include <string>
#include <vector>

#include "volley/connectivity.hpp"

namespace volley {

struct GrowthConnection {
  std::string projection;
  Connector connector;
};

struct NeuronChange {
  enum class Kind { kGrow, kRemove };
  Kind kind = Kind::kGrow;
  double time = 0.0;  // s since the network's start
  std::string population;
  std::size_t n = 0;                      // grow: neurons to add
  std::vector<GrowthConnection> connect;  // grow: synapses of the new neurons
  std::vector<std::uint32_t> indices;     // remove: these neurons ...
  double fraction = 0.0;                  // ... or this fraction of the living ones ...
  std::size_t count = 0;                  // ... or this many of the living ones, at random
};

struct NeuronRule {
  enum class Kind { kRemoveInactive, kGrowWhenActive };
  Kind kind = Kind::kRemoveInactive;
  std::string name, population;
  double every = 1.0;  // s between checks
  double level = 0.0;  // calcium level
  // remove_inactive: neurons whose Ca was below `level` at every check for at least `duration`.
  double duration = 0.0;
  // grow_when_active: when the mean Ca of the living neurons exceeds `level`, add `n` neurons
  // (never beyond `max_size` neurons in all, removed ones included; 0 = no limit).
  std::size_t n = 0;
  std::size_t max_size = 0;
  std::vector<GrowthConnection> connect;
};

// A population's size after a change: all neurons ever made, and those alive.
struct SizeChange {
  double time = 0.0;  // s
  std::uint64_t size = 0, living = 0;
};

}  // namespace volley
