#pragma once
// A Network owns populations, projections, inputs and monitors, and advances them on a fixed
// time grid. It holds no global state: several networks can live in one process.
//
// Each step (t = step * dt):
//   1. inputs add this step's drive; each population reads its incoming ring row, integrates,
//      thresholds and resets (in parallel over neuron slices);
//   2. spike monitors and rate monitors record; state monitors sample the next step's start;
//   3. every projection adds the weights of the spikes' synapses into the target ring row
//      step + delay (delay >= 1 step), in parallel over target slices; STDP updates weights;
//   4. plasticity traces decay and take this step's spikes; reward-modulated projections turn
//      eligibility into weight changes every update interval (see neuromodulator.hpp; reward
//      rules and modulators advance on one thread during step 2);
//   5. structural plasticity creates and deletes synapses every update interval, on one thread
//      between barriers (calcium follows the spikes in step 1, each thread its own neurons).
// Work is split by contiguous neuron ranges and sums into a target happen in spike order, so
// results are bit-identical for any thread count.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "volley/communicator.hpp"
#include "volley/gap_junctions.hpp"
#include "volley/inputs.hpp"
#include "volley/monitors.hpp"
#include "volley/neuromodulator.hpp"
#include "volley/neuron_changes.hpp"
#include "volley/population.hpp"
#include "volley/projection.hpp"
#include "volley/structural_plasticity.hpp"

namespace volley {

struct RunOptions {
  int threads = 1;
  // With threads > 1, in one process: time a stretch of the run on one thread, then one on
  // `threads`, and run the rest on whichever took less per step. A small network's step (a few
  // microseconds) is too short to share: the threads' barrier and the cache lines they pass
  // between them cost more than the halved work saves. Results do not depend on it; the choice
  // is kept for later runs of this network while its neuron count is unchanged.
  // Off by default: a library caller who asks for N threads gets N.
  bool fall_back = false;
};

struct RunStats {
  double wall_seconds = 0.0;
  std::uint64_t steps = 0;
  // Threads that ran the steps after any probe; with RunOptions::fall_back, the wall time per
  // step on one thread and on the requested threads measured by the probe that made the choice
  // in effect (this run's, or an earlier run's that was kept; 0 when there is none: a run
  // shorter than 800 steps does not probe).
  int threads_used = 1;
  double one_thread_step_seconds = 0.0, threads_step_seconds = 0.0;
  // With a communicator only (Network::distribute, any number of processes; else 0): where the first thread of this process spent the run
  // (each includes its waits for the other threads or processes): neuron updates and inputs;
  // spike exchange between processes; delivery, plasticity and recording.
  double update_seconds = 0.0, exchange_seconds = 0.0, deliver_seconds = 0.0;
};

class Network {
 public:
  explicit Network(double dt = 1e-4, std::uint64_t seed = 1);

  // Distributes the network over the processes of `comm` (MPI: include/volley/mpi/
  // communicator.hpp); call before adding anything. Every process builds the same network
  // description; each owns a block of every population (owned_range) and holds only the
  // synapses onto its neurons. Spikes are exchanged once per minimum delay (once per step when
  // anything plastic, a reward or a one-step delay into a synaptic current needs them sooner).
  // Every process ends with the same spike, rate, state and weight recordings, identical to a
  // run in one process for any number of processes and threads. Synapses added or removed
  // between runs (Projection::add_synapses, remove_synapses) and pairing rewards work too: each
  // process changes or follows the synapses onto its neurons, the same calls on every process.
  // Gap junctions, structural plasticity, neuron changes and synapses written as equations are
  // refused.
  void distribute(Communicator& comm);
  Communicator* communicator() const { return comm_; }
  bool distributed() const { return comm_ != nullptr && comm_->size() > 1; }
  // The neurons of `pop` this process updates: [first, last).
  std::pair<std::size_t, std::size_t> owned(const Population& pop) const;

  double dt() const { return dt_; }
  std::uint64_t seed() const { return seed_; }
  std::uint64_t step() const { return step_; }
  double time() const { return static_cast<double>(step_) * dt_; }

  // Adds a population of `size` neurons; names must be unique.
  Population& add(std::unique_ptr<Population> pop, std::size_t size);
  template <class Pop, class Params>
  Pop& add(std::string name, std::size_t size, Params params) {
    return static_cast<Pop&>(add(std::make_unique<Pop>(std::move(name), std::move(params)), size));
  }
  // A projection whose STDP names a modulator needs that modulator added first.
  Projection& connect(const ProjectionSpec& spec);
  Neuromodulator& add_modulator(const ModulatorSpec& spec);
  PairingReward& add_reward(const PairingRewardSpec& spec);
  PoissonInput& add_input(const PoissonInputSpec& spec);
  CurrentInput& add_input(const CurrentInputSpec& spec);
  // Electrical synapses within one population (see gap_junctions.hpp); applied as an input.
  GapJunctions& add_gap_junctions(const GapJunctionSpec& spec);
  SpikeMonitor& record_spikes(std::string name, std::string_view population, Slice slice = {});
  StateMonitor& record_state(std::string name, std::string_view population,
                             std::vector<std::string> variables,
                             std::vector<std::uint32_t> indices, std::uint32_t every_steps = 1);
  RateMonitor& record_rate(std::string name, std::string_view population,
                           std::uint32_t bin_steps = 1);
  WeightMonitor& record_weights(std::string name, std::string_view projection,
                                std::vector<std::pair<std::uint32_t, std::uint32_t>> synapses,
                                std::uint32_t every_steps = 1);

