// Adam, Adamax and SGD with momentum (see optimizer.hpp).
#include "volley/train/optimizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "volley/error.hpp"

namespace volley::train {

const Registry<Choice<OptimizerKind>>& optimizers() {
  static const Registry<Choice<OptimizerKind>> r(
      "optimizer",
      {{"adam", OptimizerKind::adam, "Adam (Kingma & Ba 2015) with PyTorch's update rule"},
       {"adamax", OptimizerKind::adamax, "Adamax, the infinity-norm variant of Adam"},
       {"sgd", OptimizerKind::sgd, "stochastic gradient descent with momentum (PyTorch's rule)"}});
  return r;
}

const Registry<Choice<Schedule>>& schedules() {
  static const Registry<Choice<Schedule>> r(
      "schedule", {{"none", Schedule::none, "constant learning rate"},
                   {"step", Schedule::step, "lr·gamma^⌊epoch/step_size⌋"},
                   {"cosine", Schedule::cosine,
                    "lr_min + (lr − lr_min)·(1 + cos(π·epoch/epochs))/2"}});
  return r;
}

std::span<const volley::Param<OptimizerConfig>> optimizer_params() {
  constexpr double inf = std::numeric_limits<double>::infinity();
  static const volley::Param<OptimizerConfig> p[] = {
      {"lr", &OptimizerConfig::lr, Dimension::none(), Range{0.0, inf, true, true},
       "learning rate"},
      {"beta1", &OptimizerConfig::beta1, Dimension::none(), Range::closed_open(0, 1),
       "adam, adamax: decay of the first moment"},
      {"beta2", &OptimizerConfig::beta2, Dimension::none(), Range::closed_open(0, 1),
       "adam: decay of the second moment; adamax: of the infinity norm"},
      {"eps", &OptimizerConfig::eps, Dimension::none(), Range::open_closed(0, 1),
       "adam, adamax: added to the denominator"},
      {"momentum", &OptimizerConfig::momentum, Dimension::none(), Range::closed_open(0, 1),
       "sgd: momentum μ (0 = none)"},
      {"weight_decay", &OptimizerConfig::weight_decay, Dimension::none(),
       Range{0.0, inf, false, true}, "wd·p is added to the gradient (PyTorch's coupled L2 decay)"},
      {"step_size", &OptimizerConfig::step_size, Dimension::none(), Range::at_least(1),
       "step schedule: epochs between decays"},
      {"gamma", &OptimizerConfig::gamma, Dimension::none(), Range{0.0, inf, true, true},
       "step schedule: factor per decay"},
      {"lr_min", &OptimizerConfig::lr_min, Dimension::none(), Range{0.0, inf, false, true},
       "cosine schedule: final learning rate (at most lr)"},
  };
  return p;
}

std::string_view optimizer_name(OptimizerKind kind) { return optimizers().name_of(kind); }

void OptimizerConfig::validate() const {
  for (const auto& spec : optimizer_params())
    if (const std::string bad = spec.check(spec.get(*this)); !bad.empty())
      throw ParameterError(fmt::format("optimizer: {}: {}", spec.key, bad));
  if (!(lr_min <= lr))
    throw ParameterError(fmt::format("optimizer: lr_min: must be in [0, lr], got {}", lr_min));
}

double OptimizerConfig::lr_at(int epoch, int epochs) const {
  switch (schedule) {
    case Schedule::none:
      return lr;
    case Schedule::step:
      return lr * std::pow(gamma, epoch / step_size);
    case Schedule::cosine:
      return lr_min + (lr - lr_min) * 0.5 *
                          (1.0 + std::cos(std::numbers::pi * epoch / std::max(1, epochs)));
  }
  return lr;
}

Optimizer::Optimizer(const OptimizerConfig& cfg, const std::vector<Param>& params) : cfg_(cfg) {
  cfg_.validate();
  for (const Param& p : params) {
    m_.emplace_back(p.trainable ? p.value.size() : 0, 0.0f);
    v_.emplace_back(p.trainable && cfg.kind != OptimizerKind::sgd ? p.value.size() : 0, 0.0f);
  }
}

void Optimizer::remap(std::size_t param, const std::vector<std::int64_t>& from) {
  for (auto* state : {&m_[param], &v_[param]}) {
    if (state->empty()) continue;
    std::vector<float> moved(from.size(), 0.0f);
    for (std::size_t k = 0; k < from.size(); ++k)
      if (from[k] >= 0) moved[k] = (*state)[static_cast<std::size_t>(from[k])];
    *state = std::move(moved);
  }
}

void Optimizer::step(std::vector<Param>& params, const std::vector<std::vector<float>>& grads,
                     double lr, [[maybe_unused]] int threads) {
  ++t_;
  const double b1 = cfg_.beta1, b2 = cfg_.beta2;
  const double bc1 = 1.0 - std::pow(b1, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(b2, static_cast<double>(t_));
  const float wd = static_cast<float>(cfg_.weight_decay);
  const bool first = t_ == 1;
  for (std::size_t k = 0; k < params.size(); ++k) {
    if (!params[k].trainable) continue;
    const std::size_t size = params[k].value.size();
    if (grads[k].size() != size)
      throw ParameterError(fmt::format("optimiser: '{}' has {} values but {} gradients",
                                       params[k].name, size, grads[k].size()));
    // A parameter resized behind the optimiser's back (a sparse matrix restored without its
    // optimiser state) starts again from zero state; remap() keeps state across rewiring.
    if (m_[k].size() != size) m_[k].assign(size, 0.0f);
    if (cfg_.kind != OptimizerKind::sgd && v_[k].size() != size) v_[k].assign(size, 0.0f);
    const double plr = lr * params[k].lr_scale;
    float* p = params[k].value.data();
    const float* g = grads[k].data();
    float* m = m_[k].data();
    float* v = v_[k].data();
    const auto n = static_cast<std::ptrdiff_t>(params[k].value.size());
    switch (cfg_.kind) {
      case OptimizerKind::adam: {
        const float fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2);
        const float step = static_cast<float>(plr / bc1);
        const float rc2 = static_cast<float>(1.0 / std::sqrt(bc2));
        const float eps = static_cast<float>(cfg_.eps);
#pragma omp parallel for num_threads(threads) schedule(static) if (n > 65536)
        for (std::ptrdiff_t i = 0; i < n; ++i) {
          const float gi = g[i] + wd * p[i];
          m[i] = fb1 * m[i] + (1.0f - fb1) * gi;
          v[i] = fb2 * v[i] + (1.0f - fb2) * gi * gi;
          p[i] -= step * m[i] / (std::sqrt(v[i]) * rc2 + eps);
        }
        break;
      }
      case OptimizerKind::adamax: {
        const float fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2);
        const float step = static_cast<float>(plr / bc1);
        const float eps = static_cast<float>(cfg_.eps);
#pragma omp parallel for num_threads(threads) schedule(static) if (n > 65536)
        for (std::ptrdiff_t i = 0; i < n; ++i) {
          const float gi = g[i] + wd * p[i];
          m[i] = fb1 * m[i] + (1.0f - fb1) * gi;
          v[i] = std::max(fb2 * v[i], std::fabs(gi) + eps);
          p[i] -= step * m[i] / v[i];
        }
        break;
      }
      case OptimizerKind::sgd: {
        const float mu = static_cast<float>(cfg_.momentum), flr = static_cast<float>(plr);
#pragma omp parallel for num_threads(threads) schedule(static) if (n > 65536)
        for (std::ptrdiff_t i = 0; i < n; ++i) {
          const float gi = g[i] + wd * p[i];
          m[i] = mu > 0.0f ? (first ? gi : mu * m[i] + gi) : gi;
          p[i] -= flr * m[i];
        }
        break;
      }
    }
  }
}

}  // namespace volley::train
