#include "volley/monitors.hpp"

#include <fmt/format.h>

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "exact_sum.hpp"
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

namespace {

// Room for `need` elements. Growth is geometric from 256 Ki elements on, and the new buffer's
// unused part is faulted in by one madvise(MADV_POPULATE_WRITE) (Linux >= 5.14; advice, so a
// failure changes nothing): a spike monitor's arrays grow by megabytes during a run, and touched
// page by page their first-touch faults (microseconds each in a virtual machine) cost 15 % of
// CUBA's run loop (bench/RESULTS.md, issue 19). Contents and results are unchanged.
template <class T>
void make_room(std::vector<T>& v, std::size_t need) {
  if (need <= v.capacity()) return;
  v.reserve(std::max({need, 2 * v.capacity(), std::size_t{1} << 18}));
#ifdef MADV_POPULATE_WRITE
  const std::uintptr_t page = 4096;
  const auto used = reinterpret_cast<std::uintptr_t>(v.data() + v.size());
  const auto end = reinterpret_cast<std::uintptr_t>(v.data() + v.capacity());
  const std::uintptr_t a = (used + page - 1) & ~(page - 1), b = end & ~(page - 1);
  if (b > a) madvise(reinterpret_cast<void*>(a), b - a, MADV_POPULATE_WRITE);
#endif
}

}  // namespace

void SpikeMonitor::record(std::uint64_t step, double dt, SpikeList spikes) {
  const double t = static_cast<double>(step) * dt;
  const std::size_t n = volley::spike_count(spikes);
  if (n == 0) return;
  make_room(times, times.size() + n);
  make_room(units, units.size() + n);
  if (whole_) {
    for (const auto& part : spikes) {
      if (part.size() <= 8) {  // a few spikes a step is typical: no library call per step
        for (std::uint32_t i : part) {
          times.push_back(t);
          units.push_back(i);
        }
        continue;
      }
      times.insert(times.end(), part.size(), t);
      units.insert(units.end(), part.begin(), part.end());
    }
    return;
  }
  for_each_spike(spikes, lo_, hi_, [&](std::uint32_t i) {
    times.push_back(t);
    units.push_back(i);
  });
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

void StateMonitor::begin_run(std::uint64_t start, std::uint64_t end, double dt) {
  first_step_ = (start + every_ - 1) / every_ * every_;
  first_row_ = times.size();
  for (std::uint64_t s = first_step_; s < end; s += every_)
    times.push_back(static_cast<double>(s) * dt);
  for (auto& v : values) v.resize(times.size() * indices_.size(), 0.0f);
}

void StateMonitor::record(std::uint64_t step, std::size_t lo, std::size_t hi) {
  if (step % every_ != 0 || step < first_step_) return;
  const std::size_t row = first_row_ + (step - first_step_) / every_;
  const std::size_t n = indices_.size();
  for (std::size_t k = 0; k < vars_.size(); ++k) {
    const VariableView view = pop_->variable(vars_[k]);
    float* out = values[k].data() + row * n;
    for (std::size_t j = 0; j < n; ++j)
      if (indices_[j] >= lo && indices_[j] < hi)
        out[j] = static_cast<float>(view.at(indices_[j]));
  }
}

void StateMonitor::merge(Communicator& comm) {
  // Each process wrote its own neurons' columns of this run's rows; the others stayed zero.
  if (comm.size() <= 1) return;
  const std::size_t from = first_row_ * indices_.size();
  std::vector<std::uint32_t> bits;
  for (auto& v : values) {
    bits.resize(v.size() - from);
    for (std::size_t k = 0; k < bits.size(); ++k) bits[k] = std::bit_cast<std::uint32_t>(v[from + k]);
    comm.bitwise_or(bits);
    for (std::size_t k = 0; k < bits.size(); ++k) v[from + k] = std::bit_cast<float>(bits[k]);
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
    const double n = static_cast<double>(pop_->living());  // removed neurons do not count
    rates.push_back(n > 0 ? static_cast<double>(count_) / (n * bin_ * dt) : 0.0);
    count_ = 0;
    filled_ = 0;
  }
}

WeightMonitor::WeightMonitor(std::string name, Projection& projection,
                             std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs,
                             std::uint32_t every)
    : name_(std::move(name)), proj_(&projection), pairs_(std::move(pairs)), every_(every) {
  if (every_ == 0) throw ParameterError(fmt::format("monitor '{}': every must be >= 1 step", name_));
  for (const auto& [pre, post] : pairs_) {
    if (pre >= proj_->pre_count() || post >= proj_->post_count())
      throw ParameterError(fmt::format("monitor '{}': synapse [{}, {}] is outside projection '{}' "
                                       "({} x {} neurons)",
                                       name_, pre, post, proj_->name(), proj_->pre_count(),
                                       proj_->post_count()));
    // Distributed, the process that holds the target checks.
    if (proj_->owns_target(proj_->post_begin() + post) &&
        proj_->find_synapse(pre, post) == Projection::kNoSynapse)
      throw ParameterError(fmt::format("monitor '{}': projection '{}' has no synapse {} -> {}",
                                       name_, proj_->name(), pre, post));
  }
}


void WeightMonitor::record(std::uint64_t step, double dt, Communicator* comm) {
  times.push_back(static_cast<double>(step + 1) * dt);
  const auto& w = proj_->weights();
  const double f = proj_->weight_factor();
  const std::size_t first = values.size();
  for (const auto& [pre, post] : pairs_) {
    // A synapse held by another process is left as zero bits, filled in by the merge below.
    float v = 0.0f;
    if (proj_->owns_target(proj_->post_begin() + post)) {
      const std::uint64_t s = proj_->find_synapse(pre, post);
      v = s == Projection::kNoSynapse ? std::numeric_limits<float>::quiet_NaN()
                                      : static_cast<float>(w[s] / f);
    }
    values.push_back(v);
  }
  detail::ExactSum sum;
  for (float x : w) sum.add(x);
  if (comm != nullptr && comm->size() > 1) {
    std::vector<std::uint32_t> bits(pairs_.size());
    for (std::size_t k = 0; k < bits.size(); ++k) bits[k] = std::bit_cast<std::uint32_t>(values[first + k]);
    comm->bitwise_or(bits);
    for (std::size_t k = 0; k < bits.size(); ++k) values[first + k] = std::bit_cast<float>(bits[k]);
    comm->sum(sum.bins);
  }
  const auto n = sum.bins[detail::ExactSum::kCount];
  means.push_back(n == 0 ? 0.0 : sum.value() / static_cast<double>(n) / f);
}

}  // namespace volley
