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
#include <numbers>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "volley/error.hpp"
#include "volley/models/izhikevich.hpp"
#include "volley/models/ode_models.hpp"
#include "volley/models/lif.hpp"
#include "volley/models/lif_cond.hpp"
#include "volley/models/sources.hpp"
#include "toml_table.hpp"

namespace volley::io {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kMaxIndex = std::numeric_limits<std::uint32_t>::max();
constexpr std::size_t kMaxDefaultStateIndices = 100;
constexpr std::size_t kMaxDefaultWeights = 1000;

using namespace detail;  // Source, Field, Table, apply_override (toml_table.hpp)

// ---------------------------------------------------------------------------------------------
// Composite values

// A quantity string (constant) or a distribution table. `dim` as in Field::quantity: all
// quantities of the distribution share one dimension.
Distribution distribution(const Field& f, std::optional<Dimension>& dim) {
  if (!f.node().is_table()) return Distribution::constant(f.quantity(dim));
  Table t = f.table();
  const Field kind_field = t.need("dist");
  const std::string kind = kind_field.string();
  Distribution d;
  if (kind == "constant") {
    d = Distribution::constant(t.need("value").quantity(dim));
  } else if (kind == "uniform") {
    const double low = t.need("low").quantity(dim);
    const Field high_field = t.need("high");
    const double high = high_field.quantity(dim);
    if (!(high >= low)) high_field.fail("must be >= low");
    d = Distribution::uniform(low, high);
  } else if (kind == "normal") {
    const double mean = t.need("mean").quantity(dim);
    d = Distribution::normal(mean, t.need("std").quantity(dim, Bound::kNonNegative));
  } else if (kind == "lognormal") {
    const double median = t.need("median").quantity(dim, Bound::kPositive);
    const Field sigma_field = t.need("sigma");
    const double sigma = sigma_field.number();
    if (!(sigma >= 0.0)) sigma_field.fail(fmt::format("must be >= 0, got {}", sigma));
    d = Distribution::lognormal(std::log(median), sigma);
  } else if (kind == "ramp") {
    const double from = t.need("from").quantity(dim);
    const double to = t.need("to").quantity(dim);
    Distribution::Over over = Distribution::Over::kTarget;
    if (const auto o = t.get("over")) {
      const std::string s = o->string();
      if (s == "source") {
        over = Distribution::Over::kSource;
      } else if (s != "target") {
        o->fail(fmt::format("unknown value '{}' (expected 'target' or 'source')", s));
      }
    }
    d = Distribution::ramp(from, to, over);
  } else {
    kind_field.fail(fmt::format(
        "unknown distribution '{}' (known: constant, uniform, normal, lognormal, ramp)", kind));
  }
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
  void add_weight_monitor(const std::string& name, Table& t);

 private:
  template <class Pop, class Params>
  void add_model(const std::string& name, Table& t, std::size_t size, Params params) {
    t.finish();
    guarded(t, [&] { net_.add<Pop>(name, size, std::move(params)); });
  }
  void read_lif(Table& t, LifParams& p);
  void read_lif_cond(Table& t, LifCondParams& p);
  void read_izhikevich(Table& t, IzhikevichParams& p);
  void read_poisson(Table& t, PoissonGroupParams& p);
  // Any ODE model: integrator, internal step, initial states, channels; `read` takes the
  // model's own parameters.
  template <class M, class ReadParams>
  void add_ode(const std::string& name, Table& t, std::size_t size, ReadParams read);
  void add_spike_generator(const std::string& name, Table& t);
  Connector read_connector(const Field& f);
  StdpParams read_stdp(const Field& f, Dimension weight_dim);
  StdpParams read_hebbian(Table& t, const std::string& rule, Dimension weight_dim);
  TimeSeries read_series(Table& t, const std::string& target, Dimension& dim);

  // A reference to an existing population, with its slice checked against the size.
  PopulationRef population_ref(const Field& f) const;
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

// Channels for lif/izhikevich (tau) and lif_cond (tau, e_rev). Given channels replace the
// model's default list.
template <class Channel, class ReadOne>
void read_channels(Table& pop, std::vector<Channel>& out, ReadOne read_one) {
  auto field = pop.get("channels");
  if (!field) return;
  Table channels = field->table();
  auto entries = channels.entries();
  if (entries.empty()) field->fail("needs at least one channel, e.g. [populations.P.channels.exc]");
  out.clear();
  for (auto& [name, f] : entries) {
    if (!is_identifier(name)) f.fail("channel names may contain only letters, digits and '_'");
    Table c = f.table();
    Channel ch;
    ch.name = name;
    read_one(c, ch);
    c.finish();
    out.push_back(std::move(ch));
  }
}

void ModelBuilder::read_lif(Table& t, LifParams& p) {
  t.read("tau_m", p.tau_m, Dimension::seconds(), Bound::kPositive);
  t.read("v_rest", p.v_rest, Dimension::volts());
  t.read("v_th", p.v_th, Dimension::volts());
  t.read("v_reset", p.v_reset, Dimension::volts());
  t.read("t_ref", p.t_ref, Dimension::seconds(), Bound::kNonNegative);
  t.read("R", p.R, Dimension::ohms(), Bound::kNonNegative);
  t.read("i_offset", p.i_offset, Dimension::amperes());
  if (auto f = t.get("v_init")) p.v_init = distribution(*f, Dimension::volts());
  read_channels(t, p.channels, [](Table& c, SynapticChannel& ch) {
    ch.tau = c.need("tau").quantity(Dimension::seconds(), Bound::kNonNegative);
  });
}

void ModelBuilder::read_lif_cond(Table& t, LifCondParams& p) {
  t.read("C_m", p.c_m, Dimension::farads(), Bound::kPositive);
  t.read("g_L", p.g_l, Dimension::siemens(), Bound::kPositive);
  t.read("v_rest", p.v_rest, Dimension::volts());
  t.read("v_th", p.v_th, Dimension::volts());
  t.read("v_reset", p.v_reset, Dimension::volts());
  t.read("t_ref", p.t_ref, Dimension::seconds(), Bound::kNonNegative);
  t.read("i_offset", p.i_offset, Dimension::amperes());
  if (auto f = t.get("method")) {
    const std::string m = f->string();
    if (m == "exponential_euler")
      p.method = LifCondParams::Method::kExponentialEuler;
    else if (m == "euler")
      p.method = LifCondParams::Method::kEuler;
    else
      f->fail(fmt::format("unknown method '{}' (known: exponential_euler, euler)", m));
  }
  if (auto f = t.get("v_init")) p.v_init = distribution(*f, Dimension::volts());
  read_channels(t, p.channels, [](Table& c, ConductanceChannel& ch) {
    ch.tau = c.need("tau").quantity(Dimension::seconds(), Bound::kPositive);
    ch.e_rev = c.need("e_rev").quantity(Dimension::volts());
  });
}

void ModelBuilder::read_izhikevich(Table& t, IzhikevichParams& p) {
  if (auto f = t.get("preset")) {
    try {
      p = IzhikevichParams::preset(f->string());
    } catch (const ParameterError& e) {
      f->fail(e.what());
    }
  }
  t.read("a", p.a, Dimension::hertz(), Bound::kPositive);
  if (auto f = t.get("k1")) p.k1 = f->number();
  t.read("k0", p.k0, Dimension::volts());
  t.read("max_step", p.max_step, Dimension::seconds(), Bound::kPositive);
  if (auto f = t.get("b")) p.b = f->number();
  t.read("c", p.c, Dimension::volts());
  t.read("d", p.d, Dimension::volts());
  t.read("v_peak", p.v_peak, Dimension::volts());
  t.read("R", p.R, Dimension::ohms(), Bound::kNonNegative);
  if (auto f = t.get("v_init")) p.v_init = distribution(*f, Dimension::volts());
  if (auto f = t.get("u_init")) {
    p.u_init = distribution(*f, Dimension::volts());
    p.has_u_init = true;
  }
  read_channels(t, p.channels, [](Table& c, SynapticChannel& ch) {
    ch.tau = c.need("tau").quantity(Dimension::seconds(), Bound::kNonNegative);
  });
}

void ModelBuilder::read_poisson(Table& t, PoissonGroupParams& p) {
  const auto rate = t.get("rate");
  const auto rates = t.get("rates");
  const auto rate_dt = t.get("rate_dt");
  if (rate && rates) rates->fail("give either 'rate' or 'rates', not both");
  const auto modulation = t.get("modulation");
  if (modulation && !rate) modulation->fail("needs a constant 'rate' (the peak rate)");
  if (rate) {
    if (rate_dt) rate_dt->fail("is only used with 'rates'");
    p.rate = this->rate(*rate);
    if (modulation) {
      Table m = modulation->table();
      p.mod_frequency = m.need("frequency").quantity(Dimension::hertz(), Bound::kPositive);
      if (const auto ph = m.get("phase_deg")) p.mod_phase = ph->number() * std::numbers::pi / 180.0;
      if (const auto pw = m.get("power")) {
        p.mod_power = pw->number();
        if (!(p.mod_power > 0.0)) pw->fail(fmt::format("must be > 0, got {}", p.mod_power));
      }
      m.finish();
    }
  } else if (rates) {
    for (const Field& r : rates->elements()) p.rates.push_back(this->rate(r));
    if (p.rates.empty()) rates->fail("is empty");
    if (!rate_dt) t.missing("rate_dt", "needed with 'rates'");
    p.rate_dt = rate_dt->quantity(Dimension::seconds(), Bound::kPositive);
  } else {
    t.missing("rate", "or give 'rates' and 'rate_dt'");
  }
}

void ModelBuilder::add_spike_generator(const std::string& name, Table& t) {
  const auto file = t.get("file");
  const auto time_unit = t.get("time_unit");
  const auto times = t.get("times");
  const auto indices = t.get("indices");
  const auto size = t.get("size");
  std::vector<SpikeEvent> events;
  if (file) {
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
  add_model<SpikeGenerator>(name, t, n, std::move(events));
}

template <class M, class ReadParams>
void ModelBuilder::add_ode(const std::string& name, Table& t, std::size_t size, ReadParams read) {
  OdePopulationParams<M> p;
  read(t, p.model);
  if (auto f = t.get("method")) {
    try {
      p.method = parse_integrator(f->string());
    } catch (const ParameterError& e) {
      f->fail(e.what());
    }
  }
  t.read("max_step", p.max_step, Dimension::seconds(), Bound::kPositive);
  if (auto f = t.get("v_init")) p.v_init = distribution(*f, Dimension::volts());
  if (auto f = t.get("initial")) {
    Table states = f->table();
    const auto names = M::state_names();
    for (auto& [key, field] : states.entries()) {
      const auto it = std::find(names.begin() + 1, names.end(), key);
      if (it == names.end())
        field.fail(fmt::format("'{}' is not a state of {} besides v", key, M::kName));
      p.state_init.emplace_back(static_cast<std::size_t>(it - names.begin()),
                                distribution(field, Dimension::none()));
    }
    states.finish();
  }
  read_channels(t, p.channels, [](Table& c, OdeChannel& ch) {
    ch.tau = c.need("tau").quantity(Dimension::seconds(), Bound::kPositive);
    if (auto e = c.get("e_rev")) ch.e_rev = e->quantity(Dimension::volts());
    if (auto g = c.get("init"))
      ch.init = distribution(*g, ch.e_rev ? Dimension::siemens() : Dimension::amperes());
  });
  add_model<OdePopulation<M>>(name, t, size, std::move(p));
}

void ModelBuilder::add_population(const std::string& name, Table t) {
  if (!is_identifier(name)) t.fail("population names may contain only letters, digits and '_'");
  const Field model_field = t.need("model");
  const std::string model = model_field.string();
  if (model == "spike_generator") return add_spike_generator(name, t);
  static constexpr const char* kModels[] = {"lif",   "lif_cond",     "izhikevich", "poisson",
                                            "hh",    "traub_hh",     "morris_lecar", "wang_buzsaki",
                                            "adex",  "eif",          "qif",          "alif"};
  if (std::find(std::begin(kModels), std::end(kModels), model) == std::end(kModels))
    model_field.fail(fmt::format("unknown model '{}' (known: lif, lif_cond, izhikevich, hh, "
                                 "traub_hh, morris_lecar, wang_buzsaki, adex, eif, qif, alif, poisson, "
                                 "spike_generator)",
                                 model));
  const auto size = static_cast<std::size_t>(t.need("size").integer(1, kMaxIndex));
  if (model == "hh") {
    add_ode<HodgkinHuxley>(name, t, size, [](Table& m, HodgkinHuxley::Params& p) {
      m.read("C_m", p.c_m, Dimension::farads(), Bound::kPositive);
      m.read("g_Na", p.g_na, Dimension::siemens(), Bound::kNonNegative);
      m.read("g_K", p.g_k, Dimension::siemens(), Bound::kNonNegative);
      m.read("g_L", p.g_l, Dimension::siemens(), Bound::kPositive);
      m.read("E_Na", p.e_na, Dimension::volts());
      m.read("E_K", p.e_k, Dimension::volts());
      m.read("E_L", p.e_l, Dimension::volts());
      m.read("v_spike", p.v_spike, Dimension::volts());
    });
  } else if (model == "traub_hh") {
    add_ode<TraubHH>(name, t, size, [](Table& m, TraubHH::Params& p) {
      m.read("C_m", p.c_m, Dimension::farads(), Bound::kPositive);
      m.read("g_Na", p.g_na, Dimension::siemens(), Bound::kNonNegative);
      m.read("g_K", p.g_k, Dimension::siemens(), Bound::kNonNegative);
      m.read("g_L", p.g_l, Dimension::siemens(), Bound::kPositive);
      m.read("E_Na", p.e_na, Dimension::volts());
      m.read("E_K", p.e_k, Dimension::volts());
      m.read("E_L", p.e_l, Dimension::volts());
      m.read("V_T", p.v_t, Dimension::volts());
      m.read("v_spike", p.v_spike, Dimension::volts());
    });
  } else if (model == "adex" || model == "eif") {
    const bool eif = model == "eif";
    add_ode<AdEx>(name, t, size, [eif](Table& m, AdEx::Params& p) {
      if (eif) p.a = p.b = 0.0;  // the exponential integrate-and-fire neuron
      m.read("C_m", p.c_m, Dimension::farads(), Bound::kPositive);
      m.read("g_L", p.g_l, Dimension::siemens(), Bound::kPositive);
      m.read("E_L", p.e_l, Dimension::volts());
      m.read("V_T", p.v_t, Dimension::volts());
      m.read("Delta_T", p.delta_t, Dimension::volts(), Bound::kPositive);
      m.read("v_reset", p.v_reset, Dimension::volts());
      m.read("v_peak", p.v_peak, Dimension::volts());
      m.read("t_ref", p.t_ref, Dimension::seconds(), Bound::kNonNegative);
      if (!eif) {
        m.read("tau_w", p.tau_w, Dimension::seconds(), Bound::kPositive);
        m.read("a", p.a, Dimension::siemens());
        m.read("b", p.b, Dimension::amperes());
      }
    });
  } else if (model == "qif") {
    add_ode<Qif>(name, t, size, [](Table& m, Qif::Params& p) {
      m.read("C_m", p.c_m, Dimension::farads(), Bound::kPositive);
      if (auto f = m.get("k")) p.k = f->quantity(Dimension{0, -2, 1}, Bound::kPositive);
      m.read("V_r", p.v_r, Dimension::volts());
      m.read("V_t", p.v_t, Dimension::volts());
      m.read("v_peak", p.v_peak, Dimension::volts());
      m.read("v_reset", p.v_reset, Dimension::volts());
      m.read("t_ref", p.t_ref, Dimension::seconds(), Bound::kNonNegative);
    });
  } else if (model == "alif") {
    add_ode<Alif>(name, t, size, [](Table& m, Alif::Params& p) {
      m.read("tau_m", p.tau_m, Dimension::seconds(), Bound::kPositive);
      m.read("tau_a", p.tau_a, Dimension::seconds(), Bound::kPositive);
      m.read("beta", p.beta, Dimension::volts(), Bound::kNonNegative);
      m.read("v_th", p.v_th, Dimension::volts());
      m.read("E_L", p.e_l, Dimension::volts());
      m.read("v_reset", p.v_reset, Dimension::volts());
      m.read("R", p.r, Dimension::ohms(), Bound::kPositive);
      m.read("t_ref", p.t_ref, Dimension::seconds(), Bound::kNonNegative);
    });
  } else if (model == "wang_buzsaki") {
    add_ode<WangBuzsaki>(name, t, size, [](Table& m, WangBuzsaki::Params& p) {
      m.read("C_m", p.c_m, Dimension::farads(), Bound::kPositive);
      m.read("g_Na", p.g_na, Dimension::siemens(), Bound::kNonNegative);
      m.read("g_K", p.g_k, Dimension::siemens(), Bound::kNonNegative);
      m.read("g_L", p.g_l, Dimension::siemens(), Bound::kPositive);
      m.read("E_Na", p.e_na, Dimension::volts());
      m.read("E_K", p.e_k, Dimension::volts());
      m.read("E_L", p.e_l, Dimension::volts());
      if (auto f = m.get("phi")) p.phi = f->quantity(Dimension::none(), Bound::kPositive);
      m.read("v_spike", p.v_spike, Dimension::volts());
    });
  } else if (model == "morris_lecar") {
    add_ode<MorrisLecar>(name, t, size, [](Table& m, MorrisLecar::Params& p) {
      if (auto f = m.get("preset")) {
        const std::string preset = f->string();
        if (preset == "hopf")
          p = MorrisLecar::Params::hopf();
        else if (preset == "snlc")
          p = MorrisLecar::Params::snlc();
        else
          f->fail(fmt::format("unknown preset '{}' (known: hopf, snlc)", preset));
      }
      m.read("C_m", p.c_m, Dimension::farads(), Bound::kPositive);
      m.read("g_Ca", p.g_ca, Dimension::siemens(), Bound::kNonNegative);
      m.read("g_K", p.g_k, Dimension::siemens(), Bound::kNonNegative);
      m.read("g_L", p.g_l, Dimension::siemens(), Bound::kPositive);
      m.read("E_Ca", p.e_ca, Dimension::volts());
      m.read("E_K", p.e_k, Dimension::volts());
      m.read("E_L", p.e_l, Dimension::volts());
      m.read("V1", p.v1, Dimension::volts());
      m.read("V2", p.v2, Dimension::volts());
      m.read("V3", p.v3, Dimension::volts());
      m.read("V4", p.v4, Dimension::volts());
      if (auto f = m.get("phi")) p.phi = f->quantity(Dimension::none(), Bound::kPositive);
      m.read("v_spike", p.v_spike, Dimension::volts());
    });
  } else if (model == "lif") {
    LifParams p;
    read_lif(t, p);
    add_model<LifPopulation>(name, t, size, std::move(p));
  } else if (model == "lif_cond") {
    LifCondParams p;
    read_lif_cond(t, p);
    add_model<LifCondPopulation>(name, t, size, std::move(p));
  } else if (model == "izhikevich") {
    IzhikevichParams p;
    read_izhikevich(t, p);
    add_model<IzhikevichPopulation>(name, t, size, std::move(p));
  } else {
    PoissonGroupParams p;
    read_poisson(t, p);
    add_model<PoissonGroup>(name, t, size, std::move(p));
  }
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

Connector ModelBuilder::read_connector(const Field& f) {
  Table t = f.table();
  const Field rule_field = t.need("rule");
  const std::string rule = rule_field.string();
  auto allow_self = [&t] {
    const auto a = t.get("allow_self");
    return a ? a->boolean() : true;
  };
  auto degree = [&t] { return static_cast<std::uint32_t>(t.need("k").integer(0, kMaxIndex)); };
  Connector c;
  if (rule == "all_to_all") {
    c = AllToAll{allow_self()};
  } else if (rule == "one_to_one") {
    c = OneToOne{};
  } else if (rule == "fixed_probability") {
    const double p = t.need("p").probability();
    c = FixedProbability{p, allow_self()};
  } else if (rule == "fixed_indegree") {
    const std::uint32_t k = degree();
    c = FixedInDegree{k, allow_self()};
  } else if (rule == "fixed_outdegree") {
    const std::uint32_t k = degree();
    c = FixedOutDegree{k, allow_self()};
  } else if (rule == "list") {
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
    c = std::move(list);
  } else {
    rule_field.fail(
        fmt::format("unknown rule '{}' (known: all_to_all, one_to_one, fixed_probability, "
                    "fixed_indegree, fixed_outdegree, list)",
                    rule));
  }
  t.finish();
  return c;
}

// Rate-based Hebbian rules: rule = "oja" or "bcm" (see plasticity.hpp).
StdpParams ModelBuilder::read_hebbian(Table& t, const std::string& rule, Dimension weight_dim) {
  for (const char* key : {"a_plus", "a_minus", "tau_plus", "tau_minus", "pairing",
                          "weight_dependence", "preset", "tau_x", "tau_y", "a2_plus", "a3_plus",
                          "a2_minus", "a3_minus", "modulator", "tau_c"})
    if (const auto other = t.get(key))
      other->fail(fmt::format("is a key of the spike-timing rules, not rule = \"{}\"", rule));
  StdpParams s;
  s.rule = rule == "oja" ? StdpRule::kOja : StdpRule::kBcm;
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
  const Field rule_field = t.need("rule");
  const std::string rule = rule_field.string();
  if (rule == "oja" || rule == "bcm") return read_hebbian(t, rule, weight_dim);
  if (rule != "stdp" && rule != "triplet")
    rule_field.fail(
        fmt::format("unknown plasticity rule '{}' (known: stdp, triplet, oja, bcm)", rule));
  for (const char* key : {"eta", "tau_rate", "rate_ref", "tau_mean", "tau_theta", "y0"})
    if (const auto other = t.get(key))
      other->fail("is a key of the rate-based rules (rule = \"oja\" or \"bcm\")");
  const bool triplet = rule == "triplet";
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
      preset_name = preset->string();
      if (preset_name != "pfister2006_visual_cortex")
        preset->fail(
            fmt::format("unknown preset '{}' (known: pfister2006_visual_cortex)", preset_name));
      if (!w_ref)
        t.missing("w_ref",
                  "the weight the preset's relative amplitudes refer to, usually the initial "
                  "weight, e.g. \"0.5 mV\"");
      s = pfister2006_visual_cortex(w_ref->quantity(weight_dim, Bound::kPositive));
    } else if (w_ref) {
      w_ref->fail("is only used with 'preset'");
    }
  }

  if (const auto dep = t.get("weight_dependence")) {
    const std::string v = dep->string();
    if (v == "additive") {
      s.weight_dependence = WeightDependence::kAdditive;
    } else if (v == "multiplicative") {
      s.weight_dependence = WeightDependence::kMultiplicative;
    } else {
      dep->fail(fmt::format("unknown weight dependence '{}' (known: additive, multiplicative)", v));
    }
    if (!preset_name.empty() && s.weight_dependence != WeightDependence::kAdditive)
      dep->fail(
          fmt::format("preset '{}' is fitted with additive weights; drop the preset to use "
                      "'{}'",
                      preset_name, v));
  }
  if (const auto pairing = t.get("pairing")) {
    const std::string v = pairing->string();
    if (v == "all_to_all") {
      s.pairing = StdpPairing::kAllToAll;
    } else if (v == "nearest") {
      s.pairing = StdpPairing::kNearest;
    } else {
      pairing->fail(fmt::format("unknown pairing '{}' (known: all_to_all, nearest)", v));
    }
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

void ModelBuilder::add_projection(const std::string& name, Table t) {
  ProjectionSpec spec;
  spec.name = name;
  const PopulationRef source = population_ref(t.need("source"));
  const PopulationRef target = population_ref(t.need("target"));
  spec.source = source.name;
  spec.source_slice = source.slice;
  spec.target = target.name;
  spec.target_slice = target.slice;
  spec.channel = channel(t, target.name);
  spec.connector = read_connector(t.need("connect"));
  std::optional<Dimension> weight_dim;
  const Field weight = t.need("weight");
  spec.weight = distribution(weight, weight_dim);
  spec.weight_dim = *weight_dim;
  check_weight(weight, spec.target, spec.channel, spec.weight_dim);
  spec.delay = Distribution::constant(net_.dt());
  if (auto f = t.get("delay")) {
    spec.delay = distribution(*f, Dimension::seconds());
    if (spec.delay.is_constant() && !(spec.delay.a >= 0.0)) f->fail("must be >= 0");
  }
  if (auto f = t.get("plasticity")) spec.stdp = read_stdp(*f, spec.weight_dim);
  t.finish();
  guarded(t, [&] { net_.connect(spec); });
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

void ModelBuilder::add_input(const std::string& name, Table t) {
  const Field type_field = t.need("type");
  const std::string type = type_field.string();
  if (type == "poisson_input") {
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
  } else if (type == "current") {
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
  } else {
    type_field.fail(fmt::format("unknown input type '{}' (known: poisson_input, current)", type));
  }
}

void ModelBuilder::add_monitor(const std::string& name, Table t) {
  const Field type_field = t.need("type");
  const std::string type = type_field.string();
  if (type == "weights") return add_weight_monitor(name, t);
  if (type != "spikes" && type != "state" && type != "rate")
    type_field.fail(
        fmt::format("unknown monitor type '{}' (known: spikes, state, rate, weights)", type));
  const Field pop_field = t.need("population");
  const PopulationRef pop = population_ref(pop_field);
  const std::size_t pop_size = net_.population(pop.name).size();
  if (type == "spikes") {
    t.finish();
    guarded(t, [&] { net_.record_spikes(name, pop.name, pop.slice); });
  } else if (type == "state") {
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
  } else {
    if (pop.sliced) pop_field.fail("rate monitors record a whole population; remove the slice");
    const auto bin = t.get("bin");
    const std::uint32_t bin_steps = bin ? steps(*bin) : 1;
    t.finish();
    guarded(t, [&] { net_.record_rate(name, pop.name, bin_steps); });
  }
}

void ModelBuilder::add_modulator(const std::string& name, Table t) {
  ModulatorSpec spec;
  spec.name = name;
  t.read("tau", spec.tau, Dimension::seconds(), Bound::kPositive);
  t.read("baseline", spec.baseline, Dimension::hertz());
  t.finish();
  guarded(t, [&] { net_.add_modulator(spec); });
}

// A reward rule: type = "pairing" (the only one), watching one synapse of a projection.
void ModelBuilder::add_reward(const std::string& name, Table t) {
  const Field type_field = t.need("type");
  if (type_field.string() != "pairing")
    type_field.fail(fmt::format("unknown reward type '{}' (known: pairing)", type_field.string()));
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
  if (const auto f = t.get("synapse")) spec.synapse = static_cast<std::size_t>(f->integer(0, kMaxIndex));
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
      weight->fail(fmt::format("must have the dimension of projection '{}''s weights ({}), got a {}",
                               spec.projection, dimension_name(proj->weight_dim()),
                               dimension_name(*d)));
  }
  t.finish();
  guarded(t, [&] {
    PairingReward& r = net_.add_reward(spec);
    if (weight) proj->weights()[r.synapse_index()] = static_cast<float>(w * proj->weight_factor());
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
      if (proj->find_synapse(pre, post) == Projection::kNoSynapse)
        pair.fail(fmt::format("projection '{}' has no synapse {} -> {}", proj->name(), pre, post));
      pairs.emplace_back(pre, post);
    }
    if (pairs.empty()) f->fail("is empty; list at least one [pre, post] pair");
  } else {
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

}  // namespace volley::io
