#pragma once
// Neuromodulation for three-factor plasticity (Izhikevich 2007, "Solving the distal reward
// problem through linkage of STDP and dopamine signaling", Cereb Cortex 17:2443).
//
// A Neuromodulator is one global concentration m(t), in Hz (a rate: it turns an eligibility in
// weight units into a weight change per second):
//   m(t) = baseline + p(t),   dp/dt = -p / tau,   p += amount at each release.
// A projection whose STDP names a modulator does not change its weights at spikes. Its STDP
// updates go into a per-synapse eligibility trace c instead, and the weights follow
//   dc/dt = -c / tau_c + STDP(pre/post spikes),      dw/dt = m(t) c(t),   w in [w_min, w_max],
// integrated every `update_interval` Δ (a whole number of steps) as
//   w <- clip(w + Δ m c),   c <- c exp(-Δ / tau_c),
// with m read at the update (Izhikevich's own scheme updates every 10 ms this way: with
// Δ = 10 ms, baseline 0.2 Hz and a release of 50 Hz it is his s += (0.002 + DA) sd, DA += 0.5).
//
// A PairingReward watches two neurons and releases `amount` into a modulator a random delay in
// [delay_min, delay_max] after every time the postsynaptic neuron fires within `window` after a
// spike of the presynaptic one (0 < t_post - t_pre < window, the latest pre spike counts). The
// pair is one synapse of a projection (pre neuron, k-th synapse of its row), whose weight the
// reward also records with the mean weight of the projection's other synapses, every
// `record_every` (the observables of Izhikevich's Fig. 1).
//
// Order within a step (see network.hpp): rewards see this step's spikes and modulators advance
// (decay, then the releases due now) on one thread; modulated projections update their weights
// after the STDP of the step. Delays are drawn from a counter-based generator keyed by the
// network seed, the reward and the step, so runs are identical for any thread count.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "volley/spike_list.hpp"

namespace volley {

class Communicator;
class Projection;

struct ModulatorSpec {
  std::string name;
  double tau = 0.2;       // s, decay of the released (phasic) part
  double baseline = 0.0;  // Hz, tonic level
};

class Neuromodulator {
 public:
  explicit Neuromodulator(const ModulatorSpec& spec);
  const std::string& name() const { return spec_.name; }
  const ModulatorSpec& spec() const { return spec_; }

  // The level m in Hz during the current step (after its releases).
  double level() const { return spec_.baseline + phasic_; }
  double phasic() const { return phasic_; }
  // Schedules `amount` (Hz) to be released at `step` (the current step or later).
  void release(double amount, std::uint64_t step);
  // Releases done so far and still pending.
  std::uint64_t releases() const { return released_; }
  std::size_t pending() const { return queue_.size(); }
  const std::vector<double>& release_times() const { return release_times_; }

  // ---- simulator interface ----
  void prepare(double dt);
  // Decays the phasic part by one step, then adds the releases due at `step`.
  void advance(std::uint64_t step);

 private:
  ModulatorSpec spec_;
  double dt_ = 0.0, decay_ = 1.0, phasic_ = 0.0;
  std::vector<std::pair<std::uint64_t, double>> queue_;  // (step, amount), kept sorted by step
  std::uint64_t released_ = 0;
  std::vector<double> release_times_;  // s
};

struct PairingRewardSpec {
  std::string name;
  std::string modulator;
  std::string projection;
  std::size_t pre = 0;       // presynaptic neuron, relative to the projection's source slice
  std::size_t synapse = 0;   // k-th synapse of its row (targets sorted)
  double window = 20e-3;     // s
  double delay_min = 1.0;    // s
  double delay_max = 3.0;    // s
  double amount = 0.0;       // Hz released into the modulator
  double record_every = 1.0; // s; 0 = never
};

class PairingReward {
 public:
  // With a communicator of several processes (a distributed network; collective, like every
  // call below that takes or uses it): the synapse is the k-th of the whole row, held by the
  // process that owns its target; the others see the same spikes and release the same
  // modulator, and the records merge every process's part.
  PairingReward(const PairingRewardSpec& spec, Projection& projection, Neuromodulator& modulator,
                std::uint32_t id, Communicator* comm = nullptr);
  const std::string& name() const { return spec_.name; }
  const PairingRewardSpec& spec() const { return spec_; }
  Projection& projection() const { return *projection_; }
  Neuromodulator& modulator() const { return *modulator_; }
  // Absolute indices of the watched neurons in their populations, and the synapse (CSR index;
  // distributed, on the process that holds it).
  std::size_t pre_neuron() const { return pre_abs_; }
  std::size_t post_neuron() const { return post_abs_; }
  std::uint64_t synapse_index() const;
  bool holds_synapse() const { return holder_; }  // always, in one process
  // Weight of the synapse and mean of the projection's other weights (an exact sum, the same
  // for any split between processes), in SI weight units. Distributed: as of the end of the
  // last run (settle()), so that one process can read them alone.
  double weight() const;
  double others_mean() const;
  std::uint64_t pairings() const { return pairings_; }

  // Recorded every record_every: time (s), synapse weight and mean of the others (SI units).
  const std::vector<double>& times() const { return times_; }
  const std::vector<double>& weights() const { return weights_; }
  const std::vector<double>& others() const { return others_; }

  // ---- simulator interface ----
  void prepare(double dt);
  // Sees this step's spikes of the source and target populations.
  void observe(std::uint64_t step, std::uint64_t seed, SpikeList pre_spikes, SpikeList post_spikes);
  bool record_due(std::uint64_t step) const;  // true after the last step of a record period
  void record(std::uint64_t step);
  // Distributed: brings weight() and others_mean() up to date (every process, after a run).
  void settle();

 private:
  // The weight and the others' mean, merged over processes when distributed.
  std::pair<double, double> measure() const;
  bool distributed() const;
  // (synapses of the followed row held by earlier processes, synapses of the whole row).
  std::pair<std::uint64_t, std::uint64_t> row_share() const;

  PairingRewardSpec spec_;
  Projection* projection_;
  Neuromodulator* modulator_;
  std::uint32_t stream_;
  std::size_t pre_abs_ = 0, post_abs_ = 0;
  std::uint64_t row_offset_ = 0;  // the synapse's position in the pre neuron's (local) row
  Communicator* comm_ = nullptr;
  bool holder_ = true;  // this process holds the synapse
  std::uint64_t before_ = 0;  // row_share().first at construction
  double settled_weight_ = 0.0, settled_others_ = 0.0;
  double dt_ = 0.0;
  std::uint64_t window_steps_ = 0, record_steps_ = 0;
  bool have_pre_ = false;
  std::uint64_t last_pre_ = 0, pairings_ = 0;
  std::vector<double> times_, weights_, others_;
};

}  // namespace volley
