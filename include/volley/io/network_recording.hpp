#pragma once
// `volley eval --record DIR`: runs a trained network on test data and records what its layers
// did, in the spikes.h5 layout so the same analysis and report apply (read it back with
// read_recording). DIR/record.h5 holds
//   /input, /layer0, /layer1, ...   spiking layers: times (s), units, samples (test-sample index
//                                   of each spike), attribute size; sample i occupies
//                                   [i·T·dt, (i+1)·T·dt) so the trains of all samples line up
//                                   end to end
//   /layerL/state/trace/u           V − θ (threshold at 0) of every neuron (up to
//                                   trace_neurons) for the first `trace_samples` samples,
//                                   [samples·T × neurons]; the readout records its output y
//   /labels, /predictions           per sample; /class_names when known
//   attributes duration, dt, sample_duration
#include <cstddef>
#include <string>
#include <vector>

#include "volley/train/dataset.hpp"
#include "volley/train/loss.hpp"
#include "volley/train/net.hpp"

namespace volley::io {

struct NetworkRecordOptions {
  std::size_t trace_samples = 8;    // samples whose membrane traces are stored
  std::size_t trace_neurons = 256;  // per layer, the first ones
  std::vector<std::string> class_names;
};

struct NetworkRecordSummary {
  std::size_t samples = 0;
  double accuracy = 0.0;
  std::vector<double> spikes_per_sample;  // per layer (0 for a readout)
};

// `net` must have been built with BackwardMode::dense (so the forward pass keeps V − θ for
// every neuron); writes `path` atomically (temporary file + rename). Throws IoError.
NetworkRecordSummary record_network(const train::Net& net, const train::LossConfig& loss,
                                    const train::EventSource& data,
                                    const NetworkRecordOptions& options, const std::string& path);

}  // namespace volley::io
