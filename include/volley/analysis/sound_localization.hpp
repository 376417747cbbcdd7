#pragma once
// Sound localisation by coincidence detection (Jeffress 1948), the set-up of Dan Goodman's Brian
// tutorial: each ear has Poisson fibres whose rate follows the sound's phase,
//   rate(t) = R_max · (½·(1 + sin(2π·f·t + φ_ear)))^k,   φ_left = 0, φ_right = IPD,
// and an array of coincidence-detector LIF neurons (τ = 1 ms, threshold 1, reset 0) receives
// both ears, the right ear through a delay that gives detector i the best IPD 2π·i/(N − 1).
// The IPD is estimated as the best IPD of the most active detector, and by a population vector
// (the circular mean of best IPDs weighted by spike counts).
//
// With F fibres per ear the array is repeated F times (fibre k of each ear feeds copy k), and
// spike counts are summed over copies per best IPD.
//
// run_jeffress builds the network with the C++ API (jeffress_network); jeffress_model_text
// writes the same network as a model file, which `volley sim` runs to the same spikes
// (examples/sound_localization.toml is that file for the defaults at IPD 90°).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "volley/network.hpp"

namespace volley::analysis {

struct JeffressConfig {
  std::size_t fibres_per_ear = 1;
  std::size_t detectors = 100;   // per copy
  double rate_max = 400.0;       // Hz
  double frequency = 50.0;       // Hz
  double power = 1.0;            // k
  double tau = 1e-3;             // s
  double weight = 0.5;           // jump of v per input spike (threshold 1)
  double duration = 1.0;         // s per estimate
  double dt = 1e-4;              // s
  std::uint64_t seed = 1;
  void validate() const;         // throws ParameterError naming the field
};

// The network for one IPD (degrees), seeded with config.seed: populations "left" and "right"
// (the fibres), "detectors" (F copies of the array), projections "left<k>" and "right<k>" per
// fibre k, and the spike monitor "detector_spikes". Throws ParameterError naming the field.
std::unique_ptr<Network> jeffress_network(const JeffressConfig& config, double ipd_deg);

// The same network as a model file.
std::string jeffress_model_text(const JeffressConfig& config, double ipd_deg);

struct JeffressEstimate {
  double true_deg = 0.0;
  double estimate_deg = 0.0;         // best IPD of the most active detector
  double population_vector_deg = 0.0;
  std::vector<std::uint64_t> counts;  // spikes per best IPD (summed over copies)
};

// Runs one IPD; `trial` keys the random numbers (seed and trial together).
JeffressEstimate run_jeffress(const JeffressConfig& config, double ipd_deg, std::uint64_t trial);

// |a − b| on the circle, in [0, 180] degrees.
double circular_error_deg(double a_deg, double b_deg);

struct JeffressSweep {
  std::vector<JeffressEstimate> per_ipd;
  double mean_abs_error_deg = 0.0;      // most-active-detector estimate
  double mean_abs_error_pv_deg = 0.0;   // population vector
  double wall_seconds = 0.0;
};

// IPD from 0 to 360° (exclusive) in `step_deg` steps, one run each.
JeffressSweep sweep_jeffress(const JeffressConfig& config, double step_deg = 10.0);

}  // namespace volley::analysis
