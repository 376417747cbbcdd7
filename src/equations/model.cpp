#include "volley/equations/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "volley/equations/linear.hpp"
#include "volley/error.hpp"

namespace volley::eq {
namespace {

std::string trim(std::string_view s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Names the language defines itself.
const std::set<std::string, std::less<>> kReserved = {"t", "dt", "i", "N", "not_refractory",
                                                      "and", "or", "not", "True", "False"};
const std::set<std::string, std::less<>> kFunctions = {"exp", "log", "sqrt", "sin", "cos", "tanh",
                                                       "abs", "clip", "rand", "randn", "exprel"};

struct BaseUnit {
  std::string_view name, symbol;
  Dimension dim;
};
constexpr BaseUnit kBase[] = {
    {"second", "s", Dimension::seconds()}, {"volt", "V", Dimension::volts()},
    {"amp", "A", Dimension::amperes()},    {"ampere", "A", Dimension::amperes()},
    {"siemens", "S", Dimension::siemens()}, {"farad", "F", Dimension::farads()},
    {"ohm", "ohm", Dimension::ohms()},     {"hertz", "Hz", Dimension::hertz()},
    {"metre", "m", Dimension::metres()},   {"meter", "m", Dimension::metres()},
};
struct Prefix {
  std::string_view name, symbol;
  double factor;
};
constexpr Prefix kPrefixes[] = {{"pico", "p", 1e-12}, {"nano", "n", 1e-9}, {"micro", "u", 1e-6},
                                {"milli", "m", 1e-3}, {"centi", "c", 1e-2}, {"kilo", "k", 1e3},
                                {"mega", "M", 1e6},   {"giga", "G", 1e9}};

std::optional<Quantity> plain_unit(std::string_view n) {
  for (const auto& b : kBase)
    if (n == b.name || (n == b.symbol && n.size() > 1)) return Quantity{1.0, b.dim};  // Hz, ohm
  for (const auto& p : kPrefixes)
    for (const auto& b : kBase)
      for (std::string_view pre : {p.name, p.symbol})
        for (std::string_view base : {b.name, b.symbol})
          if (n.size() == pre.size() + base.size() && n.substr(0, pre.size()) == pre &&
              n.substr(pre.size()) == base)
            return Quantity{p.factor, b.dim};
  return std::nullopt;
}

struct Checker {
  const Model& model;
  const std::map<std::string, Quantity, std::less<>>& constants;
  int line;
  std::string line_text;

  [[noreturn]] void fail(int column, const std::string& what) const {
    throw ParameterError(fmt::format("equations line {} (\"{}\"), column {}: {}", line, line_text,
                                     column, what));
  }

  std::optional<Dimension> name_dim(std::string_view n) const {
    if (const Variable* v = model.find(n)) return v->dim;
    if (auto it = constants.find(n); it != constants.end()) return it->second.dim;
    if (n == "t" || n == "dt") return Dimension::seconds();
    if (n == "i" || n == "N" || n == "not_refractory") return Dimension::none();
    if (auto u = unit_constant(n)) return u->dim;
    return std::nullopt;
  }

  // The value of a constant expression (numbers, units, constants), or NaN.
  double constant_value(const ExprPtr& e) const {
    return evaluate_constant(substitute(e, [&](const std::string& n) -> ExprPtr {
      if (model.find(n)) return nullptr;
      if (auto it = constants.find(n); it != constants.end()) return number(it->second.value);
      if (auto u = unit_constant(n)) return number(u->value);
      return nullptr;
    }));
  }

  Dimension dim(const ExprPtr& e) const {
    const auto& A = e->args;
    switch (e->op) {
      case Op::kNumber: return Dimension::none();
      case Op::kName: {
        if (auto d = name_dim(e->name)) return *d;
        if (kFunctions.count(e->name)) fail(e->column, fmt::format("'{}' is a function; call it as {}(...)", e->name, e->name));
        fail(e->column, fmt::format("undefined name '{}'", e->name));
      }
      case Op::kNeg: return dim(A[0]);
      case Op::kNot: dim(A[0]); return Dimension::none();
      case Op::kAnd:
      case Op::kOr: dim(A[0]); dim(A[1]); return Dimension::none();
      case Op::kAdd: case Op::kSub:
      case Op::kLt: case Op::kLe: case Op::kGt: case Op::kGe: case Op::kEq: case Op::kNe: {
        const Dimension a = dim(A[0]), b = dim(A[1]);
        if (!(a == b))
          fail(e->column, fmt::format("'{}' {} '{}': the left operand is {}, the right one is {}",
                                      to_text(A[0]), e->op == Op::kAdd ? "+" : e->op == Op::kSub ? "-" : "compared with",
                                      to_text(A[1]), dimension_words(a), dimension_words(b)));
        return e->op == Op::kAdd || e->op == Op::kSub ? a : Dimension::none();
      }
      case Op::kMul: return dim(A[0]) * dim(A[1]);
      case Op::kDiv: {
        const Dimension a = dim(A[0]), b = dim(A[1]);
        if (constant_value(A[1]) == 0.0)
          fail(A[1]->column ? A[1]->column : e->column,
               fmt::format("division by zero: '{}' is 0", to_text(A[1])));
        return a / b;
      }
      case Op::kPow: {
        const Dimension a = dim(A[0]), b = dim(A[1]);
        if (!(b == Dimension::none()))
          fail(A[1]->column, fmt::format("the exponent '{}' must be dimensionless, it is {}",
                                         to_text(A[1]), dimension_words(b)));
        if (a == Dimension::none()) return a;
        const double k = constant_value(A[1]);
        if (std::isnan(k) || k != std::round(k))
          fail(A[1]->column, fmt::format("'{}' has units ({}), so its exponent must be a constant "
                                         "integer, not '{}'", to_text(A[0]), dimension_words(a),
                                         to_text(A[1])));
        return a.pow(static_cast<int>(k));
      }
      case Op::kCall: {
        const std::string& f = e->name;
        auto arity = [&](std::size_t n) {
          if (A.size() != n)
            fail(e->column, fmt::format("{}() takes {} argument{}, got {}", f, n, n == 1 ? "" : "s", A.size()));
        };
        if (f == "rand" || f == "randn") {
          arity(0);
          return Dimension::none();
        }
        if (f == "exp" || f == "log" || f == "sin" || f == "cos" || f == "tanh" || f == "exprel") {
          arity(1);
          const Dimension a = dim(A[0]);
          if (!(a == Dimension::none()))
            fail(A[0]->column, fmt::format("{}() needs a dimensionless argument; '{}' is {}", f,
                                           to_text(A[0]), dimension_words(a)));
          return a;
        }
        if (f == "sqrt") {
          arity(1);
          const Dimension a = dim(A[0]);
          if (a.time % 2 || a.voltage % 2 || a.current % 2 || a.length % 2)
            fail(A[0]->column, fmt::format("sqrt() of {} has no unit", dimension_words(a)));
          return {a.time / 2, a.voltage / 2, a.current / 2, a.length / 2};
        }
        if (f == "abs") {
          arity(1);
          return dim(A[0]);
        }
        if (f == "clip") {
          arity(3);
          const Dimension a = dim(A[0]);
          for (int k = 1; k < 3; ++k)
            if (!(dim(A[k]) == a))
              fail(A[k]->column, fmt::format("clip() bounds must have the unit of '{}' ({}); '{}' is {}",
                                             to_text(A[0]), dimension_words(a), to_text(A[k]),
                                             dimension_words(dim(A[k]))));
          return a;
        }
        fail(e->column, fmt::format("unknown function '{}' (known: exp, log, sqrt, sin, cos, tanh, "
                                    "abs, clip, rand, randn, exprel)", f));
      }
    }
    return Dimension::none();
  }
};

// 1-based column of a 0-based position.
int column_of(std::size_t pos) { return static_cast<int>(pos) + 1; }

}  // namespace

std::string_view method_name(Method m) {
  switch (m) {
    case Method::kExact: return "exact";
    case Method::kEuler: return "euler";
    case Method::kRk2: return "rk2";
    case Method::kHeun: return "heun";
    case Method::kRk4: return "rk4";
    case Method::kExponentialEuler: return "exponential_euler";
  }
  return "?";
}

const Variable* Model::find(std::string_view name) const {
  for (const auto& v : variables)
    if (v.name == name) return &v;
  return nullptr;
}

std::optional<Quantity> unit_constant(std::string_view n) {
  if (n == "boolean" || n == "integer") return Quantity{1.0, Dimension::none()};
  if (auto q = plain_unit(n)) return q;
  // "cm2", "umetre3": a power of a unit.
  if (n.size() > 1 && (n.back() == '2' || n.back() == '3'))
    if (auto q = plain_unit(n.substr(0, n.size() - 1))) {
      const int k = n.back() - '0';
      return Quantity{std::pow(q->value, k), q->dim.pow(k)};
    }
  return std::nullopt;
}

std::string dimension_words(Dimension d) {
  if (d == Dimension::none()) return "dimensionless";
  struct W {
    Dimension dim;
    std::string_view word;
  };
  static constexpr W named[] = {{Dimension::volts(), "volt"},     {Dimension::amperes(), "amp"},
                                {Dimension::seconds(), "second"}, {Dimension::siemens(), "siemens"},
                                {Dimension::farads(), "farad"},   {Dimension::ohms(), "ohm"},
                                {Dimension::hertz(), "hertz"},    {Dimension::metres(), "metre"}};
  for (const auto& w : named) {
    if (d == w.dim) return std::string(w.word);
    if (d == w.dim / Dimension::seconds()) return fmt::format("{}/second", w.word);
  }
  for (const auto& w : named)
    for (const auto& l : {Dimension::metres().pow(2)})
      if (d == w.dim / l) return fmt::format("{}/metre**2", w.word);
  std::string out;
  auto part = [&](std::string_view sym, int e) {
    if (e == 0) return;
    if (!out.empty()) out += '*';
    out += e == 1 ? std::string(sym) : fmt::format("{}**{}", sym, e);
  };
  part("second", d.time);
  part("volt", d.voltage);
  part("amp", d.current);
  part("metre", d.length);
  return out;
}

Model parse_model(const ModelText& text) {
  Model model;
  model.single_precision = text.single_precision;
  model.fast_math = text.fast_math;
  model.double_arithmetic = text.single_precision && text.double_arithmetic;
  model.refractory = text.refractory;
  if (text.max_step && !(*text.max_step > 0.0))
    throw ParameterError(fmt::format("max_step must be > 0, got {} s", *text.max_step));
  model.max_step = text.max_step;
  if (text.refractory && !trim(text.refractory_condition).empty())
    throw ParameterError("refractory: give either a time or a condition, not both");
  std::map<std::string, Quantity, std::less<>> constants;
  for (const auto& [n, q] : text.constants) {
    if (!is_identifier(n)) throw ParameterError(fmt::format("constant '{}' is not a valid name", n));
    if (kReserved.count(n) || kFunctions.count(n))
      throw ParameterError(fmt::format("constant '{}': the name is reserved by the equation language", n));
    constants[n] = q;
  }

  // Lines of the equations, first pass: declarations (names, units, flags), so that equations
  // may use names declared below them.
  struct Raw {
    std::string text, rhs;
    int rhs_column = 0;
  };
  std::vector<Raw> raw;
  {
    std::size_t start = 0;
    int line_no = 0;
    const std::string& src = text.equations;
    while (start <= src.size()) {
      std::size_t end = src.find('\n', start);
      if (end == std::string::npos) end = src.size();
      ++line_no;
      std::string line = src.substr(start, end - start);
      start = end + 1;
      if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
      if (trim(line).empty()) continue;
      // As in Brian2, an equation may run over several lines: one without ':' continues below.
      while (line.find(':') == std::string::npos && start <= src.size()) {
        std::size_t next = src.find('\n', start);
        if (next == std::string::npos) next = src.size();
        std::string more = src.substr(start, next - start);
        start = next + 1;
        if (auto hash = more.find('#'); hash != std::string::npos) more.resize(hash);
        line += " " + more;
      }
      auto fail = [&](std::size_t pos, const std::string& what) -> void {
        throw ParameterError(fmt::format("equations line {} (\"{}\"), column {}: {}", line_no,
                                         trim(line), column_of(pos), what));
      };
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos)
        fail(line.size(), "missing ': unit' (every equation ends with its unit, e.g. ': volt')");
      std::string unit_part = line.substr(colon + 1);
      std::vector<std::string> flags;
      if (unit_part.find('(') != std::string::npos && trim(unit_part).back() == ')') {
        // Flags come after the unit: "volt (unless refractory)"; the last '(' opens them.
        std::size_t last = unit_part.rfind('(');
        std::string inside = unit_part.substr(last + 1, unit_part.rfind(')') - last - 1);
        unit_part.resize(last);
        std::size_t p = 0;
        while (p <= inside.size()) {
          std::size_t q = inside.find(',', p);
          if (q == std::string::npos) q = inside.size();
          flags.push_back(trim(inside.substr(p, q - p)));
          p = q + 1;
        }
      }
      Variable var;
      var.line = line_no;
      // Unit.
      const std::string unit_text = trim(unit_part);
      if (unit_text.empty()) fail(colon + 1, "missing unit after ':' (use 1 for dimensionless)");
      try {
        ExprPtr u = parse_expression(unit_text);
        Dimension d;
        std::function<Dimension(const ExprPtr&)> unit_dim = [&](const ExprPtr& e) -> Dimension {
          switch (e->op) {
            case Op::kNumber:
              if (e->value != 1.0) fail(colon + 1, fmt::format("the unit '{}' has a number in it", unit_text));
              return Dimension::none();
            case Op::kName: {
              auto q = unit_constant(e->name);
              if (!q) fail(colon + 1, fmt::format("unknown unit '{}'", e->name));
              if (q->value != 1.0)
                fail(colon + 1, fmt::format("write the unit in base form (e.g. volt, not mV); got '{}'", e->name));
              return q->dim;
            }
            case Op::kMul: return unit_dim(e->args[0]) * unit_dim(e->args[1]);
            case Op::kDiv: return unit_dim(e->args[0]) / unit_dim(e->args[1]);
            case Op::kPow: {
              const double k = evaluate_constant(e->args[1]);
              if (std::isnan(k) || k != std::round(k)) fail(colon + 1, "unit exponents must be integers");
              return unit_dim(e->args[0]).pow(static_cast<int>(k));
            }
            default: fail(colon + 1, fmt::format("'{}' is not a unit", unit_text));
          }
          return d;
        };
        var.dim = unit_dim(u);
      } catch (const SyntaxError& e) {
        fail(colon + 1, fmt::format("the unit '{}': {}", unit_text, e.message));
      }
      // Left side.
      const std::string lhs_all = line.substr(0, colon);
      const std::size_t eq = lhs_all.find('=');
      const std::string lhs = trim(eq == std::string::npos ? lhs_all : lhs_all.substr(0, eq));
      Raw r;
      r.text = trim(line);
      if (eq == std::string::npos) {
        var.kind = VarKind::kParameter;
        var.name = lhs;
      } else {
        r.rhs = lhs_all.substr(eq + 1);
        r.rhs_column = static_cast<int>(eq) + 1;
        if (lhs.size() >= 5 && lhs[0] == 'd' && lhs.substr(lhs.size() - 3) == "/dt") {
          var.kind = VarKind::kState;
          var.name = trim(lhs.substr(1, lhs.size() - 4));
        } else {
          var.kind = VarKind::kSubexpression;
          var.name = lhs;
        }
      }
      if (!is_identifier(var.name))
        fail(line.find_first_not_of(" \t"),
             fmt::format("'{}' is not a name; expected 'dx/dt = ...', 'x = ...' or 'x : unit'", lhs));
      if (kReserved.count(var.name) || kFunctions.count(var.name) || unit_constant(var.name))
        fail(line.find(var.name), fmt::format("'{}' is reserved (a built-in name, function or unit)", var.name));
      if (model.find(var.name)) fail(line.find(var.name), fmt::format("'{}' is defined twice", var.name));
      if (constants.count(var.name))
        fail(line.find(var.name), fmt::format("'{}' is both a constant and a variable of the equations", var.name));
      for (const auto& f : flags) {
        if (f == "unless refractory" && var.kind == VarKind::kState) var.unless_refractory = true;
        else if (f == "constant" && var.kind == VarKind::kParameter) var.constant = true;
        else if (f == "per step" && var.kind == VarKind::kState) var.per_step = true;
        else if (f == "event-driven" && var.kind == VarKind::kState && text.synaptic) var.event_driven = true;
        else
          fail(colon + 1, fmt::format("flag '{}' is not known for {} (known: 'unless refractory' and 'per step' on "
                                      "differential equations, 'constant' on parameters{})",
                                      f, var.kind == VarKind::kState ? "a differential equation"
                                         : var.kind == VarKind::kParameter ? "a parameter" : "a subexpression",
                                      text.synaptic ? ", 'event-driven' on differential equations of synapses" : ""));
      }
      if (var.kind == VarKind::kState) model.states.push_back(model.variables.size());
      if (var.kind == VarKind::kParameter) model.parameters.push_back(model.variables.size());
      model.variables.push_back(var);
      raw.push_back(r);
    }
  }
  for (const auto& [n, d] : text.context) {
    if (model.find(n) || constants.count(n)) continue;
    Variable var;
    var.name = n;
    var.kind = VarKind::kParameter;
    var.dim = d;
    model.parameters.push_back(model.variables.size());
    model.variables.push_back(var);
    raw.push_back({});
  }
  if (model.states.empty() && model.parameters.empty())
    throw ParameterError("the equations define no variable (expected lines such as 'dv/dt = -v/tau : volt')");

