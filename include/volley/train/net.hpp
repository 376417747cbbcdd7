#pragma once
// A spiking network unrolled in time for training: a stack of layers (LIF, adaptive LIF, leaky
// readout), each fed by the layer below through dense or sparse (CSR) weights, optionally
// recurrent. `forward` runs one sample event-driven (input events add rows of the weight
// matrix); `backward` runs BPTT with a hand-written backward per layer, in a dense mode or an
// active-set mode that visits only (neuron, step) pairs with |u| < window (u = V − θ).
//
// Equations of a spiking layer at step t (states start at 0; α = exp(−dt/τ_syn),
// β = exp(−dt/τ_mem); SpyTorch's ordering, so an input reaches the membrane one step later
// through the synaptic current):
//   I_t       = Σ_i z_t[i]·W[i,·] + Σ_k s_{t−1}[k]·V[k,·]       (V only when recurrent)
//   u_t       = mem_t − θ − b·a_t                                 (b = 0 unless ALIF)
//   s_t       = H(u_t)   (or sigmoid(k·u_t) in the smooth-forward mode)
//   syn_{t+1} = α·syn_t + I_t,  d_t = syn_t                       (d_t = I_t without a synapse)
//   m̃_{t+1}  = β·mem_t + d_t
//   mem_{t+1} = m̃·(1 − s_t)  |  m̃ − θ·s_t  |  m̃               (reset multiply | subtract | none)
//   a_{t+1}   = ρ·a_t + s_t                                       (ALIF)
// An adlif layer has an adaptation current w (models/discrete_lif.hpp) with per-neuron a, b, ρ:
//   m̃_{t+1}  = β·mem_t + d_t − (1 − β)·w_t,   w_{t+1} = ρ·w_t + (1 − ρ)·a·mem_{t+1} + b·s_t
// θ is one value per neuron when learned (learn_threshold).
// A readout layer has no spike and no reset; its output is y_t = mem_{t+1}.
// A relu layer (the ANN twin's hidden layers) does not spike: h_t = λ·h_{t−1} + I_t and its
// output events are a_t = max(h_t, 0) with their values (λ = β when leaky, else 0), so its
// output reaches the next layer in the same step.
#include <cstddef>
#include <cstdint>
#include <span>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "volley/models/discrete_lif.hpp"
#include "volley/registry.hpp"
#include "volley/train/dataset.hpp"
#include "volley/train/delays.hpp"
#include "volley/train/surrogate.hpp"