  // Homeostatic structural plasticity (see structural_plasticity.hpp); once per network, after
  // the populations and projections it names.
  StructuralPlasticity& enable_structural_plasticity(const StructuralPlasticitySpec& spec);
  const StructuralPlasticity* structural_plasticity() const { return structural_.get(); }

  // Adds neurons to a population between runs; projections spanning it to the end follow, and
  // `connect` gives the new neurons synapses (see neuron_changes.hpp).
  void grow(std::string_view population, std::size_t n,
            const std::vector<GrowthConnection>& connect = {});
  // Removes neurons now (between runs): see neuron_changes.hpp. Throws ParameterError for an
  // index out of range or already removed, or a population with gap junctions.
  void remove_neurons(std::string_view population, std::vector<std::uint32_t> indices);
  // Changes applied during later runs, at their time; rules checked every rule.every seconds.
  void schedule(const NeuronChange& change);
  void add_neuron_rule(const NeuronRule& rule);
  // Sizes of a population after each change (the first entry: when it was added).
  const std::vector<SizeChange>& size_history(std::string_view population) const;

  Population& population(std::string_view name);
  Projection& projection(std::string_view name);
  Neuromodulator& modulator(std::string_view name);
  const std::vector<std::unique_ptr<Neuromodulator>>& modulators() const { return mods_; }
  const std::vector<std::unique_ptr<PairingReward>>& rewards() const { return rewards_; }
  const std::vector<std::unique_ptr<Population>>& populations() const { return pops_; }
  const std::vector<std::unique_ptr<Projection>>& projections() const { return projs_; }
  const std::vector<std::unique_ptr<SpikeMonitor>>& spike_monitors() const { return spike_mons_; }
  const std::vector<std::unique_ptr<StateMonitor>>& state_monitors() const { return state_mons_; }
  const std::vector<std::unique_ptr<RateMonitor>>& rate_monitors() const { return rate_mons_; }
  const std::vector<std::unique_ptr<WeightMonitor>>& weight_monitors() const { return weight_mons_; }
  // Spikes each population emitted since construction.
  std::uint64_t spike_count(std::string_view population) const;

  // Advances by round(duration / dt) steps.
  RunStats run(double duration, const RunOptions& options = {});

 private:
  void check_new_name(const std::string& name, const char* what) const;
  RunStats run_steps(std::uint64_t n_steps, const RunOptions& options);
  // Applies the scheduled changes due at the current step and the rules checked now.
  void apply_changes();
  void apply(const NeuronChange& change);
  void check_growth(const Population& pop, std::size_t n,
                    const std::vector<GrowthConnection>& connect) const;
  void record_size(std::size_t population);
  // Throws ParameterError when the network is distributed: `what` cannot be.
  void refuse_distributed(const std::string& what) const;
  // Steps between spike exchanges when distributed (the same on every process).
  std::uint64_t exchange_interval();
  std::size_t population_index(std::string_view name) const;

  double dt_;
  std::uint64_t seed_;
  Communicator* comm_ = nullptr;
  std::uint64_t step_ = 0;
  std::vector<std::unique_ptr<Population>> pops_;
  std::vector<std::unique_ptr<Projection>> projs_;
  std::vector<std::unique_ptr<Input>> inputs_;
  std::vector<std::unique_ptr<Neuromodulator>> mods_;
  std::vector<std::unique_ptr<PairingReward>> rewards_;
  std::vector<std::unique_ptr<SpikeMonitor>> spike_mons_;
  std::vector<std::unique_ptr<StateMonitor>> state_mons_;
  std::vector<std::unique_ptr<RateMonitor>> rate_mons_;
  std::vector<std::unique_ptr<WeightMonitor>> weight_mons_;
  std::unique_ptr<StructuralPlasticity> structural_;
  // RunOptions::fall_back's choice, for `requested` threads on a network of this many neurons
  // (0 threads: none made yet).
  struct ThreadChoice {
    int requested = 0, chosen = 0;
    std::size_t neurons = 0;
    double one_step = 0.0, many_step = 0.0;
  };
  ThreadChoice thread_choice_;
  std::vector<NeuronChange> schedule_;  // pending, in time order
  struct RuleState {
    NeuronRule rule;
    std::uint64_t every_steps = 1;
    std::uint64_t checked = 0;        // the last step checked at (once per step, across runs)
    std::vector<double> below_since;  // remove_inactive: time Ca went below level, or -1
  };
  std::vector<RuleState> neuron_rules_;
  std::vector<std::vector<SizeChange>> size_history_;
  std::uint64_t changes_applied_ = 0;
  std::vector<std::uint64_t> spike_counts_;
  std::uint32_t next_object_id_ = 0;
};

}  // namespace volley
