#pragma once
// Homeostatic structural plasticity during a run (Butz & van Ooyen 2013, as NEST implements it).
//
// Calcium: every neuron of a population with a calcium table carries a trace
//     dCa/dt = -Ca / tau_Ca,   Ca += beta_Ca at each of its spikes.
// Synaptic elements: named counts z per neuron (axonal boutons, dendritic spines, ...) that grow
// or shrink with Ca along a growth curve, dz/dt = nu g(Ca):
//     linear     g = 1 - Ca / eps
//     gaussian   g = 2 exp(-((Ca - xi) / zeta)^2) - 1,  xi = (eta + eps) / 2,
//                zeta = (eps - eta) / (2 sqrt(ln 2))   (g = 0 at Ca = eta and Ca = eps)
//     sigmoid    g = 2 / (1 + exp((Ca - eps) / psi)) - 1
// z is never negative. Ca and z are advanced lazily, at each spike of the neuron and at each
// structural update: between spikes Ca decays exactly, so z is the integral of nu g(Ca(t)) over
// that decay, computed exactly for the linear curve and by composite 3-point Gauss-Legendre
// quadrature (panels of at most tau_Ca / 16) for the others (NEST uses forward Euler with the
// simulation step; the two agree to the Euler error, tested).
//
// Every update_interval, on one thread between barriers (so the result does not depend on the
// thread count), for each rule (pre element, post element, the projections it feeds), in order:
//   1. neurons with fewer pre elements than synapses, floor(z) < connected, lose that many of
//      their outgoing synapses of the rule, chosen at random; likewise for post elements and
//      incoming synapses (a synapse removed frees the element at its other end);
//   2. vacant elements (floor(z) - connected > 0, one entry per element) are listed for pre and
//      post; the longer list is shuffled and cut to the shorter's length and the two are paired
//      in order, each pair becoming a synapse of the projection from the pre neuron's population
//      to the post neuron's (with that projection's weight and delay); a pair of a neuron with
//      itself is dropped when autapses are not allowed;
// and then every element loses tau_vacant of its vacant part: z -= tau_vacant (floor(z) - conn).
// Events already in flight when a synapse is removed are still delivered (as in NEST).
//
// A rule's projections must be static, with a constant weight and delay, span their populations
// whole, and cover every (population with the pre element) -> (population with the post element)
// pair exactly once. Synapses present when a run starts count as connected elements (z is raised
// to cover them, keeping its fractional part, as NEST does).
#include <cstdint>
#include <string>
#include <vector>

namespace volley {

class Network;
class Population;
class Projection;

enum class GrowthCurveKind { kLinear, kGaussian, kSigmoid };

struct GrowthCurve {
  GrowthCurveKind kind = GrowthCurveKind::kGaussian;
  double growth_rate = 0.0;  // nu, elements per second (may be negative for the linear curve)
  double eps = 0.7;          // target Ca (linear, gaussian, sigmoid)
  double eta = 0.1;          // gaussian: the lower Ca at which growth is zero (< eps)
  double psi = 0.1;          // sigmoid width (> 0)

  void validate(const std::string& where) const;
  // dz/dt / nu at calcium `ca`.
  double shape(double ca) const;
  // z after `span` seconds starting from z with calcium `ca` decaying with `tau` (no spike in
  // between), floored at 0.
  double advance(double z, double ca, double span, double tau) const;
};

struct CalciumSpec {
  std::string population;
  double tau = 10.0;    // s (NEST's tau_Ca default, 10 000 ms)
  double beta = 0.001;  // Ca added per spike (NEST's beta_Ca default)
};

struct SynapticElementSpec {
  std::string population, name;
  GrowthCurve curve;
  double tau_vacant = 0.1;  // fraction of the vacant elements lost per update, in [0, 1]
  double z_init = 0.0;      // elements per neuron at the start
};

struct StructuralRuleSpec {
  std::string name;
  std::string pre_element, post_element;
  std::vector<std::string> projections;
  bool allow_autapses = true;
};

struct StructuralPlasticitySpec {
  double update_interval = 1.0;  // s
  double record_interval = 0.0;  // s; 0 = every update
  std::vector<CalciumSpec> calcium;
  std::vector<SynapticElementSpec> elements;
  std::vector<StructuralRuleSpec> rules;
};

// What was recorded every record interval (at the end of the step, after any update there).
struct StructuralRecord {
  std::vector<double> t;  // s
  // Per calcium population (order of StructuralPlasticity::calcium_populations()): mean Ca.
  std::vector<std::vector<double>> mean_ca;
  // Per element (order of element_names()): mean z and total connected elements.
  std::vector<std::vector<double>> mean_z;
  std::vector<std::vector<std::uint64_t>> connected;
  // Per rule projection (order of projection_names()): synapse count.
  std::vector<std::vector<std::uint64_t>> synapses;
};

class StructuralPlasticity {
 public:
  // Checks the spec against the network (populations, projections, elements) and throws
  // ParameterError naming the table and entry that is wrong.
  StructuralPlasticity(const StructuralPlasticitySpec& spec, Network& net);

