#pragma once
// Initial values drawn per element: constant, uniform, normal, lognormal, optionally clipped;
// or a deterministic ramp over an index (Brian2's `delay = 'j * ...'`): for a projection the
// index is the target (or source) neuron within its slice, for a population the neuron.
#include <cstdint>
#include <limits>
#include <string>

#include "volley/rng.hpp"

namespace volley {

struct Distribution {
  enum class Kind { kConstant, kUniform, kNormal, kLognormal, kRamp };
  enum class Over { kTarget, kSource };
  Kind kind = Kind::kConstant;
  double a = 0.0;  // constant: value; uniform: low; normal: mean; lognormal: mu of log
  double b = 0.0;  // uniform: high; normal: std; lognormal: sigma of log
  double min = -std::numeric_limits<double>::infinity();  // values are clipped to [min, max]
  double max = std::numeric_limits<double>::infinity();
  Over over = Over::kTarget;  // ramp: which index of a synapse it follows

  // Ramp from a (index 0) to b (index n − 1), linearly.
  static Distribution ramp(double from, double to, Over over = Over::kTarget) {
    Distribution d{Kind::kRamp, from, to};
    d.over = over;
    return d;
  }
  bool is_ramp() const { return kind == Kind::kRamp; }
  double at(std::size_t index, std::size_t n) const {
    const double x = n > 1 ? a + (b - a) * static_cast<double>(index) / static_cast<double>(n - 1) : a;
    return x < min ? min : (x > max ? max : x);
  }

  static Distribution constant(double v) { return {Kind::kConstant, v, 0.0}; }
  static Distribution uniform(double lo, double hi) { return {Kind::kUniform, lo, hi}; }
  static Distribution normal(double mean, double sd) { return {Kind::kNormal, mean, sd}; }
  static Distribution lognormal(double mu, double sigma) { return {Kind::kLognormal, mu, sigma}; }
  Distribution clipped(double lo, double hi) const {
    Distribution d = *this;
    d.min = lo;
    d.max = hi;
    return d;
  }

  // Throws ParameterError when parameters are impossible (high < low, negative std, ...).
  void validate(const std::string& what) const;

  double sample(CounterRng& rng) const {
    double x = a;
    switch (kind) {
      case Kind::kConstant: break;
      case Kind::kUniform: x = a + (b - a) * rng.uniform(); break;
      case Kind::kNormal: x = a + b * rng.normal(); break;
      case Kind::kLognormal: x = std::exp(a + b * rng.normal()); break;
      case Kind::kRamp: break;  // needs an index: see at()
    }
    return x < min ? min : (x > max ? max : x);
  }
  bool is_constant() const { return kind == Kind::kConstant; }
};

}  // namespace volley
