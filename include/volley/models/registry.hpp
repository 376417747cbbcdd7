#pragma once
// The neuron models volley can build by name: one registry, built from the declarations in each
// model's own header (its Params struct, its list of Param<Params>, its presets and states).
// Model files, `volley fi`, the docs (docs/reference.md) and C++ code all build populations
// through it, so the name of a model, its parameter keys, units, ranges and defaults are written
// once. No TOML and no I/O here: a population is described by a PopulationSpec in SI units.
//
//   PopulationSpec spec;
//   spec.preset = "snlc";
//   spec.params = {{"C_m", 20e-6}};
//   add_population(net, "morris_lecar", "n", 100, spec);
//
// Adding an ODE model: its header (see ode.hpp for the contract) and one line in the list in
// ode_models.hpp; the registry entry is produced from the header.
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "volley/distribution.hpp"
#include "volley/models/sources.hpp"
#include "volley/registry.hpp"
#include "volley/units.hpp"

namespace volley {

class Network;
class Population;
namespace eq {
struct Model;
}

// A named thing with a one-line meaning (presets, integration methods).
struct Named {
  std::string_view name;
  std::string_view meaning;
};

// A synaptic channel as a spec gives it. Which fields a model takes is its ChannelStyle.
struct ChannelSpec {
  std::string name;
  double tau = 0.0;                  // s
  std::optional<double> e_rev;       // V; conductance channel
  std::optional<Distribution> init;  // initial conductance (S) or current (A)
  bool alpha = false;                // alpha-shaped instead of exponential (lif only)
};

// A population described independently of any file format. Everything is optional: what is not
// given keeps the model's default (or its preset's value).
struct PopulationSpec {
  std::string preset;                                  // "" = the model's defaults
  std::vector<std::pair<std::string, double>> params;  // key -> SI value, after the preset
  std::string method;                                  // integration method; "" = the default
  std::optional<double> max_step;                      // s; ODE models: longest internal step
  // Initial values by state name ("v", "u", "m", ...), drawn per neuron.
  std::vector<std::pair<std::string, Distribution>> initial;
  std::optional<std::vector<ChannelSpec>> channels;  // replaces the model's default channels
  std::vector<double> rates;                         // poisson: rate series (Hz), see rate_dt
  std::vector<SpikeEvent> events;                    // spike_generator: the spikes
  // Per-neuron values of parameters (key -> one SI value per neuron), for models that take them
  // (NeuronModel::per_neuron); e.g. learned time constants of a trained network.
  std::vector<std::pair<std::string, std::vector<double>>> per_neuron;
  // Named options (key -> chosen name), e.g. {"type", "alif"}; see NeuronModel::options.
  std::vector<std::pair<std::string, std::string>> options;
  // The `equations` model: the parsed equations (volley/equations/model.hpp); `initial` then
  // gives the initial values of its states and the values of its parameters.
  std::shared_ptr<const eq::Model> equations;
};

// An option of a model whose value is one of a set of names (discrete_lif's `type`, `reset`).
struct ModelOption {
  std::string_view key;
  std::string_view meaning;
  Registry<Named> choices;
  std::string_view default_value;
};

// How a model receives synapses.
enum class ChannelStyle {
  kNone,         // a spike source: no synapses onto it
  kVoltage,      // exponential (tau > 0) or instantaneous (tau = 0) channels in volts
  kConductance,  // tau > 0 and a reversal potential e_rev, weights in siemens
  kOde,          // tau > 0; with e_rev a conductance (S), without a current (A); optional init
  kFixed,        // one fixed dimensionless channel `in`, not configurable (discrete_lif)
  kStates,       // equations: every differential variable is a channel of its own unit
};

// Spike sources whose data are not scalar parameters.
enum class SourceKind { kNone, kPoisson, kSpikeList };

struct StateInfo {
  std::string_view name;
  Dimension dim;
};

struct NeuronModel {
  std::string_view name;
  std::string_view meaning;
  std::vector<ParamInfo> params;  // declared in the model's header; defaults from its Params{}
  Registry<Named> presets{"preset", {}};
  Registry<Named> methods{"method", {}};  // integration methods; empty: a fixed scheme
  std::string_view default_method;
  std::vector<ModelOption> options;
  std::vector<std::string_view> per_neuron;  // parameters that may be given one value per neuron
  std::vector<StateInfo> states;  // the state variables, v first; each can be given initially
  bool ode = false;               // an OdePopulation: max_step, initial values of every state
  double default_max_step = 0.0;  // s, for ode models
  ChannelStyle channel_style = ChannelStyle::kNone;
  std::vector<ChannelSpec> default_channels;
  SourceKind source = SourceKind::kNone;
  // Builds the population (not yet sized); throws ParameterError naming `name` and what is wrong.
  std::function<std::unique_ptr<Population>(const std::string& name, const PopulationSpec&)> make;
};

// Every neuron model, in documentation order.
const Registry<NeuronModel>& neuron_models();

// Builds a population of `size` neurons of `model` into `net`. Throws ParameterError for an
// unknown model ("unknown model 'x' (expected one of ...)"), preset, method, parameter key or
// state, a value outside its declared range, or parameters that contradict each other.
Population& add_population(Network& net, std::string_view model, const std::string& name,
                           std::size_t size, const PopulationSpec& spec = {});

}  // namespace volley
