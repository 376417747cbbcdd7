#include "volley/network.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "draws.hpp"
#include "volley/error.hpp"

namespace volley {

Network::Network(double dt, std::uint64_t seed) : dt_(dt), seed_(seed) {
  if (!(dt > 0.0) || !std::isfinite(dt))
    throw ParameterError(fmt::format("dt must be > 0, got {} s", dt));
}

void Network::distribute(Communicator& comm) {
  if (!pops_.empty() || comm_)
    throw ParameterError("distribute a network before adding anything to it, and only once");
  comm_ = &comm;
}

std::pair<std::size_t, std::size_t> Network::owned(const Population& pop) const {
  if (!comm_) return {0, pop.size()};
  return owned_range(pop.size(), comm_->rank(), comm_->size());
}

void Network::refuse_distributed(const std::string& what) const {
  if (distributed())
    throw ParameterError(fmt::format("{} cannot run distributed over {} processes yet: run it in "
                                     "one process (without mpirun, or with -np 1)",
                                     what, comm_->size()));
}

std::uint64_t Network::exchange_interval() {
  // Spikes of step s reach their targets at s + delay >= s + min delay, so the processes need
  // each other's spikes only every min-delay steps; plasticity, rewards and direct one-step
  // delivery into a channel's state use them at the next step.
  std::int64_t d = std::numeric_limits<std::int64_t>::max();
  bool every_step = !rewards_.empty() || !mods_.empty();
  for (const auto& p : projs_) {
    every_step = every_step || p->plastic();
    if (p->synapse_count() == 0) continue;
    every_step = every_step || !p->uses_ring();
    d = std::min<std::int64_t>(d, p->min_delay_steps());
  }
  if (every_step) d = 1;
  d = comm_->min(d);  // the same interval on every process
  if (d == std::numeric_limits<std::int64_t>::max()) return 1;
  return static_cast<std::uint64_t>(std::max<std::int64_t>(d, 1));
}

void Network::check_new_name(const std::string& name, const char* what) const {
  if (name.empty()) throw ParameterError(fmt::format("{} needs a name", what));
  auto clash = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& x) { return x->name() == name; });
  };
  if (clash(pops_) || clash(projs_) || clash(inputs_) || clash(spike_mons_) ||
      clash(state_mons_) || clash(rate_mons_) || clash(weight_mons_) || clash(mods_) ||
      clash(rewards_))
    throw ParameterError(fmt::format("the name '{}' is already used in this network", name));
}

Population& Network::add(std::unique_ptr<Population> pop, std::size_t size) {
  check_new_name(pop->name(), "a population");
  pop->id = next_object_id_++;
  pop->grow(size, seed_);
  pops_.push_back(std::move(pop));
  spike_counts_.push_back(0);
  size_history_.push_back({{time(), size, size}});
  return *pops_.back();
}

std::size_t Network::population_index(std::string_view name) const {
  for (std::size_t i = 0; i < pops_.size(); ++i)
    if (pops_[i]->name() == name) return i;
  std::string known;
  for (const auto& p : pops_) known += (known.empty() ? "" : ", ") + p->name();
  throw ParameterError(fmt::format("unknown population '{}' (known: {})", name,
                                   known.empty() ? "none" : known));
}

Population& Network::population(std::string_view name) { return *pops_[population_index(name)]; }

Projection& Network::projection(std::string_view name) {
  for (auto& p : projs_)
    if (p->name() == name) return *p;
  throw ParameterError(fmt::format("unknown projection '{}'", name));
}

std::uint64_t Network::spike_count(std::string_view name) const {
  return spike_counts_[population_index(name)];
}

