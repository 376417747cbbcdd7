#include "volley/equations/expression.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace volley::eq {
namespace {

struct Token {
  enum Kind { kEnd, kNumber, kName, kSym } kind = kEnd;
  std::string text;
  double value = 0.0;
  int column = 0;
};

class Lexer {
 public:
  Lexer(std::string_view s, int offset) : s_(s), offset_(offset) { advance(); }
  const Token& peek() const { return tok_; }
  Token take() {
    Token t = tok_;
    advance();
    return t;
  }

 private:
  void advance() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    tok_ = Token{};
    tok_.column = offset_ + static_cast<int>(i_) + 1;
    if (i_ >= s_.size()) return;
    const char c = s_[i_];
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))) {
      std::size_t j = i_;
      while (j < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[j])) || s_[j] == '.')) ++j;
      if (j < s_.size() && (s_[j] == 'e' || s_[j] == 'E')) {
        std::size_t k = j + 1;
        if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
        if (k < s_.size() && std::isdigit(static_cast<unsigned char>(s_[k]))) {
          j = k;
          while (j < s_.size() && std::isdigit(static_cast<unsigned char>(s_[j]))) ++j;
        }
      }
      double v = 0.0;
      auto [p, ec] = std::from_chars(s_.data() + i_, s_.data() + j, v);
      if (ec != std::errc() || p != s_.data() + j)
        throw SyntaxError{fmt::format("malformed number '{}'", s_.substr(i_, j - i_)), tok_.column};
      tok_.kind = Token::kNumber;
      tok_.value = v;
      tok_.text = std::string(s_.substr(i_, j - i_));
      i_ = j;
      return;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t j = i_;
      while (j < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '_')) ++j;
      tok_.kind = Token::kName;
      tok_.text = std::string(s_.substr(i_, j - i_));
      i_ = j;
      return;
    }
    static constexpr std::string_view two[] = {"**", "<=", ">=", "==", "!="};
    for (auto op : two)
      if (s_.substr(i_, 2) == op) {
        tok_.kind = Token::kSym;
        tok_.text = std::string(op);
        i_ += 2;
        return;
      }
    if (std::string_view("+-*/()<>,").find(c) != std::string_view::npos) {
      tok_.kind = Token::kSym;
      tok_.text = std::string(1, c);
      ++i_;
      return;
    }
    throw SyntaxError{fmt::format("unexpected character '{}'", c), tok_.column};
  }

  std::string_view s_;
  int offset_;
  std::size_t i_ = 0;
  Token tok_;
};

class Parser {
 public:
  Parser(std::string_view s, int offset) : lex_(s, offset) {}

  ExprPtr parse_all() {
    ExprPtr e = parse_or();
    if (lex_.peek().kind != Token::kEnd)
      throw SyntaxError{fmt::format("unexpected '{}'", lex_.peek().text), lex_.peek().column};
    return e;
  }

