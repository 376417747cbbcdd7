#pragma once
// Optimisers over the network's trainable parameters, with PyTorch's update rules:
//   adam    m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², p ← p − lr·m̂/(√v̂ + ε)
//   adamax  m as Adam, u ← max(β2·u, |g| + ε), p ← p − lr/(1−β1^t)·m/u
//   sgd     b ← μ·b + g (b = g on the first step), p ← p − lr·b
// weight_decay adds wd·p to the gradient first (PyTorch's coupled L2 decay).
// Learning-rate schedules per epoch: none, step (×gamma every step_size epochs) and cosine
// (lr_min + (lr − lr_min)·(1 + cos(π·epoch/epochs))/2).
#include <cstdint>
#include <string_view>
#include <vector>

#include "volley/registry.hpp"
#include "volley/train/net.hpp"

namespace volley::train {

enum class OptimizerKind { adam, adamax, sgd };
enum class Schedule { none, step, cosine };

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::adam;
  double lr = 2e-4;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double momentum = 0.9;
  double weight_decay = 0.0;
  Schedule schedule = Schedule::none;
  int step_size = 10;  // epochs
  double gamma = 0.1;
  double lr_min = 0.0;

  void validate() const;  // throws ParameterError naming the field
  // Learning rate for 0-based `epoch` of `epochs`.
  double lr_at(int epoch, int epochs) const;
};

const Registry<Choice<OptimizerKind>>& optimizers();
const Registry<Choice<Schedule>>& schedules();
// [optimizer] lr, beta1, beta2, eps, momentum, weight_decay, step_size, gamma, lr_min (lr_min is
// further bounded by lr, which OptimizerConfig::validate checks).
std::span<const volley::Param<OptimizerConfig>> optimizer_params();

std::string_view optimizer_name(OptimizerKind kind);

class Optimizer {
 public:
  Optimizer(const OptimizerConfig& cfg, const std::vector<Param>& params);
  // One update of every trainable parameter with `grads` at learning rate lr·Param::lr_scale
  // (the time constants' tau_lr_scale; 1 for weights). Elementwise,
  // so the result does not depend on the thread count.
  void step(std::vector<Param>& params, const std::vector<std::vector<float>>& grads, double lr,
            int threads);

  // Rearranges the state of parameter `param` after its elements moved: element k takes the
  // state of old element from[k], or zero state where from[k] < 0 (a new element).
  void remap(std::size_t param, const std::vector<std::int64_t>& from);

  // State, for checkpoints.
  std::uint64_t steps() const { return t_; }
  std::vector<std::vector<float>>& m() { return m_; }
  std::vector<std::vector<float>>& v() { return v_; }
  void set_steps(std::uint64_t t) { t_ = t; }

 private:
  OptimizerConfig cfg_;
  std::uint64_t t_ = 0;
  std::vector<std::vector<float>> m_, v_;
};

}  // namespace volley::train