Projection& Network::connect(const ProjectionSpec& spec) {
  check_new_name(spec.name, "a projection");
  Population& src = population(spec.source);
  Population& tgt = population(spec.target);
  Neuromodulator* mod = nullptr;
  if (spec.stdp && spec.stdp->modulated()) {
    try {
      mod = &modulator(spec.stdp->modulator);
    } catch (const ParameterError& e) {
      throw ParameterError(fmt::format("projection '{}': {}", spec.name, e.what()));
    }
  }
  if (spec.synapse_equations)
    refuse_distributed(fmt::format("projection '{}' (synapses written as equations)", spec.name));
  projs_.push_back(std::make_unique<Projection>(
      spec, src, tgt, dt_, seed_, next_object_id_++,
      distributed() ? owned(tgt) : Projection::kAllTargets));
  projs_.back()->set_modulator(mod);
  if (distributed()) {
    const auto [lo, hi] = projs_.back()->local_delay_range();
    projs_.back()->settle_delays(static_cast<std::uint32_t>(comm_->min(lo)),
                                 static_cast<std::uint32_t>(-comm_->min(-std::int64_t{hi})));
  }
  return *projs_.back();
}

Neuromodulator& Network::add_modulator(const ModulatorSpec& spec) {
  check_new_name(spec.name, "a modulator");
  mods_.push_back(std::make_unique<Neuromodulator>(spec));
  return *mods_.back();
}

Neuromodulator& Network::modulator(std::string_view name) {
  for (auto& m : mods_)
    if (m->name() == name) return *m;
  std::string known;
  for (const auto& m : mods_) known += (known.empty() ? "" : ", ") + m->name();
  throw ParameterError(fmt::format("unknown modulator '{}' (known: {})", name,
                                   known.empty() ? "none" : known));
}

PairingReward& Network::add_reward(const PairingRewardSpec& spec) {
  check_new_name(spec.name, "a reward");
  Projection* proj = nullptr;
  Neuromodulator* mod = nullptr;
  try {
    proj = &projection(spec.projection);
    mod = &modulator(spec.modulator);
  } catch (const ParameterError& e) {
    throw ParameterError(fmt::format("reward '{}': {}", spec.name, e.what()));
  }
  rewards_.push_back(std::make_unique<PairingReward>(spec, *proj, *mod, next_object_id_++,
                                                     distributed() ? comm_ : nullptr));
  return *rewards_.back();
}

PoissonInput& Network::add_input(const PoissonInputSpec& spec) {
  check_new_name(spec.name, "an input");
  auto in = std::make_unique<PoissonInput>(spec, population(spec.target), next_object_id_++);
  auto& ref = *in;
  inputs_.push_back(std::move(in));
  return ref;
}

CurrentInput& Network::add_input(const CurrentInputSpec& spec) {
  check_new_name(spec.name, "an input");
  const bool noisy = !(spec.noise.is_constant() && spec.noise.a == 0.0);
  auto in = std::make_unique<CurrentInput>(spec, population(spec.target),
                                           noisy ? next_object_id_++ : 0);
  auto& ref = *in;
  inputs_.push_back(std::move(in));
  return ref;
}

GapJunctions& Network::add_gap_junctions(const GapJunctionSpec& spec) {
  check_new_name(spec.name, "gap junctions");
  refuse_distributed(fmt::format("gap junctions '{}'", spec.name));
  auto in = std::make_unique<GapJunctions>(spec, population(spec.population), seed_,
                                           next_object_id_++);
  auto& ref = *in;
  inputs_.push_back(std::move(in));
  return ref;
}

SpikeMonitor& Network::record_spikes(std::string name, std::string_view pop, Slice slice) {
  check_new_name(name, "a monitor");
  spike_mons_.push_back(std::make_unique<SpikeMonitor>(std::move(name), population(pop), slice));
  return *spike_mons_.back();
}

StateMonitor& Network::record_state(std::string name, std::string_view pop,
                                    std::vector<std::string> variables,
                                    std::vector<std::uint32_t> indices, std::uint32_t every) {
  check_new_name(name, "a monitor");
  state_mons_.push_back(std::make_unique<StateMonitor>(std::move(name), population(pop),
                                                       std::move(variables), std::move(indices),
                                                       every));
  return *state_mons_.back();
}

