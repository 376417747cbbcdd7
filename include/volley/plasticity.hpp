#pragma once
// Plasticity rules act on a projection's per-synapse weights when its presynaptic or
// postsynaptic neurons spike. The first rule is pair-based STDP with all-to-all pairing through
// exponential traces (Song, Miller & Abbott 2000; Brian2's STDP example):
//
//   pre spike at t_pre:   w <- clip(w - a_minus * y_post(t_pre))    then x_pre  += 1
//   post spike at t_post: w <- clip(w + a_plus  * x_pre(t_post))    then y_post += 1
//   x_pre, y_post decay with tau_plus, tau_minus
//
// so one pair with dt = t_post - t_pre changes w by a_plus exp(-dt/tau_plus) (dt > 0) or
// -a_minus exp(dt/tau_minus) (dt < 0); simultaneous spikes (dt = 0) change nothing. Spike times
// are the emission steps of the neurons (axonal delays do not shift the pairing). Weights are in
// the target channel's internal units.
#include <string>

namespace volley {

struct StdpParams {
  double tau_plus = 20e-3;   // s
  double tau_minus = 20e-3;  // s
  double a_plus = 0.0;       // weight units, potentiation amplitude
  double a_minus = 0.0;      // weight units, depression amplitude
  double w_min = 0.0;
  double w_max = 1.0;
  void validate(const std::string& where) const;
};

}  // namespace volley
