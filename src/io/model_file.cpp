// Model files: TOML -> volley::Network. See docs/model-format.md for the schema.
//
// Reading is strict: every table is read through a `Table` that records which keys were asked
// for, and `Table::finish` rejects any key nobody asked for, so a typo never passes silently.
// Every error is a ConfigError "FILE:LINE: FIELD: what is wrong".
#include "volley/io/model_file.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <numeric>
#include <numbers>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "toml_table.hpp"
#include "volley/equations/model.hpp"
#include "volley/equations/synapse_model.hpp"
#include "volley/error.hpp"
#include "volley/io/recording.hpp"
#include "volley/io/synapse_file.hpp"
#include "volley/models/registry.hpp"
#include "volley/models/sources.hpp"

namespace volley::io {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kMaxIndex = std::numeric_limits<std::uint32_t>::max();
constexpr std::size_t kMaxDefaultStateIndices = 100;
constexpr std::size_t kMaxDefaultWeights = 1000;

using namespace detail;  // Source, Field, Table, apply_override (toml_table.hpp)

// ---------------------------------------------------------------------------------------------
// Composite values

// ---- distributions: a registry of forms, each with its own keys ------------------------------

struct DistributionKind {
  std::string_view name;
  std::string_view keys;
  std::string_view meaning;
  // Reads the keys (all quantities share `dim`, as in Field::quantity).
  Distribution (*read)(Table& t, std::optional<Dimension>& dim);
};

const Registry<Choice<Distribution::Over>>& ramp_indices() {
  static const Registry<Choice<Distribution::Over>> r(
      "ramp index",
      {{"target", Distribution::Over::kTarget,
        "a synapse's target neuron within its slice (the default)"},
       {"source", Distribution::Over::kSource, "a synapse's source neuron within its slice"}});
  return r;
}

const Registry<DistributionKind>& distributions() {
  static const Registry<DistributionKind> r(
      "distribution",
      {{"constant", "`value`", "the same value everywhere (a bare quantity says the same)",
        [](Table& t, std::optional<Dimension>& dim) {
          return Distribution::constant(t.need("value").quantity(dim));
        }},
       {"uniform", "`low`, `high` (>= low)", "uniform on [low, high]",
        [](Table& t, std::optional<Dimension>& dim) {
          const double low = t.need("low").quantity(dim);
          const Field high_field = t.need("high");
          const double high = high_field.quantity(dim);
          if (!(high >= low)) high_field.fail("must be >= low");
          return Distribution::uniform(low, high);
        }},
       {"normal", "`mean`, `std` (>= 0)", "Gaussian",
        [](Table& t, std::optional<Dimension>& dim) {
          const double mean = t.need("mean").quantity(dim);
          return Distribution::normal(mean, t.need("std").quantity(dim, Bound::kNonNegative));
        }},
       {"lognormal", "`median` (> 0), `sigma` (plain number >= 0)",
        "exp(N(ln(median), sigma^2)), the median in SI units",
        [](Table& t, std::optional<Dimension>& dim) {
          const double median = t.need("median").quantity(dim, Bound::kPositive);
          const Field sigma_field = t.need("sigma");
          const double sigma = sigma_field.number();
          if (!(sigma >= 0.0)) sigma_field.fail(fmt::format("must be >= 0, got {}", sigma));
          return Distribution::lognormal(std::log(median), sigma);
        }},
       {"ramp", "`from`, `to`, `over` (`target` or `source`, default `target`)",
        "not random: linear in an index, `from` at index 0 and `to` at the last (for a "
        "projection the synapse's target or source neuron within its slice, for an initial "
        "value the neuron)",
        [](Table& t, std::optional<Dimension>& dim) {
          const double from = t.need("from").quantity(dim);
          const double to = t.need("to").quantity(dim);
          Distribution::Over over = Distribution::Over::kTarget;
          if (const auto o = t.get("over")) over = choose(*o, ramp_indices());
          return Distribution::ramp(from, to, over);
        }}});
  return r;
}

// A quantity string (constant) or a distribution table. `dim` as in Field::quantity: all
// quantities of the distribution share one dimension.
// The namespace of equations: `constants = { taum = "10 ms", n = 3 }`.
std::vector<std::pair<std::string, Quantity>> read_constants(const Field& f) {
  std::vector<std::pair<std::string, Quantity>> out;
  Table c = f.table();
  for (auto& [key, field] : c.entries()) {
    if (field.node().is_string()) {
      try {
        out.emplace_back(key, parse_quantity(field.string()));
      } catch (const UnitError& e) {
        field.fail(e.what());
      }
    } else {
      out.emplace_back(key, Quantity{field.number(), Dimension::none()});
    }
  }
  c.finish();
  return out;
}

// "single", "double" or, where `mixed` is allowed, "mixed" (stored in float, computed in double).
std::string read_precision(const Field& f, bool mixed) {
  const std::string p = f.string();
  if (p != "single" && p != "double" && !(mixed && p == "mixed"))
    f.fail(fmt::format("unknown precision '{}' (expected single, double{})", p, mixed ? " or mixed" : ""));
  return p;
}

Distribution distribution(const Field& f, std::optional<Dimension>& dim) {
  if (!f.node().is_table()) return Distribution::constant(f.quantity(dim));
  Table t = f.table();
  Distribution d = lookup(t.need("dist"), distributions()).read(t, dim);
  const auto min = t.get("min");
  const auto max = t.get("max");
  if (min) d.min = min->quantity(dim);
  if (max) d.max = max->quantity(dim);
  if (min && max && !(d.max >= d.min)) max->fail("must be >= min");
  t.finish();
  return d;
}

Distribution distribution(const Field& f, Dimension dim) {
  std::optional<Dimension> d = dim;
  return distribution(f, d);
}

// "P", "P[a:b]", "P[a:]", "P[:b]": a population name and a Python-style half-open slice.
struct PopulationRef {
  std::string name;
  Slice slice;
  bool sliced = false;
};

std::size_t slice_bound(const Field& f, std::string_view text, std::string_view what) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      }))
    f.fail(fmt::format("bad slice '{}': {} '{}' must be a non-negative integer", f.string(), what,
                       text));
  if (text.size() > 10 ||
      std::stoull(std::string(text)) > static_cast<unsigned long long>(kMaxIndex))
    f.fail(fmt::format("bad slice '{}': {} {} is too large", f.string(), what, text));
  return static_cast<std::size_t>(std::stoull(std::string(text)));
}

PopulationRef parse_population_ref(const Field& f) {
  const std::string text = f.string();
  PopulationRef ref;
  const auto open = text.find('[');
  ref.name = text.substr(0, open);
  if (!is_identifier(ref.name))
    f.fail(
        fmt::format("'{}' is not a population name (letters, digits, '_'), optionally sliced "
                    "as \"P[start:stop]\"",
                    text));
  if (open == std::string::npos) return ref;
  const auto colon = text.find(':', open);
  if (text.back() != ']' || colon == std::string::npos ||
      text.find(':', colon + 1) != std::string::npos)
    f.fail(
        fmt::format("bad slice '{}': expected \"{}[start:stop]\", \"{}[start:]\" or \"{}[:stop]\"",
                    text, ref.name, ref.name, ref.name));
  const std::string_view inner(text.data() + open + 1, text.size() - open - 2);
  const std::string_view start_text = inner.substr(0, colon - open - 1);
  const std::string_view stop_text = inner.substr(colon - open);
  ref.sliced = true;
  ref.slice.start = start_text.empty() ? 0 : slice_bound(f, start_text, "start");
  if (!stop_text.empty()) {
    const std::size_t stop = slice_bound(f, stop_text, "stop");
    if (stop <= ref.slice.start)
      f.fail(fmt::format("bad slice '{}': stop {} must be greater than start {}", text, stop,
                         ref.slice.start));
    ref.slice.count = stop - ref.slice.start;
  }
  return ref;
}

// ---- connection rules ------------------------------------------------------------------------

struct ConnectorKind {
  std::string_view name;
  std::string_view keys;
  std::string_view meaning;
  Connector (*read)(Table& t);
};

bool allow_self(Table& t) {
  const auto a = t.get("allow_self");
  return a ? a->boolean() : true;
}
std::uint32_t degree(Table& t) {
  return static_cast<std::uint32_t>(t.need("k").integer(0, kMaxIndex));
}

const Registry<ConnectorKind>& connectors() {
  static const Registry<ConnectorKind> r(
      "connection rule",
      {{"all_to_all", "`allow_self` (default true)", "every source to every target",
        [](Table& t) -> Connector { return AllToAll{allow_self(t)}; }},
       {"one_to_one", "none", "source i to target i; the slices must have equal sizes",
        [](Table&) -> Connector { return OneToOne{}; }},
       {"fixed_probability", "`p` (number in [0, 1], required), `allow_self`",
        "each pair independently with probability p",
        [](Table& t) -> Connector {
          const double p = t.need("p").probability();
          return FixedProbability{p, allow_self(t)};
        }},
       {"fixed_indegree", "`k` (integer >= 0, required), `allow_self`",
        "each target gets exactly k distinct random sources",
        [](Table& t) -> Connector {
          const std::uint32_t k = degree(t);
          return FixedInDegree{k, allow_self(t)};
        }},
       {"fixed_outdegree", "`k` (integer >= 0, required), `allow_self`",
        "each source contacts exactly k distinct random targets",
        [](Table& t) -> Connector {
          const std::uint32_t k = degree(t);
          return FixedOutDegree{k, allow_self(t)};
        }},
       {"list", "`pairs = [[pre, post], ...]` or `file` (rows `pre post`)",
        "exactly the given pairs, indices relative to the slices", [](Table& t) -> Connector {
          const auto pairs = t.get("pairs");
          const auto file = t.get("file");
          ExplicitList list;
          if (pairs && file) {
            file->fail("give either 'pairs' or 'file', not both");
          } else if (file) {
            try {
              list.pairs = read_pairs(file->path());
            } catch (const IoError& e) {
              file->fail(e.what());
            }
          } else {
            for (const Field& pair : t.need("pairs").elements()) {
              const std::vector<Field> ends = pair.elements();
              if (ends.size() != 2)
                pair.fail(fmt::format("expected [pre, post], got {} numbers", ends.size()));
              list.pairs.emplace_back(static_cast<std::uint32_t>(ends[0].integer(0, kMaxIndex)),
                                      static_cast<std::uint32_t>(ends[1].integer(0, kMaxIndex)));
            }
          }
          return list;
        }}});
  return r;
}

Connector read_connector(const Field& f) {
  Table t = f.table();
  Connector c = lookup(t.need("rule"), connectors()).read(t);
  t.finish();
  return c;
}

// ---- plasticity -------------------------------------------------------------------------------