RateMonitor& Network::record_rate(std::string name, std::string_view pop, std::uint32_t bin) {
  check_new_name(name, "a monitor");
  rate_mons_.push_back(std::make_unique<RateMonitor>(std::move(name), population(pop), bin));
  return *rate_mons_.back();
}

WeightMonitor& Network::record_weights(std::string name, std::string_view proj,
                                      std::vector<std::pair<std::uint32_t, std::uint32_t>> synapses,
                                      std::uint32_t every) {
  check_new_name(name, "a monitor");
  weight_mons_.push_back(
      std::make_unique<WeightMonitor>(std::move(name), projection(proj), std::move(synapses), every));
  return *weight_mons_.back();
}

StructuralPlasticity& Network::enable_structural_plasticity(const StructuralPlasticitySpec& spec) {
  if (structural_)
    throw ParameterError("structural plasticity is already enabled in this network");
  refuse_distributed("structural plasticity");
  structural_ = std::make_unique<StructuralPlasticity>(spec, *this);
  return *structural_;
}

void Network::record_size(std::size_t p) {
  size_history_[p].push_back({time(), pops_[p]->size(), pops_[p]->living()});
}

const std::vector<SizeChange>& Network::size_history(std::string_view name) const {
  return size_history_[population_index(name)];
}

void Network::check_growth(const Population& pop, std::size_t n,
                           const std::vector<GrowthConnection>& connect) const {
  if (pop.model() == "spike_generator")
    throw ParameterError(fmt::format("population '{}' is a spike generator: its neurons are its "
                                     "spike list and cannot grow",
                                     pop.name()));
  if (n == 0) throw ParameterError(fmt::format("growing '{}' needs n >= 1", pop.name()));
  for (const auto& gc : connect) {
    const Projection* pr = nullptr;
    for (const auto& p : projs_)
      if (p->name() == gc.projection) pr = p.get();
    if (!pr)
      throw ParameterError(fmt::format("growing '{}': unknown projection '{}'", pop.name(),
                                       gc.projection));
    const bool in = &pr->target() == &pop && pr->spans_target_to_end();
    const bool out = &pr->source() == &pop && pr->spans_source_to_end();
    if (!in && !out)
      throw ParameterError(fmt::format(
          "growing '{}': projection '{}' does not span the population to its end, so the new "
          "neurons are not part of it",
          pop.name(), gc.projection));
    if (!std::isfinite(pr->constant_weight_si()) || !pr->homogeneous_delay())
      throw ParameterError(fmt::format("growing '{}': projection '{}' needs one constant weight "
                                       "and delay to connect new neurons",
                                       pop.name(), gc.projection));
  }
}

void Network::grow(std::string_view name, std::size_t n,
                   const std::vector<GrowthConnection>& connect) {
  refuse_distributed("growing a population");
  const std::size_t idx = population_index(name);
  Population& pop = *pops_[idx];
  check_growth(pop, n, connect);
  std::vector<std::pair<std::size_t, std::size_t>> before;
  for (const auto& p : projs_) before.emplace_back(p->pre_count(), p->post_count());
  pop.grow(n, seed_);
  for (auto& p : projs_) p->sync_sizes();
  for (std::size_t c = 0; c < connect.size(); ++c) {
    for (std::size_t k = 0; k < projs_.size(); ++k) {
      if (projs_[k]->name() != connect[c].projection) continue;
      const auto stream = stream_id(RngStream::kStructural,
                                    0x800000u | static_cast<std::uint32_t>(
                                                    ((changes_applied_ << 8) | (c << 1)) & 0x7FFFFF));
      projs_[k]->connect_grown(connect[c].connector, before[k].first, before[k].second, seed_,
                               stream);
    }
  }
  ++changes_applied_;
  record_size(idx);
}

