#pragma once
// A projection: synapses from a slice of one population onto a channel of a slice of another.
// Storage is CSR (one row per presynaptic neuron, targets sorted): a static synapse costs a
// 4-byte target index and a 4-byte float weight; the delay is one number for the projection
// unless delays differ, in which case each synapse also stores a 2-byte delay in steps.
// Plastic projections add a post->pre index (CSC) and pre/post traces (one of each per neuron;
// the triplet rule a second of each, see plasticity.hpp).
#include <algorithm>
#include <atomic>
#include <memory>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "volley/aligned.hpp"
#include "volley/connectivity.hpp"
#include "volley/distribution.hpp"
#include "volley/plasticity.hpp"
#include "volley/spike_list.hpp"
#include "volley/units.hpp"

namespace volley {
namespace eq {
struct SynapseText;
}

class Neuromodulator;
class Population;

// A contiguous range of a population's neurons; count = npos means "to the end" (follows growth).
struct Slice {
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::size_t start = 0;
  std::size_t count = npos;
};

// (first neuron, count) of a slice of `p`; ParameterError prefixed with `what` when it does not fit.
std::pair<std::size_t, std::size_t> resolve_slice(const Slice& s, const Population& p,
                                                  const std::string& what);

struct ProjectionSpec {
  std::string name;
  std::string source, target;  // population names
  Slice source_slice, target_slice;
  std::string channel = "exc";
  Connector connector = AllToAll{};
  Distribution weight = Distribution::constant(0.0);  // in SI units of `weight_dim`
  Dimension weight_dim = Dimension::volts();
  Distribution delay = Distribution::constant(0.0);   // s; rounded to steps, at least one step
  // One delay per synapse (s), in the order of the synapses sorted by (pre, post) — from a
  // synapse file; overrides `delay` when not empty.
  std::vector<double> synapse_delays;
  std::optional<StdpParams> stdp;
  // Synapses written as equations (Brian2's Synapses: model, on_pre, on_post; see
  // equations/synapse_model.hpp) instead of `channel` and `stdp`. A synapse variable named `w` is
  // held in weights() (SI units) and drawn from `weight`; `synapse_initial` gives the others
  // (SI; unnamed ones start at 0). Delays must be the same for every synapse.
  std::shared_ptr<const eq::SynapseText> synapse_equations;
  std::vector<std::pair<std::string, Distribution>> synapse_initial;
};

class Projection {
 public:
  // Builds connectivity, weights and delays. Called by Network::connect. In a network
  // distributed over processes, `owned` is the range of target neurons (absolute) this process
  // holds: the projection keeps only the synapses onto them, each with the weight and delay it
  // has in the whole network (draws are keyed by the synapse's place in the whole pattern).
  static constexpr std::pair<std::size_t, std::size_t> kAllTargets{0, ~std::size_t{0}};
  Projection(const ProjectionSpec& spec, Population& source, Population& target, double dt,
             std::uint64_t seed, std::uint32_t id,
             std::pair<std::size_t, std::size_t> owned = kAllTargets);

  const std::string& name() const { return name_; }
  Population& source() const { return *source_; }
  Population& target() const { return *target_; }
  std::size_t channel() const { return channel_; }
  std::size_t pre_begin() const { return pre_lo_; }
  std::size_t pre_count() const { return n_pre_; }
  std::size_t post_begin() const { return post_lo_; }
  std::size_t post_count() const { return n_post_; }