const Registry<Choice<StdpRule>>& plasticity_rules() {
  static const Registry<Choice<StdpRule>> r(
      "plasticity rule",
      {{"stdp", StdpRule::kPair,
        "pair-based STDP through exponential traces (Song, Miller & Abbott 2000)"},
       {"triplet", StdpRule::kTriplet, "triplet STDP (Pfister & Gerstner 2006)"},
       {"oja", StdpRule::kOja, "rate-based Hebbian rule with normalisation (Oja 1982)"},
       {"bcm", StdpRule::kBcm,
        "rate-based rule with a sliding threshold (Bienenstock, Cooper & Munro 1982)"}});
  return r;
}

const Registry<Choice<WeightDependence>>& weight_dependences() {
  static const Registry<Choice<WeightDependence>> r(
      "weight dependence",
      {{"additive", WeightDependence::kAdditive, "changes independent of w; hard bounds"},
       {"multiplicative", WeightDependence::kMultiplicative,
        "soft bounds: potentiation x (w_max - w), depression x (w - w_min), normalised"}});
  return r;
}

const Registry<Choice<StdpPairing>>& pairings() {
  static const Registry<Choice<StdpPairing>> r(
      "pairing", {{"all_to_all", StdpPairing::kAllToAll, "a spike adds 1 to its neuron's traces"},
                  {"nearest", StdpPairing::kNearest,
                   "a spike sets its neuron's traces to 1 (symmetric nearest neighbour)"}});
  return r;
}

const Registry<Choice<GrowthCurveKind>>& growth_curves() {
  static const Registry<Choice<GrowthCurveKind>> r(
      "growth curve",
      {{"gaussian", GrowthCurveKind::kGaussian,
        "dz/dt = growth_rate (2 exp(-((Ca - xi) / zeta)^2) - 1), zero at `eta` and `eps`, "
        "growing between them"},
       {"linear", GrowthCurveKind::kLinear, "dz/dt = growth_rate (1 - Ca / eps)"},
       {"sigmoid", GrowthCurveKind::kSigmoid,
        "dz/dt = growth_rate (2 / (1 + exp((Ca - eps) / psi)) - 1)"}});
  return r;
}

struct TripletPreset {
  std::string_view name;
  std::string_view meaning;
  StdpParams (*make)(double w_ref);
};

const Registry<TripletPreset>& triplet_presets() {
  static const Registry<TripletPreset> r(
      "preset", {{"pfister2006_visual_cortex",
                  "Pfister & Gerstner 2006, Table 4, visual cortex, all-to-all; amplitudes "
                  "relative to `w_ref`",
                  &pfister2006_visual_cortex}});
  return r;
}

// ---------------------------------------------------------------------------------------------
// Building the network

struct SimulationSettings {
  double dt = 1e-4;
  double duration = 1.0;
  std::uint64_t seed = 1;
  int threads = 1;
};

SimulationSettings read_simulation(const std::optional<Field>& field) {
  SimulationSettings s;
  if (!field) return s;
  Table t = field->table();
  t.read("dt", s.dt, Dimension::seconds(), Bound::kPositive);
  t.read("duration", s.duration, Dimension::seconds(), Bound::kNonNegative);
  if (auto f = t.get("seed")) s.seed = static_cast<std::uint64_t>(f->integer(0));
  if (auto f = t.get("threads")) s.threads = static_cast<int>(f->integer(1, 4096));
  t.finish();
  return s;
}

class ModelBuilder {
 public:
  ModelBuilder(const Source& src, Network& net) : src_(src), net_(net) {}

  void add_population(const std::string& name, Table t);
  void add_projection(const std::string& name, Table t);
  void add_input(const std::string& name, Table t);
  void add_monitor(const std::string& name, Table t);
  void add_modulator(const std::string& name, Table t);
  void add_reward(const std::string& name, Table t);
  void add_structural_plasticity(Table t);
  // [[events]] and [neuron_rules.NAME] (neuron_changes.hpp), once the rest is built.
  void add_events(const Field& events, double duration);
  void add_neuron_rule(const std::string& name, Table t);

  // One per registered projection, input, monitor and reward type (see input_types() etc.).
  void add_chemical_projection(const std::string& name, Table& t);
  void add_gap_junctions(const std::string& name, Table& t);
  void add_poisson_input(const std::string& name, Table& t);
  void add_current_input(const std::string& name, Table& t);
  void add_spike_monitor(const std::string& name, Table& t);
  void add_state_monitor(const std::string& name, Table& t);
  void add_rate_monitor(const std::string& name, Table& t);
  void add_weight_monitor(const std::string& name, Table& t);
  void add_pairing_reward(const std::string& name, Table& t);

 private:
  // The parts of a population table, read as the model's registry entry declares them.
  void read_initial(Table& t, const NeuronModel& m, PopulationSpec& spec);
  void read_channels(Table& t, const NeuronModel& m, PopulationSpec& spec);
  void read_poisson(Table& t, const NeuronModel& m, PopulationSpec& spec);
  // The spikes of a spike generator; returns the population size.
  std::size_t read_spike_list(Table& t, PopulationSpec& spec);
  StdpParams read_stdp(const Field& f, Dimension weight_dim);
  SynapseTable read_synapse_field(const Field& f);
  void read_population_params(Table& t, const NeuronModel& m, std::size_t size, PopulationSpec& spec);
  void read_equations(Table& t, PopulationSpec& spec);
  // Synapses written as equations (`model`, `on_pre`, `on_post`); returns false when the
  // projection has none of these keys.
  bool read_synapse_equations(Table& t, ProjectionSpec& spec);
  // The synapse variable w of the equations just read; fails `f` when there is none.
  const eq::Variable* synapse_w(const Field& f) const;
  StdpParams read_hebbian(Table& t, StdpRule rule, Dimension weight_dim);
  TimeSeries read_series(Table& t, const std::string& target, Dimension& dim);
  // The optional `connect` table of a growth: {PROJECTION = {rule = ..., ...}, ...}.
  std::vector<GrowthConnection> read_growth_connections(Table& t);

  // A reference to an existing population, with its slice checked against the size.
  PopulationRef population_ref(const Field& f) const;
  eq::SynapseModel synapse_model_;  // of the projection being read
  // The optional 'channel' key (default "exc"), checked against the target population.
  std::string channel(Table& t, const std::string& population) const;
  // Checks that a weight of dimension `dim` can enter `channel` of `population`.
  void check_weight(const Field& weight, const std::string& population, const std::string& channel,
                    Dimension dim) const;
  // A firing rate: a frequency >= 0 with rate * dt <= 1.
  double rate(const Field& f) const;
  // A time that must be a whole number (>= 1) of steps of dt.
  std::uint32_t steps(const Field& f) const;

  // Runs a library call, turning its ParameterError into a ConfigError at the table.
  template <class F>
  static void guarded(const Table& t, F&& f) {
    try {
      f();
    } catch (const ParameterError& e) {
      t.fail(e.what());
    }
  }

  const Source& src_;
  Network& net_;
};

// ---- input, monitor and reward types ----------------------------------------------------------

// A kind of table selected by its `type` key, read by a member of ModelBuilder.
struct TypedTable {
  std::string_view name;
  std::string_view keys;
  std::string_view meaning;
  void (ModelBuilder::*add)(const std::string& name, Table& t);
};

const Registry<TypedTable>& input_types() {
  static const Registry<TypedTable> r(
      "input type",
      {{"poisson_input",
        "`target`, `channel` (default `exc`), `n` (integer >= 1), `rate`, `weight`",
        "n independent Poisson sources per target neuron, each event adding `weight` (Brian2's "
        "PoissonInput)",
        &ModelBuilder::add_poisson_input},
       {"current", "`target`; `amplitude`, or `values` with `times` or `dt`; `noise`",
        "injected current (or voltage drive): constant, step function or timed array, plus "
        "optional noise per neuron and step",
        &ModelBuilder::add_current_input}});
  return r;
}

const Registry<TypedTable>& monitor_types() {
  static const Registry<TypedTable> r(
      "monitor type",
      {{"spikes", "`population` (may be sliced)", "time and index of every spike",
        &ModelBuilder::add_spike_monitor},
       {"state", "`population`, `variables`, `indices`, `every`",
        "variables of chosen neurons every `every`", &ModelBuilder::add_state_monitor},
       {"rate", "`population` (whole), `bin`", "population rate (spikes / neurons / bin) per bin",
        &ModelBuilder::add_rate_monitor},
       {"weights", "`projection`, `synapses`, `every`",
        "weights of chosen synapses and the mean of all, every `every`, after plasticity",
        &ModelBuilder::add_weight_monitor}});
  return r;
}

// The first entry is the default when a projection has no `type`.
const Registry<TypedTable>& projection_types() {
  static const Registry<TypedTable> r(
      "projection type",
      {{"chemical",
        "`source`, `target`, `channel`, `connect` and `weight` (or `synapses`), `delay`, "
        "`plasticity`; or, instead of `channel` and `plasticity`, synapses written as equations: "
        "`model`, `on_pre`, `on_post`, `constants`, `initial`, `precision`",
        "synapses that carry spikes after a delay into a channel of the target (the default), or "
        "run Brian2-style synapse code (docs/equations.md)",
        &ModelBuilder::add_chemical_projection},
       {"gap_junction", "`source`, `target` (slices of one population), `connect`, `weight`",
        "electrical synapses: a symmetric conductance `weight` (siemens) per junction, current "
        "g (v_j - v_i) into both neurons within the step",
        &ModelBuilder::add_gap_junctions}});
  return r;
}

const Registry<TypedTable>& reward_types() {
  static const Registry<TypedTable> r(
      "reward type",
      {{"pairing",
        "`modulator`, `projection`, `pre`, `synapse`, `weight`, `window`, `delay_min`, "
        "`delay_max`, `amount`, `record_every`",
        "releases `amount` of a modulator, after a random delay, whenever one chosen synapse's "
        "post neuron fires within `window` after its pre neuron (Izhikevich 2007)",
        &ModelBuilder::add_pairing_reward}});
  return r;
}

void ModelBuilder::add_input(const std::string& name, Table t) {
  (this->*lookup(t.need("type"), input_types()).add)(name, t);
}

void ModelBuilder::add_monitor(const std::string& name, Table t) {
  (this->*lookup(t.need("type"), monitor_types()).add)(name, t);
}

void ModelBuilder::add_reward(const std::string& name, Table t) {
  (this->*lookup(t.need("type"), reward_types()).add)(name, t);
}

// ---- populations ------------------------------------------------------------------------------