  // Second pass: parse and check every right-hand side.
  std::vector<ExprPtr> parsed(model.variables.size());
  for (std::size_t k = 0; k < model.variables.size(); ++k) {
    Variable& var = model.variables[k];
    if (var.kind == VarKind::kParameter) continue;
    Checker c{model, constants, var.line, raw[k].text};
    try {
      parsed[k] = parse_expression(raw[k].rhs, raw[k].rhs_column);
    } catch (const SyntaxError& e) {
      c.fail(e.column, e.message);
    }
    const Dimension rhs = c.dim(parsed[k]);
    const Dimension want = var.kind == VarKind::kState ? var.dim / Dimension::seconds() : var.dim;
    if (!(rhs == want))
      c.fail(parsed[k]->column ? raw[k].rhs_column + 1 : 1,
             fmt::format("left side is {}, right side is {}", dimension_words(want), dimension_words(rhs)));
  }

  // Expansion: subexpressions inlined (in dependency order, cycles rejected), constants and
  // units replaced by their SI values.
  std::vector<int> mark(model.variables.size(), 0);  // 0 new, 1 in progress, 2 done
  std::function<ExprPtr(const ExprPtr&, int, const std::string&)> expand;
  std::function<void(std::size_t, std::vector<std::string>&)> expand_sub = [&](std::size_t k, std::vector<std::string>& path) {
    if (mark[k] == 2) return;
    path.push_back(model.variables[k].name);
    if (mark[k] == 1) {
      std::string cycle;
      for (const auto& p : path) cycle += (cycle.empty() ? "" : " -> ") + p;
      throw ParameterError(fmt::format("equations line {}: subexpressions depend on each other in a "
                                       "cycle: {}", model.variables[k].line, cycle));
    }
    mark[k] = 1;
    model.variables[k].rhs = expand(parsed[k], model.variables[k].line, raw[k].text);
    mark[k] = 2;
    path.pop_back();
  };
  std::vector<std::string> path;
  expand = [&](const ExprPtr& e, int, const std::string&) {
    return substitute(e, [&](const std::string& n) -> ExprPtr {
      for (std::size_t k = 0; k < model.variables.size(); ++k)
        if (model.variables[k].name == n && model.variables[k].kind == VarKind::kSubexpression) {
          expand_sub(k, path);
          return model.variables[k].rhs;
        }
      if (model.find(n)) return nullptr;
      if (auto it = constants.find(n); it != constants.end()) return number(it->second.value);
      if (n == "t" || n == "dt" || n == "i" || n == "N" || n == "not_refractory") return nullptr;
      if (auto u = unit_constant(n)) return number(u->value);
      return nullptr;
    });
  };
  for (std::size_t k = 0; k < model.variables.size(); ++k)
    if (model.variables[k].kind == VarKind::kSubexpression) expand_sub(k, path);
  for (std::size_t k : model.states)
    model.variables[k].rhs = expand(parsed[k], model.variables[k].line, raw[k].text);

