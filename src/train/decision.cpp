#include "volley/train/decision.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "volley/error.hpp"

namespace volley::train {
namespace {

// Synapses a presynaptic index reaches through one weight matrix.
std::size_t fan_out(const WeightLayout& W, std::uint32_t i) {
  return W.dense ? W.n_post : W.row_ptr[i + 1] - W.row_ptr[i];
}

struct SampleResult {
  std::vector<int> predicted;  // per step (full runs)
  std::vector<double> synops_by_step;  // cumulative, per step (full runs)
  int decision = -1;
  std::size_t decision_step = 0;
  double synops = 0.0;
  std::vector<double> layer_synops, layer_spikes, layer_updates;  // per layer
};

// The softmax margin p1 − p2 of a score vector.
double softmax_margin(const std::vector<double>& m) {
  const double top = *std::max_element(m.begin(), m.end());
  double z = 0.0, p1 = 0.0, p2 = 0.0;
  for (double x : m) z += std::exp(x - top);
  for (double x : m) {
    const double p = std::exp(x - top) / z;
    if (p > p1) {
      p2 = p1;
      p1 = p;
    } else if (p > p2) {
      p2 = p;
    }
  }
  return p1 - p2;
}

SampleResult run_sample(const Net& net, const LossConfig& loss, const data::SampleEvents& ev,
                        double margin, bool keep_curve, std::vector<LayerState>& st) {
  const NetConfig& c = net.config();
  const std::size_t L = c.layers.size(), T = c.n_steps, C = net.n_outputs();
  const bool readout = !net.emits_events(L - 1);
  for (std::size_t l = 0; l < L; ++l) net.reset_state(l, st[l]);
  std::vector<double> score(C, 0.0);
  SampleResult r;
  r.layer_synops.assign(L, 0.0);
  r.layer_spikes.assign(L, 0.0);
  r.layer_updates.assign(L, 0.0);
  for (std::size_t t = 0; t < T; ++t) {
    const std::uint32_t b0 = ev.offsets[t], b1 = ev.offsets[t + 1];
    std::span<const std::uint32_t> idx(ev.units.data() + b0, b1 - b0);
    std::span<const float> val(ev.values.data() + b0, b1 - b0);
    for (std::size_t l = 0; l < L; ++l) {
      double ops = 0.0;
      for (std::uint32_t i : idx) ops += static_cast<double>(fan_out(net.input_weights(l), i));
      if (c.layers[l].recurrent)  // last step's spikes, delivered now
        for (std::uint32_t i : st[l].idx)
          ops += static_cast<double>(fan_out(net.recurrent_weights(l), i));
      r.synops += ops;
      r.layer_synops[l] += ops;
      r.layer_updates[l] += static_cast<double>(c.layers[l].size);
      net.step_layer(l, idx, val, st[l]);
      if (net.spiking(l)) r.layer_spikes[l] += static_cast<double>(st[l].idx.size());
      idx = st[l].idx;
      val = st[l].val;
    }
    const LayerState& out = st[L - 1];
    if (readout) {
      for (std::size_t k = 0; k < C; ++k) {
        const double y = out.mem[k];
        switch (loss.kind) {
          case LossKind::max_ce: score[k] = t == 0 ? y : std::max(score[k], y); break;
          case LossKind::mean_ce:
          case LossKind::step_ce:
            score[k] = (score[k] * static_cast<double>(t) + y) / static_cast<double>(t + 1);
            break;
          default: score[k] = y;
        }
      }
    } else {
      for (std::size_t e = 0; e < out.idx.size(); ++e) score[out.idx[e]] += out.val[e];
    }
    const int p = static_cast<int>(std::max_element(score.begin(), score.end()) - score.begin());
    if (keep_curve) {
      r.predicted.push_back(p);
      r.synops_by_step.push_back(r.synops);
    }
    if ((margin >= 0.0 && softmax_margin(score) > margin) || t + 1 == T) {
      r.decision = p;
      r.decision_step = t;
      if (margin >= 0.0) break;
    }
  }
  return r;
}

}  // namespace

DecisionStats evaluate_decisions(const Net& net, const LossConfig& loss,
                                 const data::EventSource& data, const DecisionOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const NetConfig& c = net.config();
  if (data.n_inputs() != c.n_inputs || data.n_steps() != c.n_steps)
    throw ParameterError(fmt::format("the data ({} inputs, {} steps) do not fit the network ({} "
                                     "inputs, {} steps)",
                                     data.n_inputs(), data.n_steps(), c.n_inputs, c.n_steps));
  if (is_count_loss(loss.kind) == !net.emits_events(c.layers.size() - 1))
    throw ParameterError(fmt::format("loss '{}' does not fit the network's last layer",
                                     loss_name(loss.kind)));
  const std::size_t n = data.size(), T = c.n_steps;
  const bool curve = options.margin < 0.0;
  std::vector<SampleResult> results(n);
  const auto ns = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel num_threads(std::max(1, options.threads))
  {
    std::vector<LayerState> st(c.layers.size());
    data::SampleEvents ev;
#pragma omp for schedule(dynamic, 16)
    for (std::ptrdiff_t s = 0; s < ns; ++s) {
      data.fill(static_cast<std::size_t>(s), 0, ev);
      results[static_cast<std::size_t>(s)] = run_sample(net, loss, ev, options.margin, curve, st);
    }
  }
  DecisionStats d;
  d.samples = n;
  if (curve) {
    d.accuracy_at_step.assign(T, 0.0);
    d.synops_by_step.assign(T, 0.0);
  }
  std::size_t correct = 0;
  double steps = 0.0, synops = 0.0;
  const std::size_t L = c.layers.size();
  d.layers.assign(L, {});
  for (std::size_t s = 0; s < n; ++s) {
    const SampleResult& r = results[s];
    const int label = data.label(s);
    correct += r.decision == label;
    steps += static_cast<double>(r.decision_step + 1);
    synops += r.synops;
    for (std::size_t l = 0; l < L; ++l) {
      d.layers[l].synops += r.layer_synops[l];
      d.layers[l].spikes += r.layer_spikes[l];
      d.layers[l].neuron_updates += r.layer_updates[l];
    }
    if (curve)
      for (std::size_t t = 0; t < T; ++t) {
        d.accuracy_at_step[t] += r.predicted[t] == label;
        d.synops_by_step[t] += r.synops_by_step[t];
      }
  }
  if (n > 0) {
    const double dn = static_cast<double>(n);
    d.accuracy = static_cast<double>(correct) / dn;
    d.mean_decision_step = steps / dn;
    d.synops_per_sample = synops / dn;
    for (auto& x : d.layers) {
      x.synops /= dn;
      x.spikes /= dn;
      x.neuron_updates /= dn;
    }
    if (curve) {
      d.synops_full_per_sample = d.synops_per_sample;
      for (double& a : d.accuracy_at_step) a /= dn;
      for (double& x : d.synops_by_step) x /= dn;
    }
  }
  d.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return d;
}

std::vector<LayerEnergy> estimate_energy(const Net& net, const DecisionStats& d,
                                         std::size_t ann_passes, const EnergyAssumptions& a) {
  const NetConfig& c = net.config();
  std::vector<LayerEnergy> out;
  for (std::size_t l = 0; l < c.layers.size() && l < d.layers.size(); ++l) {
    LayerEnergy e;
    e.ops = d.layers[l];
    // The ANN twin (same sizes): a multiply-accumulate per weight and pass.
    e.ann_macs = static_cast<double>(net.input_weights(l).size());
    if (c.layers[l].recurrent) e.ann_macs += static_cast<double>(net.recurrent_weights(l).size());
    e.ann_macs *= static_cast<double>(ann_passes);
    e.snn_arithmetic_pj = e.ops.synops * a.pj_accumulate;
    // Per synaptic operation: read the weight, read and write the target's input current; per
    // neuron update: read and write its state variables — the input current and the membrane,
    // plus the synaptic current (tau_syn > 0) and the adaptation (alif, adlif).
    const double states = 2.0 + (c.layers[l].tau_syn > 0.0 ? 1.0 : 0.0) +
                          (c.layers[l].kind == LayerKind::alif || c.layers[l].kind == LayerKind::adlif ? 1.0 : 0.0);
    e.snn_memory_pj = (3.0 * e.ops.synops + 2.0 * states * e.ops.neuron_updates) * a.pj_sram_32bit;
    e.ann_arithmetic_pj = e.ann_macs * a.pj_mac;
    e.ann_memory_pj = e.ann_macs * a.pj_sram_32bit;  // the weight of each MAC
    out.push_back(e);
  }
  return out;
}

}  // namespace volley::train