void ModelBuilder::read_initial(Table& t, const NeuronModel& m, PopulationSpec& spec) {
  if (m.states.empty()) return;
  if (auto f = t.get("v_init")) spec.initial.emplace_back("v", distribution(*f, m.states[0].dim));
  auto state_of = [&](const Field& f, std::string_view name) -> const StateInfo& {
    for (std::size_t k = 1; k < m.states.size(); ++k)
      if (m.states[k].name == name) return m.states[k];
    std::string others;
    for (std::size_t k = 1; k < m.states.size(); ++k)
      others += fmt::format("{}'{}'", others.empty() ? "" : ", ", m.states[k].name);
    f.fail(fmt::format("'{}' is not a state of {} besides v (expected one of {})", name, m.name,
                       others.empty() ? "none" : others));
  };
  if (m.ode) {
    // ODE models: the other states in one table, initial = { m = 0, h = 1 }.
    if (auto f = t.get("initial")) {
      Table states = f->table();
      for (auto& [key, field] : states.entries())
        spec.initial.emplace_back(key, distribution(field, state_of(field, key).dim));
      states.finish();
    }
  } else {
    for (std::size_t k = 1; k < m.states.size(); ++k)
      if (auto f = t.get(fmt::format("{}_init", m.states[k].name)))
        spec.initial.emplace_back(std::string(m.states[k].name), distribution(*f, m.states[k].dim));
  }
}

// Given channels replace the model's default list.
void ModelBuilder::read_channels(Table& pop, const NeuronModel& m, PopulationSpec& spec) {
  if (m.channel_style == ChannelStyle::kNone || m.channel_style == ChannelStyle::kFixed) return;
  auto field = pop.get("channels");
  if (!field) return;
  Table channels = field->table();
  auto entries = channels.entries();
  if (entries.empty()) field->fail("needs at least one channel, e.g. [populations.P.channels.exc]");
  std::vector<ChannelSpec> out;
  for (auto& [name, f] : entries) {
    if (!is_identifier(name)) f.fail("channel names may contain only letters, digits and '_'");
    Table c = f.table();
    ChannelSpec ch;
    ch.name = name;
    switch (m.channel_style) {
      case ChannelStyle::kVoltage:  // "0 ms" makes an instantaneous (delta) channel
        ch.tau = c.need("tau").quantity(Dimension::seconds(), Bound::kNonNegative);
        if (auto shape = c.get("shape")) {
          const std::string v = shape->string();
          if (v != "exponential" && v != "alpha")
            shape->fail(fmt::format("must be \"exponential\" or \"alpha\", got \"{}\"", v));
          ch.alpha = v == "alpha";
        }
        break;
      case ChannelStyle::kConductance:
        ch.tau = c.need("tau").quantity(Dimension::seconds(), Bound::kPositive);
        ch.e_rev = c.need("e_rev").quantity(Dimension::volts());
        break;
      case ChannelStyle::kOde:
        ch.tau = c.need("tau").quantity(Dimension::seconds(), Bound::kPositive);
        if (auto e = c.get("e_rev")) ch.e_rev = e->quantity(Dimension::volts());
        if (auto g = c.get("init"))
          ch.init = distribution(*g, ch.e_rev ? Dimension::siemens() : Dimension::amperes());
        break;
      case ChannelStyle::kNone:
      case ChannelStyle::kFixed:
      case ChannelStyle::kStates:
        break;
    }
    c.finish();
    out.push_back(std::move(ch));
  }
  spec.channels = std::move(out);
}

// A constant (optionally modulated) rate, or a rate series with rate_dt.
void ModelBuilder::read_poisson(Table& t, const NeuronModel& m, PopulationSpec& spec) {
  auto info = [&](std::string_view key) -> const ParamInfo& {
    for (const auto& p : m.params)
      if (p.key == key) return p;
    throw std::logic_error(fmt::format("poisson declares no parameter '{}'", key));
  };
  const auto rate = t.get("rate");
  const auto rates = t.get("rates");
  const auto rate_dt = t.get("rate_dt");
  if (rate && rates) rates->fail("give either 'rate' or 'rates', not both");
  const auto modulation = t.get("modulation");
  if (modulation && !rate) modulation->fail("needs a constant 'rate' (the peak rate)");
  if (rate) {
    if (rate_dt) rate_dt->fail("is only used with 'rates'");
    spec.params.emplace_back("rate", this->rate(*rate));
    if (modulation) {
      Table mt = modulation->table();
      mt.need("frequency");
      // The phase is written in degrees.
      if (const auto ph = mt.get("phase_deg"))
        spec.params.emplace_back("modulation.phase", ph->number() * std::numbers::pi / 180.0);
      for (const auto& p : m.params) {
        constexpr std::string_view kPrefix = "modulation.";
        if (!p.key.starts_with(kPrefix) || p.key == "modulation.phase") continue;
        if (const auto f = mt.get(p.key.substr(kPrefix.size()))) {
          const double x = read_param(*f, p);
          if (p.key == "modulation.frequency" && !(x > 0.0))
            f->fail(fmt::format("must be > 0, got {}", x));
          spec.params.emplace_back(std::string(p.key), x);
        }
      }
      mt.finish();
    }
  } else if (rates) {
    for (const Field& r : rates->elements()) spec.rates.push_back(this->rate(r));
    if (spec.rates.empty()) rates->fail("is empty");
    if (!rate_dt) t.missing("rate_dt", "needed with 'rates'");
    const double x = read_param(*rate_dt, info("rate_dt"));
    if (!(x > 0.0)) rate_dt->fail(fmt::format("must be > 0, got {}", x));
    spec.params.emplace_back("rate_dt", x);
  } else {
    t.missing("rate", "or give 'rates' and 'rate_dt'");
  }
}

// Inline `times` and `indices`, or a spike file; `size` defaults to the largest index + 1.
std::size_t ModelBuilder::read_spike_list(Table& t, PopulationSpec& spec) {
  const auto file = t.get("file");
  const auto time_unit = t.get("time_unit");
  const auto times = t.get("times");
  const auto indices = t.get("indices");
  const auto size = t.get("size");
  const auto population = t.get("population");
  std::vector<SpikeEvent> events;
  const bool hdf5_file =
      file && (file->string().ends_with(".h5") || file->string().ends_with(".hdf5"));
  if (population && !hdf5_file) population->fail("is only used with an HDF5 'file' (.h5)");
  if (hdf5_file) {
    // A population of a spikes.h5 (what `volley sim` writes, or `volley export` for its input).
    if (times || indices)
      (times ? times : indices)->fail("give either 'file' or 'times' and 'indices', not both");
    if (time_unit) time_unit->fail("is not used with an HDF5 file: its times are in seconds");
    if (!population) t.missing("population", "needed with an HDF5 'file': the group to read");
    const std::string name = population->string();
#ifdef VOLLEY_HAVE_HDF5
    try {
      const Recording rec = read_recording(file->path());
      const PopulationRecording* p = nullptr;
      for (const auto& x : rec.populations)
        if (x.name == name) p = &x;
      if (!p) population->fail(fmt::format("'{}' has no population '{}'", file->path(), name));
      events.reserve(p->times.size());
      for (std::size_t k = 0; k < p->times.size(); ++k) {
        if (!(p->times[k] >= 0.0))
          file->fail(fmt::format("{}: spike {} has the negative time {} s", name, k, p->times[k]));
        events.push_back({p->times[k], p->units[k]});
      }
    } catch (const IoError& e) {
      file->fail(e.what());
    }
#else
    file->fail("HDF5 spike files need a volley built with HDF5");
#endif
  } else if (file) {
    if (times || indices)
      (times ? times : indices)->fail("give either 'file' or 'times' and 'indices', not both");
    if (!time_unit) t.missing("time_unit", "needed with 'file', e.g. \"ms\"");
    const std::string unit = time_unit->string();
    double unit_s = 0.0;
    try {
      unit_s = parse_quantity("1 " + unit, Dimension::seconds());
    } catch (const UnitError& e) {
      time_unit->fail(fmt::format("'{}' is not a unit of time ({})", unit, e.what()));
    }
    try {
      events = read_spike_events(file->path(), unit_s);
    } catch (const IoError& e) {
      file->fail(e.what());
    }
  } else {
    if (time_unit) time_unit->fail("is only used with 'file'");
    const Field times_field = t.need("times");
    const Field indices_field = t.need("indices");
    const std::vector<double> ts =
        times_field.quantities(Dimension::seconds(), Bound::kNonNegative);
    const std::vector<Field> idx = indices_field.elements();
    if (idx.size() != ts.size())
      indices_field.fail(
          fmt::format("has {} entries but times has {}; they must have the same length", idx.size(),
                      ts.size()));
    for (std::size_t k = 0; k < ts.size(); ++k)
      events.push_back({ts[k], static_cast<std::uint32_t>(idx[k].integer(0, kMaxIndex - 1))});
  }
  std::size_t max_index = 0;
  for (const auto& e : events) max_index = std::max<std::size_t>(max_index, e.index);
  std::size_t n = max_index + 1;
  if (size) {
    n = static_cast<std::size_t>(size->integer(1, kMaxIndex));
    if (!events.empty() && max_index >= n)
      size->fail(fmt::format("is {} but the spikes use neuron index {}", n, max_index));
  } else if (events.empty()) {
    t.missing("size", "there are no spikes to infer it from");
  }
  spec.events = std::move(events);
  return n;
}

void ModelBuilder::add_population(const std::string& name, Table t) {
  if (!is_identifier(name)) t.fail("population names may contain only letters, digits and '_'");
  const NeuronModel& m = lookup(t.need("model"), neuron_models());
  PopulationSpec spec;
  const std::size_t size = m.source == SourceKind::kSpikeList
                               ? read_spike_list(t, spec)
                               : static_cast<std::size_t>(t.need("size").integer(1, kMaxIndex));
  if (m.presets.size() > 0)
    if (const auto f = t.get("preset")) spec.preset = lookup(*f, m.presets).name;
  if (m.channel_style == ChannelStyle::kStates) {
    read_equations(t, spec);
    t.finish();
    // The kernel is generated and compiled now, so that a compiler error is reported here and
    // the run's time does not include it.
    guarded(t, [&] { net_.add(m.make(name, spec), size).prepare(net_.dt()); });
    return;
  }
  if (m.source == SourceKind::kPoisson)
    read_poisson(t, m, spec);
  else
    read_population_params(t, m, size, spec);
  if (m.methods.size() > 0)
    if (const auto f = t.get("method")) spec.method = lookup(*f, m.methods).name;
  for (const auto& o : m.options)
    if (const auto f = t.get(o.key))
      spec.options.emplace_back(std::string(o.key), std::string(lookup(*f, o.choices).name));
  if (m.ode)
    if (const auto f = t.get("max_step"))
      spec.max_step = f->quantity(Dimension::seconds(), Bound::kPositive);
  read_initial(t, m, spec);
  read_channels(t, m, spec);
  t.finish();
  guarded(t, [&] { net_.add(m.make(name, spec), size); });
}