 private:
  bool is_sym(std::string_view s) const {
    return lex_.peek().kind == Token::kSym && lex_.peek().text == s;
  }
  bool is_word(std::string_view s) const {
    return lex_.peek().kind == Token::kName && lex_.peek().text == s;
  }
  static ExprPtr at(ExprPtr e, int column) {
    auto copy = std::make_shared<Expr>(*e);
    copy->column = column;
    return copy;
  }
  static ExprPtr node(Op op, std::vector<ExprPtr> args, int column) {
    auto e = std::make_shared<Expr>();
    e->op = op;
    e->args = std::move(args);
    e->column = column;
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr a = parse_and();
    while (is_word("or")) {
      const int c = lex_.take().column;
      a = node(Op::kOr, {a, parse_and()}, c);
    }
    return a;
  }
  ExprPtr parse_and() {
    ExprPtr a = parse_not();
    while (is_word("and")) {
      const int c = lex_.take().column;
      a = node(Op::kAnd, {a, parse_not()}, c);
    }
    return a;
  }
  ExprPtr parse_not() {
    if (is_word("not")) {
      const int c = lex_.take().column;
      return node(Op::kNot, {parse_not()}, c);
    }
    return parse_comparison();
  }
  ExprPtr parse_comparison() {
    ExprPtr a = parse_sum();
    static const std::pair<std::string_view, Op> ops[] = {
        {"<", Op::kLt}, {"<=", Op::kLe}, {">", Op::kGt}, {">=", Op::kGe}, {"==", Op::kEq}, {"!=", Op::kNe}};
    for (const auto& [s, op] : ops)
      if (is_sym(s)) {
        const int c = lex_.take().column;
        ExprPtr b = parse_sum();
        for (const auto& [s2, op2] : ops)
          if (is_sym(s2))
            throw SyntaxError{"chained comparisons are not supported; combine them with 'and'",
                              lex_.peek().column};
        return node(op, {a, b}, c);
      }
    return a;
  }
  ExprPtr parse_sum() {
    ExprPtr a = parse_product();
    while (is_sym("+") || is_sym("-")) {
      const Token t = lex_.take();
      a = node(t.text == "+" ? Op::kAdd : Op::kSub, {a, parse_product()}, t.column);
    }
    return a;
  }
  ExprPtr parse_product() {
    ExprPtr a = parse_unary();
    while (is_sym("*") || is_sym("/")) {
      const Token t = lex_.take();
      a = node(t.text == "*" ? Op::kMul : Op::kDiv, {a, parse_unary()}, t.column);
    }
    return a;
  }
  ExprPtr parse_unary() {
    if (is_sym("-")) {
      const int c = lex_.take().column;
      return node(Op::kNeg, {parse_unary()}, c);
    }
    if (is_sym("+")) {
      lex_.take();
      return parse_unary();
    }
    return parse_power();
  }
  ExprPtr parse_power() {
    ExprPtr base = parse_atom();
    if (is_sym("**")) {
      const int c = lex_.take().column;
      return node(Op::kPow, {base, parse_unary()}, c);  // right-associative, -x**2 = -(x**2)
    }
    return base;
  }
  ExprPtr parse_atom() {
    const Token t = lex_.take();
    if (t.kind == Token::kNumber) return at(number(t.value), t.column);
    if (t.kind == Token::kName) {
      if (t.text == "True") return at(number(1.0), t.column);
      if (t.text == "False") return at(number(0.0), t.column);
      if (t.text == "and" || t.text == "or" || t.text == "not")
        throw SyntaxError{fmt::format("'{}' needs an operand before it", t.text), t.column};
      if (is_sym("(")) {
        lex_.take();
        std::vector<ExprPtr> args;
        if (!is_sym(")")) {
          args.push_back(parse_or());
          while (is_sym(",")) {
            lex_.take();
            args.push_back(parse_or());
          }
        }
        if (!is_sym(")"))
          throw SyntaxError{fmt::format("expected ')' to close the call of {}", t.text),
                            lex_.peek().column};
        lex_.take();
        auto e = std::make_shared<Expr>();
        e->op = Op::kCall;
        e->name = t.text;
        e->args = std::move(args);
        e->column = t.column;
        return e;
      }
      return at(name(t.text), t.column);
    }
    if (t.kind == Token::kSym && t.text == "(") {
      ExprPtr e = parse_or();
      if (!is_sym(")")) throw SyntaxError{"expected ')'", lex_.peek().column};
      lex_.take();
      return e;
    }
    if (t.kind == Token::kEnd) throw SyntaxError{"unexpected end of expression", t.column};
    throw SyntaxError{fmt::format("unexpected '{}'", t.text), t.column};
  }

  Lexer lex_;
};

bool binary_op(Op op) { return op >= Op::kAdd && op <= Op::kOr; }