  // Threshold and reset.
  auto check_code = [&](const std::string& what, const std::string& code, int column_offset) {
    Checker c{model, constants, 1, code};
    ExprPtr e;
    try {
      e = parse_expression(code, column_offset);
    } catch (const SyntaxError& err) {
      throw ParameterError(fmt::format("{} \"{}\", column {}: {}", what, code, err.column, err.message));
    }
    try {
      return std::pair{e, c.dim(e)};
    } catch (const ParameterError& err) {
      std::string m = err.what();
      const std::string prefix = fmt::format("equations line 1 (\"{}\"), ", code);
      if (m.rfind(prefix, 0) == 0) m = m.substr(prefix.size());
      throw ParameterError(fmt::format("{} \"{}\", {}", what, code, m));
    }
  };
  if (!trim(text.threshold).empty()) {
    const std::string code = trim(text.threshold);
    auto [e, d] = check_code("threshold", code, 0);
    const bool condition = e->op >= Op::kLt && e->op <= Op::kOr ? true : e->op == Op::kNot;
    if (!condition)
      throw ParameterError(fmt::format("threshold \"{}\" is not a condition (expected e.g. 'v > v_th')", code));
    model.threshold = expand(e, 0, code);
  }
  {
    std::string all = text.reset;
    std::replace(all.begin(), all.end(), '\n', ';');
    std::size_t p = 0;
    while (p <= all.size()) {
      std::size_t q = all.find(';', p);
      if (q == std::string::npos) q = all.size();
      const std::string st = trim(all.substr(p, q - p));
      p = q + 1;
      if (st.empty()) continue;
      const std::size_t eq = st.find('=');
      if (eq == std::string::npos || eq == 0)
        throw ParameterError(fmt::format("{} statement \"{}\": expected 'x = value' or 'x += value'", text.reset_name, st));
      Statement s;
      std::size_t name_end = eq;
      const char opc = st[eq - 1];
      if (std::string_view("+-*/").find(opc) != std::string_view::npos) {
        s.op = opc == '+' ? Op::kAdd : opc == '-' ? Op::kSub : opc == '*' ? Op::kMul : Op::kDiv;
        name_end = eq - 1;
      }
      s.target = trim(st.substr(0, name_end));
      const Variable* v = model.find(s.target);
      if (!v || v->kind == VarKind::kSubexpression)
        throw ParameterError(fmt::format("{} statement \"{}\": '{}' is not a state variable or parameter "
                                         "of the equations", text.reset_name, st, s.target));
      if (v->constant)
        throw ParameterError(fmt::format("{} statement \"{}\": '{}' is a constant parameter", text.reset_name, st, s.target));
      auto [e, d] = check_code(text.reset_name + " statement", st.substr(eq + 1), 0);
      const bool scale = s.op == Op::kMul || s.op == Op::kDiv;
      if (scale ? !(d == Dimension::none()) : !(d == v->dim))
        throw ParameterError(fmt::format("{} statement \"{}\": '{}' is {}, the value is {}", text.reset_name, st,
                                         s.target, scale ? "scaled, so the factor must be dimensionless"
                                                         : dimension_words(v->dim),
                                         dimension_words(d)));
      s.value = expand(e, 0, st);
      model.reset.push_back(s);
    }
  }
  if (!trim(text.refractory_condition).empty()) {
    const std::string code = trim(text.refractory_condition);
    auto [e, d] = check_code("refractory", code, 0);
    const bool condition = e->op >= Op::kLt && e->op <= Op::kOr ? true : e->op == Op::kNot;
    if (!condition)
      throw ParameterError(fmt::format("refractory \"{}\" is neither a time nor a condition (expected e.g. "
                                       "'5 ms' or 'v > -20*mV')", code));
    model.refractory_condition = expand(e, 0, code);
  }
  auto random_in = [](const ExprPtr& e) {
    std::function<bool(const ExprPtr&)> walk = [&](const ExprPtr& x) -> bool {
      if (x->op == Op::kCall && (x->name == "rand" || x->name == "randn")) return true;
      return std::any_of(x->args.begin(), x->args.end(), walk);
    };
    return walk(e);
  };
  for (const auto& v : model.variables)
    if (v.rhs && random_in(v.rhs)) model.uses_random = true;
  for (const auto& s : model.reset)
    if (random_in(s.value)) model.uses_random = true;
  if (model.threshold && random_in(model.threshold)) model.uses_random = true;
  if (model.refractory_condition && random_in(model.refractory_condition)) model.uses_random = true;
  // '(per step)' states are advanced once per step by exponential Euler, outside the substeps.
  bool per_step = false;
  for (std::size_t k : model.states) {
    const Variable& v = model.variables[k];
    if (!v.per_step) continue;
    per_step = true;
    ExprPtr a = derivative(v.rhs, v.name);
    if (!a || depends_on(a, v.name))
      throw ParameterError(fmt::format("equations line {}: a '(per step)' equation is advanced by exponential "
                                       "Euler, so d{}/dt must be linear in {}", v.line, v.name, v.name));
  }