// model = "equations": the equations, threshold, reset, refractory period, method, precision,
// constants (Brian2's namespace) and the initial values of states and parameters.
void ModelBuilder::read_equations(Table& t, PopulationSpec& spec) {
  eq::ModelText text;
  const Field equations = t.need("equations");
  text.equations = equations.string();
  const auto threshold = t.get("threshold");
  if (threshold) text.threshold = threshold->string();
  const auto reset = t.get("reset");
  if (reset) text.reset = reset->string();
  // A time ("5 ms") or, as in Brian2, a condition ("v > -20*mV"): refractory while it holds.
  const auto refractory = t.get("refractory");
  if (refractory) {
    bool is_time = !refractory->node().is_string();
    if (!is_time) try {
        parse_quantity(refractory->string());
        is_time = true;
      } catch (const UnitError&) {
      }
    if (is_time)
      text.refractory = refractory->quantity(Dimension::seconds(), Bound::kNonNegative);
    else
      text.refractory_condition = refractory->string();
  }
  const auto max_step = t.get("max_step");
  if (max_step) text.max_step = max_step->quantity(Dimension::seconds());
  const auto method = t.get("method");
  if (method) text.method = method->string();
  if (const auto f = t.get("constants")) text.constants = read_constants(*f);
  if (const auto f = t.get("precision")) {
    const std::string p = read_precision(*f, true);
    text.single_precision = p != "double";
    text.double_arithmetic = p == "mixed";
  }
  if (const auto f = t.get("fast_math")) text.fast_math = f->boolean();
  std::shared_ptr<const eq::Model> model;
  try {
    model = std::make_shared<const eq::Model>(eq::parse_model(text));
  } catch (const ParameterError& e) {
    const std::string what = e.what();
    auto starts = [&](std::string_view p) { return what.rfind(p, 0) == 0; };
    if (starts("threshold") && threshold) threshold->fail(what);
    if (starts("reset") && reset) reset->fail(what);
    if (starts("method") && method) method->fail(what);
    if (starts("refractory") && refractory) refractory->fail(what);
    if (starts("max_step") && max_step) max_step->fail(what);
    equations.fail(what);
  }
  if (const auto f = t.get("initial")) {
    Table init = f->table();
    for (auto& [key, field] : init.entries()) {
      const eq::Variable* v = model->find(key);
      if (!v || v->kind == eq::VarKind::kSubexpression) {
        std::vector<std::string> known;
        for (const auto& x : model->variables)
          if (x.kind != eq::VarKind::kSubexpression) known.push_back(x.name);
        field.fail(fmt::format("'{}' is not a state variable or parameter of the equations (known: {})",
                               key, join(known)));
      }
      spec.initial.emplace_back(key, distribution(field, v->dim));
    }
    init.finish();
  }
  spec.equations = std::move(model);
}

bool ModelBuilder::read_synapse_equations(Table& t, ProjectionSpec& spec) {
  const auto model = t.get("model"), on_pre = t.get("on_pre"), on_post = t.get("on_post");
  if (!model && !on_pre && !on_post) return false;
  if (const auto f = t.get("channel"))
    f->fail("synapses written as equations act on the target through their statements (e.g. "
            "on_pre = \"ge += w\"); remove 'channel'");
  auto text = std::make_shared<eq::SynapseText>();
  if (model) text->model = model->string();
  if (on_pre) text->on_pre = on_pre->string();
  if (on_post) text->on_post = on_post->string();
  if (const auto f = t.get("constants")) text->constants = read_constants(*f);
  if (const auto f = t.get("precision")) text->single_precision = read_precision(*f, false) == "single";
  auto variables = [&](const std::string& population) {
    Population& p = net_.population(population);
    std::vector<eq::NeuronVariable> out;
    for (const auto& n : p.variable_names()) out.push_back({n, p.variable(n).dim});
    return out;
  };
  try {
    synapse_model_ = eq::parse_synapse_model(*text, variables(spec.source), variables(spec.target));
  } catch (const ParameterError& e) {
    const std::string what = e.what();
    auto starts = [&](std::string_view p) { return what.rfind(p, 0) == 0; };
    if (starts("on_pre") && on_pre) on_pre->fail(what);
    if (starts("on_post") && on_post) on_post->fail(what);
    if (model) model->fail(what);
    (on_pre ? *on_pre : *on_post).fail(what);
  }
  if (const auto f = t.get("initial")) {
    Table init = f->table();
    const eq::Model& m = synapse_model_.model;
    std::vector<std::string> known;
    for (std::size_t k : synapse_model_.synaptic)
      if (m.variables[k].name != "w") known.push_back(m.variables[k].name);
    for (auto& [key, field] : init.entries()) {
      const auto it = std::find_if(synapse_model_.synaptic.begin(), synapse_model_.synaptic.end(),
                                   [&](std::size_t k) { return m.variables[k].name == key; });
      if (key == "w")
        field.fail("w takes its values from the projection's 'weight'");
      if (it == synapse_model_.synaptic.end())
        field.fail(fmt::format("'{}' is not a variable of the synapse model (known: {})", key,
                               known.empty() ? "none" : join(known)));
      spec.synapse_initial.emplace_back(key, distribution(field, m.variables[*it].dim));
    }
    init.finish();
  }
  spec.synapse_equations = std::move(text);
  return true;
}

const eq::Variable* ModelBuilder::synapse_w(const Field& f) const {
  const eq::Model& m = synapse_model_.model;
  for (std::size_t k : synapse_model_.synaptic)
    if (m.variables[k].name == "w") return &m.variables[k];
  f.fail("the synapse model has no variable w to take these values (declare e.g. 'w : 1' in "
         "'model', or set its variables under 'initial')");
}

PopulationRef ModelBuilder::population_ref(const Field& f) const {
  PopulationRef ref = parse_population_ref(f);
  const Population* pop = nullptr;
  std::vector<std::string> known;
  for (const auto& p : net_.populations()) {
    known.push_back(p->name());
    if (p->name() == ref.name) pop = p.get();
  }
  if (!pop)
    f.fail(fmt::format("unknown population '{}' (known: {})", ref.name,
                       known.empty() ? "none" : join(known)));
  const std::size_t stop =
      ref.slice.count == Slice::npos ? pop->size() : ref.slice.start + ref.slice.count;
  if (ref.slice.start >= pop->size() || stop > pop->size())
    f.fail(fmt::format("slice [{}:{}) exceeds population '{}' of size {}", ref.slice.start, stop,
                       ref.name, pop->size()));
  return ref;
}

std::string ModelBuilder::channel(Table& t, const std::string& population) const {
  const auto f = t.get("channel");
  const std::string name = f ? f->string() : "exc";
  auto reject = [&](const std::string& what) {
    if (f) f->fail(what);
    fail_at(src_, t.node(), t.child("channel"), fmt::format("{} (the default is 'exc')", what));
  };
  const Population& pop = net_.population(population);
  if (pop.channels().empty())
    reject(fmt::format("population '{}' ({}) has no synaptic channels and cannot be a target",
                       pop.name(), pop.model()));
  try {
    pop.channel_index(name);
  } catch (const ParameterError& e) {
    reject(e.what());
  }
  return name;
}

void ModelBuilder::check_weight(const Field& weight, const std::string& population,
                                const std::string& channel, Dimension dim) const {
  const Population& pop = net_.population(population);
  try {
    pop.weight_factor(pop.channel_index(channel), dim);
  } catch (const ParameterError& e) {
    weight.fail(e.what());
  }
}

double ModelBuilder::rate(const Field& f) const {
  const double r = f.quantity(Dimension::hertz(), Bound::kNonNegative);
  if (r * net_.dt() > 1.0) f.fail(fmt::format("{} Hz exceeds 1/dt ({} Hz)", r, 1.0 / net_.dt()));
  return r;
}

std::uint32_t ModelBuilder::steps(const Field& f) const {
  const double t = f.quantity(Dimension::seconds(), Bound::kPositive);
  const double dt = net_.dt();
  const long long n = std::llround(t / dt);
  if (n < 1 || std::abs(static_cast<double>(n) * dt - t) > 1e-6 * t)
    f.fail(fmt::format("must be a whole multiple of dt ({} s), got {} s", dt, t));
  if (n > kMaxIndex) f.fail(fmt::format("is {} steps of dt, too many", n));
  return static_cast<std::uint32_t>(n);
}

// Rate-based Hebbian rules: rule = "oja" or "bcm" (see plasticity.hpp).
StdpParams ModelBuilder::read_hebbian(Table& t, StdpRule rule, Dimension weight_dim) {
  for (const char* key :
       {"a_plus", "a_minus", "tau_plus", "tau_minus", "pairing", "weight_dependence", "preset",
        "tau_x", "tau_y", "a2_plus", "a3_plus", "a2_minus", "a3_minus", "modulator", "tau_c"})
    if (const auto other = t.get(key))
      other->fail(fmt::format("is a key of the spike-timing rules, not rule = \"{}\"",
                              plasticity_rules().name_of(rule)));
  StdpParams s;
  s.rule = rule;
  s.eta = t.need("eta").quantity(Dimension::hertz(), Bound::kPositive);
  s.w_ref = t.need("w_ref").quantity(weight_dim, Bound::kPositive);
  t.read("tau_rate", s.tau_rate, Dimension::seconds(), Bound::kPositive);
  t.read("rate_ref", s.rate_ref, Dimension::hertz(), Bound::kPositive);
  if (s.rule == StdpRule::kOja) {
    t.read("tau_mean", s.tau_mean, Dimension::seconds(), Bound::kNonNegative);
    for (const char* key : {"tau_theta", "y0"})
      if (const auto other = t.get(key)) other->fail("is a key of rule = \"bcm\"");
  } else {
    t.read("tau_theta", s.tau_theta, Dimension::seconds(), Bound::kPositive);
    t.read("y0", s.y0, Dimension::hertz(), Bound::kPositive);
    if (const auto other = t.get("tau_mean")) other->fail("is a key of rule = \"oja\"");
  }
  if (const auto f = t.get("update_interval"))
    s.update_interval = static_cast<double>(steps(*f)) * net_.dt();
  const auto w_min = t.get("w_min");
  if (w_min) s.w_min = w_min->quantity(weight_dim);
  const Field w_max = t.need("w_max");
  s.w_max = w_max.quantity(weight_dim);
  if (!(s.w_max >= s.w_min)) w_max.fail("must be >= w_min");
  t.finish();
  return s;
}