void Network::remove_neurons(std::string_view name, std::vector<std::uint32_t> indices) {
  refuse_distributed("removing neurons");
  const std::size_t idx = population_index(name);
  Population& pop = *pops_[idx];
  for (const auto& in : inputs_)
    if (&in->target() == &pop && dynamic_cast<const GapJunctions*>(in.get()))
      throw ParameterError(fmt::format("population '{}' has gap junctions; removing its neurons "
                                       "is not supported",
                                       pop.name()));
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  for (const std::uint32_t i : indices) {
    if (i >= pop.size())
      throw ParameterError(fmt::format("cannot remove neuron {} of '{}': it has {} neurons", i,
                                       pop.name(), pop.size()));
    if (!pop.alive(i))
      throw ParameterError(fmt::format("neuron {} of '{}' was already removed", i, pop.name()));
  }
  if (indices.empty()) return;
  std::vector<char> gone(pop.size(), 0);
  for (const std::uint32_t i : indices) gone[i] = 1;
  for (auto& p : projs_) {
    const bool from = &p->source() == &pop, to = &p->target() == &pop;
    if (!from && !to) continue;
    const std::size_t pre0 = p->pre_begin(), post0 = p->post_begin();
    p->remove_synapses([&](std::uint32_t pre, std::uint32_t post, float) {
      return (from && gone[pre0 + pre]) || (to && gone[post0 + post]);
    });
  }
  pop.mark_removed(indices);
  ++changes_applied_;
  record_size(idx);
}

void Network::schedule(const NeuronChange& change) {
  const std::string where = fmt::format("change at {} s", change.time);
  refuse_distributed(where);
  if (!std::isfinite(change.time) || change.time < time() - 0.5 * dt_)
    throw ParameterError(fmt::format("{}: the time must not be before now ({} s)", where, time()));
  const Population& pop = population(change.population);
  if (change.kind == NeuronChange::Kind::kGrow) {
    try {
      check_growth(pop, change.n, change.connect);
    } catch (const ParameterError& e) {
      throw ParameterError(fmt::format("{}: {}", where, e.what()));
    }
  } else {
    const int given = int(!change.indices.empty()) + int(change.fraction != 0.0) +
                      int(change.count != 0);
    if (given != 1)
      throw ParameterError(fmt::format("{}: give exactly one of indices, a fraction or a count "
                                       "of neurons to remove",
                                       where));
    if (!(change.fraction >= 0.0 && change.fraction <= 1.0))
      throw ParameterError(fmt::format("{}: fraction must be in [0, 1], got {}", where,
                                       change.fraction));
    // The population as the changes scheduled before this one leave it (rules may remove more,
    // which apply() reports when it comes to it).
    std::size_t size = pop.size(), living = pop.living();
    for (const auto& c : schedule_) {
      if (c.time > change.time || c.population != change.population) continue;
      if (c.kind == NeuronChange::Kind::kGrow) {
        size += c.n, living += c.n;
      } else {
        const std::size_t k =
            !c.indices.empty() ? c.indices.size()
            : c.count != 0     ? c.count
                               : static_cast<std::size_t>(std::llround(
                                     c.fraction * static_cast<double>(living)));
        living -= std::min(living, k);
      }
    }
    for (const std::uint32_t i : change.indices)
      if (i >= size)
        throw ParameterError(fmt::format("{}: cannot remove neuron {} of '{}': it will have {} "
                                         "neurons then",
                                         where, i, pop.name(), size));
    if (change.count > living)
      throw ParameterError(fmt::format("{}: cannot remove {} neurons of '{}': {} will be alive "
                                       "then",
                                       where, change.count, pop.name(), living));
  }
  // Stable in time order: changes at the same time apply in the order they were given.
  const auto at = std::upper_bound(schedule_.begin(), schedule_.end(), change.time,
                                   [](double t, const NeuronChange& c) { return t < c.time; });
  schedule_.insert(at, change);
}

