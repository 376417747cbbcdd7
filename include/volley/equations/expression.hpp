#pragma once
// Expressions of the equation language (a Brian2-compatible subset of Python syntax):
//   numbers 1, 2.5, 1e-3; names; + - * / ** ; unary - and +; comparisons < <= > >= == != ;
//   `and`, `or`, `not`; calls f(a, b); parentheses.
// Parsed into an immutable tree; the symbolic operations the integrators need (substitution,
// partial derivatives, constant folding) work on it, and `to_cpp` prints it for the code
// generator. Columns are 1-based offsets into the parsed text, kept for error messages.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace volley::eq {

enum class Op {
  kNumber, kName, kNeg, kNot,
  kAdd, kSub, kMul, kDiv, kPow,
  kLt, kLe, kGt, kGe, kEq, kNe, kAnd, kOr,
  kCall,
};

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr {
  Op op = Op::kNumber;
  double value = 0.0;         // kNumber
  std::string name;           // kName, kCall (function name)
  std::vector<ExprPtr> args;  // operands / call arguments
  int column = 0;             // where it starts in its source text (1-based; 0 = synthesised)
};

// Thrown by the parser; `column` is 1-based within the text that was parsed.
struct SyntaxError {
  std::string message;
  int column = 0;
};

// Parses a whole expression; throws SyntaxError.
ExprPtr parse_expression(std::string_view text, int column_offset = 0);

ExprPtr number(double v);
ExprPtr name(std::string n);
ExprPtr unary(Op op, ExprPtr a);
ExprPtr binary(Op op, ExprPtr a, ExprPtr b);  // folds constants and the identities 0, 1
ExprPtr call(std::string f, std::vector<ExprPtr> args);

// Whether `e` mentions `n` (as a name; function names do not count).
bool depends_on(const ExprPtr& e, std::string_view n);
// Every name `e` mentions, in order of first appearance.
std::vector<std::string> names_in(const ExprPtr& e);
// `e` with each name for which `f` returns non-null replaced by that expression.
ExprPtr substitute(const ExprPtr& e, const std::function<ExprPtr(const std::string&)>& f);
// The partial derivative of `e` with respect to the name `x`, or null where the expression is
// not differentiable in x (abs, clip, comparisons, random numbers of an argument that depends on x).
ExprPtr derivative(const ExprPtr& e, std::string_view x);
// Evaluates an expression without names (only numbers and the known functions); NaN otherwise.
double evaluate_constant(const ExprPtr& e);
bool is_number(const ExprPtr& e, double v);

// The expression in C++ (names printed by `print_name`, numbers as `real` literals when `real`
// is "float", calls to the functions of the generated prelude).
std::string to_cpp(const ExprPtr& e, const std::function<std::string(const std::string&)>& print_name,
                   bool single_precision);
// Readable form for messages (Python syntax).
std::string to_text(const ExprPtr& e);

}  // namespace volley::eq