// The plasticity table: rule = "stdp" (pair) or "triplet", with weight dependence, pairing and,
// for the triplet rule, an optional published parameter set (preset) whose values the other keys
// may override. Keys of the other rule are rejected with a pointer to the right one.
StdpParams ModelBuilder::read_stdp(const Field& f, Dimension weight_dim) {
  Table t = f.table();
  const StdpRule rule = choose(t.need("rule"), plasticity_rules());
  if (rule == StdpRule::kOja || rule == StdpRule::kBcm) return read_hebbian(t, rule, weight_dim);
  for (const char* key : {"eta", "tau_rate", "rate_ref", "tau_mean", "tau_theta", "y0"})
    if (const auto other = t.get(key))
      other->fail("is a key of the rate-based rules (rule = \"oja\" or \"bcm\")");
  const bool triplet = rule == StdpRule::kTriplet;
  static constexpr const char* kTripletOnly[] = {"preset",  "w_ref",   "tau_x",    "tau_y",
                                                 "a2_plus", "a3_plus", "a2_minus", "a3_minus"};
  if (!triplet) {
    for (const char* key : kTripletOnly)
      if (const auto other = t.get(key))
        other->fail("is a key of rule = \"triplet\", not \"stdp\"");
  } else {
    static constexpr std::pair<const char*, const char*> kRenamed[] = {{"a_plus", "a2_plus"},
                                                                       {"a_minus", "a2_minus"}};
    for (const auto& [key, name] : kRenamed)
      if (const auto other = t.get(key))
        other->fail(fmt::format("rule = \"triplet\" calls this amplitude '{}'", name));
  }

  StdpParams s;
  std::string preset_name;
  if (triplet) {
    s.rule = StdpRule::kTriplet;
    const auto preset = t.get("preset");
    const auto w_ref = t.get("w_ref");
    if (preset) {
      const TripletPreset& chosen = lookup(*preset, triplet_presets());
      preset_name = chosen.name;
      if (!w_ref)
        t.missing("w_ref",
                  "the weight the preset's relative amplitudes refer to, usually the initial "
                  "weight, e.g. \"0.5 mV\"");
      s = chosen.make(w_ref->quantity(weight_dim, Bound::kPositive));
    } else if (w_ref) {
      w_ref->fail("is only used with 'preset'");
    }
  }

  if (const auto dep = t.get("weight_dependence")) {
    s.weight_dependence = choose(*dep, weight_dependences());
    const std::string_view v = weight_dependences().name_of(s.weight_dependence);
    if (!preset_name.empty() && s.weight_dependence != WeightDependence::kAdditive)
      dep->fail(
          fmt::format("preset '{}' is fitted with additive weights; drop the preset to use "
                      "'{}'",
                      preset_name, v));
  }
  if (const auto pairing = t.get("pairing")) {
    s.pairing = choose(*pairing, pairings());
    const std::string_view v = pairings().name_of(s.pairing);
    if (!preset_name.empty() && s.pairing != StdpPairing::kAllToAll)
      pairing->fail(
          fmt::format("preset '{}' is fitted with all_to_all pairing; drop the preset "
                      "to use '{}'",
                      preset_name, v));
  }

  const bool have_preset = !preset_name.empty();
  // A time or amplitude: optional (keeping the preset's or the default value) or required.
  auto time = [&](const char* key, double& out, bool required) {
    if (required)
      out = t.need(key).quantity(Dimension::seconds(), Bound::kPositive);
    else
      t.read(key, out, Dimension::seconds(), Bound::kPositive);
  };
  auto amplitude = [&](const char* key, double& out, bool required) {
    if (required)
      out = t.need(key).quantity(weight_dim, Bound::kNonNegative);
    else
      t.read(key, out, weight_dim, Bound::kNonNegative);
  };
  time("tau_plus", s.tau_plus, false);
  time("tau_minus", s.tau_minus, false);
  if (triplet) {
    time("tau_x", s.tau_x, !have_preset);
    time("tau_y", s.tau_y, !have_preset);
    amplitude("a2_plus", s.a_plus, !have_preset);
    amplitude("a3_plus", s.a3_plus, !have_preset);
    amplitude("a2_minus", s.a_minus, !have_preset);
    amplitude("a3_minus", s.a3_minus, !have_preset);
  } else {
    amplitude("a_plus", s.a_plus, true);
    amplitude("a_minus", s.a_minus, true);
  }

  if (const auto mod = t.get("modulator")) {
    s.modulator = mod->string();
    if (s.modulator.empty()) mod->fail("must name a modulator, e.g. \"dopamine\"");
    time("tau_c", s.tau_c, false);
    if (const auto f = t.get("update_interval"))
      s.update_interval = static_cast<double>(steps(*f)) * net_.dt();
  } else {
    for (const char* key : {"tau_c", "update_interval"})
      if (const auto other = t.get(key))
        other->fail("is a key of reward-modulated STDP; add 'modulator' to use it");
  }

  const auto w_min = t.get("w_min");
  if (w_min) s.w_min = w_min->quantity(weight_dim);
  const auto w_max = have_preset ? t.get("w_max") : std::optional<Field>(t.need("w_max"));
  if (w_max) s.w_max = w_max->quantity(weight_dim);
  // When the bounds clash one of them was given (the preset's own bounds are 0 < w_max).
  auto bad_bounds = [&](std::string_view extra) {
    if (w_max) w_max->fail(fmt::format("must be {} w_min{}", extra.empty() ? ">=" : ">", extra));
    w_min->fail(fmt::format("must be {} w_max{}", extra.empty() ? "<=" : "<", extra));
  };
  if (!(s.w_max >= s.w_min)) bad_bounds("");
  if (s.weight_dependence == WeightDependence::kMultiplicative && !(s.w_max > s.w_min))
    bad_bounds(" for weight_dependence = \"multiplicative\"");
  t.finish();
  return s;
}

// [projections.NAME] with type = "gap_junction": electrical synapses within one population.
void ModelBuilder::add_gap_junctions(const std::string& name, Table& t) {
  GapJunctionSpec spec;
  spec.name = name;
  const Field source_field = t.need("source");
  const PopulationRef source = population_ref(source_field);
  const PopulationRef target = population_ref(t.need("target"));
  if (source.name != target.name)
    source_field.fail(fmt::format(
        "gap junctions join neurons of one population; '{}' and '{}' differ (put both groups in "
        "one population and use slices, e.g. source = \"{}[0:100]\")",
        source.name, target.name, source.name));
  spec.population = source.name;
  spec.source_slice = source.slice;
  spec.target_slice = target.slice;
  spec.connector = read_connector(t.need("connect"));
  const Field weight = t.need("weight");
  if (!weight.node().is_string() && !weight.node().is_number())
    weight.fail("must be one conductance for every junction, e.g. \"0.1 mS\"");
  spec.g = weight.quantity(Dimension::siemens(), Bound::kNonNegative);
  for (const char* key : {"channel", "delay", "plasticity", "synapses"})
    if (const auto f = t.get(key))
      f->fail(fmt::format("gap junctions have no '{}' (they couple membrane potentials within the "
                          "step)", key));
  t.finish();
  guarded(t, [&] { net_.add_gap_junctions(spec); });
}

void ModelBuilder::add_projection(const std::string& name, Table t) {
  const auto type = t.get("type");
  const TypedTable& kind = type ? lookup(*type, projection_types()) : projection_types().entries().front();
  (this->*kind.add)(name, t);
}

void ModelBuilder::add_chemical_projection(const std::string& name, Table& t) {
  ProjectionSpec spec;
  spec.name = name;
  const PopulationRef source = population_ref(t.need("source"));
  const PopulationRef target = population_ref(t.need("target"));
  spec.source = source.name;
  spec.source_slice = source.slice;
  spec.target = target.name;
  spec.target_slice = target.slice;
  const bool equations = read_synapse_equations(t, spec);
  if (!equations) spec.channel = channel(t, target.name);
  // Either a connection rule with a weight, or synapses with their own weights from a file.
  std::optional<SynapseTable> file_synapses;
  if (const auto syn = t.get("synapses"); syn && equations) {
    syn->fail("synapses written as equations are connected with 'connect' (a synapse file is not "
              "supported for them)");
  } else if (syn) {
    for (const char* key : {"connect", "weight"})
      if (const auto f = t.get(key))
        f->fail("give either 'synapses' (pairs and weights from a file) or 'connect' and "
                "'weight', not both");
    file_synapses = read_synapse_field(*syn);
    const SynapseTable& st = *file_synapses;
    ExplicitList list;
    list.pairs.reserve(st.pre.size());
    for (std::size_t k = 0; k < st.pre.size(); ++k) list.pairs.emplace_back(st.pre[k], st.post[k]);
    spec.connector = std::move(list);
    try {
      const Quantity unit = parse_quantity(st.unit.empty() ? "1" : "1 " + st.unit);
      spec.weight_dim = unit.dim;
    } catch (const UnitError& e) {
      syn->fail(fmt::format("the weight unit '{}' in the file: {}", st.unit, e.what()));
    }
    check_weight(*syn, spec.target, spec.channel, spec.weight_dim);
  } else {
    spec.connector = read_connector(t.need("connect"));
    std::optional<Dimension> weight_dim;
    if (equations) {
      // The initial values of the synapse variable w, when the model has one.
      if (const auto weight = t.get("weight")) {
        const eq::Variable* w = synapse_w(*weight);
        spec.weight = distribution(*weight, w->dim);
        spec.weight_dim = w->dim;
      }
    } else {
      const Field weight = t.need("weight");
      spec.weight = distribution(weight, weight_dim);
      spec.weight_dim = *weight_dim;
      check_weight(weight, spec.target, spec.channel, spec.weight_dim);
    }
  }
  spec.delay = Distribution::constant(net_.dt());
  if (auto f = t.get("delay")) {
    if (file_synapses && !file_synapses->delay.empty())
      f->fail("the synapse file gives every synapse its delay (dataset 'delay'); remove this key");
    spec.delay = distribution(*f, Dimension::seconds());
    if (spec.delay.is_constant() && !(spec.delay.a >= 0.0)) f->fail("must be >= 0");
  }
  if (file_synapses && !file_synapses->delay.empty()) {
    // In the projection's synapse order: sorted by (pre, post), as the weights below.
    const SynapseTable& st = *file_synapses;
    std::vector<std::size_t> order(st.pre.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return std::pair(st.pre[a], st.post[a]) < std::pair(st.pre[b], st.post[b]);
    });
    spec.synapse_delays.resize(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) spec.synapse_delays[k] = st.delay[order[k]];
  }
  if (auto f = t.get("plasticity")) {
    if (equations)
      f->fail("the synapse equations are the plasticity rule here; remove 'plasticity' or write "
              "the rule in 'model', 'on_pre' and 'on_post'");
    spec.stdp = read_stdp(*f, spec.weight_dim);
  }
  t.finish();
  guarded(t, [&] {
    Projection& proj = net_.connect(spec);
    if (!file_synapses) return;
    // The projection holds its synapses sorted by (pre, post); give each its weight.
    const SynapseTable& st = *file_synapses;
    const double to_si = parse_quantity(st.unit.empty() ? "1" : "1 " + st.unit).value;
    std::vector<std::size_t> order(st.pre.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return std::pair(st.pre[a], st.post[a]) < std::pair(st.pre[b], st.post[b]);
    });
    // Distributed, the projection holds only the synapses onto this process's targets: they
    // are the file's synapses onto them, in the same order.
    auto& w = proj.weights();
    std::size_t local = 0;
    for (std::size_t k = 0; k < order.size(); ++k) {
      if (!proj.owns_target(proj.post_begin() + st.post[order[k]])) continue;
      if (local >= w.size())
        throw ParameterError(fmt::format("{} synapses in the file, more than the projection's {}",
                                         order.size(), w.size()));
      w[local++] = static_cast<float>(static_cast<double>(st.weight[order[k]]) * to_si *
                                      proj.weight_factor());
    }
  });
}

