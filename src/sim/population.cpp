#include "volley/population.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley {

void DelayRing::configure(std::size_t slots, std::size_t size, std::uint64_t current_step) {
  if (slots == slots_ && size == size_ && !data_.empty()) return;
  // Keep events already in flight: re-home each pending row relative to the current step.
  AlignedVector<float> fresh(slots * size, 0.0f);
  if (!data_.empty()) {
    const std::size_t keep = std::min(slots, slots_), n = std::min(size, size_);
    for (std::size_t k = 0; k < keep; ++k) {
      const float* src = data_.data() + ((current_step + k) % slots_) * size_;
      float* dst = fresh.data() + ((current_step + k) % slots) * size;
      std::copy(src, src + n, dst);
    }
  }
  data_ = std::move(fresh);
  slots_ = slots;
  size_ = size;
}

void DelayRing::resize_neurons(std::size_t size) {
  AlignedVector<float> fresh(slots_ * size, 0.0f);
  const std::size_t n = std::min(size, size_);
  for (std::size_t s = 0; s < slots_; ++s)
    std::copy(data_.begin() + s * size_, data_.begin() + s * size_ + n, fresh.begin() + s * size);
  data_ = std::move(fresh);
  size_ = size;
}

std::size_t Population::channel_index(std::string_view name) const {
  for (std::size_t i = 0; i < channels_.size(); ++i)
    if (channels_[i].name == name) return i;
  std::string known;
  for (const auto& c : channels_) known += (known.empty() ? "" : ", ") + c.name;
  throw ParameterError(fmt::format("population '{}' ({}) has no channel '{}'; its channels: {}",
                                   name_, model(), name, known.empty() ? "none" : known));
}

double Population::weight_factor(std::size_t channel, Dimension given) const {
  const auto& c = channels_.at(channel);
  if (given == c.weight_dim) return 1.0;
  throw ParameterError(fmt::format("weight into {}.{} must be a {}, got a {}", name_, c.name,
                                   dimension_name(c.weight_dim), dimension_name(given)));
}

double Population::injection_factor(Dimension given) const {
  throw ParameterError(fmt::format("population '{}' ({}) does not accept injected current ({})",
                                   name_, model(), dimension_name(given)));
}

VariableView Population::variable(std::string_view name) {
  VariableView v = find_variable(name);
  if (!v.found) {
    std::string known;
    for (const auto& n : variable_names()) known += (known.empty() ? "" : ", ") + n;
    throw ParameterError(fmt::format("population '{}' ({}) has no variable '{}'; known: {}", name_,
                                     model(), name, known.empty() ? "none" : known));
  }
  return v;
}

void DelayRing::clear_neuron(std::size_t i) {
  for (std::size_t k = 0; k < slots_ && i < size_; ++k) data_[k * size_ + i] = 0.0f;
}

void Population::mark_removed(const std::vector<std::uint32_t>& indices) {
  if (removed_.empty()) removed_.assign(size_, 0);
  for (const std::uint32_t i : indices) {
    if (removed_[i]) continue;
    removed_[i] = 1;
    ++removed_count_;
    for (auto& r : rings_) r.clear_neuron(i);
  }
}

void Population::drop_removed(std::vector<std::uint32_t>& spikes) const {
  std::erase_if(spikes, [this](std::uint32_t i) { return removed_[i] != 0; });
}

void Population::grow(std::size_t n, std::uint64_t seed) {
  const std::size_t old = size_;
  resize_state(old, old + n, seed);
  size_ = old + n;
  if (!removed_.empty()) removed_.resize(size_, 0);
  for (auto& r : rings_) r.resize_neurons(size_);
  if (!drive_.empty()) drive_.resize(size_, 0.0f);
}

void Population::draw_initial(AlignedVector<float>& x, const Distribution& d,
                              std::size_t old_size, std::size_t new_size, std::uint64_t seed,
                              std::uint32_t variable) const {
  x.resize(new_size);
  const std::uint32_t stream = stream_id(RngStream::kInitialState, id);
  for (std::size_t i = old_size; i < new_size; ++i) {
    if (d.is_ramp()) {  // over the neurons of the population as it is now
      x[i] = static_cast<float>(d.at(i, new_size));
      continue;
    }
    CounterRng rng(seed, stream, static_cast<std::uint32_t>(i), variable);
    x[i] = static_cast<float>(d.sample(rng));
  }
}

void Population::configure_rings(std::size_t slots, std::uint64_t current_step,
                                 const std::vector<bool>& active) {
  rings_.resize(channels_.size());
  ring_active_.resize(channels_.size(), 0);
  for (std::size_t k = 0; k < rings_.size(); ++k) {
    if (k < active.size() && active[k]) ring_active_[k] = 1;
    rings_[k].configure(ring_active_[k] ? slots : 1, size_, current_step);
  }
}

void Population::absorb_ring(std::size_t channel, float* state, std::uint64_t step,
                             std::size_t lo, std::size_t hi) {
  if (!ring_active_[channel]) return;
  float* __restrict in = rings_[channel].row(step);
  float* __restrict g = state;
  for (std::size_t i = lo; i < hi; ++i) {
    g[i] += in[i];
    in[i] = 0.0f;
  }
}

}  // namespace volley
