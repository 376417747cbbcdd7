#pragma once
// The pairing-frequency protocol of Sjoestroem, Turrigiano & Nelson (2001), as simulated in
// Fig. 4 of Pfister & Gerstner (2006): `pairings` pre/post spike pairs at frequency rho, the post
// spike delta_t after the pre spike (delta_t > 0: pre before post; delta_t < 0: post before pre),
// and the relative weight change Δw/w0 of the synapse at the end.
//
// It runs on the engine: one condition (rho, delta_t) is one plastic synapse from a
// spike_generator neuron (the presynaptic spikes, at the given times) onto a LIF neuron. The
// LIF neuron is made to fire at the wanted steps by a second spike_generator whose one-step,
// 30 mV delta synapse ("kick" channel) lands in the step before the wanted spike; the plastic
// synapse itself (w0 = 0.1 mV by default, into a 5 ms exponential channel) is far too weak to
// move the post spikes, and every post spike time is checked. All conditions are independent
// neurons of one network and run together (their traces are per neuron, so they do not
// interact). Spike times are placed on the dt grid: pair k starts at step round((start + k/rho)
// / dt) and delta_t is round(delta_t / dt) steps.
#include <vector>

#include "volley/plasticity.hpp"

namespace volley::analysis {

struct PairingProtocol {
  std::vector<double> frequencies_hz = {0.1, 1, 5, 10, 20, 30, 40, 50};
  std::vector<double> delta_t = {10e-3, -10e-3};  // s; post time - pre time, not 0
  int pairings = 60;
  double w0 = 1e-4;    // V: initial weight of the plastic synapse (current-based, volts)
  double dt = 1e-4;    // s
  double start = 0.1;  // s: time of the first spike of the first pair
  double tail = 0.05;  // s simulated after the last spike
  int threads = 1;
};

struct PairingPoint {
  double frequency_hz = 0.0;
  double delta_t = 0.0;          // s
  double w_final = 0.0;          // V
  double relative_change = 0.0;  // (w_final - w0) / w0
};

struct PairingResult {
  std::vector<PairingPoint> points;  // frequencies in the given order, delta_t inner
  // Δw/w0 of one condition; throws ParameterError if it was not measured.
  double change(double frequency_hz, double delta_t) const;
};

// `stdp` is in the weight units of the synapse (volts): with the preset use
// pfister2006_visual_cortex(protocol.w0), so that Δw/w0 is the paper's normalised change.
// Throws ParameterError for a bad protocol (no frequencies, rho <= 0, |delta_t| not below the
// period, pairings < 1, ...) or bad STDP parameters, and Error if a post spike missed its step.
PairingResult run_pairing_protocol(const StdpParams& stdp, const PairingProtocol& protocol = {});

}  // namespace volley::analysis
