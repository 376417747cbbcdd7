#pragma once
// Event data for training: each sample is a list of input events (step, unit, value) sorted by
// step, and a class label. Image data is encoded into events on the fly (see encoders.hpp);
// event data (Spiking Heidelberg Digits layout) is stored binned (see volley/io/shd.hpp).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace volley::data {

// One sample's input events grouped by step: the events of step t are
// units[offsets[t] .. offsets[t+1]) with values[...] (1 for a single spike; a count or an analog
// value otherwise). offsets has n_steps + 1 entries.
struct SampleEvents {
  std::vector<std::uint32_t> offsets;
  std::vector<std::uint32_t> units;
  std::vector<float> values;

  std::size_t n_steps() const { return offsets.empty() ? 0 : offsets.size() - 1; }
  std::size_t size() const { return units.size(); }
  // Empties the buffer and sizes offsets for n_steps steps (keeps capacity).
  void reset(std::size_t n_steps) {
    offsets.assign(n_steps + 1, 0);
    units.clear();
    values.clear();
  }
};

// Builds SampleEvents from unsorted (step, unit, value) triples by a counting sort on step;
// events with the same (step, unit) are kept separately (their values add in the forward pass).
void build_sample(std::span<const std::uint32_t> steps, std::span<const std::uint32_t> units,
                  std::span<const float> values, std::size_t n_steps, SampleEvents& out);

// A labelled set of event samples. Implementations must be safe to call `fill` from several
// threads at once, and must produce the same events for the same (index, epoch).
class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual std::size_t size() const = 0;
  virtual std::size_t n_inputs() const = 0;
  virtual std::size_t n_steps() const = 0;
  virtual std::size_t n_classes() const = 0;
  virtual int label(std::size_t index) const = 0;
  // The events of sample `index` for `epoch` (stochastic encoders draw from a counter-based RNG
  // keyed by seed, index, epoch and step; deterministic encoders ignore epoch).
  virtual void fill(std::size_t index, std::uint64_t epoch, SampleEvents& out) const = 0;
  // Where the data came from, for messages ("fashion-mnist train", "shd_train.h5").
  virtual std::string description() const = 0;
};

// Event data held in memory (what the SHD reader produces; also used by tests and synthetic
// benchmarks). Samples are stored in step order.
class StoredEvents final : public EventSource {
 public:
  StoredEvents(std::size_t n_inputs, std::size_t n_steps, std::size_t n_classes,
               std::string description);
  // Adds one sample; throws ParameterError naming the sample if a step or unit is out of range
  // or the label is not in [0, n_classes).
  void add(const SampleEvents& sample, int label);
  // Room for this many samples and events in all (what a reader expects to add).
  void reserve(std::size_t samples, std::size_t events);
  // Keeps the first n samples (n >= size() keeps all).
  void truncate(std::size_t n);

  std::size_t size() const override { return labels_.size(); }
  std::size_t n_inputs() const override { return n_inputs_; }
  std::size_t n_steps() const override { return n_steps_; }
  std::size_t n_classes() const override { return n_classes_; }
  int label(std::size_t index) const override { return labels_[index]; }
  void fill(std::size_t index, std::uint64_t epoch, SampleEvents& out) const override;
  std::string description() const override { return description_; }
  std::size_t total_events() const { return units_.size(); }

 private:
  std::size_t n_inputs_, n_steps_, n_classes_;
  std::string description_;
  std::vector<std::uint64_t> sample_begin_{0};  // into units_/values_
  // Per sample and step, where the step's events begin (from the sample's first event): 4 bytes
  // a step a sample, against the 4 bytes an event a step index cost (less for dense samples
  // such as SHD's; more for long samples with few events).
  std::vector<std::uint32_t> step_begin_;
  std::vector<std::uint32_t> units_;
  std::vector<float> values_;
  std::vector<int> labels_;
};

}  // namespace volley::data
