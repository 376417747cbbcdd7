#include "volley/equations/linear.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "volley/equations/model.hpp"

namespace volley::eq {
namespace {

bool has_random(const ExprPtr& e) {
  if (e->op == Op::kCall && (e->name == "rand" || e->name == "randn")) return true;
  return std::any_of(e->args.begin(), e->args.end(), has_random);
}

std::vector<double> multiply(const std::vector<double>& a, const std::vector<double>& b, int n) {
  std::vector<double> c(static_cast<std::size_t>(n * n), 0.0);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < n; ++k)
      for (int j = 0; j < n; ++j) c[i * n + j] += a[i * n + k] * b[k * n + j];
  return c;
}

}  // namespace

LinearSystem linear_system(const Model& model) {
  LinearSystem sys;
  const std::size_t n = model.states.size();
  sys.a.assign(n, std::vector<ExprPtr>(n));
  sys.b.resize(n);
  auto per_neuron = [&](const ExprPtr& e) {
    for (const auto& name : names_in(e)) {
      const Variable* v = model.find(name);
      if ((v && v->kind == VarKind::kParameter) || name == "i") return name;
    }
    return std::string();
  };
  std::string per_neuron_name;
  bool coupled = false;
  for (std::size_t i = 0; i < n; ++i) {
    const Variable& vi = model.variables[model.states[i]];
    if (has_random(vi.rhs)) {
      sys.why = fmt::format("d{}/dt has random numbers", vi.name);
      return sys;
    }
    if (depends_on(vi.rhs, "t")) {
      sys.why = fmt::format("d{}/dt depends on time t", vi.name);
      return sys;
    }
    sys.b[i] = substitute(vi.rhs, [&](const std::string& name) -> ExprPtr {
      const Variable* v = model.find(name);
      return v && v->kind == VarKind::kState ? number(0.0) : nullptr;
    });
    if (auto p = per_neuron(sys.b[i]); !p.empty()) per_neuron_name = p;
    for (std::size_t j = 0; j < n; ++j) {
      const Variable& vj = model.variables[model.states[j]];
      ExprPtr d = derivative(vi.rhs, vj.name);
      if (!d) {
        sys.why = fmt::format("d{}/dt is not differentiable in {}", vi.name, vj.name);
        return sys;
      }
      for (std::size_t k : model.states)
        if (depends_on(d, model.variables[k].name)) {
          sys.why = fmt::format("d{}/dt is not linear (its derivative in {} depends on {})", vi.name,
                                vj.name, model.variables[k].name);
          return sys;
        }
      if (auto p = per_neuron(d); !p.empty()) per_neuron_name = p;
      if (i != j && !is_number(d, 0.0)) coupled = true;
      sys.a[i][j] = d;
    }
  }
  sys.per_neuron = !per_neuron_name.empty();
  if (sys.per_neuron && coupled) {
    sys.why = fmt::format("its coefficients depend on '{}', which differs between neurons, and the "
                          "equations are coupled (use exponential_euler, or give {} as a constant)",
                          per_neuron_name, per_neuron_name);
    return sys;
  }
  sys.ok = true;
  return sys;
}

std::vector<double> matrix_exponential(const std::vector<double>& m, int n) {
  double norm = 0.0;
  for (int i = 0; i < n; ++i) {
    double row = 0.0;
    for (int j = 0; j < n; ++j) row += std::abs(m[i * n + j]);
    norm = std::max(norm, row);
  }
  int squarings = 0;
  while (norm > 0.5) {
    norm *= 0.5;
    ++squarings;
  }
  const double scale = std::ldexp(1.0, -squarings);
  std::vector<double> a(m);
  for (double& x : a) x *= scale;
  // Taylor series to order 20: the remainder is below 0.5^21 / 21! relative.
  std::vector<double> result(static_cast<std::size_t>(n * n), 0.0), term(result);
  for (int i = 0; i < n; ++i) result[i * n + i] = term[i * n + i] = 1.0;
  for (int k = 1; k <= 20; ++k) {
    term = multiply(term, a, n);
    for (double& x : term) x /= k;
    for (std::size_t q = 0; q < result.size(); ++q) result[q] += term[q];
  }
  for (int s = 0; s < squarings; ++s) result = multiply(result, result, n);
  return result;
}

}  // namespace volley::eq
