// Registries: ranges in words, quantities with prefixed units, Markdown parameter tables.
#include "volley/registry.hpp"

#include <array>
#include <cmath>

namespace volley {
namespace {

// Six significant digits, but whole numbers (seeds, counts, 2^32 - 1) exactly.
std::string number(double x) {
  if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e15 && std::fabs(x) >= 1e6)
    return fmt::format("{:.0f}", x);
  return fmt::format("{:.6g}", x);
}

}  // namespace

std::string Range::describe() const {
  const bool has_lo = !std::isinf(lo), has_hi = !std::isinf(hi);
  if (!has_lo && !has_hi) return "any value";
  if (has_lo && !has_hi) return fmt::format("{} {}", lo_open ? ">" : ">=", number(lo));
  if (!has_lo) return fmt::format("{} {}", hi_open ? "<" : "<=", number(hi));
  return fmt::format("in {}{}, {}{}", lo_open ? '(' : '[', number(lo), number(hi),
                     hi_open ? ')' : ']');
}

std::string format_quantity(double x, Dimension dim) {
  if (dim == Dimension::none()) return number(x);
  const std::string unit = unit_symbol(dim);
  if (x == 0.0 || !std::isfinite(x)) return fmt::format("{} {}", number(x), unit);
  static constexpr std::array<const char*, 9> kPrefixes = {"p", "n", "u", "m", "", "k", "M", "G", "T"};
  // The engineering prefix that puts the mantissa in [1, 1000), clamped to p..T.
  int e = static_cast<int>(std::floor(std::log10(std::fabs(x)) / 3.0 + 1e-12));
  e = std::clamp(e, -4, 4);
  const double mantissa = x / std::pow(10.0, 3 * e);
  // A compound unit takes the prefix on a factor of its own: write "0.7 nS/mV" as "7e-07 S/V".
  if (unit.find_first_of("/ ^") != std::string::npos) return fmt::format("{} {}", number(x), unit);
  return fmt::format("{} {}{}", number(mantissa), kPrefixes[static_cast<std::size_t>(e + 4)], unit);
}

std::string markdown_params(std::span<const ParamInfo> params) {
  std::string out = "| key | default | allowed | meaning |\n|---|---|---|---|\n";
  for (const auto& p : params) {
    std::string allowed = p.range.unbounded() ? std::string("any") : p.range.describe();
    if (p.integer) allowed += p.range.unbounded() ? " whole number" : ", whole number";
    const std::string def = p.integer ? number(p.default_value) : format_quantity(p.default_value, p.dim);
    out += fmt::format("| `{}` | {} | {} | {} |\n", p.key, def, allowed, p.meaning);
  }
  return out;
}

}  // namespace volley
