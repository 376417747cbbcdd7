#pragma once
// Registries: one list per extension point (neuron models, surrogates, losses, optimisers, ...).
//
// Each entry declares, once, its name, a one-line meaning and its parameters (key, member,
// dimension, default, allowed range, meaning). The model- and training-file readers, their
// "unknown value 'x' (expected one of ...)" messages, the CLI's lists and the parameter tables in
// docs/reference.md are all produced from these declarations, so they cannot disagree.
//
// A registry is a plain value built by a function (no self-registration, no hidden globals):
//   const Registry<Choice<LossKind>>& losses();   // defined next to the losses
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "volley/error.hpp"
#include "volley/units.hpp"

namespace volley {

// The values a parameter may take: an interval with open or closed ends (NaN never passes).
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;
  bool hi_open = false;

  static constexpr Range any() { return {}; }
  static constexpr Range positive() { return {0.0, std::numeric_limits<double>::infinity(), true}; }
  static constexpr Range non_negative() { return {0.0}; }
  static constexpr Range negative() {
    return {-std::numeric_limits<double>::infinity(), 0.0, false, true};
  }
  static constexpr Range at_least(double lo) { return {lo}; }
  static constexpr Range closed(double lo, double hi) { return {lo, hi}; }
  static constexpr Range open_closed(double lo, double hi) { return {lo, hi, true, false}; }
  static constexpr Range closed_open(double lo, double hi) { return {lo, hi, false, true}; }

  bool contains(double x) const {
    if (std::isnan(x)) return false;
    if (lo_open ? !(x > lo) : !(x >= lo)) return false;
    if (hi_open ? !(x < hi) : !(x <= hi)) return false;
    return true;
  }
  bool unbounded() const { return std::isinf(lo) && std::isinf(hi); }
  // "> 0", ">= 0", "in (0, 1]", "any value".
  std::string describe() const;
};

// Empty when x is allowed; otherwise what is wrong ("must be > 0, got -1").
inline std::string check_param_value(const Range& range, bool integer, double x) {
  if (integer && (x != std::floor(x) || !std::isfinite(x)))
    return fmt::format("must be a whole number, got {}", x);
  if (!range.contains(x)) return fmt::format("must be {}, got {}", range.describe(), x);
  return {};
}

// A parameter as the docs and --help see it (the member pointer erased).
struct ParamInfo {
  std::string_view key;
  Dimension dim;
  Range range;
  double default_value = 0.0;  // SI units
  bool integer = false;
  std::string_view meaning;

  std::string check(double x) const { return check_param_value(range, integer, x); }
};

// One parameter of a parameter struct P: where it lives and what it means, declared once.
template <class P>
struct Param {
  using Member = std::variant<double P::*, float P::*, int P::*, std::size_t P::*>;
  std::string_view key;
  Member member;
  Dimension dim = Dimension::none();
  Range range = Range::any();
  std::string_view meaning;

  bool integer() const { return member.index() >= 2; }
  double get(const P& p) const {
    return std::visit([&](auto m) { return static_cast<double>(p.*m); }, member);
  }
  // Assigns an already-checked value (see check()).
  void set(P& p, double x) const {
    std::visit([&](auto m) { p.*m = static_cast<std::remove_reference_t<decltype(p.*m)>>(x); },
               member);
  }
  // Empty when x is allowed; otherwise what is wrong ("must be > 0, got -1").
  std::string check(double x) const { return check_param_value(range, integer(), x); }
  ParamInfo info(const P& defaults) const {
    return {key, dim, range, get(defaults), integer(), meaning};
  }
};

template <class P>
std::vector<ParamInfo> param_infos(std::span<const Param<P>> params, const P& defaults = P{}) {
  std::vector<ParamInfo> out;
  for (const auto& p : params) out.push_back(p.info(defaults));
  return out;
}

// Throws ParameterError "WHERE: KEY must be > 0, got -1" for the first parameter of p outside its
// declared range.
template <class P>
void check_params(std::span<const Param<P>> params, const P& p, const std::string& where) {
  for (const auto& d : params)
    if (const std::string bad = d.check(d.get(p)); !bad.empty())
      throw ParameterError(fmt::format("{}: {} {}", where, d.key, bad));
}

// Throws ParameterError "WHERE: WHAT" unless ok: for constraints between parameters, which the
// declared ranges cannot state.
inline void require(bool ok, const std::string& where, std::string_view what) {
  if (!ok) throw ParameterError(fmt::format("{}: {}", where, what));
}

// Entries are looked up by name; an unknown name gets one message listing the known ones.
template <class Entry>
class Registry {
 public:
  // `what` names the kind of entry in messages ("model", "surrogate", "loss").
  Registry(std::string_view what, std::vector<Entry> entries)
      : what_(what), entries_(std::move(entries)) {
    for (std::size_t i = 0; i < entries_.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (entries_[i].name == entries_[j].name)
          throw ParameterError(fmt::format("{} '{}' is registered twice", what_, entries_[i].name));
  }

  std::string_view what() const { return what_; }
  const std::vector<Entry>& entries() const { return entries_; }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }
  std::size_t size() const { return entries_.size(); }

  const Entry* find(std::string_view name) const {
    for (const auto& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }
  // Throws ParameterError(unknown(name)) when there is no such entry.
  const Entry& get(std::string_view name) const {
    if (const Entry* e = find(name)) return *e;
    throw ParameterError(unknown(name));
  }
  // The name of the entry whose value is v (for enum choices).
  template <class V>
  std::string_view name_of(const V& v) const {
    for (const auto& e : entries_)
      if (e.value == v) return e.name;
    return "?";
  }
  // "'a', 'b', 'c'"
  std::string names() const {
    std::string out;
    for (const auto& e : entries_) out += fmt::format("{}'{}'", out.empty() ? "" : ", ", e.name);
    return out;
  }
  // "unknown loss 'x' (expected one of 'a', 'b')"
  std::string unknown(std::string_view name) const {
    return fmt::format("unknown {} '{}' (expected one of {})", what_, name, names());
  }

 private:
  std::string what_;
  std::vector<Entry> entries_;
};

// An entry that is just a named value of an enum (reset modes, schedules, ...).
template <class E>
struct Choice {
  std::string_view name;
  E value;
  std::string_view meaning;
};

// A named parameter set (a published cell type, a bifurcation regime) of a parameter struct P.
template <class P>
struct Preset {
  std::string_view name;
  std::string_view meaning;
  P (*make)();
};

// ---------------------------------------------------------------------------------------------
// Documentation produced from the declarations (docs/reference.md is generated from these).

// "-65 mV", "100 pF", "20 ms", "0.7 uS/V"-like: an SI value written with a prefixed unit.
std::string format_quantity(double value_si, Dimension dim);

// A Markdown table: | key | default | allowed | meaning |.
std::string markdown_params(std::span<const ParamInfo> params);

// A Markdown table of a registry's names and meanings.
template <class Entry>
std::string markdown_names(const Registry<Entry>& r) {
  std::string out = "| name | meaning |\n|---|---|\n";
  for (const auto& e : r) out += fmt::format("| `{}` | {} |\n", e.name, e.meaning);
  return out;
}

}  // namespace volley
