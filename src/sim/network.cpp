#include "volley/network.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "volley/error.hpp"

namespace volley {

Network::Network(double dt, std::uint64_t seed) : dt_(dt), seed_(seed) {
  if (!(dt > 0.0) || !std::isfinite(dt))
    throw ParameterError(fmt::format("dt must be > 0, got {} s", dt));
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
  projs_.push_back(std::make_unique<Projection>(spec, src, tgt, dt_, seed_, next_object_id_++));
  projs_.back()->set_modulator(mod);
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
  rewards_.push_back(std::make_unique<PairingReward>(spec, *proj, *mod, next_object_id_++));
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
  structural_ = std::make_unique<StructuralPlasticity>(spec, *this);
  return *structural_;
}

void Network::grow(std::string_view name, std::size_t n) {
  population(name).grow(n, seed_);
  for (auto& p : projs_) p->sync_sizes();
}

}  // namespace volley