  std::size_t synapse_count() const { return cols_.size(); }
  // Largest and smallest delay in steps (>= 1).
  std::uint32_t max_delay_steps() const { return max_delay_; }
  std::uint32_t min_delay_steps() const;
  // Distributed: the smallest and largest delay (steps) over every process's synapses (min >
  // max: none anywhere), so that each process stores delays as one process would: one number
  // when they are all equal, per synapse otherwise (the choice decides how events are summed).
  // Called by Network::connect and, distributed, before every run.
  void settle_delays(std::uint32_t min_steps, std::uint32_t max_steps);
  // Local extremes for it (min > max when this process holds no synapse).
  std::pair<std::uint32_t, std::uint32_t> local_delay_range() const;
  // The target neurons (absolute) whose synapses this process holds (all, unless distributed).
  bool owns_target(std::size_t post_abs) const {
    return post_abs >= owned_.first && post_abs < owned_.second;
  }
  bool homogeneous_delay() const { return delays_.empty(); }
  // False when every delay is one step into an exponential channel: events then go straight
  // into the channel's state instead of through the target's delay ring.
  bool uses_ring() const;
  bool plastic() const { return stdp_.has_value(); }
  // Synapses written as equations (ProjectionSpec::synapse_equations).
  bool equations() const { return eq_ != nullptr; }
  // Seconds spent compiling the synapse equations' kernel (0 when cached or not equations).
  double compile_seconds() const;
  // A per-synapse variable of the synapse equations in SI units, CSR order; throws
  // ParameterError naming the known variables.
  std::vector<double> synapse_variable(const std::string& name) const;
  // Reward-modulated: STDP fills eligibility traces, the modulator turns them into weight changes.
  bool modulated() const { return stdp_ && stdp_->modulated(); }
  const std::optional<StdpParams>& stdp() const { return stdp_; }
  // Eligibility trace per synapse (CSR order, weight units of weights()); empty unless modulated.
  const AlignedVector<float>& eligibility() const { return elig_; }
  // Called by Network::connect for a modulated projection.
  void set_modulator(Neuromodulator* modulator) { modulator_ = modulator; }
  // Bytes held per synapse, and in total (row pointers, plasticity index and traces included).
  std::size_t bytes_per_synapse() const;
  std::size_t memory_bytes() const;
  // Synaptic events delivered since construction (one per synapse of each spike it carried), as
  // counted by the runs (add_events).
  std::uint64_t events() const { return events_.load(std::memory_order_relaxed); }
  void add_events(std::uint64_t n) { events_.fetch_add(n, std::memory_order_relaxed); }

  // Read access in CSR order. Weights are in the target channel's internal units; `weight_si`
  // divides by the factor used at construction.
  const std::vector<std::uint64_t>& row_ptr() const { return row_ptr_; }
  const AlignedVector<std::uint32_t>& targets() const { return cols_; }  // absolute indices
  const AlignedVector<float>& weights() const { return weights_; }
  // (Writable access makes the next run check again whether all weights are equal: take the
  // reference again after a run before changing weights through it.)
  AlignedVector<float>& weights() {
    uniform_checked_ = false;
    return weights_;
  }
  double weight_factor() const { return weight_factor_; }
  Dimension weight_dim() const { return weight_dim_; }
  std::uint32_t delay_steps(std::size_t synapse) const {
    return delays_.empty() ? max_delay_ : delays_[synapse];
  }

  // CSR index of the first synapse pre -> post (relative indices), or kNoSynapse.
  static constexpr std::uint64_t kNoSynapse = ~std::uint64_t{0};
  std::uint64_t find_synapse(std::uint32_t pre_rel, std::uint32_t post_rel) const;

  // Structural changes between runs. Indices are relative to the projection's slices; weights in
  // SI units of the spec's weight dimension; delays in seconds.
  void add_synapses(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& pairs,
                    double weight_si, double delay_s);
  // Removes the synapses for which pred(pre_rel, post_rel, weight_internal) is true; returns count.
  template <class Pred>
  std::size_t remove_synapses(Pred pred);
  // Removes the synapses whose CSR indices `drop` marks (drop.size() == synapse_count()).
  void remove_synapses_at(const std::vector<char>& drop);
  // The spec's weight (SI) when it was one constant for every synapse, else NaN.
  double constant_weight_si() const { return constant_weight_si_; }
  // Follows populations that grew when the projection spans them to the end.
  void sync_sizes();
  // After a growth (sync_sizes done), synapses by connection rule `c` for the new neurons: the
  // block (new pre x all post) and the block (old pre x new post), self-pairs as the rule says;
  // constant weight and delay of the spec (ParameterError otherwise). Returns synapses added.
  std::size_t connect_grown(const Connector& c, std::size_t old_pre, std::size_t old_post,
                            std::uint64_t seed, std::uint32_t stream);
  bool spans_source_to_end() const { return source_slice_.count == Slice::npos; }
  bool spans_target_to_end() const { return target_slice_.count == Slice::npos; }

