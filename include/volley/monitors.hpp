#pragma once
// Monitors record what a run produced, in memory; the CLI writes them to files.
//   SpikeMonitor: (time, index) of every spike of a population slice.
//   StateMonitor: chosen variables of chosen neurons every `every` steps, sampled at the start of
//                 a step (before the update), like Brian2's StateMonitor.
//   RateMonitor:  population rate (spikes / neurons / bin) per bin of `bin` steps.
//   WeightMonitor: weights of chosen synapses of a projection, and their mean, every `every`
//                 steps at the end of a step (after plasticity).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "volley/communicator.hpp"
#include "volley/projection.hpp"
#include "volley/spike_list.hpp"
#include "volley/units.hpp"

namespace volley {

class Population;

class SpikeMonitor {
 public:
  SpikeMonitor(std::string name, Population& pop, Slice slice);
  const std::string& name() const { return name_; }
  Population& population() const { return *pop_; }
  void record(std::uint64_t step, double dt, SpikeList spikes);
  std::vector<double> times;        // s
  std::vector<std::uint32_t> units;  // absolute indices in the population

 private:
  std::string name_;
  Population* pop_;
  std::size_t lo_, hi_;
  bool whole_;
};

class StateMonitor {
 public:
  StateMonitor(std::string name, Population& pop, std::vector<std::string> variables,
               std::vector<std::uint32_t> indices, std::uint32_t every);
  const std::string& name() const { return name_; }
  Population& population() const { return *pop_; }
  std::uint32_t every() const { return every_; }
  // Makes room for the samples of steps [start, end) (those divisible by `every`).
  void begin_run(std::uint64_t start, std::uint64_t end, double dt);
  // Writes the sample of `step` for the recorded neurons in [lo, hi); threads fill their own
  // slices of the same sample concurrently.
  void record(std::uint64_t step, std::size_t lo, std::size_t hi);
  // Distributed: after a run, makes every process's rows of that run whole (each recorded only
  // the neurons it owns).
  void merge(Communicator& comm);
  const std::vector<std::string>& variables() const { return vars_; }
  const std::vector<std::uint32_t>& indices() const { return indices_; }
  std::vector<double> times;  // s
  // values[v] holds times.size() rows of indices().size() values, in SI units.
  std::vector<std::vector<float>> values;
  std::vector<Dimension> dims;

 private:
  std::string name_;
  Population* pop_;
  std::vector<std::string> vars_;
  std::vector<std::uint32_t> indices_;
  std::uint32_t every_;
  std::uint64_t first_step_ = 0;  // step of row first_row_ in this run
  std::size_t first_row_ = 0;
};

class RateMonitor {
 public:
  RateMonitor(std::string name, Population& pop, std::uint32_t bin_steps);
  const std::string& name() const { return name_; }
  Population& population() const { return *pop_; }
  void record(std::uint64_t step, double dt, std::size_t spike_count);
  std::vector<double> times;  // s, start of each bin
  std::vector<double> rates;  // Hz

 private:
  std::string name_;
  Population* pop_;
  std::uint32_t bin_;
  std::size_t count_ = 0, filled_ = 0;
  double bin_start_ = 0.0;
};

// Weights of chosen synapses of a projection (Brian2's StateMonitor on a Synapses' w), and the
// mean of all its weights, every `every` steps at the end of the step (after plasticity).
// Synapses are chosen as (pre, post) pairs relative to the projection's slices (the first
// synapse of a pair when there are several); values in SI units of the projection's weight.
class WeightMonitor {
 public:
  WeightMonitor(std::string name, Projection& projection,
                std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs, std::uint32_t every);
  const std::string& name() const { return name_; }
  Projection& projection() const { return *proj_; }
  const std::vector<std::pair<std::uint32_t, std::uint32_t>>& pairs() const { return pairs_; }
  bool due(std::uint64_t step) const { return (step + 1) % every_ == 0; }
  // Samples the weights after step `step` (reads every weight: no thread may be writing them).
  // Distributed (`comm` with several processes; a collective call), each process samples the
  // synapses it holds and the samples and the mean are merged, identical on every process.
  // The mean is an exact sum, rounded once per float exponent.
  void record(std::uint64_t step, double dt, Communicator* comm = nullptr);
  std::vector<double> times;   // s, end of the sampled step
  std::vector<float> values;   // [sample][pair], SI
  std::vector<double> means;   // mean of all the projection's weights, SI

 private:
  std::string name_;
  Projection* proj_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs_;
  std::uint32_t every_;
};

}  // namespace volley