double apply(Op op, double a, double b) {
  switch (op) {
    case Op::kAdd: return a + b;
    case Op::kSub: return a - b;
    case Op::kMul: return a * b;
    case Op::kDiv: return a / b;
    case Op::kPow: return std::pow(a, b);
    case Op::kLt: return a < b;
    case Op::kLe: return a <= b;
    case Op::kGt: return a > b;
    case Op::kGe: return a >= b;
    case Op::kEq: return a == b;
    case Op::kNe: return a != b;
    case Op::kAnd: return (a != 0.0) && (b != 0.0);
    case Op::kOr: return (a != 0.0) || (b != 0.0);
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

double apply_function(const std::string& f, const std::vector<double>& x) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (x.size() == 1) {
    if (f == "exp") return std::exp(x[0]);
    if (f == "log") return std::log(x[0]);
    if (f == "sqrt") return std::sqrt(x[0]);
    if (f == "sin") return std::sin(x[0]);
    if (f == "cos") return std::cos(x[0]);
    if (f == "tanh") return std::tanh(x[0]);
    if (f == "abs") return std::abs(x[0]);
    if (f == "exprel") return x[0] == 0.0 ? 1.0 : std::expm1(x[0]) / x[0];  // (e^x - 1)/x
  }
  if (x.size() == 3 && f == "clip") return std::min(std::max(x[0], x[1]), x[2]);
  return nan;
}

int precedence(Op op) {
  switch (op) {
    case Op::kOr: return 1;
    case Op::kAnd: return 2;
    case Op::kNot: return 3;
    case Op::kLt: case Op::kLe: case Op::kGt: case Op::kGe: case Op::kEq: case Op::kNe: return 4;
    case Op::kAdd: case Op::kSub: return 5;
    case Op::kMul: case Op::kDiv: return 6;
    case Op::kNeg: return 7;
    case Op::kPow: return 8;
    default: return 9;
  }
}

const char* symbol(Op op) {
  switch (op) {
    case Op::kAdd: return "+";
    case Op::kSub: return "-";
    case Op::kMul: return "*";
    case Op::kDiv: return "/";
    case Op::kPow: return "**";
    case Op::kLt: return "<";
    case Op::kLe: return "<=";
    case Op::kGt: return ">";
    case Op::kGe: return ">=";
    case Op::kEq: return "==";
    case Op::kNe: return "!=";
    case Op::kAnd: return "and";
    case Op::kOr: return "or";
    default: return "?";
  }
}

}  // namespace

ExprPtr parse_expression(std::string_view text, int column_offset) {
  return Parser(text, column_offset).parse_all();
}

ExprPtr number(double v) {
  auto e = std::make_shared<Expr>();
  e->op = Op::kNumber;
  e->value = v;
  return e;
}

ExprPtr name(std::string n) {
  auto e = std::make_shared<Expr>();
  e->op = Op::kName;
  e->name = std::move(n);
  return e;
}

bool is_number(const ExprPtr& e, double v) { return e->op == Op::kNumber && e->value == v; }

ExprPtr unary(Op op, ExprPtr a) {
  if (a->op == Op::kNumber) return number(op == Op::kNeg ? -a->value : (a->value == 0.0 ? 1.0 : 0.0));
  if (op == Op::kNeg && a->op == Op::kNeg) return a->args[0];
  auto e = std::make_shared<Expr>();
  e->op = op;
  e->args = {std::move(a)};
  return e;
}

ExprPtr binary(Op op, ExprPtr a, ExprPtr b) {
  if (a->op == Op::kNumber && b->op == Op::kNumber) return number(apply(op, a->value, b->value));
  switch (op) {
    case Op::kAdd:
      if (is_number(a, 0.0)) return b;
      if (is_number(b, 0.0)) return a;
      break;
    case Op::kSub:
      if (is_number(b, 0.0)) return a;
      if (is_number(a, 0.0)) return unary(Op::kNeg, b);
      break;
    case Op::kMul:
      if (is_number(a, 0.0) || is_number(b, 0.0)) return number(0.0);
      if (is_number(a, 1.0)) return b;
      if (is_number(b, 1.0)) return a;
      if (is_number(a, -1.0)) return unary(Op::kNeg, b);
      if (is_number(b, -1.0)) return unary(Op::kNeg, a);
      break;
    case Op::kDiv:
      if (is_number(a, 0.0)) return number(0.0);
      if (is_number(b, 1.0)) return a;
      break;
    case Op::kPow:
      if (is_number(b, 1.0)) return a;
      if (is_number(b, 0.0)) return number(1.0);
      break;
    default: break;
  }
  auto e = std::make_shared<Expr>();
  e->op = op;
  e->args = {std::move(a), std::move(b)};
  return e;
}

