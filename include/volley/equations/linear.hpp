#pragma once
// Linear systems among a model's differential equations: dx/dt = A x + b with A and b free of the
// state, of time and of random numbers. Method 'exact' integrates them with the propagator
// exp(A dt) (Brian2's 'exact'/'linear').
#include <string>
#include <vector>

#include "volley/equations/expression.hpp"

namespace volley::eq {

struct Model;

struct LinearSystem {
  bool ok = false;
  std::string why;                     // when not ok: what makes the system non-linear
  std::vector<std::vector<ExprPtr>> a;  // a[i][j] = d f_i / d x_j over the model's states
  std::vector<ExprPtr> b;              // f_i with every state at 0
  // Whether a or b mentions a per-neuron parameter (or i): then each state must depend only on
  // itself (A diagonal) and is integrated by the scalar propagator of its own equation.
  bool per_neuron = false;
};

LinearSystem linear_system(const Model& model);

// exp(M) of a square matrix (row-major, n x n), by scaling and squaring with a Taylor series.
std::vector<double> matrix_exponential(const std::vector<double>& m, int n);

}  // namespace volley::eq
