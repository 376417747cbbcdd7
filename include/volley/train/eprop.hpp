#pragma once
// e-prop (Bellec et al. 2020, "A solution to the learning dilemma for recurrent networks of
// spiking neurons", Nat Commun 11:3625): an online estimate of the loss gradient of a Net whose
// spiking layers (lif / alif, input and recurrent weights, dense or CSR) feed a readout. The
// forward pass runs step by step (Net::step_layer: the equations and numbers of Net::forward);
// every synapse carries an eligibility trace, and nothing of the past steps is kept, so the
// memory does not grow with the number of steps T. The gradients go into the layout of
// Net::zero_grads, so the same optimiser applies.
//
// Notation as in net.hpp: for neuron j of a spiking layer at step t, u_t = mem_t − θ − b·a_t,
// s_t = H(u_t), ψ_t = σ'(u_t) (the net's surrogate; the exact sigmoid derivative in the smooth
// forward mode), keep_t = 1 − s_t for the multiplicative reset and 1 otherwise, m̃_{t+1} =
// β·mem_t + d_t. For a synapse i → j with presynaptic value x_i^t (the input event of step t for
// input weights W, the layer's own spike s_i^{t−1} for recurrent weights V):
//
//   presynaptic current trace  ε^s_{t+1} = α·ε^s_t + x_i^t   (one per presynaptic unit, α being
//                              one per layer); ε^d_t = ε^s_t with a synaptic current, x_i^t
//                              without one
//   eligibility trace          e_t = ψ_t·(ε^m_t − b·ε^a_t)          (= ∂s_t/∂W_ij through the
//                                                                   neuron's own state)
//   membrane                   ε^m_{t+1} = keep_t·(β_j·ε^m_t + ε^d_t) − r_t·e_t
//                              r_t = m̃_{t+1} (multiply) | θ (subtract) when the reset is
//                              differentiated (detach_reset = false), else 0
//   adaptation (alif)          ε^a_{t+1} = ρ·ε^a_t + e_t   (Bellec's ε^a: ψ·ε^v + (ρ − ψ·b)·ε^a)
//   adlif (adaptation current w, per-neuron a, b, ρ; u = mem − θ, so e_t = ψ_t·ε^m_t):
//                              ε^m_{t+1} = keep_t·(β_j·ε^m_t + ε^d_t − (1 − β_j)·ε^w_t) − r_t·e_t
//                              ε^w_{t+1} = ρ_j·ε^w_t + (1 − ρ_j)·a_j·ε^m_{t+1} + b_j·e_t
//
// Delayed input weights (delays.hpp): synapse ij receives Σ_o φ_o(d_ij)·x_i(t − start − o), so
// its ε^d is its own, ε^d_ij,t = Σ_o φ_o·ε^d_i,t−start−o (ε^d of the row at earlier steps: the
// traces are linear, so delaying the input delays ε^s). Learned delays follow a second set of
// the same traces driven by ∂(drive)/∂d_ij = w_ij·Σ_o ∂φ_o/∂d·ε^d_i,t−start−o; their gradient
// is formed like the weights'. The cost is synapses × steps × taps per sample (dense in time:
// the traces run from a row's first event to the end of the sample), against BPTT's
// events × taps; the rows' history of ε^d is kept for the sample (T × inputs).
//
// ε^m and ε^a are exactly the forward-mode derivatives of mem and a with respect to W_ij when
// the other neurons' activity is held fixed: e-prop drops only the paths through other neurons
// (recurrent weights, and in deeper stacks the layers between a neuron and the output).
//
// Learning signal and readout filter. The readout is y_k^t = mem_{t+1} of a leaky integrator
// (with its own synaptic current if tau_syn > 0): an input I_t reaches y_{t+m} with the impulse
// response h(m) (h(m) = β_o^m without a synapse; h(0) = 0, h(m) = Σ_{p<m} α_o^p·β_o^{m−1−p}
// with one). The learning signal of neuron j is L_j^t = Σ_k B_jk·∂L/∂y_k^t and the e-prop
// gradient is Σ_t L_j^t·F_κ[e_ij]_t, F_κ the causal filter with response h (Bellec's κ filter;
// here the exact readout dynamics, so the readout's leak is accounted for exactly). The
// supported losses factorise: ∂L/∂y_k^t = G_k·c_t with c_t known in advance —
//   mean_ce: G = softmax(mean_t y) − onehot, c_t = 1/T;   last_ce: G = softmax(y_{T−1}) −
//   onehot, c_t = [t = T−1]
// so Σ_t L_j^t·F_κ[e]_t = (Σ_k B_jk·G_k)·Σ_t w_t·e_t with the scalars w_t = Σ_{t'≥t} c_{t'}·
// h(t'−t). Each synapse therefore accumulates A_ij = Σ_t w_t·e_t online, and the gradient
// A_ij·Σ_k B_jk·G_k is formed when G is known, after the last step: the κ-filtered trace is
// folded into w_t (mathematically the same sum, one array less per synapse). Losses without
// this structure are rejected: max_ce (the step of the maximum is known only at the end),
// count_ce / count_mse (a spiking last layer). The readout's own weight gradients are exact:
// Σ_t w_t·x_j^t per presynaptic unit, times G_k.
//
// Feedback B (N_l × C for spiking layer l):
//   symmetric  the top spiking layer (the one feeding the readout) uses the readout weights
//              (B_jk = W_out[j, k], 0 where a sparse readout has no synapse), read at every
//              sample; lower layers have no weights to the output, so they get fixed random
//              matrices as under `random`.
//   random     every spiking layer gets a fixed random matrix, N(0, σ²) with the readout's
//              initialisation σ = weight_scale_o·(1 − β_o)/√N_l, drawn from the network seed.
// Each spiking layer's learning signal comes straight from the output error through its own B
// (no propagation through the layers above).
//
// Spike-count regularisers (reg_l1, reg_l2) add a constant per neuron to ∂L/∂s_t; that part of
// the learning signal is local and known before the sample, and is accumulated as Σ_t e_t.
//
// When e-prop equals BPTT: one spiking layer without recurrent weights, symmetric feedback,
// mean_ce or last_ce. Then the only way a neuron reaches the loss is its own state (handled
// exactly by ε^m, ε^a, including a differentiated reset, which is local to the neuron) and its
// spikes into the readout (B = W_out, and the readout filter handled exactly by w_t), so
// Σ_t L^t·F_κ[e]_t is the full gradient — for LIF, ALIF and adLIF, with or without a synaptic current,
// for every reset mode, detached or not (tests/train/test_eprop.cpp checks them against the
// dense BPTT). In a deeper stack without recurrence the top spiking layer (and the readout)
// stay exact, since their inputs do not depend on their weights; lower layers and recurrent
// weights make e-prop an approximation.
//
// Learned dynamics of spiking lif / alif layers (learn_tau: α and β per neuron; learn_threshold:
// θ per neuron). A parameter p of neuron j has traces of the same form as a synapse's, kept per
// neuron (M = ∂mem/∂p, A = ∂a/∂p, one each per neuron):
//   e_t = ψ_t·(M_t − b·A_t + ∂u_t/∂p)            (∂u/∂p = −1 for θ, 0 for α and β)
//   M_{t+1} = keep_t·(β·M_t + c_t) − r_t·e_t − [p = θ, subtract reset]·s_t
//   A_{t+1} = ρ·A_t + e_t
// with c_t = ∂m̃_{t+1}/∂p held fixed: mem_t for β, S_t = ∂syn_t/∂α for α (S_{t+1} = α·S_t +
// syn_t), 0 for θ; the gradient is Σ_t L_j^t·F_κ[e]_t, formed as for the weights. With per-neuron
// α the weights' presynaptic traces ε^s_ij = α_j·ε^s_ij + x_i are kept per synapse. These are
// again exact where the weights' are (one spiking layer without recurrent weights).
// adlif layers (learn_tau: α, β and ρ; learn_adapt: a and b; learn_threshold: θ): A is ∂w/∂p,
//   e_t = ψ_t·(M_t + ∂u_t/∂p);  M_{t+1} = keep_t·(β·M_t + c_t − (1 − β)·A_t) − r_t·e_t [− s_t]
//   A_{t+1} = ρ·A_t + (1 − ρ)·a·M_{t+1} + b·e_t + k_t
// with c_t = ∂m̃/∂p and k_t = ∂w_{t+1}/∂p held fixed: β: c = mem_t + w_t; α: c = S_t; ρ: k =
// w_t − a·mem_{t+1}; a: k = (1 − ρ)·mem_{t+1}; b: k = s_t; θ: ∂u/∂p = −1.
// Not supported (rejected with a ParameterError): learned time constants and delays of the
// readout (e-prop needs one fixed readout filter over undelayed inputs). The active-set window
// of the sparse backward mode does not apply: ψ is used everywhere.
//
// Cost per sample: O(T·(synapses + events·N)) time; memory O(synapses) per thread (ε^m and A,
// plus ε^a for alif and Σe with regularisers) plus O(K·(N + fan-in)) for a block of K steps
// (the eligibility updates run K steps at a time over one presynaptic row; the numbers do not
// depend on K), plus the T scalars w_t (one float a step, like the input's step offsets).
// BPTT keeps O(T·N) per sample instead.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "volley/registry.hpp"
#include "volley/train/loss.hpp"
#include "volley/train/net.hpp"

