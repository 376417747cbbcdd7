#pragma once
// Plasticity rules act on a projection's per-synapse weights. All of them share one mechanism,
// exponential traces per presynaptic and per postsynaptic neuron, and come in three families:
// spike-timing-dependent plasticity (STDP; the pair and triplet rules, with the three choices
// below), rate-based Hebbian rules that read the same traces as rate estimates (Oja, BCM; further
// below), and reward-modulated STDP, where a neuromodulator gates the changes of either STDP rule
// through per-synapse eligibility traces (at the end).
//
// Rule (`rule`):
//   kPair: pair-based STDP (Song, Miller & Abbott 2000; Brian2's STDP example). One trace per
//   presynaptic neuron, r1 (decay tau_plus), and one per postsynaptic neuron, o1 (tau_minus):
//     pre spike at t_pre:   w <- clip(w - a_minus * o1(t_pre))     then r1 is updated
//     post spike at t_post: w <- clip(w + a_plus  * r1(t_post))    then o1 is updated
//   One isolated pair with dt = t_post - t_pre changes w by a_plus exp(-dt/tau_plus) (dt > 0) or
//   -a_minus exp(dt/tau_minus) (dt < 0).
//
//   kTriplet: triplet STDP (Pfister & Gerstner 2006, J Neurosci 26:9673). Two traces per
//   presynaptic neuron, r1 (tau_plus) and r2 (tau_x), two per postsynaptic neuron, o1
//   (tau_minus) and o2 (tau_y):
//     pre spike:  w <- clip(w - o1 * (a_minus + a3_minus * r2))   r2 read before this spike
//     post spike: w <- clip(w + r1 * (a_plus  + a3_plus  * o2))   o2 read before this spike
//   then the traces of the spiking neurons are updated. a_plus / a_minus are the pair terms
//   (A2+ / A2- of the paper), a3_plus / a3_minus the triplet terms (A3+ / A3-). With
//   a3_plus = a3_minus = 0 the triplet rule is the pair rule.
//
// Pairing (`pairing`), how a spike updates the traces of its neuron:
//   kAllToAll: trace += 1 (every earlier spike counts, with its exponential weight);
//   kNearest:  trace  = 1 (symmetric nearest-neighbour: only the latest spike counts).
//   For the triplet rule both pre traces and both post traces follow the same scheme, as in the
//   nearest-spike model of Pfister & Gerstner.
//
// Weight dependence (`weight_dependence`), the factor on every change (w in [w_min, w_max]):
//   kAdditive:       1 (hard bounds only: w is clipped);
//   kMultiplicative: soft bounds, potentiation x (w_max - w)/(w_max - w_min), depression
//                    x (w - w_min)/(w_max - w_min) (van Rossum, Bi & Turrigiano 2000; Guetig et al.
//                    2003 with mu = 1). An amplitude is thus the change of a weight at the far
//                    bound; w is still clipped, which matters only when a single change exceeds
//                    the distance to the bound.
//
// Units: every amplitude (a_plus, a_minus, a3_plus, a3_minus) and the bounds are in SI units of
// the projection's weight (the same as ProjectionSpec::weight, e.g. volts or siemens), for both
// rules. Traces are dimensionless. Spike times are the emission steps of the neurons (axonal
// delays do not shift the pairing). A trace read at a step holds the spikes of earlier steps
// only, so simultaneous pre and post spikes do not pair with each other.
//
// Rate-based Hebbian rules (kOja, kBcm) use the same per-neuron traces as rate estimates:
// x̂_i (pre) and ŷ_j (post), in Hz, exponential estimates over `tau_rate` (a spike adds
// 1/tau_rate, unbiased for a stationary rate). With x = x̂/rate_ref, y = ŷ/rate_ref and the
// normalised weight u = w/w_ref, every `update_interval` Δ each synapse takes
//   kOja (Oja 1982):  du/dt = eta·y·(x − x̄ − y·u)   x̄ = running mean of x over tau_mean
//                                                    (tau_mean = 0: no centring, x̄ = 0); u
//                                                    converges to the first principal component
//                                                    of the inputs' covariance, |u| → 1
//   kBcm (Bienenstock, Cooper & Munro 1982; Intrator & Cooper 1992):
//                     du/dt = eta·x·y·(y − θ_j)     θ_j = running mean of y_j² over tau_theta,
//                                                    divided by y0/rate_ref (sliding threshold)
// then w = w_ref·u is clipped to [w_min, w_max]. Spike-pairing keys (a_plus, pairing, ...) do
// not apply. Memory: two floats per pre and per post neuron; nothing extra per synapse.
//
// Neuromodulation (`modulator`, see neuromodulator.hpp): with a modulator named, every change
// above (weight dependence included, computed from the current weight) goes into a per-synapse
// eligibility trace c (decay tau_c) instead of the weight, and the weight follows dw/dt = m c,
// m the modulator's level, integrated every `update_interval` (Izhikevich 2007). This is
// reward-modulated STDP; the weight is clipped to [w_min, w_max] at each update, c is not.
//
// Memory: the pair rules keep one trace per pre neuron and one per post neuron and nothing per
// synapse beyond the weight and the post->pre index; the triplet rule adds r2 per pre neuron and
// o2 per post neuron.
#include <string>

