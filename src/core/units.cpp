#include "volley/units.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <utility>

#include "volley/error.hpp"

namespace volley {
namespace {

struct UnitDef {
  std::string_view symbol;
  Dimension dim;
};

constexpr UnitDef kUnits[] = {
    {"s", Dimension::seconds()},   {"V", Dimension::volts()},   {"A", Dimension::amperes()},
    {"S", Dimension::siemens()},   {"F", Dimension::farads()},  {"Ohm", Dimension::ohms()},
    {"ohm", Dimension::ohms()},    {"Ω", Dimension::ohms()},    {"Hz", Dimension::hertz()},
    {"m", Dimension::metres()},
};

std::optional<Dimension> base_unit(std::string_view s) {
  for (const auto& u : kUnits)
    if (u.symbol == s) return u.dim;
  return std::nullopt;
}

std::optional<double> prefix_factor(std::string_view p) {
  if (p == "p") return 1e-12;
  if (p == "n") return 1e-9;
  if (p == "u" || p == "µ" || p == "μ") return 1e-6;
  if (p == "m") return 1e-3;
  if (p == "c") return 1e-2;
  if (p == "k") return 1e3;
  if (p == "M") return 1e6;
  if (p == "G") return 1e9;
  return std::nullopt;
}

Dimension scale(Dimension d, int k) { return d.pow(k); }
Dimension add(Dimension a, Dimension b) { return a * b; }

// One factor such as "mV", "ms^2" or "kOhm".
std::pair<double, Dimension> parse_factor(std::string_view tok, std::string_view whole) {
  int exponent = 1;
  if (auto caret = tok.find('^'); caret != std::string_view::npos) {
    auto ex = tok.substr(caret + 1);
    auto [p, ec] = std::from_chars(ex.data(), ex.data() + ex.size(), exponent);
    if (ec != std::errc() || p != ex.data() + ex.size())
      throw UnitError(fmt::format("bad exponent '{}' in quantity '{}'", ex, whole));
    tok = tok.substr(0, caret);
  }
  if (tok == "1") return {1.0, Dimension::none()};
  double factor = 1.0;
  std::optional<Dimension> dim = base_unit(tok);
  if (!dim) {
    // Prefix: one ASCII character, or the two-byte UTF-8 micro signs.
    for (std::size_t plen : {std::size_t{1}, std::size_t{2}}) {
      if (tok.size() <= plen) continue;
      auto f = prefix_factor(tok.substr(0, plen));
      auto d = base_unit(tok.substr(plen));
      if (f && d) {
        factor = *f;
        dim = d;
        break;
      }
    }
  }
  if (!dim)
    throw UnitError(fmt::format(
        "unknown unit '{}' in quantity '{}' (known: s, V, A, S, F, Ohm, Hz, m with prefixes "
        "p n u m c k M G, e.g. \"20 ms\", \"-50 mV\", \"5 nS\")",
        tok, whole));
  return {std::pow(factor, exponent), scale(*dim, exponent)};
}

// A product "a*b c" (spaces or '*' separate factors).
std::pair<double, Dimension> parse_product(std::string_view s, std::string_view whole) {
  double factor = 1.0;
  Dimension dim;
  std::size_t i = 0;
  bool any = false;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '*')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '*') ++j;
    if (j > i) {
      auto [f, d] = parse_factor(s.substr(i, j - i), whole);
      factor *= f;
      dim = add(dim, d);
      any = true;
    }
    i = j;
  }
  if (!any) throw UnitError(fmt::format("missing unit in quantity '{}'", whole));
  return {factor, dim};
}

}  // namespace

std::string dimension_name(Dimension d) {
  if (d == Dimension::none()) return "dimensionless";
  if (d == Dimension::seconds()) return "time (e.g. \"ms\")";
  if (d == Dimension::volts()) return "voltage (e.g. \"mV\")";
  if (d == Dimension::amperes()) return "current (e.g. \"nA\")";
  if (d == Dimension::siemens()) return "conductance (e.g. \"nS\")";
  if (d == Dimension::farads()) return "capacitance (e.g. \"pF\")";
  if (d == Dimension::ohms()) return "resistance (e.g. \"MOhm\")";
  if (d == Dimension::hertz()) return "frequency (e.g. \"Hz\")";
  if (d == Dimension::volts_per_second()) return "voltage/time (e.g. \"mV/ms\")";
  return unit_symbol(d);
}

std::string unit_symbol(Dimension d) {
  if (d == Dimension::none()) return "";
  if (d == Dimension::seconds()) return "s";
  if (d == Dimension::volts()) return "V";
  if (d == Dimension::amperes()) return "A";
  if (d == Dimension::siemens()) return "S";
  if (d == Dimension::farads()) return "F";
  if (d == Dimension::ohms()) return "Ohm";
  if (d == Dimension::hertz()) return "Hz";
  if (d == Dimension::volts_per_second()) return "V/s";
  if (d == Dimension{0, -2, 1}) return "S/V";
  std::string out;
  auto part = [&](const char* sym, int e) {
    if (e == 0) return;
    if (!out.empty()) out += ' ';
    out += e == 1 ? std::string(sym) : fmt::format("{}^{}", sym, e);
  };
  part("s", d.time);
  part("V", d.voltage);
  part("A", d.current);
  part("m", d.length);
  return out;
}

Quantity parse_quantity(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (s.empty()) throw UnitError("empty quantity (expected e.g. \"20 ms\")");
  const char* begin = s.data();
  if (*begin == '+') ++begin;
  double value = 0.0;
  auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), value);
  if (ec != std::errc())
    throw UnitError(fmt::format("quantity '{}' does not start with a number", text));
  if (!std::isfinite(value)) throw UnitError(fmt::format("quantity '{}' is not finite", text));
  std::string_view rest(ptr, static_cast<std::size_t>(s.data() + s.size() - ptr));
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty()) return {value, Dimension::none()};
  double factor = 1.0;
  Dimension dim;
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) {
    std::tie(factor, dim) = parse_product(rest, text);
  } else {
    const auto numerator = rest.substr(0, slash);
    const bool bare = numerator.find_first_not_of(' ') == std::string_view::npos;  // "0.02 /ms"
    auto [fn, dn] = bare ? std::pair<double, Dimension>{1.0, Dimension::none()}
                         : parse_product(numerator, text);
    auto [fd, dd] = parse_product(rest.substr(slash + 1), text);
    if (rest.substr(slash + 1).find('/') != std::string_view::npos)
      throw UnitError(fmt::format("quantity '{}' has more than one '/'", text));
    factor = fn / fd;
    dim = add(dn, scale(dd, -1));
  }
  return {value * factor, dim};
}

double parse_quantity(std::string_view text, Dimension expected) {
  Quantity q = parse_quantity(text);
  if (!(q.dim == expected)) {
    if (q.dim == Dimension::none())
      throw UnitError(fmt::format("'{}' has no unit; expected a {}", text, dimension_name(expected)));
    throw UnitError(fmt::format("'{}' is a {}, expected a {}", text, dimension_name(q.dim),
                                dimension_name(expected)));
  }
  return q.value;
}

}  // namespace volley