// Scalar parameters, and for the keys the model allows, one value per neuron from an HDF5 file:
// `tau_mem = { file = "net.h5", dataset = "neurons/layer0.tau_mem" }` (the dataset's `unit`
// attribute gives the unit).
void ModelBuilder::read_population_params(Table& t, const NeuronModel& m, std::size_t size,
                                          PopulationSpec& spec) {
  for (const auto& info : m.params) {
    const auto f = t.get(info.key);
    if (!f) continue;
    if (!f->node().is_table()) {
      spec.params.emplace_back(std::string(info.key), read_param(*f, info));
      continue;
    }
    if (std::find(m.per_neuron.begin(), m.per_neuron.end(), info.key) == m.per_neuron.end())
      f->fail(fmt::format("model '{}' takes one value of {} for the whole population", m.name,
                          info.key));
    Table pt = f->table();
    const Field file = pt.need("file");
    const std::string dataset = pt.need("dataset").string();
    pt.finish();
#ifdef VOLLEY_HAVE_HDF5
    NeuronValues v;
    try {
      v = read_neuron_values(file.path(), dataset);
    } catch (const IoError& e) {
      file.fail(e.what());
    }
    if (v.values.size() != size)
      f->fail(fmt::format("{} values for a population of {} neurons", v.values.size(), size));
    double to_si = 1.0;
    try {
      const Quantity unit = parse_quantity(v.unit.empty() ? "1" : "1 " + v.unit);
      if (!(unit.dim == info.dim))
        f->fail(fmt::format("the values are in '{}', a {}, but {} is a {}", v.unit,
                            dimension_name(unit.dim), info.key, dimension_name(info.dim)));
      to_si = unit.value;
    } catch (const UnitError& e) {
      f->fail(fmt::format("the unit '{}' in the file: {}", v.unit, e.what()));
    }
    for (std::size_t i = 0; i < v.values.size(); ++i) {
      v.values[i] *= to_si;
      if (const std::string bad = info.check(v.values[i]); !bad.empty())
        f->fail(fmt::format("value {} ({}): {}", i, v.values[i], bad));
    }
    spec.per_neuron.emplace_back(std::string(info.key), std::move(v.values));
#else
    (void)size;
    (void)dataset;
    file.fail("per-neuron values are read from HDF5; this volley was built without HDF5");
#endif
  }
}

// `synapses = { file = "net.h5", group = "L0_in" }`: pairs and weights from an HDF5 synapse file.
SynapseTable ModelBuilder::read_synapse_field(const Field& f) {
  Table t = f.table();
  const Field file = t.need("file");
  const std::string group = t.need("group").string();
  t.finish();
#ifdef VOLLEY_HAVE_HDF5
  try {
    return read_synapses(file.path(), group);
  } catch (const IoError& e) {
    file.fail(e.what());
  }
#else
  (void)group;
  file.fail("synapse files are HDF5; this volley was built without HDF5 (VOLLEY_HDF5=OFF)");
#endif
  return {};
}

// The time series of a current input: amplitude, or values with times (steps) or dt (array).
TimeSeries ModelBuilder::read_series(Table& t, const std::string& target, Dimension& dim) {
  const auto amplitude = t.get("amplitude");
  const auto values = t.get("values");
  const auto times = t.get("times");
  const auto dt = t.get("dt");
  std::optional<Dimension> d;
  TimeSeries s;
  const Field* value_field = nullptr;
  if (amplitude) {
    if (values || times || dt)
      (values ? values : times ? times : dt)->fail("give either 'amplitude' or 'values', not both");
    s.kind = TimeSeries::Kind::kConstant;
    s.value = amplitude->quantity(d);
    value_field = &*amplitude;
  } else if (values) {
    s.values = values->quantities(d);
    value_field = &*values;
    if (s.values.empty()) values->fail("is empty");
    if (times && dt) dt->fail("give either 'times' (steps) or 'dt' (timed array), not both");
    if (times) {
      s.kind = TimeSeries::Kind::kSteps;
      s.times = times->quantities(Dimension::seconds(), Bound::kNonNegative);
      if (s.times.size() != s.values.size())
        values->fail(fmt::format("has {} entries but times has {}; they must have the same length",
                                 s.values.size(), s.times.size()));
    } else if (dt) {
      s.kind = TimeSeries::Kind::kArray;
      s.array_dt = dt->quantity(Dimension::seconds(), Bound::kPositive);
    } else {
      values->fail("needs 'times' (a step function) or 'dt' (a timed array)");
    }
  } else {
    if (times || dt) (times ? times : dt)->fail("needs 'values'");
    t.missing("amplitude", "or give 'values' with 'times' or 'dt'");
  }
  if (!(*d == Dimension::amperes() || *d == Dimension::volts()))
    value_field->fail(
        fmt::format("must be a current (e.g. \"0.5 nA\") or a voltage (e.g. \"1 mV\"), "
                    "got a {}",
                    dimension_name(*d)));
  dim = *d;
  try {
    net_.population(target).injection_factor(dim);
  } catch (const ParameterError& e) {
    value_field->fail(e.what());
  }
  return s;
}

void ModelBuilder::add_poisson_input(const std::string& name, Table& t) {
  {
    PoissonInputSpec spec;
    spec.name = name;
    const PopulationRef target = population_ref(t.need("target"));
    spec.target = target.name;
    spec.slice = target.slice;
    spec.channel = channel(t, target.name);
    spec.n = static_cast<std::uint32_t>(t.need("n").integer(1, kMaxIndex));
    spec.rate = rate(t.need("rate"));
    std::optional<Dimension> weight_dim;
    const Field weight = t.need("weight");
    spec.weight = weight.quantity(weight_dim);
    spec.weight_dim = *weight_dim;
    check_weight(weight, spec.target, spec.channel, spec.weight_dim);
    t.finish();
    guarded(t, [&] { net_.add_input(spec); });
  }
}

void ModelBuilder::add_current_input(const std::string& name, Table& t) {
  {
    CurrentInputSpec spec;
    spec.name = name;
    const PopulationRef target = population_ref(t.need("target"));
    spec.target = target.name;
    spec.slice = target.slice;
    if (const auto noise = t.get("noise")) {
      std::optional<Dimension> d;
      spec.noise = distribution(*noise, d);
      if (spec.noise.is_ramp()) noise->fail("must be a distribution, not a ramp");
      if (!(*d == Dimension::amperes() || *d == Dimension::volts()))
        noise->fail(fmt::format("must be a current or a voltage, got a {}", dimension_name(*d)));
      if (!t.get("amplitude") && !t.get("values")) {
        spec.series = TimeSeries{};  // noise alone: a zero mean drive
        spec.dim = *d;
        try {
          net_.population(spec.target).injection_factor(spec.dim);
        } catch (const ParameterError& e) {
          noise->fail(e.what());
        }
      } else {
        spec.series = read_series(t, spec.target, spec.dim);
        if (!(*d == spec.dim))
          noise->fail(fmt::format("has the dimension of a {} but the input's values are a {}",
                                  dimension_name(*d), dimension_name(spec.dim)));
      }
    } else {
      spec.series = read_series(t, spec.target, spec.dim);
    }
    t.finish();
    guarded(t, [&] { net_.add_input(spec); });
  }
}

void ModelBuilder::add_spike_monitor(const std::string& name, Table& t) {
  const PopulationRef pop = population_ref(t.need("population"));
  t.finish();
  guarded(t, [&] { net_.record_spikes(name, pop.name, pop.slice); });
}

void ModelBuilder::add_state_monitor(const std::string& name, Table& t) {
  const Field pop_field = t.need("population");
  const PopulationRef pop = population_ref(pop_field);
  const std::size_t pop_size = net_.population(pop.name).size();
  std::vector<std::string> variables;
  const Field vars_field = t.need("variables");
  const std::vector<std::string> known = net_.population(pop.name).variable_names();
  for (const Field& v : vars_field.elements()) {
    variables.push_back(v.string());
    if (std::find(known.begin(), known.end(), variables.back()) == known.end())
      v.fail(fmt::format("population '{}' has no variable '{}' (known: {})", pop.name,
                         variables.back(), known.empty() ? "none" : join(known)));
  }
  if (variables.empty()) vars_field.fail("is empty; name at least one variable, e.g. [\"v\"]");
  std::vector<std::uint32_t> indices;
  if (const auto f = t.get("indices")) {
    if (pop.sliced) f->fail("give either a sliced population or 'indices', not both");
    for (const Field& i : f->elements())
      indices.push_back(
          static_cast<std::uint32_t>(i.integer(0, static_cast<std::int64_t>(pop_size) - 1)));
  } else {
    const std::size_t lo = pop.slice.start;
    const std::size_t hi = pop.slice.count == Slice::npos ? pop_size : lo + pop.slice.count;
    if (!pop.sliced && pop_size > kMaxDefaultStateIndices)
      fail_at(src_, pop_field.node(), t.child("indices"),
              fmt::format("population '{}' has {} neurons; list the ones to record in 'indices' "
                          "(all are recorded by default only up to {})",
                          pop.name, pop_size, kMaxDefaultStateIndices));
    for (std::size_t i = lo; i < hi; ++i) indices.push_back(static_cast<std::uint32_t>(i));
  }
  const auto every = t.get("every");
  const std::uint32_t every_steps = every ? steps(*every) : 1;
  t.finish();
  guarded(t, [&] { net_.record_state(name, pop.name, variables, indices, every_steps); });
}

void ModelBuilder::add_rate_monitor(const std::string& name, Table& t) {
  const Field pop_field = t.need("population");
  const PopulationRef pop = population_ref(pop_field);
  if (pop.sliced) pop_field.fail("rate monitors record a whole population; remove the slice");
  const auto bin = t.get("bin");
  const std::uint32_t bin_steps = bin ? steps(*bin) : 1;
  t.finish();
  guarded(t, [&] { net_.record_rate(name, pop.name, bin_steps); });
}

void ModelBuilder::add_modulator(const std::string& name, Table t) {
  ModulatorSpec spec;
  spec.name = name;
  t.read("tau", spec.tau, Dimension::seconds(), Bound::kPositive);
  t.read("baseline", spec.baseline, Dimension::hertz());
  t.finish();
  guarded(t, [&] { net_.add_modulator(spec); });
}