namespace volley {

enum class StdpRule { kPair, kTriplet, kOja, kBcm };
enum class StdpPairing { kAllToAll, kNearest };
enum class WeightDependence { kAdditive, kMultiplicative };

struct StdpParams {
  StdpRule rule = StdpRule::kPair;
  StdpPairing pairing = StdpPairing::kAllToAll;
  WeightDependence weight_dependence = WeightDependence::kAdditive;
  double tau_plus = 20e-3;   // s, presynaptic trace r1
  double tau_minus = 20e-3;  // s, postsynaptic trace o1
  double tau_x = 101e-3;     // s, presynaptic trace r2 (triplet only)
  double tau_y = 125e-3;     // s, postsynaptic trace o2 (triplet only)
  double a_plus = 0.0;       // weight units, potentiation per pair (A2+ of the triplet rule)
  double a_minus = 0.0;      // weight units, depression per pair (A2- of the triplet rule)
  double a3_plus = 0.0;      // weight units, triplet potentiation (triplet only)
  double a3_minus = 0.0;     // weight units, triplet depression (triplet only)
  double w_min = 0.0;
  double w_max = 1.0;
  // Rate-based Hebbian rules (kOja, kBcm) only:
  double eta = 0.0;              // 1/s, learning rate of the normalised weight
  double tau_rate = 0.1;         // s, rate estimates
  double rate_ref = 10.0;        // Hz, rates are divided by it
  double w_ref = 0.0;            // weight units, > 0: weights are divided by it
  double tau_mean = 0.0;         // s, Oja's input centring (0 = none)
  double tau_theta = 1.0;        // s, BCM threshold averaging
  double y0 = 10.0;              // Hz, BCM threshold scale
  bool hebbian() const { return rule == StdpRule::kOja || rule == StdpRule::kBcm; }
  std::string modulator;         // empty: weights change at spikes (no eligibility trace)
  double tau_c = 1.0;            // s, eligibility trace (modulated only)
  double update_interval = 0.0;  // s, weight updates from the eligibility; 0 = every step
  bool modulated() const { return !modulator.empty(); }
  // Throws ParameterError "<where>: <field> ..." for a bad value.
  void validate(const std::string& where) const;
};

// Triplet STDP fitted to the visual-cortex data (Sjoestroem et al. 2001) with all-to-all
// interaction, additive weights: Pfister & Gerstner 2006, Table 4 (visual cortex, all-to-all,
// full model): tau_plus 16.8 ms, tau_minus 33.7 ms, tau_x 101 ms, tau_y 125 ms,
// A2+ 5e-10, A3+ 6.2e-3, A2- 7e-3, A3- 2.3e-4.
// The paper's amplitudes are changes of a weight normalised to its value before the protocol
// (its figures plot Δw/w0), so they are given here as multiples of `w_ref` (in weight units,
// usually the initial weight): a_plus = 5e-10 w_ref, ... Bounds are w_min = 0 and w_max =
// 1e6 w_ref (in effect unbounded, as the paper's fits are); set w_max to bound the weight.
// (NESTML's stdp_triplet model uses the same time constants and A2-, A3- but A2+ = 7.5e-10,
// A3+ = 9.3e-3, 1.5 times the Table 4 values; volley keeps the published table.)
StdpParams pfister2006_visual_cortex(double w_ref);

const char* to_string(StdpRule rule);
const char* to_string(StdpPairing pairing);
const char* to_string(WeightDependence dependence);

}  // namespace volley