namespace volley::train {

// The neurons and their names are shared with the simulator (models/discrete_lif.hpp).
using volley::AdlifStep;
using volley::LayerKind;
using volley::ResetMode;
using volley::layer_kinds;
using volley::reset_modes;

enum class ForwardMode { heaviside, smooth };
// How a layer's per-neuron time constants start (heterogeneity, Perez-Nieves et al. 2021): all
// equal to tau_mem / tau_syn, or drawn with that mean and a coefficient of variation tau_cv.
enum class TauInit { constant, uniform, gamma, lognormal };
// sparse: the active set (|u| < window) in a time-major pass over every neuron; event: the same
// active set and gradients, with the neuron work of eligible layers following events (blocks of
// 16 neurons with no input and far from threshold are advanced analytically, event_layer.cpp).
enum class BackwardMode { dense, sparse, event };

struct LayerConfig {
  LayerKind kind = LayerKind::lif;
  std::size_t size = 0;
  double tau_mem = 10e-3;       // s
  double tau_syn = 5e-3;        // s; 0 = no synaptic current (input goes straight to V)
  double threshold = 1.0;
  ResetMode reset = ResetMode::multiply;
  bool detach_reset = true;     // the reset is not differentiated (SpyTorch)
  bool recurrent = false;
  bool learn_tau = false;       // per-neuron α and β are trained
  double density = 1.0;         // connection probability of the input weights (1 = dense)
  double recurrent_density = 1.0;
  double weight_scale = 7.0;    // init std = weight_scale·(1 − β)/sqrt(fan_in) (SpyTorch)
  double recurrent_scale = 7.0;
  double tau_adapt = 200e-3;    // s (ALIF: ρ = exp(−dt/τ_adapt))
  double adapt_strength = 1.8;  // b (ALIF; Bellec et al. 2018)
  bool leaky = false;           // relu: h_t = β·h_{t−1} + I_t (else h_t = I_t)
  TauInit tau_init = TauInit::constant;  // per-neuron τ_mem and τ_syn at the start
  double tau_cv = 0.0;          // their coefficient of variation (not constant)
  double tau_lr_scale = 1.0;    // learn_tau: the learning rate of α and β relative to the weights'
  double tau_max = 0.0;         // s: the largest τ_mem, τ_syn that tau_init draws and learning
                                // reach (0 = the decay factors' bound kMaxDecay, 10⁴ dt)
  double adapt_coupling = 0.0;  // a (adlif)
  bool learn_threshold = false; // per-neuron θ is trained (lif, alif, adlif)
  bool learn_adapt = false;     // per-neuron a and b are trained (adlif; ρ with learn_tau)
  // Synaptic delays of the input projection (delays.hpp): one per synapse in [0, max_delay],
  // drawn uniformly at the start; 0 = no delays.
  double max_delay = 0.0;       // s
  bool learn_delay = false;     // the delays are trained (DCLS-style Gaussian taps)
  double delay_sigma = 0.0;     // s: the taps' initial σ (0 = rounded delays from the start)
  double delay_anneal = 0.75;   // σ falls linearly to 0 over this fraction of the epochs
  double delay_lr_scale = 100.0;  // learning rate of the delays (in steps) relative to the weights'
};

// The ranges that learning keeps parameters in (Net::constrain): decay factors α, β, ρ in
// [0, kMaxDecay]; θ ≥ kMinThreshold; adlif's a in [0, kMaxCoupling] and b in [0, kMaxJump]
// (SE-adLIF's ranges, Baronig et al. 2025).
inline constexpr float kMaxDecay = 0.9999f;
inline constexpr float kMinThreshold = 0.01f;
inline constexpr float kMaxCoupling = 120.0f;
inline constexpr float kMaxJump = 2.0f;

struct NetConfig {
  std::size_t n_inputs = 0;
  std::size_t n_steps = 100;
  double dt = 1e-3;
  std::vector<LayerConfig> layers;
  SurrogateConfig surrogate;
  ForwardMode forward = ForwardMode::heaviside;
  double smooth_scale = 10.0;   // k of the smooth-forward sigmoid
  BackwardMode backward = BackwardMode::sparse;
  double window = 0.5;          // active set: |u| < window (0 or infinity = unbounded)
  std::uint64_t seed = 1;       // weight initialisation and connectivity