// A pairing reward, watching one synapse of a projection.
void ModelBuilder::add_pairing_reward(const std::string& name, Table& t) {
  PairingRewardSpec spec;
  spec.name = name;
  spec.modulator = t.need("modulator").string();
  const Field proj_field = t.need("projection");
  spec.projection = proj_field.string();
  Projection* proj = nullptr;
  try {
    proj = &net_.projection(spec.projection);
  } catch (const ParameterError& e) {
    proj_field.fail(e.what());
  }
  spec.pre = static_cast<std::size_t>(t.need("pre").integer(0, kMaxIndex));
  if (const auto f = t.get("synapse"))
    spec.synapse = static_cast<std::size_t>(f->integer(0, kMaxIndex));
  t.read("window", spec.window, Dimension::seconds(), Bound::kPositive);
  t.read("delay_min", spec.delay_min, Dimension::seconds(), Bound::kNonNegative);
  t.read("delay_max", spec.delay_max, Dimension::seconds(), Bound::kNonNegative);
  spec.amount = t.need("amount").quantity(Dimension::hertz());
  t.read("record_every", spec.record_every, Dimension::seconds(), Bound::kNonNegative);
  const auto weight = t.get("weight");
  double w = 0.0;
  if (weight) {
    std::optional<Dimension> d;
    w = weight->quantity(d);
    if (!(*d == proj->weight_dim()))
      weight->fail(
          fmt::format("must have the dimension of projection '{}''s weights ({}), got a {}",
                      spec.projection, dimension_name(proj->weight_dim()), dimension_name(*d)));
  }
  t.finish();
  guarded(t, [&] {
    PairingReward& r = net_.add_reward(spec);
    if (weight) {
      // Distributed, the process that holds the synapse sets it; all bring the reward's view up
      // to date together.
      if (r.holds_synapse())
        proj->weights()[r.synapse_index()] = static_cast<float>(w * proj->weight_factor());
      r.settle();
    }
  });
}

// A weights monitor: projection, optional synapses = [[pre, post], ...] (all synapses of a
// projection with at most kMaxDefaultWeights of them by default), every.
void ModelBuilder::add_weight_monitor(const std::string& name, Table& t) {
  const Field proj_field = t.need("projection");
  Projection* proj = nullptr;
  try {
    proj = &net_.projection(proj_field.string());
  } catch (const ParameterError& e) {
    proj_field.fail(e.what());
  }
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  if (const auto f = t.get("synapses")) {
    for (const Field& pair : f->elements()) {
      const std::vector<Field> ends = pair.elements();
      if (ends.size() != 2)
        pair.fail(fmt::format("expected [pre, post], got {} numbers", ends.size()));
      const auto pre = static_cast<std::uint32_t>(ends[0].integer(0, kMaxIndex));
      const auto post = static_cast<std::uint32_t>(ends[1].integer(0, kMaxIndex));
      // Distributed, the process holding the target checks (Projection::owns_target).
      if ((post >= proj->post_count() || proj->owns_target(proj->post_begin() + post)) &&
          proj->find_synapse(pre, post) == Projection::kNoSynapse)
        pair.fail(fmt::format("projection '{}' has no synapse {} -> {}", proj->name(), pre, post));
      pairs.emplace_back(pre, post);
    }
    if (pairs.empty()) f->fail("is empty; list at least one [pre, post] pair");
  } else {
    if (net_.distributed())
      t.missing("synapses", fmt::format("a network distributed over processes records no weights "
                                        "by default; list them, e.g. synapses = [[0, 1]]"));
    if (proj->synapse_count() > kMaxDefaultWeights)
      t.missing("synapses", fmt::format("projection '{}' has {} synapses; all are recorded by "
                                        "default only up to {}, e.g. synapses = [[0, 1]]",
                                        proj->name(), proj->synapse_count(), kMaxDefaultWeights));
    const auto& rp = proj->row_ptr();
    for (std::size_t i = 0; i < proj->pre_count(); ++i)
      for (std::uint64_t s = rp[i]; s < rp[i + 1]; ++s) {
        const auto post = static_cast<std::uint32_t>(proj->targets()[s] - proj->post_begin());
        if (pairs.empty() || pairs.back() != std::pair{static_cast<std::uint32_t>(i), post})
          pairs.emplace_back(static_cast<std::uint32_t>(i), post);
      }
  }
  const auto every = t.get("every");
  const std::uint32_t every_steps = every ? steps(*every) : 1;
  t.finish();
  guarded(t, [&] { net_.record_weights(name, proj->name(), std::move(pairs), every_steps); });
}

// [structural_plasticity]: calcium per population, synaptic elements, rules (see
// structural_plasticity.hpp).
void ModelBuilder::add_structural_plasticity(Table t) {
  StructuralPlasticitySpec spec;
  t.read("update_interval", spec.update_interval, Dimension::seconds(), Bound::kPositive);
  t.read("record_interval", spec.record_interval, Dimension::seconds(), Bound::kNonNegative);
  const Field calcium = t.need("calcium");
  for (auto& [pop, f] : calcium.table().entries()) {
    Table c = f.table();
    CalciumSpec cs;
    cs.population = pop;
    c.read("tau", cs.tau, Dimension::seconds(), Bound::kPositive);
    if (const auto b = c.get("beta")) cs.beta = b->quantity(Dimension::none(), Bound::kNonNegative);
    c.finish();
    spec.calcium.push_back(cs);
  }
  if (spec.calcium.empty()) calcium.fail("needs a table per population, e.g. [structural_plasticity.calcium.E]");
  if (const auto elements = t.get("elements")) {
    for (auto& [pop, pf] : elements->table().entries())
      for (auto& [name, ef] : pf.table().entries()) {
        Table e = ef.table();
        SynapticElementSpec es;
        es.population = pop;
        es.name = name;
        es.curve.kind = choose(e.need("growth_curve"), growth_curves());
        es.curve.growth_rate = e.need("growth_rate").quantity(Dimension::hertz());
        if (const auto f = e.get("eps")) es.curve.eps = f->quantity(Dimension::none());
        if (const auto f = e.get("eta")) es.curve.eta = f->quantity(Dimension::none());
        if (const auto f = e.get("psi")) es.curve.psi = f->quantity(Dimension::none(), Bound::kPositive);
        if (const auto f = e.get("tau_vacant")) es.tau_vacant = f->probability();
        if (const auto f = e.get("z_init"))
          es.z_init = f->quantity(Dimension::none(), Bound::kNonNegative);
        guarded(e, [&] { es.curve.validate("growth curve"); });
        e.finish();
        spec.elements.push_back(es);
      }
  }
  // Without rules, only the calcium traces (e.g. for neuron rules) and element counts run.
  std::vector<std::pair<std::string, Field>> rules;
  if (const auto f = t.get("rules")) rules = f->table().entries();
  for (auto& [name, rf] : rules) {
    Table r = rf.table();
    StructuralRuleSpec rs;
    rs.name = name;
    rs.pre_element = r.need("pre_element").string();
    rs.post_element = r.need("post_element").string();
    const Field projs = r.need("projections");
    for (const auto& f : projs.elements()) rs.projections.push_back(f.string());
    if (rs.projections.empty()) projs.fail("list at least one projection, e.g. [\"EE\"]");
    if (const auto f = r.get("allow_autapses")) rs.allow_autapses = f->boolean();
    r.finish();
    spec.rules.push_back(rs);
  }
  t.finish();
  guarded(t, [&] { net_.enable_structural_plasticity(spec); });
}

std::vector<GrowthConnection> ModelBuilder::read_growth_connections(Table& t) {
  std::vector<GrowthConnection> out;
  if (const auto c = t.get("connect"))
    for (auto& [proj, f] : c->table().entries()) out.push_back({proj, read_connector(f)});
  return out;
}

// [[events]]: neurons grown or removed at a time (applied in time order; same time: file order).
void ModelBuilder::add_events(const Field& events, double duration) {
  struct Read {
    NeuronChange change;
    Table table;
  };
  std::vector<Read> read;
  for (const Field& f : events.elements()) {
    Table e = f.table();
    NeuronChange c;
    const Field time = e.need("time");
    c.time = time.quantity(Dimension::seconds(), Bound::kNonNegative);
    if (c.time > duration + 0.5 * net_.dt())
      time.fail(fmt::format("{} s is beyond the run's duration ({} s)", c.time, duration));
    const Field action = e.need("action");
    const std::string what = action.string();
    const Field pop_field = e.need("population");
    const PopulationRef pop = population_ref(pop_field);
    if (pop.sliced) pop_field.fail("name a whole population; pick neurons with `indices`");
    c.population = pop.name;
    if (what == "grow") {
      c.kind = NeuronChange::Kind::kGrow;
      c.n = static_cast<std::size_t>(e.need("n").integer(1, 1 << 28));
      c.connect = read_growth_connections(e);
    } else if (what == "remove") {
      c.kind = NeuronChange::Kind::kRemove;
      if (const auto f = e.get("indices"))
        for (const Field& i : f->elements())
          c.indices.push_back(static_cast<std::uint32_t>(i.integer(0, 0xFFFFFFFELL)));
      if (const auto f = e.get("fraction")) c.fraction = f->probability();
      if (const auto f = e.get("n")) c.count = static_cast<std::size_t>(f->integer(1, 1 << 28));
    } else {
      action.fail(fmt::format("unknown action '{}'; expected \"grow\" or \"remove\"", what));
    }
    e.finish();
    read.push_back({std::move(c), std::move(e)});
  }
  std::stable_sort(read.begin(), read.end(),
                   [](const Read& a, const Read& b) { return a.change.time < b.change.time; });
  for (const Read& r : read) guarded(r.table, [&] { net_.schedule(r.change); });
}

// [neuron_rules.NAME]: neurons removed or grown by their calcium (structural plasticity's).
void ModelBuilder::add_neuron_rule(const std::string& name, Table t) {
  NeuronRule r;
  r.name = name;
  const Field type = t.need("type");
  const std::string what = type.string();
  const Field pop_field = t.need("population");
  const PopulationRef pop = population_ref(pop_field);
  if (pop.sliced) pop_field.fail("name a whole population");
  r.population = pop.name;
  t.read("every", r.every, Dimension::seconds(), Bound::kPositive);
  r.level = t.need("level").quantity(Dimension::none(), Bound::kNonNegative);
  if (what == "remove_inactive") {
    r.kind = NeuronRule::Kind::kRemoveInactive;
    t.read("duration", r.duration, Dimension::seconds(), Bound::kNonNegative);
  } else if (what == "grow_when_active") {
    r.kind = NeuronRule::Kind::kGrowWhenActive;
    r.n = static_cast<std::size_t>(t.need("n").integer(1, 1 << 28));
    if (const auto f = t.get("max_size")) r.max_size = static_cast<std::size_t>(f->integer(1, 1LL << 32));
    r.connect = read_growth_connections(t);
  } else {
    type.fail(fmt::format("unknown neuron rule type '{}'; expected \"remove_inactive\" or "
                          "\"grow_when_active\"",
                          what));
  }
  t.finish();
  guarded(t, [&] { net_.add_neuron_rule(r); });
}

// ---------------------------------------------------------------------------------------------
// Parsing, overrides, top level

