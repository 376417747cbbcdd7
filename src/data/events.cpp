// Event samples for training: the counting sort that builds SampleEvents from unsorted events,
// and StoredEvents, the in-memory event set (SHD reader output, tests, synthetic benchmarks).
#include "volley/data/events.hpp"

#include <fmt/format.h>

#include <limits>

#include "volley/error.hpp"

namespace volley::data {

void build_sample(std::span<const std::uint32_t> steps, std::span<const std::uint32_t> units,
                  std::span<const float> values, std::size_t n_steps, SampleEvents& out) {
  if (units.size() != steps.size() || values.size() != steps.size())
    throw ParameterError(fmt::format(
        "build_sample: {} steps, {} units and {} values; all three must have the same length",
        steps.size(), units.size(), values.size()));
  if (steps.size() > std::numeric_limits<std::uint32_t>::max())
    throw ParameterError(
        fmt::format("build_sample: {} events do not fit 32-bit offsets", steps.size()));
  for (std::size_t k = 0; k < steps.size(); ++k)
    if (steps[k] >= n_steps)
      throw ParameterError(fmt::format("build_sample: event {} has step {}, must be < n_steps {}",
                                       k, steps[k], n_steps));

  // Counting sort on step, stable: events of one step keep their input order.
  out.reset(n_steps);
  for (const std::uint32_t s : steps) ++out.offsets[s + 1];
  for (std::size_t t = 0; t < n_steps; ++t) out.offsets[t + 1] += out.offsets[t];
  out.units.resize(steps.size());
  out.values.resize(steps.size());
  // Insert at offsets[s] and advance it; offsets then hold the ends, i.e. the next step's begin.
  for (std::size_t k = 0; k < steps.size(); ++k) {
    const std::uint32_t pos = out.offsets[steps[k]]++;
    out.units[pos] = units[k];
    out.values[pos] = values[k];
  }
  // Shift back by one step to restore the begins.
  for (std::size_t t = n_steps; t > 0; --t) out.offsets[t] = out.offsets[t - 1];
  out.offsets[0] = 0;
}

StoredEvents::StoredEvents(std::size_t n_inputs, std::size_t n_steps, std::size_t n_classes,
                           std::string description)
    : n_inputs_(n_inputs),
      n_steps_(n_steps),
      n_classes_(n_classes),
      description_(std::move(description)) {
  if (n_inputs_ == 0) throw ParameterError(fmt::format("{}: n_inputs must be > 0", description_));
  if (n_steps_ == 0) throw ParameterError(fmt::format("{}: n_steps must be > 0", description_));
  if (n_classes_ == 0) throw ParameterError(fmt::format("{}: n_classes must be > 0", description_));
  if (n_steps_ > std::numeric_limits<std::uint32_t>::max())
    throw ParameterError(
        fmt::format("{}: n_steps {} does not fit 32 bits", description_, n_steps_));
}

void StoredEvents::add(const SampleEvents& sample, int label) {
  const std::size_t index = labels_.size();  // the index this sample will get
  if (label < 0 || static_cast<std::size_t>(label) >= n_classes_)
    throw ParameterError(fmt::format("{}: sample {} has label {}, must be in [0, {})", description_,
                                     index, label, n_classes_));
  // Structure of the buffer: offsets non-decreasing from 0 to the number of events.
  const auto& off = sample.offsets;
  if (sample.values.size() != sample.units.size())
    throw ParameterError(fmt::format("{}: sample {} has {} units but {} values", description_,
                                     index, sample.units.size(), sample.values.size()));
  if (off.empty() ? !sample.units.empty() : (off.front() != 0 || off.back() != sample.size()))
    throw ParameterError(fmt::format(
        "{}: sample {} has inconsistent offsets (first {}, last {}, {} events)", description_,
        index, off.empty() ? 0 : off.front(), off.empty() ? 0 : off.back(), sample.size()));
  for (std::size_t t = 0; t + 1 < off.size(); ++t) {
    if (off[t + 1] < off[t])
      throw ParameterError(
          fmt::format("{}: sample {} has decreasing offsets at step {}", description_, index, t));
    if (off[t + 1] > off[t] && t >= n_steps_)
      throw ParameterError(fmt::format("{}: sample {} has events at step {}, must be < n_steps {}",
                                       description_, index, t, n_steps_));
  }
  for (std::size_t k = 0; k < sample.units.size(); ++k)
    if (sample.units[k] >= n_inputs_)
      throw ParameterError(fmt::format("{}: sample {} has unit {}, must be < n_inputs {}",
                                       description_, index, sample.units[k], n_inputs_));

  // Everything checked: append (the sample is already in step order).
  for (std::size_t t = 0; t < n_steps_; ++t)
    step_begin_.push_back(t + 1 < off.size() ? off[t] : (off.empty() ? 0 : off.back()));
  units_.insert(units_.end(), sample.units.begin(), sample.units.end());
  values_.insert(values_.end(), sample.values.begin(), sample.values.end());
  sample_begin_.push_back(units_.size());
  labels_.push_back(label);
}

void StoredEvents::reserve(std::size_t samples, std::size_t events) {
  labels_.reserve(samples);
  sample_begin_.reserve(samples + 1);
  step_begin_.reserve(samples * n_steps_);
  units_.reserve(events);
  values_.reserve(events);
}

void StoredEvents::truncate(std::size_t n) {
  if (n >= labels_.size()) return;
  const std::uint64_t end = sample_begin_[n];
  labels_.resize(n);
  sample_begin_.resize(n + 1);
  step_begin_.resize(n * n_steps_);
  units_.resize(end);
  values_.resize(end);
}

void StoredEvents::fill(std::size_t index, std::uint64_t /*epoch*/, SampleEvents& out) const {
  if (index >= labels_.size())
    throw ParameterError(fmt::format("{}: sample index {} out of range (size {})", description_,
                                     index, labels_.size()));
  const std::uint64_t b = sample_begin_[index], e = sample_begin_[index + 1];
  out.reset(n_steps_);
  const std::uint32_t* begin = step_begin_.data() + index * n_steps_;
  std::copy(begin, begin + n_steps_, out.offsets.begin());
  out.offsets[n_steps_] = static_cast<std::uint32_t>(e - b);
  out.units.assign(units_.begin() + static_cast<std::ptrdiff_t>(b),
                   units_.begin() + static_cast<std::ptrdiff_t>(e));
  out.values.assign(values_.begin() + static_cast<std::ptrdiff_t>(b),
                    values_.begin() + static_cast<std::ptrdiff_t>(e));
}

}  // namespace volley::data