  // Integration method.
  const std::string m = text.method;
  if (m.empty()) {
    model.method = !per_step && linear_system(model).ok ? Method::kExact : Method::kEuler;
  } else if (m == "exact" || m == "linear") {
    model.method = Method::kExact;
    if (per_step)
      throw ParameterError(fmt::format("method '{}' cannot be combined with '(per step)' equations; use "
                                       "exponential_euler", m));
    const LinearSystem sys = linear_system(model);
    if (!sys.ok) throw ParameterError(fmt::format("method '{}' cannot integrate these equations: {}", m, sys.why));
  } else if (m == "euler") {
    model.method = Method::kEuler;
  } else if (m == "rk2" || m == "midpoint") {
    model.method = Method::kRk2;
  } else if (m == "heun") {
    model.method = Method::kHeun;
  } else if (m == "rk4") {
    model.method = Method::kRk4;
  } else if (m == "exponential_euler") {
    model.method = Method::kExponentialEuler;
    for (std::size_t k : model.states) {
      const Variable& v = model.variables[k];
      ExprPtr a = derivative(v.rhs, v.name);
      if (!a || depends_on(a, v.name))
        throw ParameterError(fmt::format("method 'exponential_euler' cannot integrate equations line {}: "
                                         "d{}/dt is not linear in {}", v.line, v.name, v.name));
    }
  } else {
    throw ParameterError(fmt::format("unknown method '{}' (expected one of exact, linear, euler, rk2, "
                                     "midpoint, heun, rk4, exponential_euler)", m));
  }
  return model;
}

}  // namespace volley::eq
