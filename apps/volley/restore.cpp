// The energy table shared by eval and robustness (restore.hpp).
#include "restore.hpp"

#include <fmt/format.h>

#include "volley/io/training.hpp"
#include "volley/train/runner.hpp"

namespace volley::cli {

nlohmann::json energy_report(const train::Net& net, const train::DecisionStats& full,
                             bool static_input, bool print) {
  const train::EnergyAssumptions ea;
  const bool ann = net.is_ann();
  // An SNN's twin runs once on a static input and once per step on events; a twin is counted as
  // itself (its own steps: 1 on static input, its bins on events).
  const std::size_t passes = ann || !static_input ? net.config().n_steps : 1;
  const auto energy = train::estimate_energy(net, full, passes, ea);
  if (print) {
    fmt::print("energy per sample ({} pJ per accumulate, {} pJ per multiply-accumulate, {} pJ per "
               "32-bit SRAM access; {}):\n",
               ea.pj_accumulate, ea.pj_mac, ea.pj_sram_32bit,
               ann            ? "this network is the ANN twin: its multiply-accumulates"
               : static_input ? "ANN twin: one pass on the static input"
                              : "ANN twin: one pass per time step");
    if (ann) {
      fmt::print("  {:<8} {:>14} {:>12} {:>12}\n", "layer", "MACs", "arith", "memory");
    } else {
      fmt::print("  {:<8} {:>12} {:>14} {:>14} {:>12} {:>12} {:>12} {:>12}\n", "layer", "spikes",
                 "synaptic ops", "ANN MACs", "SNN arith", "SNN memory", "ANN arith", "ANN memory");
    }
  }
  nlohmann::json ej = nlohmann::json::array();
  double tot[4] = {0, 0, 0, 0};
  for (std::size_t l = 0; l < energy.size(); ++l) {
    const auto& e = energy[l];
    if (print && ann) {
      fmt::print("  {:<8} {:>14.0f} {:>10.1f}nJ {:>10.1f}nJ\n", l, e.ann_macs,
                 e.ann_arithmetic_pj * 1e-3, e.ann_memory_pj * 1e-3);
    } else if (print) {
      fmt::print("  {:<8} {:>12.1f} {:>14.0f} {:>14.0f} {:>10.1f}nJ {:>10.1f}nJ {:>10.1f}nJ "
                 "{:>10.1f}nJ\n",
                 l, e.ops.spikes, e.ops.synops, e.ann_macs, e.snn_arithmetic_pj * 1e-3,
                 e.snn_memory_pj * 1e-3, e.ann_arithmetic_pj * 1e-3, e.ann_memory_pj * 1e-3);
    }
    tot[0] += e.snn_arithmetic_pj;
    tot[1] += e.snn_memory_pj;
    tot[2] += e.ann_arithmetic_pj;
    tot[3] += e.ann_memory_pj;
    nlohmann::json lj = {{"layer", l},
                         {"ann_macs", e.ann_macs},
                         {"ann_arithmetic_pj", e.ann_arithmetic_pj},
                         {"ann_memory_pj", e.ann_memory_pj}};
    if (!ann) {
      lj["spikes"] = e.ops.spikes;
      lj["synops"] = e.ops.synops;
      lj["neuron_updates"] = e.ops.neuron_updates;
      lj["snn_arithmetic_pj"] = e.snn_arithmetic_pj;
      lj["snn_memory_pj"] = e.snn_memory_pj;
    }
    ej.push_back(lj);
  }
  if (print && ann) {
    fmt::print("  total: {:.1f} nJ arithmetic + {:.1f} nJ memory = {:.1f} nJ\n", tot[2] * 1e-3,
               tot[3] * 1e-3, (tot[2] + tot[3]) * 1e-3);
  } else if (print) {
    fmt::print("  total: SNN {:.1f} nJ arithmetic + {:.1f} nJ memory = {:.1f} nJ; ANN twin {:.1f} "
               "nJ arithmetic + {:.1f} nJ memory = {:.1f} nJ\n",
               tot[0] * 1e-3, tot[1] * 1e-3, (tot[0] + tot[1]) * 1e-3, tot[2] * 1e-3,
               tot[3] * 1e-3, (tot[2] + tot[3]) * 1e-3);
  }
  nlohmann::json j = {{"assumptions",
                       {{"pj_accumulate", ea.pj_accumulate},
                        {"pj_multiply_accumulate", ea.pj_mac},
                        {"pj_sram_32bit", ea.pj_sram_32bit},
                        {"source", "45 nm, Horowitz 2014; SRAM: half a 64-bit 8 KB read"},
                        {"ann_passes_per_sample", passes}}},
                      {"network", ann ? "ann" : "snn"},
                      {"layers", ej},
                      {"ann_total_pj", tot[2] + tot[3]}};
  if (!ann) j["snn_total_pj"] = tot[0] + tot[1];
  return j;
}

}  // namespace volley::cli