ExprPtr call(std::string f, std::vector<ExprPtr> args) {
  auto e = std::make_shared<Expr>();
  e->op = Op::kCall;
  e->name = std::move(f);
  e->args = std::move(args);
  if (e->name != "rand" && e->name != "randn" &&
      std::all_of(e->args.begin(), e->args.end(), [](const ExprPtr& a) { return a->op == Op::kNumber; })) {
    std::vector<double> x;
    for (const auto& a : e->args) x.push_back(a->value);
    const double v = apply_function(e->name, x);
    if (!std::isnan(v)) return number(v);
  }
  return e;
}

bool depends_on(const ExprPtr& e, std::string_view n) {
  if (e->op == Op::kName) return e->name == n;
  return std::any_of(e->args.begin(), e->args.end(), [&](const ExprPtr& a) { return depends_on(a, n); });
}

std::vector<std::string> names_in(const ExprPtr& e) {
  std::vector<std::string> out;
  std::function<void(const ExprPtr&)> walk = [&](const ExprPtr& x) {
    if (x->op == Op::kName && std::find(out.begin(), out.end(), x->name) == out.end())
      out.push_back(x->name);
    for (const auto& a : x->args) walk(a);
  };
  walk(e);
  return out;
}

ExprPtr substitute(const ExprPtr& e, const std::function<ExprPtr(const std::string&)>& f) {
  if (e->op == Op::kName) {
    if (ExprPtr r = f(e->name)) return r;
    return e;
  }
  if (e->op == Op::kNumber) return e;
  std::vector<ExprPtr> args;
  bool changed = false;
  for (const auto& a : e->args) {
    args.push_back(substitute(a, f));
    changed = changed || args.back() != a;
  }
  if (!changed) return e;
  if (e->op == Op::kCall) return call(e->name, std::move(args));
  if (args.size() == 1) return unary(e->op, args[0]);
  return binary(e->op, args[0], args[1]);
}

ExprPtr derivative(const ExprPtr& e, std::string_view x) {
  if (!depends_on(e, x)) return number(0.0);
  const auto& A = e->args;
  switch (e->op) {
    case Op::kName: return number(1.0);
    case Op::kNeg: {
      ExprPtr d = derivative(A[0], x);
      return d ? unary(Op::kNeg, d) : nullptr;
    }
    case Op::kAdd:
    case Op::kSub: {
      ExprPtr da = derivative(A[0], x), db = derivative(A[1], x);
      return da && db ? binary(e->op, da, db) : nullptr;
    }
    case Op::kMul: {
      ExprPtr da = derivative(A[0], x), db = derivative(A[1], x);
      if (!da || !db) return nullptr;
      return binary(Op::kAdd, binary(Op::kMul, da, A[1]), binary(Op::kMul, A[0], db));
    }
    case Op::kDiv: {
      ExprPtr da = derivative(A[0], x), db = derivative(A[1], x);
      if (!da || !db) return nullptr;
      if (is_number(db, 0.0)) return binary(Op::kDiv, da, A[1]);
      // (a' b - a b') / b^2
      return binary(Op::kDiv, binary(Op::kSub, binary(Op::kMul, da, A[1]), binary(Op::kMul, A[0], db)),
                    binary(Op::kMul, A[1], A[1]));
    }
    case Op::kPow: {
      if (depends_on(A[1], x)) {  // a^b = exp(b log a)
        ExprPtr d = derivative(binary(Op::kMul, A[1], call("log", {A[0]})), x);
        return d ? binary(Op::kMul, e, d) : nullptr;
      }
      ExprPtr da = derivative(A[0], x);
      if (!da) return nullptr;
      return binary(Op::kMul, binary(Op::kMul, A[1], binary(Op::kPow, A[0], binary(Op::kSub, A[1], number(1.0)))), da);
    }
    case Op::kCall: {
      if (A.size() != 1) return nullptr;
      ExprPtr da = derivative(A[0], x);
      if (!da) return nullptr;
      ExprPtr outer;
      if (e->name == "exp") outer = e;
      else if (e->name == "log") outer = binary(Op::kDiv, number(1.0), A[0]);
      else if (e->name == "sqrt") outer = binary(Op::kDiv, number(0.5), e);
      else if (e->name == "sin") outer = call("cos", {A[0]});
      else if (e->name == "cos") outer = unary(Op::kNeg, call("sin", {A[0]}));
      else if (e->name == "tanh") outer = binary(Op::kSub, number(1.0), binary(Op::kMul, e, e));
      else return nullptr;
      return binary(Op::kMul, outer, da);
    }
    default: return nullptr;  // comparisons, logic
  }
}

