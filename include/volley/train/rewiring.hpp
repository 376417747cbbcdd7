#pragma once
// Rewiring while training: Deep R (Bellec, Kappel, Maass & Legenstein, ICLR 2018, "Deep
// rewiring: training very sparse deep networks"), on every sparse (CSR) weight matrix of the
// network (a layer's `density` or `recurrent_density` below 1).
//
// Each potential synapse k of an n_pre × n_post matrix has a fixed sign s_k (drawn once from the
// network seed, per (row, column), so dormant synapses need no storage) and a parameter θ_k; it
// is active when θ_k > 0, with weight w_k = s_k θ_k, and dormant otherwise (no weight). Only the
// active ones are stored, so memory and time follow the budget K: the number of active synapses
// of all rewired matrices together, fixed at the initial patterns' count (each matrix starts at
// its layer's density). The L1 prior l1·Σθ pulls θ towards dormancy: with l1_mode = gradient
// (the default) its gradient l1·s_k joins the loss gradient before the optimiser step, so with
// Adam it is scaled like the rest (a synapse the loss does not need shrinks by about lr per
// update whatever l1 is; one survives while |∂E/∂θ| exceeds l1 on average); with l1_mode =
// update θ_k −= lr·l1 after the step instead (the same as the gradient mode with SGD). After
// every optimiser step (which moves w_k, equivalently θ_k, down the gradient):
//   θ_k ← θ_k + sqrt(2·lr·T)·ν_k      (ν_k ~ N(0, 1): the exploration noise)
//   synapses with θ_k ≤ 0 go dormant; as many dormant positions are drawn uniformly at random
//   from all the matrices' dormant positions together, and activated with θ = reset_value
//   (their optimiser state starts at zero),
// so exactly K synapses stay active, and the budget flows to the layers where synapses survive
// (Bellec et al.'s global constraint; with global_budget = false each matrix keeps its count).
// The draws are keyed by (seed, update), on one thread: the result does not depend on the
// thread count.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "volley/registry.hpp"
#include "volley/train/net.hpp"
#include "volley/train/optimizer.hpp"

namespace volley::train {

enum class RewiringKind { none, deep_r };
const Registry<Choice<RewiringKind>>& rewiring_kinds();
// Where Deep R's L1 term acts: on θ after the optimiser step, or in the loss gradient before it.
enum class L1Mode { update, gradient };
const Registry<Choice<L1Mode>>& l1_modes();

struct RewiringConfig {
  RewiringKind kind = RewiringKind::none;
  double l1 = 1e-4;           // α: the L1 prior α·Σθ (where it acts: l1_mode)
  L1Mode l1_mode = L1Mode::gradient;
  double temperature = 0.0;   // T: noise of std sqrt(2·lr·T) per update
  double reset_value = 0.0;   // θ of a newly activated synapse
  // Where activated synapses go: anywhere among all matrices' dormant positions (the budget
  // flows between matrices; Bellec et al.'s global constraint), or back into the matrix that
  // lost them (each matrix keeps its own count).
  bool global_budget = true;
  // Throws ParameterError naming the field.
  void validate() const;
};
std::span<const volley::Param<RewiringConfig>> rewiring_params();

class DeepR {
 public:
  // One sparse matrix under rewiring, with the count of synapses that went dormant (and as many
  // that were activated) since reset_counts().
  struct Matrix {
    std::string name;  // the weight parameter, "layer0.w" / "layer0.v"
    std::size_t layer = 0;
    bool recurrent = false;
    std::size_t active = 0;      // active synapses now (all matrices together: the budget K)
    std::size_t potential = 0;   // n_pre · n_post
    std::uint64_t rewired = 0;   // synapses of this matrix that went dormant
    std::uint64_t grown = 0;     // synapses activated in this matrix
    std::size_t rows_connected = 0;  // presynaptic neurons (inputs) with at least one synapse
  };

  // Gives the active synapses their fixed signs (w = s·|w|). Throws ParameterError when the
  // network has no sparse matrix, or a rewired layer has synaptic delays.
  DeepR(const RewiringConfig& config, Net& net);

  // With l1_mode = gradient: adds l1·s_k to the loss gradient of every active synapse (call
  // before the optimiser step; `grads` are indexed like net.params()). Does nothing otherwise.
  void add_l1_gradient(const Net& net, std::vector<std::vector<float>>& grads) const;
  // After optimiser update number `update` (1-based: Optimizer::steps()) at learning rate lr.
  void rewire(Net& net, Optimizer& opt, double lr, std::uint64_t update);

  const std::vector<Matrix>& matrices() const { return matrices_; }
  std::size_t budget() const { return budget_; }
  // Zeroes the rewired/grown counts and reads each matrix's active synapses and connected rows
  // from `net` (which a checkpoint may have restored since).
  void reset_counts(const Net& net);
  // The fixed sign of potential synapse (i, j) of a matrix (+1 or -1).
  float sign(const Matrix& m, std::size_t i, std::size_t j) const;

 private:
  RewiringConfig config_;
  std::uint64_t seed_;
  std::vector<Matrix> matrices_;
  std::size_t budget_ = 0;
  std::vector<std::vector<char>> active_;  // scratch: n_pre × n_post flags per matrix
};

}  // namespace volley::train
