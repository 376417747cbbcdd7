#include "volley/models/sources.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <fstream>
#include <numeric>
#include <sstream>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley {

void PoissonGroupParams::validate(const std::string& where) const {
  if (rates.empty() && !(rate >= 0.0))
    throw ParameterError(fmt::format("{}: rate must be >= 0, got {} Hz", where, rate));
  for (std::size_t i = 0; i < rates.size(); ++i)
    if (!(rates[i] >= 0.0))
      throw ParameterError(fmt::format("{}: rates[{}] must be >= 0, got {} Hz", where, i, rates[i]));
  if (!rates.empty() && !(rate_dt > 0.0))
    throw ParameterError(fmt::format("{}: rate_dt must be > 0 for a time-varying rate", where));
  if (!(mod_frequency >= 0.0) || !std::isfinite(mod_frequency))
    throw ParameterError(fmt::format("{}: modulation frequency must be >= 0, got {} Hz", where,
                                     mod_frequency));
  if (!(mod_power > 0.0) || !std::isfinite(mod_power))
    throw ParameterError(fmt::format("{}: modulation power must be > 0, got {}", where, mod_power));
  if (!std::isfinite(mod_phase))
    throw ParameterError(fmt::format("{}: modulation phase must be finite", where));
  if (mod_frequency > 0.0 && !rates.empty())
    throw ParameterError(fmt::format("{}: a modulation needs a constant 'rate', not 'rates'", where));
}

PoissonGroup::PoissonGroup(std::string name, PoissonGroupParams params)
    : Population(std::move(name)), p_(std::move(params)) {
  p_.validate(fmt::format("population '{}'", this->name()));
}

void PoissonGroup::prepare(double dt) {
  dt_ = dt;
  for (double r : p_.rates)
    if (r * dt > 1.0)
      throw ParameterError(fmt::format("population '{}': rate {} Hz exceeds 1/dt", name(), r));
  if (p_.rates.empty() && p_.rate * dt > 1.0)
    throw ParameterError(fmt::format("population '{}': rate {} Hz exceeds 1/dt", name(), p_.rate));
}

void PoissonGroup::update(const StepContext& ctx, std::size_t lo, std::size_t hi,
                          std::vector<std::uint32_t>& spikes) {
  double rate = p_.rate;
  if (!p_.rates.empty()) {
    const double t = static_cast<double>(ctx.step) * ctx.dt;
    auto k = static_cast<std::size_t>(std::floor(t / p_.rate_dt + 1e-9));
    rate = p_.rates[std::min(k, p_.rates.size() - 1)];
  }
  if (p_.mod_frequency > 0.0) {
    const double t = static_cast<double>(ctx.step) * ctx.dt;
    const double x = 0.5 * (1.0 + std::sin(2.0 * std::numbers::pi * p_.mod_frequency * t + p_.mod_phase));
    rate *= p_.mod_power == 1.0 ? x : std::pow(x, p_.mod_power);
  }
  const double prob = rate * ctx.dt;
  if (prob <= 0.0) return;
  thread_local std::vector<double> u;
  u.resize(hi - lo);
  uniform_batch(ctx.seed, stream_id(RngStream::kPoissonGroup, id), ctx.step, lo, hi, u.data());
  for (std::size_t i = lo; i < hi; ++i)
    if (u[i - lo] < prob) spikes.push_back(static_cast<std::uint32_t>(i));
}

SpikeGenerator::SpikeGenerator(std::string name, std::vector<SpikeEvent> events)
    : Population(std::move(name)), events_(std::move(events)) {
  for (std::size_t k = 0; k < events_.size(); ++k)
    if (!(events_[k].time >= 0.0) || !std::isfinite(events_[k].time))
      throw ParameterError(fmt::format("population '{}': spike {} has time {} s (must be >= 0)",
                                       this->name(), k, events_[k].time));
}

void SpikeGenerator::resize_state(std::size_t, std::size_t new_size, std::uint64_t) {
  for (const auto& e : events_)
    if (e.index >= new_size)
      throw ParameterError(fmt::format("population '{}': spike index {} is outside its size {}",
                                       name(), e.index, new_size));
}

void SpikeGenerator::prepare(double dt) {
  std::vector<std::size_t> order(events_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::vector<std::uint64_t> step(events_.size());
  for (std::size_t k = 0; k < events_.size(); ++k)
    step[k] = static_cast<std::uint64_t>(std::floor(events_[k].time / dt + 1e-6));
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return step[a] != step[b] ? step[a] < step[b] : events_[a].index < events_[b].index;
  });
  steps_.resize(order.size());
  index_.resize(order.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    steps_[k] = step[order[k]];
    index_[k] = events_[order[k]].index;
    if (k > 0 && steps_[k] == steps_[k - 1] && index_[k] == index_[k - 1])
      throw ParameterError(fmt::format(
          "population '{}': neuron {} has two spikes in the step at {} s (dt = {} s)", name(),
          index_[k], static_cast<double>(steps_[k]) * dt, dt));
  }
}

void SpikeGenerator::update(const StepContext& ctx, std::size_t lo, std::size_t hi,
                            std::vector<std::uint32_t>& spikes) {
  auto first = std::lower_bound(steps_.begin(), steps_.end(), ctx.step);
  auto last = std::upper_bound(first, steps_.end(), ctx.step);
  for (auto it = first; it != last; ++it) {
    const std::uint32_t i = index_[static_cast<std::size_t>(it - steps_.begin())];
    if (i >= lo && i < hi) spikes.push_back(i);
  }
}

std::vector<SpikeEvent> read_spike_events(const std::string& path, double time_unit) {
  std::ifstream in(path);
  if (!in) throw IoError(fmt::format("cannot open spike file '{}'", path));
  std::vector<SpikeEvent> events;
  std::string line;
  for (std::size_t lineno = 1; std::getline(in, line); ++lineno) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream row(line);
    long long index;
    double t;
    if (!(row >> index)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      throw IoError(fmt::format("{}:{}: expected 'index time', got '{}'", path, lineno, line));
    }
    std::string extra;
    if (!(row >> t) || (row >> extra))
      throw IoError(fmt::format("{}:{}: expected 'index time', got '{}'", path, lineno, line));
    if (index < 0 || index > 0xFFFFFFFFLL || !(t >= 0.0))
      throw IoError(fmt::format("{}:{}: index must be >= 0 and time >= 0, got '{}'", path, lineno,
                                line));
    events.push_back({t * time_unit, static_cast<std::uint32_t>(index)});
  }
  return events;
}

}  // namespace volley