  // Throws ParameterError naming the layer and field.
  void validate() const;
};

// Registries of the network's choices (training-file names, meanings, error messages, docs).
const Registry<Choice<ForwardMode>>& forward_modes();
const Registry<Choice<BackwardMode>>& backward_modes();
const Registry<Choice<TauInit>>& tau_inits();

// The numeric parameters, with the ranges NetConfig::validate enforces, by training-file table:
std::span<const volley::Param<NetConfig>> network_params();          // [network]: dt, steps, seed
std::span<const volley::Param<NetConfig>> smooth_forward_params();   // [surrogate]: smooth_scale
std::span<const volley::Param<NetConfig>> backward_params();         // [backward]: window
std::span<const volley::Param<LayerConfig>> layer_params();          // [[layers]], every type
std::span<const volley::Param<LayerConfig>> spiking_layer_params();  // lif and alif only
std::span<const volley::Param<LayerConfig>> alif_params();           // alif and adlif
std::span<const volley::Param<LayerConfig>> adlif_params();          // adlif only
std::span<const volley::Param<LayerConfig>> relu_layer_params();     // relu only

// Weights from n_pre to n_post neurons: dense row-major (pre-major) or CSR by presynaptic row.
// The values live in the network's parameter list (`param`).
struct WeightLayout {
  std::size_t n_pre = 0, n_post = 0;
  bool dense = true;
  std::vector<std::uint32_t> row_ptr;  // CSR only: n_pre + 1
  std::vector<std::uint32_t> cols;     // CSR only
  std::size_t param = 0;               // index into Net::params()
  std::size_t size() const { return dense ? n_pre * n_post : cols.size(); }
};

struct Param {
  std::string name;         // "layer0.w", "layer0.v", "layer1.beta", ...
  std::vector<float> value;
  bool trainable = true;    // α and β are parameters but only trained with learn_tau
  double lr_scale = 1.0;    // the optimiser's learning rate times this (α, β: tau_lr_scale)
};

// An allocator that leaves new elements uninitialised on resize (for buffers that are always
// written before they are read), so growing a record by a step costs no memset.
template <class T>
struct NoInitAllocator : std::allocator<T> {
  using std::allocator<T>::allocator;
  template <class U>
  struct rebind {
    using other = NoInitAllocator<U>;
  };
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
template <class T>
using Buffer = std::vector<T, NoInitAllocator<T>>;

// What the forward pass keeps of one layer for the backward pass.
struct LayerRecord {
  // Output events per step (spikes; all neurons with their sigmoid in the smooth mode).
  std::vector<std::uint32_t> off;
  Buffer<std::uint32_t> idx;
  Buffer<float> val;
  // Dense backward: u_t for every (t, j); m̃_{t+1} when the multiplicative reset is
  // differentiated; mem_t and syn_t when time constants are learned (and w_t when an adlif
  // layer learns its dynamics). T×N each.
  std::vector<float> u, mt, mem, syn, w;
  // Sparse backward: the active set per step (neuron, u_t, m̃_{t+1} if needed).
  std::vector<std::uint32_t> aoff;
  Buffer<std::uint32_t> aidx;
  Buffer<float> au, amt;
  // Readout output y (T×N).
  std::vector<float> y;
  // dL/ds at the points the backward needs: T×N (dense) or one per active entry (sparse).
  std::vector<float> e;
  // Event-driven layers: per step, the blocks of 16 neurons marked as receiving input (at least
  // those the input reaches; T × ⌈blocks/64⌉ bit-mask words).
  std::vector<std::uint64_t> touched;
};

struct SampleRecord {
  std::vector<LayerRecord> layers;
};

// Gradients of the loss with respect to a sample's input events, one entry per event in the
// sample's order (event k: step t, unit i, value x):
//   value[k] = dL/dx = Σ_j W[i,j]·dL/dI_t[j]
//   time[k]  = x·Σ_j W[i,j]·(dL/dI_{t+1}[j] − dL/dI_t[j]): the first-order change of the loss
//              when the event moves one step later (dL/dI_T = 0: it leaves the sample)
//   grid[t·n_inputs + i] (only when `want_grid` is set): dL/dx for every (step, input), events or
//              not — what adding an event there would do, to first order
// The attacks of attack.hpp chain them to the pixels through the encoder, or act on the events.
struct InputGradients {
  bool want_grid = false;
  std::vector<float> value, time, grid;
};

// One layer's state between steps of `Net::step_layer` (the step-by-step forward that online
// rules such as e-prop use). After a step: `spike` = s_t, `u` = u_t, `mt` = m̃_{t+1} (spiking
// layers), `mem` = mem_{t+1} (= y_t for a readout), and `idx`/`val` the layer's output events
// of the step (its spikes; all neurons with their sigmoid in the smooth-forward mode).
struct LayerState {
  std::vector<float> cur, syn, mem, adapt, spike, u, mt;
  std::vector<std::uint32_t> idx, prev_idx;  // output events of this step and the step before
  std::vector<float> val, prev_val;
  std::vector<float> dring;  // delayed input currents (layers with delays), per neuron a ring
  std::size_t step = 0;      // steps done since reset_state
};

// The correlation of a delayed layer's input events with its dL/dI (one block per presynaptic
// row, shaped as DelayTaps::kernel), summed over samples until Net::fold_gradients turns it
// into the weights' and delays' gradients.
struct DelayCorrelation {
  AlignedVector<float> c;
  std::vector<std::uint8_t> touched;  // per presynaptic row: c is non-zero there
};

// Scratch of the event-driven layers (event_layer.cpp), per block of 16 neurons: the state and
// the step it belongs to; the decay tables α^k, β^k and c_k = Σ_{m<k} β^(k−1−m)·α^m.
struct EventScratch {
  std::vector<float> syn, mem, cur, thr, wake, gm, gs, gi, delta, keep, dact;
  std::vector<float> pa, pb, pc;
  float cmax = 0.0f, table_alpha = 0.0f, table_beta = 0.0f;
  std::vector<std::uint32_t> at;
  std::vector<std::uint64_t> live, awake, hit64;  // bit masks of blocks
  std::vector<std::uint8_t> hit;
  // Block updates done (forward and backward) since the workspace was made: what was not
  // skipped (a test reads it).
  std::size_t updates = 0;
};

// Per-thread scratch for forward/backward.
struct Workspace {
  std::vector<float> cur, syn, mem, adapt, spike;          // forward state (max layer size)
  std::vector<float> gm, gs, ga, gi, gi_next, delta, keep, econst;  // backward state
  std::vector<float> u, mt;                                   // per-step temporaries
  AlignedVector<float> dbuf;  // delayed layers: input currents, or dL/dI, time-major over T + K steps
  std::vector<DelayCorrelation> dcorr;  // per layer (delayed layers only)
  std::vector<std::uint8_t> dany;       // delayed backward: steps with a non-zero dL/dI
  std::vector<std::uint32_t> dnext, drow_off, dorder, dfill, dev;  // its events sorted by row
  DelayRaster draster;          // delayed layers, time-major taps: the input of the sample
  AlignedVector<float> dscratch;  // and their neuron-major sums, or the dense blocks' tile
  // Delayed layers: leave the correlations in dcorr for one fold_gradients call after many
  // samples (the trainer, per chunk) instead of folding after every sample.
  bool defer_fold = false;
  EventScratch event;
};

class Net {
 public:
  // A view of one layer's input events (net_kernels.hpp).
  struct Events;

