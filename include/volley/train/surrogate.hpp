#pragma once
// Surrogate derivatives for the Heaviside spike. The forward pass keeps s = H(u) (u = V − θ); the
// backward pass replaces the Dirac delta dH/du by one of these smooth functions.
//
// Adding a surrogate is one small struct with
//   float derivative(float u) const;   // used in the backward pass
//   double primitive(double u) const;  // a smooth step whose derivative is `derivative` (for
//                                      // documentation and the tests; not used in training)
// plus a name in SurrogateKind, `surrogate_name` and `with_surrogate` below.
#include <cmath>
#include <numbers>
#include <string_view>

namespace volley::train {

// SuperSpike's fast sigmoid as in the SpyTorch tutorials: 1 / (scale·|u| + 1)², peak 1.
struct FastSigmoid {
  float scale = 100.0f;
  float derivative(float u) const {
    const float d = scale * std::fabs(u) + 1.0f;
    return 1.0f / (d * d);
  }
  double primitive(double u) const { return u / (1.0 + scale * std::fabs(u)); }
};

// Derivative of the logistic sigmoid of scale·u: scale·σ(scale·u)·(1 − σ(scale·u)), peak scale/4.
struct SigmoidSurrogate {
  float scale = 10.0f;
  float derivative(float u) const {
    const float s = 1.0f / (1.0f + std::exp(-scale * u));
    return scale * s * (1.0f - s);
  }
  double primitive(double u) const { return 1.0 / (1.0 + std::exp(-scale * u)); }
};

// Arctan (SpikingJelly's ATan with alpha = 2·scale): scale / (1 + (π·scale·u)²), peak scale.
struct Arctan {
  float scale = 1.0f;
  float derivative(float u) const {
    const float x = std::numbers::pi_v<float> * scale * u;
    return scale / (1.0f + x * x);
  }
  double primitive(double u) const {
    return std::atan(std::numbers::pi * scale * u) / std::numbers::pi + 0.5;
  }
};

// Triangle (Esser et al. 2016, Bellec et al. 2018): scale·max(0, 1 − scale·|u|), peak scale,
// zero for |u| >= 1/scale.
struct Triangle {
  float scale = 1.0f;
  float derivative(float u) const {
    const float d = 1.0f - scale * std::fabs(u);
    return d > 0.0f ? scale * d : 0.0f;
  }
  double primitive(double u) const {
    const double x = scale * u;
    if (x <= -1.0) return 0.0;
    if (x >= 1.0) return 1.0;
    return x >= 0.0 ? 0.5 + x - 0.5 * x * x : 0.5 + x + 0.5 * x * x;
  }
};

enum class SurrogateKind { fast_sigmoid, sigmoid, arctan, triangle };

struct SurrogateConfig {
  SurrogateKind kind = SurrogateKind::fast_sigmoid;
  float scale = 100.0f;
};

std::string_view surrogate_name(SurrogateKind kind);

// Calls f(surrogate) with the concrete struct, so kernels are compiled once per surrogate.
template <class F>
decltype(auto) with_surrogate(const SurrogateConfig& c, F&& f) {
  switch (c.kind) {
    case SurrogateKind::sigmoid:
      return f(SigmoidSurrogate{c.scale});
    case SurrogateKind::arctan:
      return f(Arctan{c.scale});
    case SurrogateKind::triangle:
      return f(Triangle{c.scale});
    case SurrogateKind::fast_sigmoid:
      break;
  }
  return f(FastSigmoid{c.scale});
}

}  // namespace volley::train
