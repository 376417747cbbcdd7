// The neuron-model registry: one entry per model, produced from the declarations in the models'
// headers (ODE models from the list in ode_models.hpp).
#include "volley/models/registry.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "volley/error.hpp"
#include "volley/models/discrete_lif.hpp"
#include "volley/models/equation_population.hpp"
#include "volley/models/izhikevich.hpp"
#include "volley/models/lif.hpp"
#include "volley/models/lif_cond.hpp"
#include "volley/models/ode_models.hpp"
#include "volley/models/sources.hpp"
#include "volley/network.hpp"

namespace volley {
namespace {

std::string where_of(const std::string& population) {
  return fmt::format("population '{}'", population);
}

std::string quoted_list(const auto& items, auto name_of) {
  std::string out;
  for (const auto& x : items) out += fmt::format("{}'{}'", out.empty() ? "" : ", ", name_of(x));
  return out.empty() ? std::string("none") : out;
}

// Applies the spec's preset, then its parameters, each checked against its declaration.
template <class P>
void apply_params(std::span<const Param<P>> decl, std::span<const Preset<P>> presets,
                  const PopulationSpec& spec, P& p, const std::string& where,
                  std::string_view model) {
  if (!spec.preset.empty()) {
    const auto it = std::find_if(presets.begin(), presets.end(),
                                 [&](const Preset<P>& x) { return x.name == spec.preset; });
    if (it == presets.end())
      throw ParameterError(fmt::format(
          "{}: unknown preset '{}' of model '{}' (expected one of {})", where, spec.preset, model,
          quoted_list(presets, [](const Preset<P>& x) { return x.name; })));
    p = it->make();
  }
  for (const auto& [key, x] : spec.params) {
    const auto it =
        std::find_if(decl.begin(), decl.end(), [&](const Param<P>& d) { return d.key == key; });
    if (it == decl.end())
      throw ParameterError(fmt::format("{}: model '{}' has no parameter '{}' (expected one of {})",
                                       where, model, key,
                                       quoted_list(decl, [](const Param<P>& d) { return d.key; })));
    if (const std::string bad = it->check(x); !bad.empty())
      throw ParameterError(fmt::format("{}: {} {}", where, key, bad));
    it->set(p, x);
  }
}

// What a spec may give besides parameters; everything else must be left empty.
struct Accepts {
  bool method = false, max_step = false, rates = false, events = false, options = false;
  ChannelStyle channels = ChannelStyle::kNone;
  bool alpha_channels = false;
  std::vector<std::string_view> per_neuron = {};
};

void reject_unused(const PopulationSpec& s, const Accepts& a, const std::string& where,
                   std::string_view model) {
  auto no = [&](bool given, std::string_view what) {
    if (given) throw ParameterError(fmt::format("{}: model '{}' takes no {}", where, model, what));
  };
  no(!a.method && !s.method.empty(), "integration method");
  no(!a.max_step && s.max_step.has_value(), "max_step");
  no(!a.rates && !s.rates.empty(), "rate series");
  no(!a.events && !s.events.empty(), "spike list");
  no((a.channels == ChannelStyle::kNone || a.channels == ChannelStyle::kFixed) &&
         s.channels.has_value(),
     "synaptic channels");
  no(!a.options && !s.options.empty(), "options");
  for (const auto& [key, values] : s.per_neuron)
    if (std::find(a.per_neuron.begin(), a.per_neuron.end(), key) == a.per_neuron.end())
      throw ParameterError(fmt::format("{}: model '{}' takes no per-neuron values for '{}'{}",
                                       where, model, key,
                                       a.per_neuron.empty() ? std::string()
                                                            : " (only for " +
                                                                  quoted_list(a.per_neuron, [](auto k) { return k; }) +
                                                                  ")"));
  if (!s.channels) return;
  for (const auto& c : *s.channels) {
    const std::string ch = fmt::format("{}: channel '{}'", where, c.name);
    const bool tau_ok = a.channels == ChannelStyle::kVoltage ? c.tau >= 0.0 : c.tau > 0.0;
    if (!tau_ok)
      throw ParameterError(fmt::format("{}: tau must be {}, got {} s", ch,
                                       a.channels == ChannelStyle::kVoltage ? ">= 0" : "> 0",
                                       c.tau));
    if (a.channels == ChannelStyle::kConductance && !c.e_rev)
      throw ParameterError(
          fmt::format("{}: model '{}' needs a reversal potential e_rev", ch, model));
    if (a.channels == ChannelStyle::kVoltage && c.e_rev)
      throw ParameterError(fmt::format(
          "{}: model '{}' has current-based channels in volts; e_rev does not apply", ch, model));
    if (c.alpha && !a.alpha_channels)
      throw ParameterError(fmt::format(
          "{}: model '{}' has exponential channels only (shape = \"alpha\" is lif's)", ch, model));
    if (c.alpha && c.tau == 0.0)
      throw ParameterError(fmt::format("{}: an alpha-shaped channel needs tau > 0", ch));
    if (a.channels != ChannelStyle::kOde && c.init)
      throw ParameterError(fmt::format("{}: model '{}' takes no initial channel value", ch, model));
  }
}

// Calls set(state index, distribution) for each initial value of the spec.
template <class Set>
void apply_initial(const PopulationSpec& s, std::span<const StateInfo> states,
                   const std::string& where, std::string_view model, Set set) {
  for (const auto& [name, d] : s.initial) {
    const auto it = std::find_if(states.begin(), states.end(),
                                 [&](const StateInfo& x) { return x.name == name; });
    if (it == states.end())
      throw ParameterError(
          fmt::format("{}: model '{}' has no state '{}' (expected one of {})", where, model, name,
                      quoted_list(states, [](const StateInfo& x) { return x.name; })));
    set(static_cast<std::size_t>(it - states.begin()), d);
  }
}

template <class P>
std::vector<Named> preset_names(std::span<const Preset<P>> presets) {
  std::vector<Named> out;
  for (const auto& p : presets) out.push_back({p.name, p.meaning});
  return out;
}

template <class E>
std::vector<Named> choice_names(const Registry<Choice<E>>& r) {
  std::vector<Named> out;
  for (const auto& c : r) out.push_back({c.name, c.meaning});
  return out;
}

// ---- the models with their own population classes ------------------------------------------

NeuronModel lif_entry() {
  NeuronModel e;
  e.name = "lif";
  e.meaning =
      "leaky integrate-and-fire with current-based synapses (channels in volts); exact "
      "integration";
  e.params = param_infos(LifParams::params());
  e.states = {{"v", Dimension::volts()}};
  e.channel_style = ChannelStyle::kVoltage;
  for (const auto& c : LifParams{}.channels)
    e.default_channels.push_back({c.name, c.tau, std::nullopt, std::nullopt});
  e.make = [states = e.states](const std::string& name, const PopulationSpec& s) {
    const std::string where = where_of(name);
    LifParams p;
    apply_params<LifParams>(LifParams::params(), {}, s, p, where, "lif");
    reject_unused(s, {.channels = ChannelStyle::kVoltage, .alpha_channels = true}, where, "lif");
    apply_initial(s, states, where, "lif",
                  [&](std::size_t, const Distribution& d) { p.v_init = d; });
    if (s.channels) {
      p.channels.clear();
      for (const auto& c : *s.channels) p.channels.push_back({c.name, c.tau, c.alpha});
    }
    return std::unique_ptr<Population>(std::make_unique<LifPopulation>(name, std::move(p)));
  };
  return e;
}

NeuronModel lif_cond_entry() {
  NeuronModel e;
  e.name = "lif_cond";
  e.meaning = "leaky integrate-and-fire with conductance-based synapses (COBA)";
  e.params = param_infos(LifCondParams::params());
  e.methods = Registry<Named>("method", choice_names(LifCondParams::methods()));
  e.default_method = LifCondParams::methods().name_of(LifCondParams{}.method);
  e.states = {{"v", Dimension::volts()}};
  e.channel_style = ChannelStyle::kConductance;
  for (const auto& c : LifCondParams{}.channels)
    e.default_channels.push_back({c.name, c.tau, c.e_rev, std::nullopt});
  e.make = [states = e.states](const std::string& name, const PopulationSpec& s) {
    const std::string where = where_of(name);
    LifCondParams p;
    apply_params<LifCondParams>(LifCondParams::params(), {}, s, p, where, "lif_cond");
    reject_unused(s, {.method = true, .channels = ChannelStyle::kConductance}, where, "lif_cond");
    if (!s.method.empty()) {
      const auto* m = LifCondParams::methods().find(s.method);
      if (!m)
        throw ParameterError(
            fmt::format("{}: {}", where, LifCondParams::methods().unknown(s.method)));
      p.method = m->value;
    }
    apply_initial(s, states, where, "lif_cond",
                  [&](std::size_t, const Distribution& d) { p.v_init = d; });
    if (s.channels) {
      p.channels.clear();
      for (const auto& c : *s.channels) p.channels.push_back({c.name, c.tau, *c.e_rev});
    }
    return std::unique_ptr<Population>(std::make_unique<LifCondPopulation>(name, std::move(p)));
  };
  return e;
}

NeuronModel izhikevich_entry() {
  NeuronModel e;
  e.name = "izhikevich";
  e.meaning = "Izhikevich (2003) simple model, forward Euler in substeps of at most max_step";
  e.params = param_infos(IzhikevichParams::params());
  e.presets = Registry<Named>("preset", preset_names(IzhikevichParams::presets()));
  e.states = {{"v", Dimension::volts()}, {"u", Dimension::volts()}};
  e.channel_style = ChannelStyle::kVoltage;
  for (const auto& c : IzhikevichParams{}.channels)
    e.default_channels.push_back({c.name, c.tau, std::nullopt, std::nullopt});
  e.make = [states = e.states](const std::string& name, const PopulationSpec& s) {
    const std::string where = where_of(name);
    IzhikevichParams p;
    apply_params(IzhikevichParams::params(), IzhikevichParams::presets(), s, p, where,
                 "izhikevich");
    reject_unused(s, {.channels = ChannelStyle::kVoltage}, where, "izhikevich");
    apply_initial(s, states, where, "izhikevich", [&](std::size_t k, const Distribution& d) {
      if (k == 0) {
        p.v_init = d;
      } else {
        p.u_init = d;
        p.has_u_init = true;
      }
    });
    if (s.channels) {
      p.channels.clear();
      for (const auto& c : *s.channels) p.channels.push_back({c.name, c.tau});
    }
    return std::unique_ptr<Population>(std::make_unique<IzhikevichPopulation>(name, std::move(p)));
  };
  return e;
}

// The value of option `key` in the spec (its default if not given), as E.
template <class E>
E option_value(const PopulationSpec& s, const NeuronModel& m, std::string_view key,
               const Registry<Choice<E>>& choices, const std::string& where) {
  for (const auto& [k, v] : s.options) {
    const bool known = std::any_of(m.options.begin(), m.options.end(),
                                   [&](const ModelOption& o) { return o.key == k; });
    if (!known)
      throw ParameterError(fmt::format(
          "{}: model '{}' has no option '{}' (expected one of {})", where, m.name, k,
          quoted_list(m.options, [](const ModelOption& o) { return o.key; })));
  }
  for (const auto& [k, v] : s.options)
    if (k == key) {
      const auto* c = choices.find(v);
      if (!c) throw ParameterError(fmt::format("{}: {}", where, choices.unknown(v)));
      return c->value;
    }
  for (const auto& o : m.options)
    if (o.key == key) return choices.find(o.default_value)->value;
  throw ParameterError(fmt::format("{}: model '{}' has no option '{}'", where, m.name, key));
}

NeuronModel discrete_lif_entry() {
  NeuronModel e;
  e.name = "discrete_lif";
  e.meaning =
      "the trainer's discrete-time LIF, adaptive LIF or leaky readout (what `volley export` "
      "writes); one dimensionless channel `in`";
  e.params = param_infos(DiscreteLifParams::params());
  e.options = {{"type", "the layer type, as in training files",
                Registry<Named>("layer type", choice_names(layer_kinds())), "lif"},
               {"reset", "what a spike does to the membrane, as in training files",
                Registry<Named>("reset mode", choice_names(reset_modes())), "multiply"}};
  e.channel_style = ChannelStyle::kFixed;
  e.default_channels = {{"in", 0.0, std::nullopt, std::nullopt}};
  e.per_neuron = {"tau_mem", "tau_syn", "threshold", "tau_adapt", "adapt_coupling", "adapt_strength"};
  e.make = [e](const std::string& name, const PopulationSpec& s) {
    const std::string where = where_of(name);
    DiscreteLifParams p;
    apply_params<DiscreteLifParams>(DiscreteLifParams::params(), {}, s, p, where, e.name);
    reject_unused(s, {.options = true, .channels = ChannelStyle::kFixed, .per_neuron = e.per_neuron},
                  where, e.name);
    for (const auto& [key, values] : s.per_neuron) {
      const auto info = std::find_if(e.params.begin(), e.params.end(),
                                      [&](const ParamInfo& x) { return x.key == key; });
      for (std::size_t i = 0; i < values.size(); ++i)
        if (const std::string bad = info->check(values[i]); !bad.empty())
          throw ParameterError(fmt::format("{}: {}[{}] {}", where, key, i, bad));
      *p.per_neuron(key) = values;
    }
    apply_initial(s, {}, where, e.name, [](std::size_t, const Distribution&) {});
    p.type = option_value(s, e, "type", layer_kinds(), where);
    p.reset = option_value(s, e, "reset", reset_modes(), where);
    return std::unique_ptr<Population>(std::make_unique<DiscreteLifPopulation>(name, p));
  };
  return e;
}

NeuronModel poisson_entry() {
  NeuronModel e;
  e.name = "poisson";
  e.meaning = "independent Poisson spike sources: constant, modulated or piecewise-constant rate";
  e.params = param_infos(PoissonGroupParams::params());
  e.source = SourceKind::kPoisson;
  e.make = [](const std::string& name, const PopulationSpec& s) {
    const std::string where = where_of(name);
    PoissonGroupParams p;
    apply_params<PoissonGroupParams>(PoissonGroupParams::params(), {}, s, p, where, "poisson");
    reject_unused(s, {.rates = true}, where, "poisson");
    apply_initial(s, {}, where, "poisson", [](std::size_t, const Distribution&) {});
    p.rates = s.rates;
    return std::unique_ptr<Population>(std::make_unique<PoissonGroup>(name, std::move(p)));
  };
  return e;
}

NeuronModel spike_generator_entry() {
  NeuronModel e;
  e.name = "spike_generator";
  e.meaning = "explicit spike times (Brian2's SpikeGeneratorGroup)";
  e.source = SourceKind::kSpikeList;
  e.make = [](const std::string& name, const PopulationSpec& s) {
    const std::string where = where_of(name);
    if (!s.preset.empty() || !s.params.empty())
      throw ParameterError(fmt::format("{}: model 'spike_generator' has no parameters", where));
    reject_unused(s, {.events = true}, where, "spike_generator");
    apply_initial(s, {}, where, "spike_generator", [](std::size_t, const Distribution&) {});
    return std::unique_ptr<Population>(std::make_unique<SpikeGenerator>(name, s.events));
  };
  return e;
}

// ---- every ODE model, from its header -------------------------------------------------------

template <OdeNeuron M>
NeuronModel ode_entry() {
  using P = typename M::Params;
  NeuronModel e;
  e.name = M::kName;
  e.meaning = M::kMeaning;
  static const P defaults{};
  e.params = param_infos(M::params(), defaults);
  std::span<const Preset<P>> presets;
  if constexpr (requires { M::presets(); }) presets = M::presets();
  e.presets = Registry<Named>("preset", preset_names(presets));
  e.methods = Registry<Named>("method", choice_names(integrators()));
  e.default_method = integrator_name(M::kDefaultIntegrator);
  for (int k = 0; k < M::kStates; ++k)
    e.states.push_back({M::state_names()[static_cast<std::size_t>(k)],
                        M::state_dimensions()[static_cast<std::size_t>(k)]});
  e.ode = true;
  e.default_max_step = M::kMaxStep;
  e.channel_style = ChannelStyle::kOde;
  e.make = [states = e.states, presets](const std::string& name, const PopulationSpec& s) {
    const std::string where = where_of(name);
    OdePopulationParams<M> p;
    apply_params(M::params(), presets, s, p.model, where, M::kName);
    reject_unused(s, {.method = true, .max_step = true, .channels = ChannelStyle::kOde}, where,
                  M::kName);
    if (!s.method.empty()) {
      const auto* m = integrators().find(s.method);
      if (!m) throw ParameterError(fmt::format("{}: {}", where, integrators().unknown(s.method)));
      p.method = m->value;
    }
    if (s.max_step) p.max_step = *s.max_step;
    apply_initial(s, states, where, M::kName, [&](std::size_t k, const Distribution& d) {
      if (k == 0)
        p.v_init = d;
      else
        p.state_init.emplace_back(k, d);
    });
    if (s.channels)
      for (const auto& c : *s.channels) p.channels.push_back({c.name, c.tau, c.e_rev, c.init});
    return std::unique_ptr<Population>(std::make_unique<OdePopulation<M>>(name, std::move(p)));
  };
  return e;
}

NeuronModel equations_entry() {
  NeuronModel e;
  e.name = "equations";
  e.meaning = "a model written as equations in Brian2's syntax, compiled to a kernel at run time "
              "(docs/equations.md)";
  e.channel_style = ChannelStyle::kStates;
  e.make = [](const std::string& name, const PopulationSpec& s) {
    if (!s.equations)
      throw ParameterError(fmt::format("population '{}': model 'equations' needs its equations", name));
    if (!s.params.empty() || !s.per_neuron.empty() || !s.preset.empty() || s.channels)
      throw ParameterError(fmt::format("population '{}': an equations model takes its parameters "
                                       "through its equations and initial values", name));
    return std::unique_ptr<Population>(
        std::make_unique<EquationPopulation>(name, s.equations, s.initial));
  };
  return e;
}

std::vector<NeuronModel> all_models() {
  std::vector<NeuronModel> out{lif_entry(), lif_cond_entry(), izhikevich_entry()};
#define VOLLEY_ODE_ENTRY(M) out.push_back(ode_entry<M>());
  VOLLEY_ODE_MODELS(VOLLEY_ODE_ENTRY)
#undef VOLLEY_ODE_ENTRY
  out.push_back(discrete_lif_entry());
  out.push_back(poisson_entry());
  out.push_back(spike_generator_entry());
  out.push_back(equations_entry());
  return out;
}

}  // namespace

const Registry<NeuronModel>& neuron_models() {
  static const Registry<NeuronModel> r("model", all_models());
  return r;
}

Population& add_population(Network& net, std::string_view model, const std::string& name,
                           std::size_t size, const PopulationSpec& spec) {
  return net.add(neuron_models().get(model).make(name, spec), size);
}

}  // namespace volley