  const StructuralPlasticitySpec& spec() const { return spec_; }
  // Resolves steps for dt, counts connected elements from the present synapses.
  void prepare(double dt, std::uint64_t step);
  // Calcium and elements of the population's neurons that spiked in step `step` (absolute
  // indices); threads call it for their own neurons only.
  void observe(std::size_t population, const std::vector<std::uint32_t>& spikes, std::uint64_t step);
  bool update_due(std::uint64_t step) const { return (step + 1) % update_steps_ == 0; }
  bool record_due(std::uint64_t step) const { return (step + 1) % record_steps_ == 0; }
  // The structural update after step `step` (one thread, no other touching the network).
  void update(std::uint64_t step, std::uint64_t seed);
  // Samples the record after step `step`.
  void record(std::uint64_t step);

  // Network population index of each calcium population; names of elements
  // ("POPULATION.ELEMENT") and of rule projections, in record order.
  const std::vector<std::string>& calcium_populations() const { return ca_names_; }
  const std::vector<std::string>& element_names() const { return element_names_; }
  const std::vector<std::string>& projection_names() const { return proj_names_; }
  const StructuralRecord& recorded() const { return rec_; }
  // Present state after the last update or spike (not advanced to now).
  std::vector<double> calcium(std::size_t ca_index, std::uint64_t step) const;
  std::uint64_t created() const { return created_; }
  std::uint64_t deleted() const { return deleted_; }
  std::uint64_t updates() const { return updates_; }
  // The network population index of calcium population k.
  std::size_t population_of(std::size_t ca_index) const { return ca_pop_[ca_index]; }
  // The calcium index of a network population, or npos.
  std::size_t calcium_index(std::size_t population) const;

 private:
  struct Element {
    std::size_t ca = 0;  // calcium population index
    GrowthCurve curve;
    double tau_vacant = 0.1, z_init = 0.0;
    std::vector<double> z;
    std::vector<std::int64_t> connected;
  };
  struct Calcium {
    std::size_t pop = 0;
    double tau = 10.0, beta = 0.001;
    std::vector<double> ca;
    std::vector<std::uint64_t> last;  // step index (end of step) Ca and z refer to
    std::vector<std::size_t> elements;
  };
  struct RuleProjection {
    Projection* proj = nullptr;
    std::size_t pre_ca = 0, post_ca = 0;  // calcium indices of source and target
    double weight_si = 0.0, delay_s = 0.0;
  };
  struct Rule {
    StructuralRuleSpec spec;
    std::vector<std::size_t> pre_elements, post_elements;  // element index per calcium pop (npos)
    std::vector<RuleProjection> projs;
  };
  // Advances neuron i of calcium population c to time index `now` (no spike added).
  void advance_neuron(Calcium& c, std::size_t i, std::uint64_t now);
  void count_connected();
  void apply_rule(Rule& r, std::uint64_t step, std::uint64_t seed, std::size_t rule_index);

  StructuralPlasticitySpec spec_;
  Network* net_;
  double dt_ = 0.0;
  std::uint64_t update_steps_ = 1, record_steps_ = 1;
  std::vector<Calcium> ca_;
  std::vector<std::size_t> ca_pop_;
  std::vector<Element> elements_;
  std::vector<Rule> rules_;
  std::vector<std::string> ca_names_, element_names_, proj_names_;
  std::vector<Projection*> rec_projs_;
  StructuralRecord rec_;
  std::uint64_t created_ = 0, deleted_ = 0, updates_ = 0;
};

}  // namespace volley
