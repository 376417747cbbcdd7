#pragma once
// Whole-sample kernels of the delayed layers (delays.hpp): a layer's input is known for all
// steps before its pass through time, so its delayed currents, and after the backward pass the
// correlations of its input with dL/dI, are computed at once, in the order that suits the
// memory rather than step by step.
//
// Dense blocks (wide taps): the events are taken input row by input row, so that a row's kernel
// block (or its correlations: 11 KB for 11 taps of 256 neurons) is read from memory once per
// sample and stays in L1 while the row's events use it; taken event by event in time order,
// every event read its block from L3. For each step the row's events reach, the terms of the
// events whose taps cover it are summed in registers (up to 256 neurons at a time) and added
// once to the currents; the correlations sum each tap's terms over the row's events in
// registers, then add them once. Each current sums its terms row by row (each row's in time
// order); each correlation sums its row's events in time order.
//
// Time-major taps (narrow taps of dense weights, DelayTaps::gather): with per-synapse delays
// every synapse of an input row lands on its own step, so the event kernels scatter one scalar
// per synapse and event. Here the roles turn around: for postsynaptic neuron j, tap o and input
// row i the whole sample's currents get w·φ times row i of a raster of the input read from
// the place the delay shifts it to — one unaligned vector load and one multiply-add per 16
// steps, accumulated in registers across the rows:
//   I_j(t) = Σ_{i,o} w_ij·φ_ij(o)·x_i(t − start_ij − o)
//   c_ij(o) = Σ_t dL/dI_j(t)·x_i(t − start_ij − o)       (the event kernels' correlation)
// The cost is synapses × width × T/16 vector operations whatever the input's density; the event
// kernels cost events × synapses × width scalar ones, so the gather pays once an input row
// carries a few events per sample (gather_pays). Whole-step taps sum each current in arrival
// order, as the event kernels do (the same bits): the synapses grouped by delay and row
// (DelayTaps::group_off), a group's stretch of the raster in registers added to its neurons'
// sums, which stay in cache for a tile of 64 steps. When the inputs are counts (spikes binned
// into steps: whole numbers up to 255) the raster is also kept as bytes (DelayRaster::counts,
// a quarter of the floats: in L2 for 700 rows), and each neuron walks its synapses in that
// order (DelayTaps::order_at) with its sums in registers — no read-modify-write of the sums —
// and the correlation reads the bytes; the same products in the same order, so the same bits.
// Wider taps sum in another order.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "volley/train/delays.hpp"

namespace volley::train::detail {

// A counting sort of one sample's events (off: T + 1 offsets, idx: the input of each) by input
// row: row i's events are [row_off[i], row_off[i + 1]) of `step` (their steps, ascending) and
// `event` (their indices). `fill` is scratch.
void sort_events_by_row(std::size_t n_pre, std::size_t T, const std::uint32_t* off,
                        const std::uint32_t* idx, std::vector<std::uint32_t>& row_off,
                        std::vector<std::uint32_t>& step, std::vector<std::uint32_t>& event,
                        std::vector<std::uint32_t>& fill);

// The delayed currents of the dense blocks for all steps into `cur` ((T + K) × n_post,
// time-major, zero on entry), from the events sorted by row (val: each event's value).
void block_delayed_currents(const DelayTaps& D, std::size_t n_pre, std::size_t n_post,
                            std::size_t T, const std::uint32_t* row_off,
                            const std::uint32_t* step, const std::uint32_t* event,
                            const float* val, AlignedVector<float>& tile, float* cur);

// Adds to the dense blocks' correlations c (n_pre × K × n_post, delays.hpp's block layout)
// x·dL/dI of the steps t + lo..t + hi for every event (t, x) of each row, from g ((T + K) ×
// n_post, time-major). Events with no non-zero dL/dI in their taps are skipped (first_nz[t]:
// the first step ≥ t with one); touched[i] is set for the rows that added something.
void block_delayed_correlation(const DelayTaps& D, std::size_t n_pre, std::size_t n_post,
                               std::size_t T, const std::uint32_t* row_off,
                               const std::uint32_t* step, const std::uint32_t* event,
                               const float* val, const std::uint32_t* first_nz, const float* g,
                               AlignedVector<float>& tile, float* c, std::uint8_t* touched);

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
                             const DelayRaster& r, AlignedVector<float>& scratch, float* cur);

// Adds c_ij(o) for every synapse of the rows in the raster to `c` (tap-major, the per-synapse
// taps' layout: c[o·S + i·n_post + j], S synapses), from dL/dI (time-major, T × n_post).
void gather_delayed_correlation(const DelayTaps& D, std::size_t n_post, std::size_t T,
                                const DelayRaster& r, const float* g, AlignedVector<float>& scratch,
                                float* c);

}  // namespace volley::train::detail
