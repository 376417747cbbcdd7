// Adam, Adamax and SGD with momentum (see optimizer.hpp).
#include "volley/train/optimizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "volley/error.hpp"

namespace volley::train {

std::string_view optimizer_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::adam: return "adam";
    case OptimizerKind::adamax: return "adamax";
    case OptimizerKind::sgd: return "sgd";
  }
  return "?";
}

void OptimizerConfig::validate() const {
  auto bad = [](std::string_view field, double value, std::string_view rule) {
    throw ParameterError(fmt::format("optimizer: {}: must be {}, got {}", field, rule, value));
  };
  if (!(lr > 0.0) || !std::isfinite(lr)) bad("lr", lr, "> 0");
  if (!(beta1 >= 0.0 && beta1 < 1.0)) bad("beta1", beta1, "in [0, 1)");
  if (!(beta2 >= 0.0 && beta2 < 1.0)) bad("beta2", beta2, "in [0, 1)");
  if (!(eps > 0.0)) bad("eps", eps, "> 0");
  if (!(momentum >= 0.0 && momentum < 1.0)) bad("momentum", momentum, "in [0, 1)");
  if (!(weight_decay >= 0.0)) bad("weight_decay", weight_decay, ">= 0");
  if (step_size < 1) bad("step_size", step_size, ">= 1");
  if (!(gamma > 0.0)) bad("gamma", gamma, "> 0");
  if (!(lr_min >= 0.0 && lr_min <= lr)) bad("lr_min", lr_min, "in [0, lr]");
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
    float* p = params[k].value.data();
    const float* g = grads[k].data();
    float* m = m_[k].data();
    float* v = v_[k].data();
    const auto n = static_cast<std::ptrdiff_t>(params[k].value.size());
    switch (cfg_.kind) {
      case OptimizerKind::adam: {
        const float fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2);
        const float step = static_cast<float>(lr / bc1);
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
        const float step = static_cast<float>(lr / bc1);
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
        const float mu = static_cast<float>(cfg_.momentum), flr = static_cast<float>(lr);
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