  explicit Net(NetConfig config);

  const NetConfig& config() const { return config_; }
  std::vector<Param>& params() { return params_; }
  const std::vector<Param>& params() const { return params_; }
  std::size_t n_outputs() const { return config_.layers.back().size; }
  std::size_t n_synapses() const;  // trainable weights
  std::size_t n_trainable() const; // every value the optimiser changes (weights, learned dynamics)

  // Runs one sample. With `keep_backward` false only outputs are recorded (inference).
  void forward(const SampleEvents& input, SampleRecord& rec, Workspace& ws,
               bool keep_backward) const;

  // The forward pass one step at a time, with the same equations and numbers as `forward`:
  // `reset_state` sets layer l's state to 0 (before step 0); `step_layer` advances it by one
  // step given the step's input events (for layer 0 the data's events of the step, otherwise
  // the output events of layer l − 1 at the same step). Nothing is recorded.
  void reset_state(std::size_t l, LayerState& s) const;
  void step_layer(std::size_t l, std::span<const std::uint32_t> in_idx,
                  std::span<const float> in_val, LayerState& s) const;

  // BPTT for one sample whose forward record is `rec` (recorded with keep_backward). `dy` is
  // the gradient of the loss w.r.t. the last layer's output: dL/dy_t (T×N) for a readout, or
  // dL/d(spike count) per neuron (N) for a spiking last layer. `extra_e` (optional, one vector
  // per layer, empty for none) adds a constant per neuron to dL/ds_t of spiking layers (the
  // spike-count regularisers). Gradients are added into `grads` (shapes of params()). With
  // `input_grads`, also the gradients with respect to the input events (overwritten).
  void backward(const SampleEvents& input, SampleRecord& rec, std::span<const float> dy,
                const std::vector<std::vector<float>>* extra_e, std::vector<std::vector<float>>& grads,
                Workspace& ws, InputGradients* input_grads = nullptr) const;

