#pragma once
// Evolutionary optimisation of a network's trainable parameters θ (all of Net::params() that
// are trainable, concatenated), gradient-free: only forward passes.
//
//  - OpenAI-style evolution strategies (Salimans et al. 2017): λ/2 antithetic pairs
//    θ ± σ·ε_i, ε_i ~ N(0, I); fitness = −loss on a minibatch; centred ranks in [−0.5, 0.5]
//    (rank shaping); the search gradient g = Σ_i F_i ε_i / (λσ) goes to the configured
//    optimiser (Adam by default) as −g, with weight decay if set.
//  - Separable CMA-ES (Ros & Hansen 2008): a diagonal covariance; μ = λ/2 recombination
//    weights w_i ∝ ln(μ + 1/2) − ln i, cumulative step-size adaptation, rank-one and rank-μ
//    updates of the diagonal with learning rates scaled by (n + 2)/3.
//
// Candidates of one generation are evaluated in parallel (threads) on the same minibatch; their
// noise comes from counter-based streams keyed by (seed, generation, candidate), and every
// reduction runs in candidate order, so results are identical for any thread count.
#include <cstddef>
#include <cstdint>
#include <span>
#include <functional>
#include <vector>

#include "volley/communicator.hpp"

#include "volley/registry.hpp"
#include "volley/train/dataset.hpp"
#include "volley/train/loss.hpp"
#include "volley/train/net.hpp"
#include "volley/train/optimizer.hpp"

namespace volley::train {

enum class EvolutionKind { openai_es, sep_cmaes };

struct EvolutionConfig {
  EvolutionKind kind = EvolutionKind::openai_es;
  std::size_t population = 50;   // λ (even for openai_es)
  double sigma = 0.05;           // initial search step (θ units)
  std::size_t batch_size = 256;  // samples per generation (the same for every candidate)
  std::size_t generations = 100;
  std::uint64_t seed = 1;
  int threads = 1;
  void validate() const;  // ParameterError naming the field
};

const Registry<Choice<EvolutionKind>>& evolution_kinds();
// [evolution] population, sigma, batch_size, generations (openai_es also needs an even
// population, which EvolutionConfig::validate checks).
std::span<const volley::Param<EvolutionConfig>> evolution_params();

struct GenerationStats {
  double best_fitness = 0.0, mean_fitness = 0.0;  // −loss on the generation's batch
  double sigma = 0.0;                             // CMA-ES: current global step size
  std::size_t evaluations = 0;                    // candidate evaluations (forward passes / batch)
  double seconds = 0.0;
};

class Evolution {
 public:
  // `net` holds θ (the mean for CMA-ES) and is updated in place; `optimizer` is used by
  // openai_es only.
  Evolution(Net& net, const LossConfig& loss, const OptimizerConfig& optimizer, const EvolutionConfig& config);

  // One generation on the samples `batch` of `data`.
  GenerationStats step(const EventSource& data, std::span<const std::size_t> batch);
  // Candidates shared out over the processes of `comm` (MPI): each evaluates a contiguous share
  // of every generation's candidates, the fitnesses are merged exactly, and the update runs
  // identically everywhere, so every process holds the one-process result.
  void distribute(Communicator& comm) { comm_ = comm.size() > 1 ? &comm : nullptr; }

  std::size_t dimension() const { return theta_.size(); }
  const EvolutionConfig& config() const { return cfg_; }
  std::uint64_t generation() const { return generation_; }

 private:
  std::vector<float> flatten() const;
  void unflatten(std::span<const float> theta, Net& net) const;
  // −mean loss of `net` with parameters theta on the batch (one thread).
  double fitness(std::span<const float> theta, Net& scratch, const EventSource& data,
                 std::span<const std::size_t> batch) const;

  Net& net_;
  LossConfig loss_;
  OptimizerConfig opt_cfg_;
  Optimizer opt_;
  EvolutionConfig cfg_;
  std::vector<std::pair<std::size_t, std::size_t>> slots_;  // (param index, size) of trainables
  std::vector<float> theta_;
  std::uint64_t generation_ = 0;
  Communicator* comm_ = nullptr;
  // Evaluates candidates [0, f.size()) (this process's share when distributed) into f, then
  // merges the processes' fitnesses.
  void evaluate_candidates(std::vector<double>& f,
                           const std::function<void(std::size_t, Net&)>& candidate);
  // CMA-ES state.
  double sigma_ = 0.0;
  std::vector<double> diag_, p_sigma_, p_c_;
};

}  // namespace volley::train
