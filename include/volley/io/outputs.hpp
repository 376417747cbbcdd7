#pragma once
// Writing recordings: spikes.h5 (HDF5) and summary.json.
//
// spikes.h5 layout, per population with a spike monitor:   /NAME/times  float64 [s]
//                                                            /NAME/units  uint32
//                                                            /NAME attribute size (neurons)
// root attributes: duration (s, the simulated time) and dt (s)
// state monitors:  /NAME/state/MONITOR/t (float64, s), /NAME/state/MONITOR/indices (uint32),
//                  /NAME/state/MONITOR/VAR (float32, [samples, indices], SI units, attribute "unit")
// rate monitors:   /NAME/rate/MONITOR/t, /NAME/rate/MONITOR/rate (Hz)
// weight monitors: /SOURCE/weights/MONITOR/t (s), pre, post (uint32, absolute indices),
//                  w (float32, [samples, synapses], attribute "unit"), mean (all synapses),
//                  projection and target (strings); SOURCE is the projection's source population
// (NAME is the population; a monitor of a slice still writes absolute neuron indices.)
#include <string>

#include "volley/network.hpp"

namespace volley::io {

struct RunInfo {
  double wall_seconds = 0.0;
  double build_seconds = 0.0;
  double duration = 0.0;
  int threads = 1;
  std::string model_path;
  std::size_t peak_rss_bytes = 0;
};

// Writes atomically: a temporary file renamed over `path` once complete. Throws IoError.
void write_spike_file(const std::string& path, const Network& net);
void write_summary(const std::string& path, const Network& net, const RunInfo& info);

// Mean over neurons of each neuron's ISI coefficient of variation (std/mean of its
// inter-spike intervals), counting neurons with at least two intervals; NaN if there are none.
double mean_cv_isi(const std::vector<double>& times, const std::vector<std::uint32_t>& units);

}  // namespace volley::io
