#pragma once
// Learned synaptic delays in the spirit of DCLS (Hammouamri et al., ICLR 2024): each synapse of
// a layer's input projection has a real-valued delay d (in steps, kept in [0, K − 1] for a
// window of K steps) and spreads its weight over the steps near d with a Gaussian bump of width
// σ, so that the loss is differentiable in d. σ shrinks during training; below a quarter of a
// step the bump is a single tap at round(d) — a plain delay, what the simulator's delay queue
// does at inference.
//
// Kernel of one synapse over its taps τ = 0..K−1 (weights of the input at step t − τ):
//   e_τ = max(0, exp(−(τ − d)²/(2σ²)) − exp(−4.5))     (a bump truncated at 3σ that reaches 0
//                                                        there, so the kernel is continuous in d)
//   φ_τ = e_τ / Σ e                                      (it sums to one: the weight is kept)
//   dφ_τ/dd = (e'_τ − φ_τ·Σ e') / Σ e,   e'_τ = exp(−(τ − d)²/(2σ²))·(τ − d)/σ² where e_τ > 0
// A synapse has at most `width` non-zero taps starting at `start`, width = min(K, 2⌈3σ⌉ + 1), so
// delivery and its gradient cost synapses × width (not synapses × K as a dense convolution).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "volley/aligned.hpp"

namespace volley::train {

// Below this σ (steps) a delay is rounded to one tap and has no gradient.
inline constexpr double kHardDelaySigma = 0.25;

// Taps of every synapse of one projection for the current delays and σ.
struct DelayTaps {
  std::size_t window = 0;  // K: delays in [0, K − 1] steps
  std::size_t width = 1;   // taps per synapse
  double sigma = 0.0;      // steps; < kHardDelaySigma: rounded delays
  std::vector<std::uint32_t> start;  // per synapse: first tap
  std::vector<float> phi, dphi;      // per synapse × width: φ and dφ/dd (0 past the last tap)
  // The same taps laid out densely for the training kernels (Net::update_delays), per
  // presynaptic row i a block of K × n_post (tap-major, then postsynaptic neuron; 0 where there
  // is no synapse): kernel = w·φ, phi_dense = φ, dphi_dense = dφ/dd. An event of row i at step
  // t adds the rows lo[i]..hi[i] of its block to the currents of steps t + lo[i]..t + hi[i] —
  // one contiguous run of memory, as in a time-major buffer — so delivery costs
  // events × (hi − lo + 1) × n_post, vectorised.
  // (On 64-byte lines, or huge pages: the kernels read them a vector at a time, and a block
  // table placed by malloc at 16 bytes past a line split every load; measured 10 % of an epoch.)
  AlignedVector<float> kernel, phi_dense, dphi_dense;
  std::vector<std::uint32_t> lo, hi;  // per presynaptic row: the taps any of its synapses use
  // Narrow taps (use_per_synapse_taps): instead of the blocks, per synapse k its place in a
  // time-major buffer, offset = start·n_post + post, and kernel_syn = w·φ (width × synapses,
  // tap-major, so that one tap of a row's synapses is one vectorised scatter): an event
  // costs synapses × width, scattered, instead of K × n_post. The same sums as the blocks, in
  // the same order for whole-step taps (event by event, in time order); wide blocks sum each
  // row's terms first (delay_kernels.hpp), so they equal these up to rounding.
  bool per_synapse = false;
  std::vector<std::uint32_t> offset;
  std::vector<float> kernel_syn;
  // With dense input weights the per-synapse taps come with a time-major copy
  // (src/train/delay_kernels.hpp): per tap o, postsynaptic neuron j and row i, at
  // (o·n_post + j)·n_pre + i, the weight w·φ and the start of its run in a sample's raster,
  // i·stride + K − 1 − start − o. Samples whose rows carry enough events (gather_pays) use it
  // instead of the scatter: the same sums, in the same order for whole-step taps (below; for
  // input events sorted by input within a step and without duplicates, as layer outputs and
  // the data readers give them), in another order for wider taps.
  bool gather = false;
  bool gather_always = false;  // DelayLayout::gather: every sample
  std::size_t stride = 0;      // floats per raster row (delay_raster_stride)
  std::vector<float> gather_w;
  std::vector<std::uint32_t> gather_at;
  // Whole-step taps (width 1): the synapses grouped by delay, longest first, then by row
  // (group g = (K − 1 − start)·n_pre + i holds [group_off[g], group_off[g + 1]) of group_post,
  // the postsynaptic neurons ascending, and group_w, the weights), so that each current sums its
  // terms in the order the events arrive — the order of the event kernels and of the
  // simulator's delay queue, which then give the same bits.
  std::vector<std::uint32_t> group_off, group_post;
  std::vector<float> group_w;
  // The same synapses neuron by neuron, for inputs that are counts (DelayRaster::counts):
  // neuron j's n_pre synapses at [j·n_pre, (j + 1)·n_pre), in the groups' order, each as the
  // start of its run in the raster (as gather_at) and its weight.
  std::vector<std::uint32_t> order_at;
  std::vector<float> order_w;
};

// One sample's input events as a raster: row i (of `stride` floats) holds the value of input
// i at step t at [window − 1 + t], zeros elsewhere, so that a tap of delay τ reads the steps
// t − τ of the sample, 16 at a time, from [window − 1 − τ + t] (steps before 0 read zeros).
struct DelayRaster {
  std::vector<float> x;
  std::vector<std::uint32_t> rows;  // the rows with at least one event, ascending
  std::vector<std::uint8_t> seen;
  // Whole-step taps of dense weights (DelayTaps::order_at) with inputs that are counts (whole
  // numbers 0–255, as spikes binned into steps are): the same raster as bytes, for kernels
  // that read it from L2 (90 KB for 700 rows of 100 steps) where the floats (360 KB) spill.
  // Empty otherwise.
  std::vector<std::uint8_t> counts;
};

// Floats per row of a sample's raster for a window of K steps and T steps: K − 1 leading
// zeros, then the steps padded to whole vectors of 16, rounded up to a multiple of 16.
std::size_t delay_raster_stride(std::size_t window, std::size_t T);

// Which layout Net::update_delays builds: the dense blocks, the per-synapse taps (scattered
// event by event), the per-synapse taps gathered time-major for every sample (dense weights
// only), or the one that costs less for the width (use_per_synapse_taps; with dense weights
// the time-major copy too, used per sample where it pays).
enum class DelayLayout { automatic, blocks, per_synapse, gather };

// Whether taps of this width in a window of K steps are cheaper per synapse than as blocks: a
// scattered tap costs about as much as 7 vectorised block rows (delays.cpp).
bool use_per_synapse_taps(std::size_t width, std::size_t window);

// The number of taps per synapse for a window of K steps and a width σ (steps).
std::size_t delay_taps_width(std::size_t window, double sigma);

// Fills `taps` for the delays `d` (steps, one per synapse; values outside [0, K − 1] are used
// clamped) at width σ (steps), on up to `threads` threads (the same values for any number).
void compute_delay_taps(const float* d, std::size_t n, std::size_t window, double sigma,
                        DelayTaps& taps, int threads = 1);

// σ (steps) at a point of training: σ0 falls linearly to 0 over the fraction `anneal` of it
// (progress in [0, 1]: epochs done / epochs), and stays 0 after.
double delay_sigma_at(double sigma0, double anneal, double progress);

}  // namespace volley::train