  // ---- kernel interface (used by the simulator) ----
  // Delivers the source population's spikes (absolute indices) to targets in [post_lo, post_hi)
  // (absolute), applying pre-spike plasticity there; returns the events delivered (the caller
  // adds them up: one shared counter written by every thread at every step cost more than the
  // delivery of a small network).
  std::uint64_t deliver(SpikeList spikes, std::uint64_t step, std::size_t post_lo, std::size_t post_hi);
  // Threads that deliver into target slices [bounds[t], bounds[t + 1]) (absolute) find their
  // part of each row in a table made here instead of by a binary search per spike and row, which
  // cost more than delivering the part of a 80-synapse row. Made only when rows are long enough
  // for the table to stay small beside the synapses; dropped by any structural change, after
  // which deliver searches again until the next call.
  void split_rows(std::span<const std::size_t> bounds);
  // Post-spike plasticity (or synapse equations' on_post) for target spikes within
  // [post_lo, post_hi) at `step`.
  void post_spikes(SpikeList target_spikes, std::uint64_t step, std::size_t post_lo, std::size_t post_hi);
  // Decays and increments traces of pre neurons in [lo, hi) / post neurons in [lo, hi)
  // (absolute indices of the source / target population).
  void update_pre_traces(SpikeList spikes, std::size_t lo, std::size_t hi);
  void update_post_traces(SpikeList spikes, std::size_t lo, std::size_t hi);
  // Periodic weight updates after step `step`, every update interval, over synapses [lo, hi)
  // (CSR indices): modulated STDP (w <- clip(w + Δ m c), c <- c exp(-Δ/tau_c)) or a rate-based
  // Hebbian rule (reads every neuron's rate estimate: call after all traces are updated).
  bool periodic_due(std::uint64_t step) const {
    return (modulator_ || hebbian_) && (step + 1) % update_steps_ == 0;
  }
  bool hebbian() const { return hebbian_; }
  void apply_periodic(std::size_t lo, std::size_t hi);
  ~Projection();
  // Re-derives the delay ring layout needs and plasticity constants for dt.
  void prepare(double dt);

 private:
  void rebuild(std::vector<std::uint64_t> row_ptr, AlignedVector<std::uint32_t> cols,
               AlignedVector<float> weights, std::vector<std::uint16_t> delays);
  void find_uniform_weight();
  void build_post_index();
  void resize_traces();
  // The plasticity kernels, one instance per rule (pair/triplet) and weight dependence.
  template <bool kTriplet, bool kMultiplicative>
  void depress_row(std::size_t pre_rel, std::uint64_t b, std::uint64_t e);
  template <bool kTriplet, bool kMultiplicative>
  void potentiate_column(std::size_t post_rel);
  void apply_modulation(std::size_t lo, std::size_t hi);
  template <bool kBcm>
  void apply_hebbian(std::size_t lo, std::size_t hi);
  // Synapse equations (equation_synapses.cpp).
  struct Equations;
  void setup_equations(const ProjectionSpec& spec, std::uint64_t seed, std::uint32_t id);
  void prepare_equations(double dt);
  std::uint64_t deliver_equations(SpikeList spikes, std::uint64_t step, std::size_t post_lo,
                                  std::size_t post_hi);
  // Where deliver finds a row's synapses onto [lo, hi): the whole row (every synapse kept here is
  // inside), the split_rows table's column `slot`, or a binary search.
  struct RowCut {
    enum class How { kWhole, kTable, kSearch } how;
    std::size_t slot, lo, hi;
  };
  RowCut row_cut(std::size_t post_lo, std::size_t post_hi) const;
  std::pair<std::uint64_t, std::uint64_t> row_range(const RowCut& cut, std::size_t r) const {
    switch (cut.how) {
      case RowCut::How::kWhole:
        return {row_ptr_[r], row_ptr_[r + 1]};
      case RowCut::How::kTable: {
        const std::uint64_t* q = row_cuts_.data() + r * cut_bounds_.size() + cut.slot;
        return {q[0], q[1]};
      }
      default:
        break;
    }
    const std::uint32_t* c = cols_.data();
    const auto b = std::lower_bound(c + row_ptr_[r], c + row_ptr_[r + 1], cut.lo);
    const auto e = std::lower_bound(b, c + row_ptr_[r + 1], cut.hi);
    return {static_cast<std::uint64_t>(b - c), static_cast<std::uint64_t>(e - c)};
  }
  void post_equations(SpikeList target_spikes, std::uint64_t step, std::size_t post_lo, std::size_t post_hi);
  void require_static(const char* what) const;
  std::size_t equation_bytes_per_synapse() const;

