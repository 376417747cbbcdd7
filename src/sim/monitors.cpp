#include "volley/monitors.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "volley/error.hpp"
#include "volley/population.hpp"

namespace volley {

SpikeMonitor::SpikeMonitor(std::string name, Population& pop, Slice slice)
    : name_(std::move(name)), pop_(&pop), lo_(slice.start) {
  whole_ = slice.start == 0 && slice.count == Slice::npos;
  hi_ = slice.count == Slice::npos ? Slice::npos : slice.start + slice.count;
  if (slice.start > pop.size() || (hi_ != Slice::npos && hi_ > pop.size()))
    throw ParameterError(fmt::format("monitor '{}': slice exceeds population '{}' of size {}",
                                     name_, pop.name(), pop.size()));
}

void SpikeMonitor::record(std::uint64_t step, double dt, const std::vector<std::uint32_t>& spikes) {
  const double t = static_cast<double>(step) * dt;
  auto first = whole_ ? spikes.begin() : std::lower_bound(spikes.begin(), spikes.end(), lo_);
  auto last = whole_ || hi_ == Slice::npos ? spikes.end() : std::lower_bound(first, spikes.end(), hi_);
  times.insert(times.end(), static_cast<std::size_t>(last - first), t);
  units.insert(units.end(), first, last);
}

StateMonitor::StateMonitor(std::string name, Population& pop, std::vector<std::string> variables,
                           std::vector<std::uint32_t> indices, std::uint32_t every)
    : name_(std::move(name)),
      pop_(&pop),
      vars_(std::move(variables)),
      indices_(std::move(indices)),
      every_(every) {
  if (every_ == 0) throw ParameterError(fmt::format("monitor '{}': every must be >= 1 step", name_));
  if (vars_.empty()) throw ParameterError(fmt::format("monitor '{}': no variables given", name_));
  for (auto i : indices_)
    if (i >= pop.size())
      throw ParameterError(fmt::format("monitor '{}': index {} outside population '{}' of size {}",
                                       name_, i, pop.name(), pop.size()));
  values.resize(vars_.size());
  for (const auto& v : vars_) {
    try {
      dims.push_back(pop.variable(v).dim);
    } catch (const ParameterError& e) {
      throw ParameterError(fmt::format("monitor '{}': {}", name_, e.what()));
    }
  }
}

void StateMonitor::record(std::uint64_t step, double dt) {
  if (step % every_ != 0) return;
  times.push_back(static_cast<double>(step) * dt);
  for (std::size_t k = 0; k < vars_.size(); ++k) {
    const VariableView view = pop_->variable(vars_[k]);
    for (auto i : indices_) values[k].push_back(static_cast<float>(view.data[i] * view.to_si));
  }
}

RateMonitor::RateMonitor(std::string name, Population& pop, std::uint32_t bin_steps)
    : name_(std::move(name)), pop_(&pop), bin_(bin_steps) {
  if (bin_ == 0) throw ParameterError(fmt::format("monitor '{}': bin must be >= 1 step", name_));
}

void RateMonitor::record(std::uint64_t step, double dt, std::size_t spike_count) {
  if (filled_ == 0) bin_start_ = static_cast<double>(step) * dt;
  count_ += spike_count;
  if (++filled_ == bin_) {
    times.push_back(bin_start_);
    const double n = static_cast<double>(pop_->size());
    rates.push_back(n > 0 ? static_cast<double>(count_) / (n * bin_ * dt) : 0.0);
    count_ = 0;
    filled_ = 0;
  }
}

}  // namespace volley
