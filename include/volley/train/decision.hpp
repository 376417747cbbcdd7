#pragma once
// Fast decisions: when does a trained network know the answer? The forward pass is run one step
// at a time (Net::step_layer, the same numbers as Net::forward) and the loss's score is read at
// every step — the running maximum of the readout for max_ce, the running mean for mean_ce and
// step_ce, the
// current output for last_ce, the spike counts so far for count losses — giving:
//   * accuracy as a function of time (the class the score would pick if the sample ended at t);
//   * early exit: a sample stops as soon as the softmax of its score puts the top class more than
//     `margin` above the second (p1 − p2 > margin), and at the last step otherwise. The pass really
//     stops there: the synaptic operations counted are those done.
// Synaptic operations: every input event and every spike of a layer, times its fan-out (the row
// of the weight matrix it adds: next layer and, if recurrent, its own layer).
#include <cstddef>
#include <vector>

#include "volley/data/events.hpp"
#include "volley/train/loss.hpp"
#include "volley/train/net.hpp"

namespace volley::train {

struct DecisionOptions {
  double margin = -1.0;  // early exit at p1 − p2 > margin; < 0: every sample runs to the end
  int threads = 1;
};

// What one layer did, mean per sample: its synaptic operations (events arriving at its synapses),
// its spikes, and its neuron updates (neurons × steps run).
struct LayerOps {
  double synops = 0.0, spikes = 0.0, neuron_updates = 0.0;
};

struct DecisionStats {
  std::size_t samples = 0;
  std::vector<LayerOps> layers;
  // accuracy_at_step[t]: accuracy of the decision at step t (runs without early exit only).
  std::vector<double> accuracy_at_step;
  // synops_by_step[t]: synaptic operations done up to and including step t, mean per sample
  // (runs without early exit only).
  std::vector<double> synops_by_step;
  double accuracy = 0.0;            // of the decisions taken (at exit, or at the last step)
  double mean_decision_step = 0.0;  // mean over samples of the step of the decision + 1
  double synops_per_sample = 0.0;   // synaptic operations actually done, mean per sample
  double synops_full_per_sample = 0.0;  // what running every sample to the end costs (counted
                                        // only without early exit; else 0)
  double seconds = 0.0;
};

// Energy under stated assumptions (45 nm, Horowitz 2014, as used across the SNN literature): an
// accumulate 0.9 pJ, a multiply-accumulate 4.6 pJ, a 32-bit SRAM access 5 pJ (half of the 10 pJ
// of a 64-bit read from an 8 KB SRAM). The arithmetic-only estimate flatters SNNs (Yan et al.
// 2024), so the memory accesses are counted too: per synaptic operation a weight read and a
// read-modify-write of the target's input; per neuron update a read and write of each state
// variable; per ANN multiply-accumulate a weight read (activations assumed reused from registers).
struct EnergyAssumptions {
  double pj_accumulate = 0.9, pj_mac = 4.6, pj_sram_32bit = 5.0;
};

struct LayerEnergy {
  LayerOps ops;
  double ann_macs = 0.0;  // the non-spiking twin of the same sizes, ann_passes passes
  double snn_arithmetic_pj = 0.0, snn_memory_pj = 0.0;
  double ann_arithmetic_pj = 0.0, ann_memory_pj = 0.0;
};

// Per layer, mean per sample, from a run's counts. `ann_passes`: how often the twin runs per
// sample — 1 for static input (an MLP on the pixels), the number of steps for event data (the same
// network applied to every time bin).
std::vector<LayerEnergy> estimate_energy(const Net& net, const DecisionStats& stats,
                                         std::size_t ann_passes,
                                         const EnergyAssumptions& assumptions = {});

// Results are the same for any thread count. Throws ParameterError for data that do not fit the
// network (input count or steps) or a loss that does not fit its last layer.
DecisionStats evaluate_decisions(const Net& net, const LossConfig& loss,
                                 const data::EventSource& data, const DecisionOptions& options);

}  // namespace volley::train