  std::string name_;
  Population* source_;
  Population* target_;
  std::size_t channel_ = 0;
  Slice source_slice_, target_slice_;
  std::size_t pre_lo_ = 0, n_pre_ = 0, post_lo_ = 0, n_post_ = 0;
  std::pair<std::size_t, std::size_t> owned_ = kAllTargets;
  double dt_ = 0.0;
  double weight_factor_ = 1.0;
  Dimension weight_dim_;

  std::vector<std::uint64_t> row_ptr_;
  AlignedVector<std::uint32_t> cols_;  // absolute target indices
  AlignedVector<float> weights_;
  std::vector<std::uint16_t> delays_;  // empty when all delays equal max_delay_
  bool keep_delays_ = false;  // distributed: delays differ elsewhere in the projection
  std::uint32_t max_delay_ = 1;
  bool uniform_weight_ = false;  // static and every weight equal (set by prepare and rebuild)
  bool uniform_checked_ = false;  // uniform_weight_ is up to date (no writable weights() since)
  double constant_weight_si_ = 0.0;
  std::atomic<std::uint64_t> events_{0};
  // split_rows: row_cuts_[r * cut_bounds_.size() + t] is row r's first synapse onto a target
  // >= cut_bounds_[t] (the last column: the row's end); empty when not made or out of date.
  std::vector<std::uint64_t> row_cuts_;
  std::vector<std::size_t> cut_bounds_;

  // Plasticity.
  std::optional<StdpParams> stdp_;
  std::vector<std::uint64_t> col_ptr_;     // CSC over post (relative)
  std::vector<std::uint64_t> col_syn_;     // synapse ids
  std::vector<std::uint32_t> col_pre_;     // relative pre index of each CSC entry
  AlignedVector<float> x_pre_, y_post_;    // r1 (tau_plus) and o1 (tau_minus)
  AlignedVector<float> x2_pre_, y2_post_;  // r2 (tau_x) and o2 (tau_y): triplet rule only
  float decay_plus_ = 0, decay_minus_ = 0, a_plus_ = 0, a_minus_ = 0, w_min_ = 0, w_max_ = 0;
  float decay_x_ = 0, decay_y_ = 0, a3_plus_ = 0, a3_minus_ = 0, inv_range_ = 0;
  // Modulation: eligibility per synapse (cleared by structural changes), its decay over one
  // update interval, and the interval in steps.
  AlignedVector<float> elig_;
  Neuromodulator* modulator_ = nullptr;
  std::uint64_t update_steps_ = 1;
  float decay_c_ = 0, update_seconds_ = 0;
  // Rate-based Hebbian rules: x_pre_/y_post_ are rate traces, x2_pre_ Oja's running mean of x,
  // y2_post_ BCM's threshold; trace -> normalised rate factor; running-mean rates per step.
  bool hebbian_ = false, bcm_ = false, centred_ = false;
  float rate_scale_ = 0, k_mean_ = 0, k_theta_ = 0, inv_y0_ = 0, eta_dt_ = 0, w_ref_ = 0,
        inv_w_ref_ = 0;
  bool triplet_ = false, multiplicative_ = false, nearest_ = false;
  std::unique_ptr<Equations> eq_;
};

template <class Pred>
std::size_t Projection::remove_synapses(Pred pred) {
  std::vector<char> drop(cols_.size(), 0);
  std::size_t removed = 0;
  for (std::size_t i = 0; i < n_pre_; ++i)
    for (std::uint64_t s = row_ptr_[i]; s < row_ptr_[i + 1]; ++s)
      if (pred(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(cols_[s] - post_lo_),
               weights_[s])) {
        drop[s] = 1;
        ++removed;
      }
  remove_synapses_at(drop);
  return removed;
}

}  // namespace volley
