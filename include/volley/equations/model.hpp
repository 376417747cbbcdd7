#pragma once
// A neuron model written as equations (Brian2's syntax):
//
//   dv/dt = (ge + gi - (v - El)) / taum : volt (unless refractory)
//   dge/dt = -ge / taue : volt
//   I = g * (E - v) : amp        # subexpression
//   tau : second                 # parameter, one value per neuron
//
// with a threshold condition, reset statements, a refractory period and named constants (the
// namespace). `parse_equation_model` reads and checks it: every name defined, every equation's
// dimensions consistent, no cycles among subexpressions, the integration method able to handle
// the system. The result is expanded (subexpressions and constants substituted, values in SI),
// ready for the code generator (codegen.hpp). Errors are ParameterErrors naming the line, the
// column and what is wrong.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "volley/equations/expression.hpp"
#include "volley/units.hpp"

namespace volley::eq {

// What a user writes.
struct ModelText {
  std::string equations;
  std::string threshold;                                // "" = never spikes
  std::string reset;                                    // statements, ';' or newline separated
  std::optional<double> refractory;                     // s
  std::string refractory_condition;                     // or refractory while this is true (Brian2's refractory='v > ...')
  std::optional<double> max_step;                       // s; integrate in ceil(dt/max_step) substeps
  std::string method;                                   // "" = Brian2's choice: exact, else euler
  std::vector<std::pair<std::string, Quantity>> constants;  // the namespace
  bool single_precision = false;   // variables stored (and, unless double_arithmetic, computed) in float
  bool double_arithmetic = false;  // with single_precision: computed in double ("mixed")
  bool fast_math = false;  // compile with -ffast-math (jit.hpp)
  // Synapse models (synapse_model.hpp): differential equations may carry `(event-driven)`, and
  // messages call the statements `reset_name` ("on_pre", "on_post").
  bool synaptic = false;
  std::string reset_name = "reset";
  // Names the caller provides (e.g. the neuron variables synapse code may use): parameters of
  // these dimensions, unless the equations declare the name themselves.
  std::vector<std::pair<std::string, Dimension>> context;
};

enum class VarKind { kState, kSubexpression, kParameter };

struct Variable {
  std::string name;
  VarKind kind = VarKind::kState;
  Dimension dim;
  ExprPtr rhs;                     // states: dx/dt; subexpressions: the value (expanded)
  bool unless_refractory = false;  // states: held while refractory
  bool per_step = false;           // states: advanced once per step, not in the substeps
  bool constant = false;           // parameters: may not be changed by the reset
  bool event_driven = false;       // states of synapse models: updated only at events
  int line = 0;                    // 1-based line in the equations text
};

struct Statement {
  std::string target;
  Op op = Op::kNumber;  // kNumber: '=', else kAdd/kSub/kMul/kDiv for '+=' ...
  ExprPtr value;        // expanded
};

enum class Method { kExact, kEuler, kRk2, kHeun, kRk4, kExponentialEuler };
// Brian2's names: exact (alias linear), euler, rk2 (alias midpoint), heun, rk4, exponential_euler.
std::string_view method_name(Method m);

struct Model {
  std::vector<Variable> variables;  // declaration order
  std::vector<std::size_t> states, parameters;  // indices into variables
  ExprPtr threshold;                // expanded; null = no threshold
  std::vector<Statement> reset;
  std::optional<double> refractory;
  ExprPtr refractory_condition;     // expanded; null = none
  std::optional<double> max_step;   // s
  Method method = Method::kEuler;
  bool single_precision = false;
  bool double_arithmetic = false;
  bool fast_math = false;
  bool uses_random = false;
  const Variable* find(std::string_view name) const;
};

Model parse_model(const ModelText& text);

// A unit name of the equation language ("mV", "msecond", "siemens", "cm2"), or nullopt.
std::optional<Quantity> unit_constant(std::string_view name);

// Dimension written in Brian2's words ("volt", "amp/second", "1").
std::string dimension_words(Dimension d);

}  // namespace volley::eq
