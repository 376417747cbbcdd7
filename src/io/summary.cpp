// summary.json (`volley sim`) and metrics.jsonl (`volley train`/`evolve`): writers and readers
// (formats in outputs.hpp).
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.hpp"
#include "volley/models/equation_population.hpp"
#include "volley/error.hpp"
#include "volley/io/outputs.hpp"

namespace volley::io {
namespace {

using nlohmann::ordered_json;

std::string read_text(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("cannot read {} '{}'", what, path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError(fmt::format("cannot read {} '{}'", what, path));
  return ss.str();
}

const char* unit_name(Dimension d) {
  return d == Dimension::volts()     ? "V"
         : d == Dimension::siemens() ? "S"
         : d == Dimension::amperes() ? "A"
                                     : "1";
}

// Field access that names the file and the field when the type is wrong or a field is missing.
class Fields {
 public:
  Fields(const ordered_json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j_.is_object()) throw IoError(fmt::format("{}: expected a JSON object", where_));
  }
  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
  template <class T>
  T get(const char* key) const {
    if (!j_.contains(key)) throw IoError(fmt::format("{}: missing \"{}\"", where_, key));
    try {
      return j_[key].get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw IoError(fmt::format("{}: \"{}\": {}", where_, key, e.what()));
    }
  }
  template <class T>
  T get_or(const char* key, T fallback) const {
    return has(key) ? get<T>(key) : fallback;
  }
  double number_or_nan(const char* key) const {
    return get_or(key, std::numeric_limits<double>::quiet_NaN());
  }
  Fields object(const char* key) const {
    if (!j_.contains(key)) throw IoError(fmt::format("{}: missing \"{}\"", where_, key));
    return Fields(j_[key], fmt::format("{}.{}", where_, key));
  }
  const ordered_json& json() const { return j_; }
  const std::string& where() const { return where_; }

 private:
  const ordered_json& j_;
  std::string where_;
};

// Calls fn(name, fields) for each member of the object f[key] (nothing if f has no key).
template <class F>
void for_each_entry(const Fields& f, const char* key, F&& fn) {
  if (!f.has(key)) return;
  const Fields all = f.object(key);
  for (const auto& [name, v] : all.json().items()) fn(name, Fields(v, fmt::format("{}.{}", all.where(), name)));
}

ordered_json optional_number(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? ordered_json(*v) : ordered_json();
}

}  // namespace

const PopulationSummary* SimSummary::find(const std::string& population) const {
  for (const auto& p : populations)
    if (p.name == population) return &p;
  return nullptr;
}

SimSummary summarize(const Network& net, const RunInfo& info) {
  SimSummary s;
  s.wall_seconds = info.wall_seconds;
  s.build_seconds = info.build_seconds;
  for (const auto& p : net.populations())
    if (const auto* e = dynamic_cast<const EquationPopulation*>(p.get())) s.compile_seconds += e->compile_seconds();
  for (const auto& p : net.projections()) s.compile_seconds += p->compile_seconds();
  s.dt = net.dt();
  s.duration = info.duration;
  s.threads = info.threads;
  s.seed = net.seed();
  s.model = info.model_path;
  s.peak_rss_bytes = info.peak_rss_bytes;
  for (const auto& p : net.populations()) {
    PopulationSummary e;
    e.name = p->name();
    e.model = std::string(p->model());
    e.size = p->size();
    e.spikes = net.spike_count(p->name());
    // Per living neuron: spikes over the neuron-seconds the population's neurons were alive
    // (size × duration unless neurons were added or removed during the run).
    const auto& history = net.size_history(p->name());
    const double end = net.time(), begin = end - info.duration;
    double alive_seconds = 0.0;
    for (std::size_t k = 0; k < history.size(); ++k) {
      const double from = k == 0 ? begin : std::max(begin, history[k].time);
      const double to = k + 1 < history.size() ? std::min(end, history[k + 1].time) : end;
      if (to > from) alive_seconds += static_cast<double>(history[k].living) * (to - from);
    }
    e.rate_hz = alive_seconds > 0.0 ? static_cast<double>(e.spikes) / alive_seconds : 0.0;
    s.populations.push_back(std::move(e));
  }
  for (const auto& p : net.projections())
    s.projections.push_back(
        {p->name(), p->synapse_count(), p->bytes_per_synapse(), p->memory_bytes(), p->events()});
  for (const auto& m : net.modulators())
    s.modulators.push_back({m->name(), m->releases(), m->pending(), m->level(), m->release_times()});
  for (const auto& r : net.rewards()) {
    const auto& pr = r->projection();
    RewardSummary e;
    e.name = r->name();
    e.projection = pr.name();
    e.pre = r->pre_neuron();
    e.post = r->post_neuron();
    e.pairings = r->pairings();
    e.weight = r->weight();
    e.others_mean = r->others_mean();
    if (pr.stdp()) e.w_max = pr.stdp()->w_max;
    e.unit = std::string(unit_name(pr.weight_dim()));
    e.t = r->times();
    e.weights = r->weights();
    e.others = r->others();
    s.rewards.push_back(std::move(e));
  }
  if (const StructuralPlasticity* sp = net.structural_plasticity()) {
    StructuralSummary e;
    e.updates = sp->updates();
    e.created = sp->created();
    e.deleted = sp->deleted();
    for (const auto& name : sp->projection_names())
      for (const auto& p : net.projections())
        if (p->name() == name) e.synapses.emplace_back(name, p->synapse_count());
    for (std::size_t k = 0; k < sp->calcium_populations().size(); ++k) {
      const auto ca = sp->calcium(k, net.step());
      const Population& pop = *net.populations()[sp->population_of(k)];
      double sum = 0.0;
      for (std::size_t i = 0; i < ca.size(); ++i)
        if (pop.alive(i)) sum += ca[i];
      e.mean_ca.emplace_back(sp->calcium_populations()[k],
                             pop.living() ? sum / static_cast<double>(pop.living()) : 0.0);
    }
    s.structural = std::move(e);
  }
  return s;
}

void write_summary(const std::string& path, const SimSummary& s) {
  ordered_json j;
  j["wall_seconds"] = s.wall_seconds;
  j["build_seconds"] = s.build_seconds;
  j["compile_seconds"] = s.compile_seconds;
  j["dt"] = s.dt;
  j["duration"] = s.duration;
  j["threads"] = s.threads;
  j["threads_used"] = s.threads_used > 0 ? s.threads_used : s.threads;
  if (s.one_thread_step_seconds > 0.0 || s.threads_step_seconds > 0.0)
    j["thread_probe"] = {{"one_thread_step_seconds", s.one_thread_step_seconds},
                         {"threads_step_seconds", s.threads_step_seconds}};
  j["seed"] = s.seed;
  j["model"] = s.model;
  if (s.peak_rss_bytes) j["peak_rss_bytes"] = s.peak_rss_bytes;
  j["processes"] = s.processes;
  j["phases"] = {{"update_seconds", s.update_seconds},
                 {"exchange_seconds", s.exchange_seconds},
                 {"deliver_seconds", s.deliver_seconds}};
  ordered_json pops = ordered_json::object();
  for (const auto& p : s.populations) {
    pops[p.name] = {{"model", p.model},
                    {"size", p.size},
                    {"spikes", p.spikes},
                    {"rate_hz", p.rate_hz},
                    {"cv_isi", optional_number(p.cv_isi)}};
    if (p.synchrony_chi_v) pops[p.name]["synchrony_chi_v"] = *p.synchrony_chi_v;
  }
  j["populations"] = std::move(pops);
  ordered_json projs = ordered_json::object();
  for (const auto& p : s.projections)
    projs[p.name] = {{"synapses", p.synapses},
                     {"bytes_per_synapse", p.bytes_per_synapse},
                     {"memory_bytes", p.memory_bytes},
                     {"events", p.events}};
  j["projections"] = std::move(projs);
  if (!s.modulators.empty()) {
    ordered_json mods = ordered_json::object();
    for (const auto& m : s.modulators)
      mods[m.name] = {{"releases", m.releases},
                      {"pending", m.pending},
                      {"level_hz", m.level_hz},
                      {"release_times_s", m.release_times}};
    j["modulators"] = std::move(mods);
  }
  if (!s.rewards.empty()) {
    ordered_json rewards = ordered_json::object();
    for (const auto& r : s.rewards)
      rewards[r.name] = {{"projection", r.projection},
                         {"pre", r.pre},
                         {"post", r.post},
                         {"pairings", r.pairings},
                         {"weight", r.weight},
                         {"others_mean", r.others_mean},
                         {"w_max", optional_number(r.w_max)},
                         {"unit", r.unit},
                         {"record", {{"t", r.t}, {"weight", r.weights}, {"others_mean", r.others}}}};
    j["rewards"] = std::move(rewards);
  }
  if (s.structural) {
    ordered_json syn = ordered_json::object(), ca = ordered_json::object();
    for (const auto& [name, n] : s.structural->synapses) syn[name] = n;
    for (const auto& [name, x] : s.structural->mean_ca) ca[name] = x;
    j["structural_plasticity"] = {{"updates", s.structural->updates},
                                  {"created", s.structural->created},
                                  {"deleted", s.structural->deleted},
                                  {"synapses", std::move(syn)},
                                  {"mean_ca", std::move(ca)}};
  }
  detail::write_file_atomically(path, j.dump(2) + "\n");
}

SimSummary read_summary(const std::string& path) {
  ordered_json j;
  try {
    j = ordered_json::parse(read_text(path, "summary"));
  } catch (const nlohmann::json::exception& e) {
    throw IoError(fmt::format("'{}' is not valid JSON: {}", path, e.what()));
  }
  const Fields f(j, path);
  SimSummary s;
  s.wall_seconds = f.get_or("wall_seconds", 0.0);
  s.build_seconds = f.get_or("build_seconds", 0.0);
  s.compile_seconds = f.get_or("compile_seconds", 0.0);
  s.dt = f.get<double>("dt");
  s.duration = f.get<double>("duration");
  s.threads = f.get_or("threads", 1);
  s.threads_used = f.get_or("threads_used", 0);
  if (j.contains("thread_probe") && j["thread_probe"].is_object()) {
    const Fields tp(j["thread_probe"], path + ": thread_probe");
    s.one_thread_step_seconds = tp.get_or("one_thread_step_seconds", 0.0);
    s.threads_step_seconds = tp.get_or("threads_step_seconds", 0.0);
  }
  s.seed = f.get_or<std::uint64_t>("seed", 0);
  s.model = f.get_or<std::string>("model", "");
  s.peak_rss_bytes = f.get_or<std::size_t>("peak_rss_bytes", 0);
  s.processes = f.get_or("processes", 1);
  if (j.contains("phases") && j["phases"].is_object()) {
    const Fields ph(j["phases"], path + ": phases");
    s.update_seconds = ph.get_or("update_seconds", 0.0);
    s.exchange_seconds = ph.get_or("exchange_seconds", 0.0);
    s.deliver_seconds = ph.get_or("deliver_seconds", 0.0);
  }
  f.object("populations");  // required, even if empty
  for_each_entry(f, "populations", [&](const std::string& name, const Fields& p) {
    PopulationSummary e;
    e.name = name;
    e.model = p.get<std::string>("model");
    e.size = p.get<std::size_t>("size");
    e.spikes = p.get<std::uint64_t>("spikes");
    e.rate_hz = p.get<double>("rate_hz");
    if (p.has("cv_isi")) e.cv_isi = p.get<double>("cv_isi");
    if (p.has("synchrony_chi_v")) e.synchrony_chi_v = p.get<double>("synchrony_chi_v");
    s.populations.push_back(std::move(e));
  });
  for_each_entry(f, "projections", [&](const std::string& name, const Fields& p) {
    s.projections.push_back({name, p.get<std::size_t>("synapses"),
                             p.get<std::size_t>("bytes_per_synapse"),
                             p.get<std::size_t>("memory_bytes"),
                             p.get_or<std::uint64_t>("events", 0)});
  });
  for_each_entry(f, "modulators", [&](const std::string& name, const Fields& m) {
    s.modulators.push_back({name, m.get<std::uint64_t>("releases"), m.get<std::size_t>("pending"),
                            m.get<double>("level_hz"), m.get<std::vector<double>>("release_times_s")});
  });
  for_each_entry(f, "rewards", [&](const std::string& name, const Fields& r) {
    RewardSummary e;
    e.name = name;
    e.projection = r.get<std::string>("projection");
    e.pre = r.get<std::size_t>("pre");
    e.post = r.get<std::size_t>("post");
    e.pairings = r.get<std::uint64_t>("pairings");
    e.weight = r.get<double>("weight");
    e.others_mean = r.get<double>("others_mean");
    if (r.has("w_max")) e.w_max = r.get<double>("w_max");
    e.unit = r.get<std::string>("unit");
    const Fields rec = r.object("record");
    e.t = rec.get<std::vector<double>>("t");
    e.weights = rec.get<std::vector<double>>("weight");
    e.others = rec.get<std::vector<double>>("others_mean");
    if (e.weights.size() != e.t.size() || e.others.size() != e.t.size())
      throw IoError(fmt::format("{}.record: t, weight and others_mean differ in length", r.where()));
    s.rewards.push_back(std::move(e));
  });
  if (f.has("structural_plasticity")) {
    const Fields sp = f.object("structural_plasticity");
    StructuralSummary e;
    e.updates = sp.get<std::uint64_t>("updates");
    e.created = sp.get<std::uint64_t>("created");
    e.deleted = sp.get<std::uint64_t>("deleted");
    const Fields syn = sp.object("synapses"), ca = sp.object("mean_ca");
    for (const auto& [name, v] : syn.json().items())
      e.synapses.emplace_back(name, syn.get<std::uint64_t>(name.c_str()));
    for (const auto& [name, v] : ca.json().items())
      e.mean_ca.emplace_back(name, ca.get<double>(name.c_str()));
    s.structural = std::move(e);
  }
  return s;
}

// ---- metrics.jsonl ---------------------------------------------------------------------------

void append_metrics(const std::string& path, const MetricsLine& m) {
  std::string line;
  if (!m.generation) {
    // nlohmann::json (keys in alphabetical order), as volley train has always written them.
    nlohmann::json j = {{"epoch", m.epoch},
                              {"train_loss", m.train_loss},
                              {"train_acc", m.train_acc},
                              {"test_acc", m.test_acc},
                              {"test_loss", m.test_loss},
                              {"epoch_seconds", m.epoch_seconds},
                              {"samples_per_second", m.samples_per_second},
                              {"test_seconds", m.test_seconds},
                              {"active_fraction", m.active_fraction},
                              {"lr", m.lr}};
    if (!m.rewiring.empty()) {
      nlohmann::json& r = j["rewiring"];
      for (const auto& x : m.rewiring)
        r[x.matrix] = {{"active", x.active}, {"rewired", x.rewired},
                       {"rows_connected", x.rows_connected}};
    }
    line = j.dump();
  } else {
    ordered_json j = {{"generation", m.epoch},
                      {"best_fitness", m.best_fitness},
                      {"mean_fitness", m.mean_fitness},
                      {"sigma", m.sigma},
                      {"generation_seconds", m.epoch_seconds},
                      {"evaluations_per_second", m.evaluations_per_second},
                      {"samples_per_second", m.samples_per_second}};
    if (!std::isnan(m.test_acc)) {
      j["test_acc"] = m.test_acc;
      j["test_loss"] = m.test_loss;
    }
    line = j.dump();
  }
  detail::append_to_file(path, line + "\n");
}

void truncate_metrics(const std::string& path, std::size_t lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return;
  std::string line, kept;
  for (std::size_t i = 0; i < lines && std::getline(in, line); ++i) kept += line + "\n";
  in.close();
  detail::write_file_atomically(path, kept);
}

std::vector<MetricsLine> read_metrics(const std::string& path) {
  std::istringstream in(read_text(path, "metrics"));
  std::vector<MetricsLine> out;
  std::string text;
  for (std::size_t n = 1; std::getline(in, text); ++n) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", path, n);
    ordered_json j;
    try {
      j = ordered_json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw IoError(fmt::format("{}: not valid JSON: {}", where, e.what()));
    }
    const Fields f(j, where);
    MetricsLine m;
    m.generation = !f.has("epoch") && f.has("generation");
    m.epoch = f.get<int>(m.generation ? "generation" : "epoch");
    m.train_loss = f.number_or_nan("train_loss");
    m.train_acc = f.number_or_nan("train_acc");
    m.test_acc = f.number_or_nan("test_acc");
    m.test_loss = f.number_or_nan("test_loss");
    m.epoch_seconds = f.number_or_nan(m.generation ? "generation_seconds" : "epoch_seconds");
    m.samples_per_second = f.number_or_nan("samples_per_second");
    m.test_seconds = f.number_or_nan("test_seconds");
    m.active_fraction = f.number_or_nan("active_fraction");
    m.lr = f.number_or_nan("lr");
    m.best_fitness = f.number_or_nan("best_fitness");
    m.mean_fitness = f.number_or_nan("mean_fitness");
    m.sigma = f.number_or_nan("sigma");
    m.evaluations_per_second = f.number_or_nan("evaluations_per_second");
    if (f.has("rewiring")) {
      const Fields r = f.object("rewiring");
      for (const auto& [name, x] : r.json().items()) {
        const Fields e(x, where + ": rewiring." + name);
        m.rewiring.push_back({name, e.get<std::uint64_t>("active"), e.get<std::uint64_t>("rewired"),
                              e.get<std::uint64_t>("rows_connected")});
      }
    }
    out.push_back(m);
  }
  return out;
}

}  // namespace volley::io