  // Adds the correlations a workspace holds for delayed layers into `grads` (the weights' and
  // delays' gradients) and clears them. backward() does it itself unless ws.defer_fold is set.
  void fold_gradients(Workspace& ws, std::vector<std::vector<float>>& grads) const;

  // Spiking-layer outputs: total events of layer l in a record.
  static std::size_t spike_count(const LayerRecord& r) { return r.idx.size(); }

  // Fraction of (neuron, step) pairs of spiking layers in the active set of a record.
  std::size_t active_pairs(const SampleRecord& rec) const;
  std::size_t hidden_pairs() const;  // Σ over spiking layers of T·N

  std::vector<std::vector<float>> zero_grads() const;
  // Clamps learned time constants into [0, 0.9999] (and the other learned dynamics into their
  // ranges) after an optimiser step; recomputes the delay taps.
  void constrain();
  // Sets the delays' σ for a point of training (progress = epochs done / epochs, delays.hpp's
  // schedule) and recomputes the taps. The σ is a parameter (`layerN.delay_sigma`), so a
  // checkpoint keeps it.
  void set_training_progress(double progress);
  // Recomputes the delay taps and their dense blocks from the parameters: needed after the
  // weights or delays of a layer with delays were written directly (a checkpoint, a test).
  void update_delays();
  // Threads for the work between batches (update_delays; the trainer sets its own count). The
  // results are the same for any count.
  void set_threads(int threads) { threads_ = threads < 1 ? 1 : threads; }
  // The layout of the delay taps (delays.hpp; automatic by default, a test may force one) and
  // recomputes them.
  void set_delay_layout(DelayLayout layout) {
    delay_layout_ = layout;
    update_delays();
  }

