#pragma once
// A population: N neurons of one model, state as structure-of-arrays, one incoming delay ring
// per synaptic channel. The simulator dispatches once per population per step (a virtual call
// over a slice of neurons), never per neuron.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "volley/aligned.hpp"
#include "volley/distribution.hpp"
#include "volley/units.hpp"

namespace volley {

// What the simulator hands a population each step.
struct StepContext {
  std::uint64_t step = 0;  // global step index; t = step * dt
  double dt = 0.0;         // seconds
  std::uint64_t seed = 0;
};

// A synaptic input channel of a population ("exc", "inh", ...).
struct ChannelInfo {
  std::string name;
  Dimension weight_dim;    // dimension of the model's internal channel variable
  bool instantaneous = false;  // delta synapse: input jumps the membrane directly
};

// Incoming events for one channel: `slots` rows of N floats; row (step % slots) is read and
// cleared at `step`, projections add into row ((step + delay) % slots).
class DelayRing {
 public:
  void configure(std::size_t slots, std::size_t size, std::uint64_t current_step);
  std::size_t slots() const { return slots_; }
  float* row(std::uint64_t step) { return data_.data() + (step % slots_) * size_; }
  void resize_neurons(std::size_t size);
  // Zeroes neuron i in every slot (events in flight to it are dropped).
  void clear_neuron(std::size_t i);

 private:
  std::size_t slots_ = 1, size_ = 0;
  AlignedVector<float> data_;
};

// A recordable state variable; values are stored in `internal` units and multiplied by
// `to_si` when reported.
struct VariableView {
  float* data = nullptr;
  bool found = false;
  double to_si = 1.0;
  Dimension dim;
  const double* data64 = nullptr;  // set instead of `data` for double-precision state
  double at(std::size_t i) const { return (data64 ? data64[i] : data[i]) * to_si; }
};

class Population {
 public:
  explicit Population(std::string name) : name_(std::move(name)) {}
  virtual ~Population() = default;
  Population(const Population&) = delete;
  Population& operator=(const Population&) = delete;

  const std::string& name() const { return name_; }
  std::size_t size() const { return size_; }
  virtual std::string_view model() const = 0;

  // Synaptic channels. Sources (Poisson groups, spike generators) have none.
  const std::vector<ChannelInfo>& channels() const { return channels_; }
  // Index of a channel by name; throws ParameterError listing the known names.
  std::size_t channel_index(std::string_view name) const;
  // Factor that turns a weight of dimension `given` into the channel's internal units
  // (e.g. amperes -> volts through R); throws ParameterError when not convertible.
  virtual double weight_factor(std::size_t channel, Dimension given) const;
  // Same for an injected current (amperes or volts); throws when the model has no such input.
  virtual double injection_factor(Dimension given) const;

  // Validates parameters and computes constants for dt. Called before every run.
  virtual void prepare(double dt) = 0;
  // Advances neurons [lo, hi) by one step: reads and clears incoming ring rows, integrates,
  // thresholds and resets, appending the indices that spiked (ascending) to `spikes`.
  virtual void update(const StepContext& ctx, std::size_t lo, std::size_t hi,
                      std::vector<std::uint32_t>& spikes) = 0;
  // Recordable variables: name list and access.
  virtual std::vector<std::string> variable_names() const { return {}; }
  VariableView variable(std::string_view name);
  // Adds `n` neurons at the end, initialised from the model's initial-state description.
  void grow(std::size_t n, std::uint64_t seed);
  // Removed neurons keep their index (never reused) but never spike again; the network drops
  // their synapses and the events in flight to them (Network::remove_neurons).
  bool alive(std::size_t i) const { return removed_.empty() || !removed_[i]; }
  bool has_removed() const { return removed_count_ > 0; }
  std::size_t living() const { return size_ - removed_count_; }
  // Marks neurons removed and clears the ring entries waiting for them (already checked).
  void mark_removed(const std::vector<std::uint32_t>& indices);
  // Drops the spikes of removed neurons from a list of this population's spikes.
  void drop_removed(std::vector<std::uint32_t>& spikes) const;

  // State variable of an exponential channel (its conductance/current array), or nullptr for
  // instantaneous channels. Events with a delay of exactly one step are added here directly
  // after the update (which is when they would have been read from the ring), sparing the ring.
  virtual float* channel_state(std::size_t /*channel*/) { return nullptr; }

  // Incoming delay rings, one per channel (used by projections with longer or heterogeneous
  // delays, and by instantaneous channels). A ring is read only while it is active.
  DelayRing& ring(std::size_t channel) { return rings_[channel]; }
  bool ring_active(std::size_t channel) const { return ring_active_[channel] != 0; }
  // Sizes the rings; `active[k]` switches channel k's ring on (it then stays on, so events in
  // flight are never dropped).
  void configure_rings(std::size_t slots, std::uint64_t current_step,
                       const std::vector<bool>& active);
  // External drive (injected current in internal units), zeroed by the simulator each step
  // when any current input targets the population; nullptr otherwise.
  float* drive() { return drive_.empty() ? nullptr : drive_.data(); }
  void enable_drive() { drive_.assign(size_, 0.0f); }

  std::uint32_t id = 0;  // position in the network, keys this population's random streams

 protected:
  virtual VariableView find_variable(std::string_view name) = 0;
  // Resize state arrays to `new_size`, initialising elements [old, new) (seeded, deterministic).
  virtual void resize_state(std::size_t old_size, std::size_t new_size, std::uint64_t seed) = 0;
  // Resizes `x` to new_size and draws elements [old_size, new_size) from `d`, keyed by
  // (seed, this population, neuron, variable number) so growth never changes existing draws.
  void draw_initial(AlignedVector<float>& x, const Distribution& d, std::size_t old_size,
                    std::size_t new_size, std::uint64_t seed, std::uint32_t variable) const;
  // Moves this step's ring row of channel k into `state` (state += row; row = 0) over [lo, hi),
  // if the ring is active.
  void absorb_ring(std::size_t channel, float* state, std::uint64_t step, std::size_t lo,
                   std::size_t hi);

  std::vector<ChannelInfo> channels_;

 private:
  std::string name_;
  std::size_t size_ = 0;
  std::vector<char> removed_;  // empty until a neuron is removed
  std::size_t removed_count_ = 0;
  std::vector<DelayRing> rings_;
  std::vector<char> ring_active_;
  AlignedVector<float> drive_;
};

}  // namespace volley