double evaluate_constant(const ExprPtr& e) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  switch (e->op) {
    case Op::kNumber: return e->value;
    case Op::kName: return nan;
    case Op::kNeg: return -evaluate_constant(e->args[0]);
    case Op::kNot: return evaluate_constant(e->args[0]) == 0.0 ? 1.0 : 0.0;
    case Op::kCall: {
      std::vector<double> x;
      for (const auto& a : e->args) x.push_back(evaluate_constant(a));
      return apply_function(e->name, x);
    }
    default: return apply(e->op, evaluate_constant(e->args[0]), evaluate_constant(e->args[1]));
  }
}

std::string to_cpp(const ExprPtr& e, const std::function<std::string(const std::string&)>& print_name,
                   bool single) {
  auto sub = [&](const ExprPtr& a) { return fmt::format("({})", to_cpp(a, print_name, single)); };
  switch (e->op) {
    case Op::kNumber: {
      if (!std::isfinite(e->value)) return e->value > 0 ? "VOLLEY_INF" : (e->value < 0 ? "(-VOLLEY_INF)" : "VOLLEY_NAN");
      std::string s = fmt::format("{:.17g}", e->value);
      if (s.find_first_of(".eE") == std::string::npos) s += ".0";
      return single ? fmt::format("{}f", s) : s;
    }
    case Op::kName: return print_name(e->name);
    case Op::kNeg: return fmt::format("-{}", sub(e->args[0]));
    case Op::kNot: return fmt::format("!{}", sub(e->args[0]));
    case Op::kAnd: return sub(e->args[0]) + " && " + sub(e->args[1]);
    case Op::kOr: return sub(e->args[0]) + " || " + sub(e->args[1]);
    case Op::kPow: {
      const ExprPtr& b = e->args[1];
      if (b->op == Op::kNumber && b->value == std::round(b->value) && std::abs(b->value) <= 8)
        return fmt::format("vpowi({}, {})", sub(e->args[0]), static_cast<int>(b->value));
      return fmt::format("vpow({}, {})", sub(e->args[0]), sub(b));
    }
    case Op::kCall: {
      std::string s = fmt::format("v{}(", e->name);
      for (std::size_t i = 0; i < e->args.size(); ++i)
        s += (i ? ", " : "") + to_cpp(e->args[i], print_name, single);
      if (e->name == "rand" || e->name == "randn") s += std::string(e->args.empty() ? "" : ", ") + "rng";
      return s + ")";
    }
    default:
      if (binary_op(e->op)) {
        const std::string op = symbol(e->op);
        return sub(e->args[0]) + " " + op + " " + sub(e->args[1]);
      }
      return "?";
  }
}

std::string to_text(const ExprPtr& e) {
  auto part = [&](const ExprPtr& a, int parent, bool right) {
    const int p = precedence(a->op);
    const bool paren = p < parent || (right && p == parent && parent != 9);
    return paren ? fmt::format("({})", to_text(a)) : to_text(a);
  };
  switch (e->op) {
    case Op::kNumber: return fmt::format("{:g}", e->value);
    case Op::kName: return e->name;
    case Op::kNeg: return fmt::format("-{}", part(e->args[0], 7, false));
    case Op::kNot: return fmt::format("not {}", part(e->args[0], 3, false));
    case Op::kCall: {
      std::string s = e->name + "(";
      for (std::size_t i = 0; i < e->args.size(); ++i) s += (i ? ", " : "") + to_text(e->args[i]);
      return s + ")";
    }
    default: {
      const int p = precedence(e->op);
      if (e->op == Op::kPow) return part(e->args[0], p + 1, false) + "**" + part(e->args[1], p, false);
      return part(e->args[0], p, false) + " " + symbol(e->op) + " " + part(e->args[1], p, true);
    }
  }
}

}  // namespace volley::eq