  // Replaces the sparsity pattern of a CSR matrix (layer's input weights, or its recurrent ones)
  // and its weights, one per synapse (rewiring, a checkpoint). The synapse count may change:
  // gradient buffers and optimiser state of the parameter must follow. Throws ParameterError
  // for a dense matrix or a malformed pattern (row_ptr of n_pre + 1 ascending entries, columns
  // ascending within a row and < n_post, one value per column).
  void set_pattern(std::size_t layer, bool recurrent, std::vector<std::uint32_t> row_ptr,
                   std::vector<std::uint32_t> cols, std::vector<float> values);
  const WeightLayout& input_weights(std::size_t layer) const { return w_[layer]; }
  const WeightLayout& recurrent_weights(std::size_t layer) const { return v_[layer]; }
  // Smooth forward and relu layers have no active set: their backward is always dense.
  BackwardMode backward_mode() const {
    return config_.forward == ForwardMode::smooth || has_relu_ ? BackwardMode::dense
                                                                : config_.backward;
  }
  // Whether layer l's neuron work follows events (BackwardMode::event): a lif layer without
  // recurrence, delays, learned dynamics or a differentiated reset, whose α and β are the same
  // for every neuron. Other layers of an event-mode network run the sparse mode's kernels.
  bool event_driven(std::size_t l) const;
  // Whether the network is a non-spiking ANN (relu hidden layers).
  bool is_ann() const { return has_relu_; }
  // lif, alif or adlif: binary spikes (relu layers emit graded events, readouts none).
  bool spiking(std::size_t layer) const { return is_spiking(config_.layers[layer].kind); }
  static bool is_spiking(LayerKind k) {
    return k == LayerKind::lif || k == LayerKind::alif || k == LayerKind::adlif;
  }
  // Whether a layer's outputs are events to the layer above (every layer but a readout).
  bool emits_events(std::size_t layer) const {
    return config_.layers[layer].kind != LayerKind::readout;
  }
  // Indices into params() of a layer's α and β, and its adaptation decay ρ (alif; 0 otherwise).
  std::size_t alpha_param(std::size_t layer) const { return alpha_[layer]; }
  std::size_t beta_param(std::size_t layer) const { return beta_[layer]; }
  float adapt_decay(std::size_t layer) const { return rho_[layer]; }
  // Indices into params() of a layer's per-neuron θ (learn_threshold) and adlif's ρ, a and b;
  // kNone where the layer has none.
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t threshold_param(std::size_t layer) const { return theta_[layer]; }
  std::size_t adlif_rho_param(std::size_t layer) const { return adl_rho_[layer]; }
  std::size_t adlif_a_param(std::size_t layer) const { return adl_a_[layer]; }
  std::size_t adlif_b_param(std::size_t layer) const { return adl_b_[layer]; }
  // Index into params() of a layer's per-synapse delays (steps; the input weights' layout), and
  // its taps; kNone / nullptr without delays.
  std::size_t delay_param(std::size_t layer) const { return delay_[layer]; }
  const DelayTaps* delay_taps(std::size_t layer) const {
    return delay_[layer] != kNone ? &taps_[layer] : nullptr;
  }

 private:
  void forward_layer(std::size_t l, const Events& in, LayerRecord& r, Workspace& ws,
                     bool keep) const;
  void forward_layer_event(std::size_t l, const Events& in, LayerRecord& r, Workspace& ws,
                           bool keep) const;
  // Needs ws.event.dact: δ at every active entry of the layer (backward_layer computes it).
  void backward_layer_event(std::size_t l, const Events& in, LayerRecord* below, LayerRecord& r,
                            std::vector<std::vector<float>>& grads, Workspace& ws) const;
  template <class S>
  void backward_layer(std::size_t l, const Events& in, LayerRecord* below, LayerRecord& r,
                      std::span<const float> dy, bool top, std::span<const float> extra_e,
                      std::vector<std::vector<float>>& grads, Workspace& ws, const S& sg,
                      InputGradients* input_grads) const;

  NetConfig config_;
  std::vector<Param> params_;
  std::vector<WeightLayout> w_, v_;             // input and recurrent weights per layer
  std::vector<std::size_t> alpha_, beta_;      // param index of α and β per layer
  std::vector<float> rho_;                     // ALIF adaptation decay per layer
  std::vector<std::size_t> theta_, adl_rho_, adl_a_, adl_b_;  // kNone where absent
  std::vector<std::vector<float>> thr_;        // θ per neuron of layers that do not learn it
  std::vector<std::size_t> delay_, delay_sigma_;  // kNone where absent
  std::vector<DelayTaps> taps_;
  DelayLayout delay_layout_ = DelayLayout::automatic;
  // The thresholds a layer's kernels read: the learned parameter or the constant.
  const float* thresholds(std::size_t l) const {
    return theta_[l] != kNone ? params_[theta_[l]].value.data() : thr_[l].data();
  }
  // Whether the forward pass keeps the states the dynamics' gradients need (mem, syn, w).
  bool keeps_state(std::size_t l) const;
  // The adlif kernel's arguments for layer l over the given state buffers.
  AdlifStep adlif_kernel(std::size_t l, const float* cur, float* syn, float* mem, float* w,
                         float* spike, float* u, float* mt) const;
  std::size_t max_size_ = 0;
  int threads_ = 1;  // set_threads
  bool has_relu_ = false;
};

}  // namespace volley::train
