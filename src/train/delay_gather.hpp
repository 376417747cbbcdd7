#pragma once
// Delayed input currents, and their correlations with dL/dI, computed neuron by neuron over a
// raster of the sample's input instead of event by event (DelayTaps::gather, delays.hpp).
//
// With per-synapse delays every synapse of an input row lands on its own step, so the event
// kernels (Net::forward_layer, correlate_delayed in net.cpp) scatter one scalar per synapse and
// event. Here the roles turn around: for postsynaptic neuron j, tap o and input row i the
// whole sample's currents get w·φ times row i of the raster read from the place the delay
// shifts it to — one unaligned vector load and one multiply-add per 16 steps, accumulated in
// registers across the rows:
//   I_j(t) = Σ_{i,o} w_ij·φ_ij(o)·x_i(t − start_ij − o)
//   c_ij(o) = Σ_t dL/dI_j(t)·x_i(t − start_ij − o)       (the event kernels' correlation)
// The cost is synapses × width × T/16 vector operations whatever the input's density; the event
// kernels cost events × synapses × width scalar ones, so the gather pays once an input row
// carries a few events per sample (gather_pays). The sums are the same up to their order.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "volley/train/delays.hpp"

namespace volley::train::detail {

// Builds D's time-major copy (gather_w, gather_at, stride; delays.hpp) from its taps (start,
// phi) and the dense weights w (n_pre × n_post) for samples of T steps.
void build_time_major_taps(DelayTaps& D, const float* w, std::size_t n_pre, std::size_t n_post,
                           std::size_t T);

// Fills the raster from a layer's events (off: T + 1 offsets; idx, val per event).
void fill_delay_raster(const DelayTaps& D, std::size_t n_pre, std::size_t T,
                       const std::uint32_t* off, const std::uint32_t* idx, const float* val,
                       DelayRaster& r);

// Whether the gather costs less than the event kernels for a sample with `events` input events
// on `rows` distinct rows (D.gather must be set; always true when the layout forces it).
bool gather_pays(const DelayTaps& D, std::size_t events, std::size_t rows, std::size_t T);

// The delayed currents of all T steps into `cur` (time-major, T × n_post, overwritten).
// `scratch` holds n_post × the padded steps.
void gather_delayed_currents(const DelayTaps& D, std::size_t n_post, std::size_t T,
                             const DelayRaster& r, std::vector<float>& scratch, float* cur);

// Adds c_ij(o) for every synapse of the rows in the raster to `c` (tap-major, the per-synapse
// taps' layout: c[o·S + i·n_post + j], S synapses), from dL/dI (time-major, T × n_post).
void gather_delayed_correlation(const DelayTaps& D, std::size_t n_post, std::size_t T,
                                const DelayRaster& r, const float* g, std::vector<float>& scratch,
                                float* c);

}  // namespace volley::train::detail
