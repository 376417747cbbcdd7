#pragma once
// Surrogate derivatives for the Heaviside spike. The forward pass keeps s = H(u) (u = V − θ); the
// backward pass replaces the Dirac delta dH/du by one of these smooth functions.
//
// Adding a surrogate is one struct in this file, with
//   static constexpr std::string_view name;     // as the training file writes it
//   static constexpr std::string_view meaning;  // one line for the docs (formula, source)
//   static constexpr float default_scale;       // the scale when the file gives none
//   float scale = default_scale;
//   float derivative(float u) const;   // used in the backward pass
//   double primitive(double u) const;  // a smooth step whose derivative is `derivative` (for
//                                      // the docs and the tests; not used in training)
// and its name in `SurrogateTypes` below. The registry (training-file names, error messages,
// docs/reference.md), the kernels and the tests (finite differences of the primitive, the
// gradient check against the reference BPTT) all follow from that list. Kernels are compiled
// once per surrogate: `with_surrogate` picks the struct once per backward pass, never per neuron.
#include <cmath>
#include <cstddef>
#include <numbers>
#include <span>
#include <type_traits>
#include <string_view>

#include "volley/registry.hpp"

namespace volley::train {

// SuperSpike's fast sigmoid as in the SpyTorch tutorials: 1 / (scale·|u| + 1)², peak 1.
struct FastSigmoid {
  static constexpr std::string_view name = "fast_sigmoid";
  static constexpr std::string_view meaning =
      "1/(scale·\\|u\\| + 1)², peak 1 (SuperSpike, Zenke & Ganguli 2018; SpyTorch)";
  static constexpr float default_scale = 100.0f;
  float scale = default_scale;
  float derivative(float u) const {
    const float d = scale * std::fabs(u) + 1.0f;
    return 1.0f / (d * d);
  }
  double primitive(double u) const { return u / (1.0 + scale * std::fabs(u)); }
};

// Derivative of the logistic sigmoid of scale·u: scale·σ(scale·u)·(1 − σ(scale·u)), peak scale/4.
struct SigmoidSurrogate {
  static constexpr std::string_view name = "sigmoid";
  static constexpr std::string_view meaning =
      "scale·σ(scale·u)·(1 − σ(scale·u)), peak scale/4 (snnTorch's sigmoid, slope 25)";
  static constexpr float default_scale = 25.0f;
  float scale = default_scale;
  float derivative(float u) const {
    const float s = 1.0f / (1.0f + std::exp(-scale * u));
    return scale * s * (1.0f - s);
  }
  double primitive(double u) const { return 1.0 / (1.0 + std::exp(-scale * u)); }
};

// Arctan (SpikingJelly's ATan with alpha = 2·scale): scale / (1 + (π·scale·u)²), peak scale.
struct Arctan {
  static constexpr std::string_view name = "arctan";
  static constexpr std::string_view meaning =
      "scale/(1 + (π·scale·u)²), peak scale (SpikingJelly's and snnTorch's ATan, alpha = 2·scale)";
  static constexpr float default_scale = 1.0f;
  float scale = default_scale;
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
  static constexpr std::string_view name = "triangle";
  static constexpr std::string_view meaning =
      "scale·max(0, 1 − scale·\\|u\\|), peak scale, zero beyond \\|u\\| = 1/scale (Esser et al. "
      "2016; Bellec et al. 2018)";
  static constexpr float default_scale = 1.0f;
  float scale = default_scale;
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

// SLAYER's spike escape rate (Shrestha & Orchard 2018, "SLAYER: Spike Layer Error Reassignment
// in Time", NeurIPS, eq. 4: ρ(t) = α·exp(−β·|u(t) − ϑ|)) with α = β = scale: a Laplace-shaped
// scale·exp(−scale·|u|), peak scale. The default 1 is SLAYER's τ_ρ = 1 relative to a threshold
// of 1 (β = 1/(τ_ρ·ϑ)). Its primitive sign(u)·(1 − exp(−scale·|u|)) is a step from −1 to 1.
struct Exponential {
  static constexpr std::string_view name = "exponential";
  static constexpr std::string_view meaning =
      "scale·exp(−scale·\\|u\\|), peak scale (SLAYER's spike escape rate, Shrestha & Orchard "
      "2018, with α = β = scale)";
  static constexpr float default_scale = 1.0f;
  float scale = default_scale;
  float derivative(float u) const { return scale * std::exp(-scale * std::fabs(u)); }
  double primitive(double u) const { return std::copysign(1.0 - std::exp(-scale * std::fabs(u)), u); }
};

template <class... S>
struct SurrogateList {
  static constexpr std::size_t size = sizeof...(S);
};

// Every surrogate, in the order of the registry (the first is the default).
using SurrogateTypes = SurrogateList<FastSigmoid, SigmoidSurrogate, Arctan, Triangle, Exponential>;

// A surrogate as the configuration holds it: its position in SurrogateTypes and its scale.
struct SurrogateConfig {
  std::size_t kind = 0;  // index into SurrogateTypes (see surrogate_index)
  float scale = FastSigmoid::default_scale;

