#pragma once
// `volley export`: a trained network as a model file that `volley sim` runs. One definition of
// the neurons serves both runners (models/discrete_lif.hpp), so the simulator reproduces the
// trainer's forward pass spike for spike. DIR receives:
//   model.toml    populations `input` (spike_generator), `layer0` ... (discrete_lif), the
//                 projections with the trained weights (`synapses` from synapses.h5), monitors
//                 of every layer's spikes and of the readout's output
//   synapses.h5   one group per weight matrix ("layer0.w", "layer0.v", ...; see synapse_file.hpp)
//   input.h5      the chosen samples' input spikes (spikes.h5 layout, population `input`), one
//                 sample after another (binned data whose events are counts c > 1: neuron
//                 u·K + c − 1 stands for input u with c spikes, and its synapses carry c·w, so
//                 the sum is formed as the trainer forms it)
//   export.json   the layout below, the samples and their labels
// Timing: sample k occupies simulation steps [k·W, (k+1)·W), W = T + L + 1 (T steps per sample, L
// layers). Its input event of step t is emitted at k·W + t; layer l does its step t at
// k·W + t + l + 1 (each projection delays by one step); the readout's y_t is its `v` recorded at
// step k·W + t + L + 1. Every layer's state is zeroed at k·W (`reset_every`).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "volley/data/events.hpp"
#include "volley/train/loss.hpp"
#include "volley/train/net.hpp"

namespace volley::io {

struct ExportOptions {
  std::size_t first = 0;  // the samples [first, first + count) of the data
  std::size_t count = 1;  // 0: all from first on
  std::string source;     // where the network came from (a checkpoint path), for the header
};

struct ExportLayout {
  double dt = 0.0;
  std::size_t steps = 0;   // T
  std::size_t layers = 0;  // L
  std::size_t window = 0;  // W = T + L + 1
  std::uint32_t input_copies = 1;  // K: input neuron u·K + c − 1 is input u with c spikes
  std::vector<std::size_t> samples;
  std::vector<int> labels;
  double duration() const { return dt * static_cast<double>(window * samples.size()); }
};

// Writes DIR (created if needed; existing files of these names are replaced). Throws
// ConfigError for what the simulator cannot run as trained: the smooth-forward mode, learned
// (per-neuron) time constants, input events whose value is not a whole count in 1..255 or that
// repeat a (step, unit);
// and ParameterError for samples outside the data.
ExportLayout export_network(const train::Net& net, const data::EventSource& data,
                            const ExportOptions& options, const std::string& dir);

// How a simulation of an export compares with the trainer's forward pass on the same samples.
struct ExportCheck {
  std::size_t samples = 0;
  std::size_t trainer_spikes = 0, simulator_spikes = 0;
  std::size_t spike_mismatches = 0;     // (layer, step, neuron) in one runner and not the other
  std::size_t samples_identical = 0;    // every spike of every layer at the same step
  std::size_t prediction_agreements = 0;
  std::size_t trainer_correct = 0, simulator_correct = 0;
  double max_output_difference = 0.0;   // max |y_sim − y_trainer| over readout outputs
  double simulate_seconds = 0.0, trainer_seconds = 0.0;
  std::vector<int> trainer_predicted, simulator_predicted;  // per sample, in layout order
};

// Loads DIR/model.toml, simulates it with `threads` threads, and runs `net` forward on the same
// samples, comparing every layer's spikes step by step and the predicted classes (by `loss`).
// `overrides` ("dotted.path=VALUE", as `volley sim --set`) change the simulated model first, e.g.
// plasticity on a projection: then the comparison shows what the change did.
ExportCheck check_export(const train::Net& net, const train::LossConfig& loss,
                         const data::EventSource& data, const ExportLayout& layout,
                         const std::string& dir, int threads = 1,
                         const std::vector<std::string>& overrides = {});

}  // namespace volley::io