LoadedModel load(std::string_view text, Source src, const LoadOptions& options) {
  toml::table root = parse_document(text, src, options.overrides);

  Table top(src, root, "");
  const auto simulation = top.get("simulation");
  const auto populations = top.get("populations");
  const auto projections = top.get("projections");
  const auto inputs = top.get("inputs");
  const auto monitors = top.get("monitors");
  const auto modulators = top.get("modulators");
  const auto rewards = top.get("rewards");
  const auto structural = top.get("structural_plasticity");
  const auto events = top.get("events");
  const auto neuron_rules = top.get("neuron_rules");
  top.finish();

  SimulationSettings sim = read_simulation(simulation);
  if (options.seed) sim.seed = *options.seed;
  if (options.duration) sim.duration = *options.duration;
  if (options.threads) sim.threads = *options.threads;
  if (!(sim.duration >= 0.0) || !std::isfinite(sim.duration))
    throw ConfigError(fmt::format("{}: duration: must be >= 0, got {} s", src.name, sim.duration));
  if (sim.threads < 1)
    throw ConfigError(fmt::format("{}: threads: must be >= 1, got {}", src.name, sim.threads));

  LoadedModel model;
  model.network = std::make_unique<Network>(sim.dt, sim.seed);
  if (options.communicator) model.network->distribute(*options.communicator);
  model.duration = sim.duration;
  model.threads = sim.threads;
  model.path = src.name;

  ModelBuilder builder(src, *model.network);
  if (!populations) top.missing("populations", "add e.g. [populations.P]");
  auto pops = populations->table().entries();
  if (pops.empty()) populations->fail("needs at least one population, e.g. [populations.P]");
  for (auto& [name, f] : pops) builder.add_population(name, f.table());
  auto each = [](const std::optional<Field>& section, auto add) {
    if (!section) return;
    for (auto& [name, f] : section->table().entries()) add(name, f.table());
  };
  each(modulators, [&](const std::string& n, Table t) { builder.add_modulator(n, std::move(t)); });
  each(projections,
       [&](const std::string& n, Table t) { builder.add_projection(n, std::move(t)); });
  each(rewards, [&](const std::string& n, Table t) { builder.add_reward(n, std::move(t)); });
  each(inputs, [&](const std::string& n, Table t) { builder.add_input(n, std::move(t)); });
  each(monitors, [&](const std::string& n, Table t) { builder.add_monitor(n, std::move(t)); });
  if (structural) builder.add_structural_plasticity(structural->table());
  each(neuron_rules,
       [&](const std::string& n, Table t) { builder.add_neuron_rule(n, std::move(t)); });
  if (events) builder.add_events(*events, sim.duration);
  return model;
}

}  // namespace

LoadedModel load_model_file(const std::string& path, const LoadOptions& options) {
  const std::string text = read_text(path, "model file");
  return load(text, Source{path, fs::path(path).parent_path(), nullptr}, options);
}

LoadedModel load_model_string(std::string_view text, const std::string& display_name,
                              const LoadOptions& options) {
  const std::string name = display_name.empty() ? "<string>" : display_name;
  return load(text, Source{name, fs::path(name).parent_path(), nullptr}, options);
}

// ---------------------------------------------------------------------------------------------
// The reference documentation, from the registries above and neuron_models()

namespace {

std::string channel_text(const NeuronModel& m) {
  std::string defaults;
  for (const auto& c : m.default_channels) {
    std::string what = format_quantity(c.tau, Dimension::seconds());
    if (c.e_rev) what += ", " + format_quantity(*c.e_rev, Dimension::volts());
    defaults += fmt::format("{}`{}` ({})", defaults.empty() ? "" : ", ", c.name, what);
  }
  if (defaults.empty()) defaults = "none";
  switch (m.channel_style) {
    case ChannelStyle::kNone:
      return "none: a spike source can be a projection's source, not its target";
    case ChannelStyle::kVoltage:
      return fmt::format(
          "`tau` (time >= 0; 0 = instantaneous, jumps v); weights in volts, or "
          "amperes through `R`. Default: {}",
          defaults);
    case ChannelStyle::kConductance:
      return fmt::format(
          "`tau` (time > 0) and `e_rev` (voltage), both required; weights in "
          "siemens. Default: {}",
          defaults);
    case ChannelStyle::kOde:
      return fmt::format(
          "`tau` (time > 0); optional `e_rev` (a conductance channel, weights in "
          "siemens; without it a current channel, weights in amperes); optional "
          "`init` (initial value, distribution). Default: {}",
          defaults);
    case ChannelStyle::kFixed:
      return "one channel `in`, not configurable; weights are plain numbers (I_t)";
    case ChannelStyle::kStates:
      return "every differential variable of the equations, by its name, in its own unit";
  }
  return {};
}

template <class Entry>
std::string keyed_table(std::string_view head, const Registry<Entry>& r) {
  std::string out = fmt::format("| {} | keys | meaning |\n|---|---|---|\n", head);
  for (const auto& e : r) out += fmt::format("| `{}` | {} | {} |\n", e.name, e.keys, e.meaning);
  return out;
}

// "voltage", "current", "dimensionless" (dimension_name without its unit hint).
std::string dimension_word(Dimension d) {
  if (d == Dimension::none()) return "dimensionless";
  const std::string name = dimension_name(d);
  return name.substr(0, name.find(" ("));
}

std::string model_section(const NeuronModel& m) {
  std::string meaning(m.meaning);
  if (!meaning.empty())
    meaning[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(meaning[0])));
  std::string out = fmt::format("### `{}`\n\n{}.\n\n", m.name, meaning);
  if (!m.states.empty()) {
    std::string states;
    for (const auto& st : m.states)
      states +=
          fmt::format("{}`{}` ({})", states.empty() ? "" : ", ", st.name, dimension_word(st.dim));
    out += fmt::format("* States (recordable, with the channels): {}.\n", states);
    if (m.ode) {
      out +=
          "* Initial values: `v_init` (distribution); the other states in `initial = { ... }` "
          "(distributions); default: the model's initial state.\n";
    } else {
      std::string keys;
      for (const auto& st : m.states)
        keys += fmt::format("{}`{}_init`", keys.empty() ? "" : ", ", st.name);
      out += fmt::format("* Initial values: {} (distributions).\n", keys);
    }
  }
  if (m.source == SourceKind::kPoisson)
    out +=
        "* Either `rate`, optionally with `modulation = { frequency, phase_deg, power }` "
        "(`phase_deg` a plain number in degrees), or `rates` (an array of frequencies; "
        "`rates[k]` applies from `k rate_dt`, the last value holds) with `rate_dt`. A rate "
        "times `dt` must not exceed 1.\n";
  if (m.source == SourceKind::kSpikeList)
    out +=
        "* Either `times` (times >= 0) and `indices` (integers >= 0) of the same length, or "
        "`file` (rows `index time`) with `time_unit` (e.g. `\"ms\"`), or an HDF5 `file` "
        "(`.h5`, the spikes.h5 layout: `/NAME/times` in s, `/NAME/units`) with `population = "
        "\"NAME\"`; `size` defaults to the largest index + 1.\n";
  out += fmt::format("* Channels (`channels.NAME`): {}.\n", channel_text(m));
  if (m.methods.size() > 0) {
    std::string methods;
    for (const auto& x : m.methods)
      methods += fmt::format("{}`{}`{}", methods.empty() ? "" : ", ", x.name,
                             x.name == m.default_method ? " (default)" : "");
    out += fmt::format("* `method`: {}.\n", methods);
  }
  for (const auto& o : m.options) {
    std::string names;
    for (const auto& x : o.choices)
      names += fmt::format("{}`{}`{}", names.empty() ? "" : ", ", x.name,
                           x.name == o.default_value ? " (default)" : "");
    out += fmt::format("* `{}`: {}: {}.\n", o.key, o.meaning, names);
  }
  if (!m.per_neuron.empty()) {
    std::string keys;
    for (const auto k : m.per_neuron) keys += fmt::format("{}`{}`", keys.empty() ? "" : ", ", k);
    out += fmt::format(
        "* One value per neuron: {} may also be `{{ file = \"F.h5\", dataset = \"D\" }}`, a 1-D "
        "HDF5 dataset with one value per neuron and a `unit` attribute.\n",
        keys);
  }
  if (m.ode)
    out += fmt::format(
        "* `max_step`: longest internal step (time > 0), default {}; each step of "
        "`dt` is split into ceil(dt / max_step) substeps.\n",
        format_quantity(m.default_max_step, Dimension::seconds()));
  if (m.presets.size() > 0) {
    out +=
        "* `preset`: a named parameter set, applied before the keys below, which override it:\n\n";
    out += "  | preset | values |\n  |---|---|\n";
    for (const auto& x : m.presets) out += fmt::format("  | `{}` | {} |\n", x.name, x.meaning);
  }
  out += "\n";
  if (m.params.empty()) {
    out += "No scalar parameters.\n\n";
  } else {
    out += markdown_params(m.params) + "\n";
  }
  return out;
}

}  // namespace

std::string model_reference_markdown() {
  std::string out =
      "# Model-file reference\n\n"
      "Generated by `volley::io::model_reference_markdown()` from the registries that the "
      "model-file reader uses (do not edit by hand). The format itself, with examples, is "
      "described in [model-format.md](model-format.md). Defaults are in SI units with a prefix; "
      "write any quantity with its unit (`\"20 ms\"`), dimensionless ones as plain numbers.\n\n"
      "## Neuron models\n\n"
      "`[populations.NAME]` with `model = \"...\"` and `size` (integer >= 1; optional for "
      "`spike_generator`).\n\n";
  out += markdown_names(neuron_models()) + "\n";
  for (const auto& m : neuron_models()) out += model_section(m);

  out +=
      "## Distributions\n\n"
      "`v_init`, initial states, weights, delays and noise take a quantity or a table with "
      "`dist`; every form also takes `min` and `max` (clipping).\n\n";
  out += keyed_table("dist", distributions()) + "\n";
  out += "`over` of a ramp:\n\n" + markdown_names(ramp_indices()) + "\n";

  out += "## Connection rules\n\n`connect = { rule = \"...\", ... }` of a projection.\n\n";
  out += keyed_table("rule", connectors()) + "\n";

  out += "## Projection types\n\n`[projections.NAME]`, `type` (default `chemical`):\n\n" +
         keyed_table("type", projection_types()) + "\n";

  out += "## Plasticity\n\n`[projections.NAME.plasticity]`, `rule`:\n\n";
  out += markdown_names(plasticity_rules()) + "\n";
  out +=
      "`weight_dependence` (spike-timing rules):\n\n" + markdown_names(weight_dependences()) + "\n";
  out += "`pairing` (spike-timing rules):\n\n" + markdown_names(pairings()) + "\n";
  out += "`preset` (`rule = \"triplet\"`, with `w_ref`):\n\n" + markdown_names(triplet_presets()) +
         "\n";

  out += "## Inputs\n\n`[inputs.NAME]`, `type`:\n\n" + keyed_table("type", input_types()) + "\n";
  out +=
      "## Monitors\n\n`[monitors.NAME]`, `type`:\n\n" + keyed_table("type", monitor_types()) + "\n";
  out += "## Rewards\n\n`[rewards.NAME]`, `type`:\n\n" + keyed_table("type", reward_types()) + "\n";
  out += "## Structural plasticity\n\n`[structural_plasticity.elements.POPULATION.NAME]`, "
         "`growth_curve`:\n\n" + markdown_names(growth_curves());
  return out;
}

}  // namespace volley::io