  // SurrogateConfig::of<Arctan>() or of<FastSigmoid>(25.0f).
  template <class S>
  static constexpr SurrogateConfig of(float scale = S::default_scale);
};

namespace detail {
template <class T, class... S>
constexpr std::size_t index_of(SurrogateList<S...>) {
  static_assert((std::is_same_v<T, S> || ...), "not in SurrogateTypes");
  std::size_t i = 0;
  ((std::is_same_v<T, S> ? false : (++i, true)) && ...);
  return i;
}

template <class F, class First, class... Rest>
decltype(auto) with_surrogate_at(std::size_t i, float scale, F& f) {
  if constexpr (sizeof...(Rest) == 0) {
    return f(First{scale});
  } else {
    if (i == 0) return f(First{scale});
    return with_surrogate_at<F, Rest...>(i - 1, scale, f);
  }
}

template <class F, class... S>
decltype(auto) with_surrogate_in(SurrogateList<S...>, std::size_t i, float scale, F& f) {
  return with_surrogate_at<F, S...>(i, scale, f);
}

template <class F, class... S>
void for_each_surrogate_in(SurrogateList<S...>, F& f) {
  (f(S{}), ...);
}
}  // namespace detail

// The position of surrogate S in SurrogateTypes (its SurrogateConfig::kind).
template <class S>
constexpr std::size_t surrogate_index() {
  return detail::index_of<S>(SurrogateTypes{});
}

template <class S>
constexpr SurrogateConfig SurrogateConfig::of(float scale) {
  return {surrogate_index<S>(), scale};
}

// Calls f(surrogate) with the concrete struct, so kernels are compiled once per surrogate. A kind
// past the end of the list (NetConfig::validate rejects it) gets the last surrogate.
template <class F>
decltype(auto) with_surrogate(const SurrogateConfig& c, F&& f) {
  return detail::with_surrogate_in(SurrogateTypes{}, c.kind, c.scale, f);
}

// Calls f(S{}) (default scale) for every surrogate type S, in registry order (for tests and
// tables).
template <class F>
void for_each_surrogate(F&& f) {
  detail::for_each_surrogate_in(SurrogateTypes{}, f);
}

// A registry entry: the name the training file uses, what it computes, its default scale.
struct SurrogateInfo {
  std::string_view name;
  std::size_t value;  // SurrogateConfig::kind
  std::string_view meaning;
  float default_scale;
};

// The registered surrogates, made from SurrogateTypes.
const Registry<SurrogateInfo>& surrogates();

// "fast_sigmoid", ...; "?" for a kind past the end.
std::string_view surrogate_name(std::size_t kind);

// [surrogate] scale (default: the surrogate's own).
std::span<const volley::Param<SurrogateConfig>> surrogate_params();

}  // namespace volley::train
