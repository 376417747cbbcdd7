#pragma once
// Electrical synapses (gap junctions): a symmetric conductance g between two neurons of one
// population, I_i = Σ_j g (v_j - v_i), entering each neuron as injected current (so any model
// with a membrane potential and an injection path: lif with R, lif_cond, izhikevich, the ODE
// models).
//
// Scheme: the coupling current of a step is computed from every neuron's v at the start of the
// step and held over the step (explicit in the coupling, each model's own integrator for the
// rest: operator splitting, first order in dt). A separate phase copies v before any neuron of
// the step is updated, so the result does not depend on the thread count. Its error is tested
// against the analytic solution of two coupled passive neurons (tests/sim/test_gap_junctions.cpp),
// and it is stable while dt * g_total / C stays well below 1 (g_total: a neuron's summed
// junction conductance).
//
// Pairs: the connection rule draws ordered pairs (pre in the source slice, post in the target
// slice) as for chemical synapses; a pair drawn in either order, or in both, is one junction, and
// a neuron is never coupled to itself. Between a group and itself, fixed_probability p thus
// couples each unordered pair with probability 2p - p²: for a mean of M partners per neuron use
// p ≈ M / (2 (N - 1)).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "volley/connectivity.hpp"
#include "volley/inputs.hpp"
#include "volley/population.hpp"

namespace volley {

struct GapJunctionSpec {
  std::string name;
  std::string population;       // both ends lie in this population
  Slice source_slice, target_slice;
  Connector connector = AllToAll{};
  double g = 0.0;               // siemens per junction, >= 0
};

class GapJunctions final : public Input {
 public:
  GapJunctions(const GapJunctionSpec& spec, Population& pop, std::uint64_t seed, std::uint32_t id);
  void prepare(double dt) override;
  // Copies v of neurons [lo, hi) (absolute) at the start of a step; every neuron of the
  // population must be copied before apply() runs for any of them.
  void snapshot(std::size_t lo, std::size_t hi);
  void apply(const StepContext& ctx, std::size_t lo, std::size_t hi) override;
  bool uses_drive() const override { return true; }

  std::size_t junction_count() const { return partners_.size() / 2; }
  double conductance() const { return g_; }
  // Partners of neuron i (absolute indices, sorted).
  std::span<const std::uint32_t> partners(std::size_t i) const;

 private:
  double g_;
  std::vector<std::uint64_t> row_ptr_;  // over the whole population
  std::vector<std::uint32_t> partners_;
  std::vector<double> v0_;              // v (volts) at the start of the step
  VariableView v_;
  double factor_ = 1.0;                 // amperes -> the population's drive units
};

}  // namespace volley