void Network::add_neuron_rule(const NeuronRule& rule) {
  const std::string where = fmt::format("neuron rule '{}'", rule.name);
  refuse_distributed(where);
  const std::size_t p = population_index(rule.population);
  if (!structural_ || structural_->calcium_index(p) == static_cast<std::size_t>(-1))
    throw ParameterError(fmt::format("{}: population '{}' needs a calcium trace (structural "
                                     "plasticity's calcium table)",
                                     where, rule.population));
  const double steps = std::round(rule.every / dt_);
  if (!(steps >= 1.0) || std::abs(steps * dt_ - rule.every) > 1e-6 * rule.every)
    throw ParameterError(fmt::format("{}: every = {} s is not a whole number of steps of {} s",
                                     where, rule.every, dt_));
  if (rule.kind == NeuronRule::Kind::kGrowWhenActive) {
    try {
      check_growth(*pops_[p], rule.n, rule.connect);
    } catch (const ParameterError& e) {
      throw ParameterError(fmt::format("{}: {}", where, e.what()));
    }
  } else if (!(rule.duration >= 0.0)) {
    throw ParameterError(fmt::format("{}: duration must be >= 0 s", where));
  }
  neuron_rules_.push_back({rule, static_cast<std::uint64_t>(steps), 0, {}});
}

void Network::apply(const NeuronChange& c) {
  const std::string where = fmt::format("change at {} s", c.time);
  try {
    if (c.kind == NeuronChange::Kind::kGrow) {
      grow(c.population, c.n, c.connect);
      return;
    }
    const Population& pop = population(c.population);
    std::vector<std::uint32_t> chosen = c.indices;
    if (chosen.empty()) {
      std::vector<std::uint32_t> living;
      for (std::size_t i = 0; i < pop.size(); ++i)
        if (pop.alive(i)) living.push_back(static_cast<std::uint32_t>(i));
      const auto k = c.count != 0 ? std::min(c.count, living.size())
                                  : static_cast<std::size_t>(std::llround(
                                        c.fraction * static_cast<double>(living.size())));
      detail::Draws(seed_, stream_id(RngStream::kStructural, 0x700000u | (changes_applied_ & 0xFFFFF)),
                    0, step_)
          .choose_front(living, k);
      chosen.assign(living.begin(), living.begin() + static_cast<std::ptrdiff_t>(k));
    }
    remove_neurons(c.population, std::move(chosen));
  } catch (const ParameterError& e) {
    throw ParameterError(fmt::format("{}: {}", where, e.what()));
  }
}

void Network::apply_changes() {
  while (!schedule_.empty() &&
         static_cast<std::uint64_t>(std::llround(schedule_.front().time / dt_)) <= step_) {
    const NeuronChange c = schedule_.front();
    schedule_.erase(schedule_.begin());
    apply(c);
  }
  if (step_ == 0) return;
  for (auto& rs : neuron_rules_) {
    if (step_ % rs.every_steps != 0 || rs.checked == step_) continue;
    rs.checked = step_;
    const NeuronRule& r = rs.rule;
    const std::size_t p = population_index(r.population);
    const Population& pop = *pops_[p];
    const auto ca = structural_->calcium(structural_->calcium_index(p), step_);
    if (r.kind == NeuronRule::Kind::kRemoveInactive) {
      rs.below_since.resize(pop.size(), -1.0);
      std::vector<std::uint32_t> gone;
      for (std::size_t i = 0; i < pop.size(); ++i) {
        if (!pop.alive(i)) continue;
        if (ca[i] >= r.level) {
          rs.below_since[i] = -1.0;
          continue;
        }
        if (rs.below_since[i] < 0.0) rs.below_since[i] = time();
        if (time() - rs.below_since[i] >= r.duration - 0.5 * dt_)
          gone.push_back(static_cast<std::uint32_t>(i));
      }
      if (!gone.empty()) remove_neurons(r.population, std::move(gone));
    } else {
      double sum = 0.0;
      std::size_t n = 0;
      for (std::size_t i = 0; i < pop.size(); ++i)
        if (pop.alive(i)) sum += ca[i], ++n;
      const std::size_t room = r.max_size == 0 ? r.n
                               : r.max_size > pop.size() ? std::min(r.n, r.max_size - pop.size())
                                                         : 0;
      if (n > 0 && sum / static_cast<double>(n) > r.level && room > 0)
        grow(r.population, room, r.connect);
    }
  }
}
}  // namespace volley
