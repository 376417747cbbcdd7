#pragma once
// Initial values drawn per element: constant, uniform, normal, lognormal, optionally clipped.
#include <cstdint>
#include <limits>
#include <string>

#include "volley/rng.hpp"

namespace volley {

struct Distribution {
  enum class Kind { kConstant, kUniform, kNormal, kLognormal };
  Kind kind = Kind::kConstant;
  double a = 0.0;  // constant: value; uniform: low; normal: mean; lognormal: mu of log
  double b = 0.0;  // uniform: high; normal: std; lognormal: sigma of log
  double min = -std::numeric_limits<double>::infinity();  // values are clipped to [min, max]
  double max = std::numeric_limits<double>::infinity();

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
    }
    return x < min ? min : (x > max ? max : x);
  }
  bool is_constant() const { return kind == Kind::kConstant; }
};

}  // namespace volley