namespace volley::train {

enum class GradientKind { bptt, eprop };
enum class FeedbackKind { symmetric, random };

const Registry<Choice<GradientKind>>& gradient_methods();
const Registry<Choice<FeedbackKind>>& feedback_kinds();
std::string_view gradient_name(GradientKind kind);
std::string_view feedback_name(FeedbackKind kind);

struct EpropConfig {
  FeedbackKind feedback = FeedbackKind::symmetric;
  std::uint64_t seed = 1;   // random feedback matrices
  std::size_t block = 32;   // steps per block of eligibility updates (memory only, not results)
};

// Per-thread state of the estimator (sized on first use, reused across samples).
struct EpropLayerState {
  // Per synapse, in the layout of the layer's weight parameters: ε^m, ε^a (alif), A = Σ w_t·e_t,
  // Σ e_t (regularisers only); _w for the input weights, _v for the recurrent weights.
  std::vector<float> em_w, ea_w, acc_w, reg_w;
  std::vector<float> em_v, ea_v, acc_v, reg_v;
  std::vector<float> es_w, es_v;            // presynaptic current traces ε^s (tau_syn > 0)
  // Per synapse ε^s when the layer's neurons have their own α (learned τ_syn): ε^s_ij follows
  // α_j, so it is no longer one trace per presynaptic unit.
  std::vector<float> ess_w, ess_v;
  // Learned dynamics (learn_tau, learn_threshold), per neuron: the traces of α, β and θ.
  struct NeuronTrace {
    std::vector<float> m, a, acc, reg, s;  // ∂mem/∂p, ∂a/∂p, Σ w_t·e_t, Σ e_t; s: ∂syn/∂α (α)
  };
  NeuronTrace tr_alpha, tr_beta, tr_theta;
  NeuronTrace tr_rho, tr_a, tr_b;  // adlif: ρ (with learn_tau), a and b (learn_adapt); m, a = ∂mem, ∂w
  std::vector<float> mem0, syn0;  // the neurons' mem_t and syn_t before the step
  std::vector<float> w0, cbuf;    // adlif: w_t before the step; a scratch row of N
  std::vector<std::uint8_t> live_w, live_v;  // presynaptic rows whose traces are not all zero
  // The current block's per-step values (K × n): ψ, keep, r of the layer's neurons and ε^d of
  // its presynaptic units.
  std::vector<float> psi, keep, reset, d_w, d_v;
  std::vector<float> signal;                 // Σ_k B_jk·G_k at the end of the sample
  // Learned delays of the input weights: the delays' own ε^m, ε^a, A, Σ e and ε^s, per synapse
  // (empty unless the delays have a gradient), a copy of live_w, the per-synapse drives of
  // one row over a block (K × row length) the row's history behind the window's zeros and
  // its taps, tap-major. With delays d_w holds ε^d of every step (T × n).
  std::vector<float> em_dl, ea_dl, acc_dl, reg_dl, ess_dl;
  std::vector<std::uint8_t> live_dl;
  std::vector<float> drive, column, taps_t;
};

struct EpropWorkspace {
  std::vector<LayerState> state;
  std::vector<EpropLayerState> layer;
  std::vector<float> readout_acc;  // Σ_t w_t·x_j^t per presynaptic unit of the readout
  std::vector<double> score;       // Σ_t y_t (mean_ce) or y_{T−1} (last_ce)
  std::vector<float> w;            // w_t (T scalars: the only thing that grows with T)
  std::vector<float> wblock;       // w_t of the current block
  std::vector<double> spikes;      // output events (summed values) per layer, last sample
  // Bytes held (capacities), for memory reports.
  std::size_t bytes() const;
};

class Eprop {
 public:
  // Throws ParameterError if the network or loss is not supported (see above).
  Eprop(const Net& net, const LossConfig& loss, EpropConfig config = {});

  // The checks of the constructor on configurations alone (for config files).
  static void check(const NetConfig& net, const LossConfig& loss);

  // One sample: forward, loss, and the e-prop gradient of the loss times `scale` added into
  // `grads` (shapes of Net::params()). `extra_e` (optional, one vector per layer, empty for
  // none) is the trainer's constant per-neuron ∂L/∂s_t of the regularisers. Fills ws.spikes.
  SampleLoss sample(const SampleEvents& input, int label, float scale,
                    const std::vector<std::vector<float>>* extra_e,
                    std::vector<std::vector<float>>& grads, EpropWorkspace& ws) const;

  // The feedback matrix of spiking layer l (N_l × C, row-major) as the next sample uses it.
  std::vector<float> feedback(std::size_t layer) const;
  const EpropConfig& config() const { return config_; }

 private:
  const Net& net_;
  LossConfig loss_;
  EpropConfig config_;
  std::vector<std::vector<float>> random_;  // per layer; empty where the readout weights are used
};

}  // namespace volley::train
