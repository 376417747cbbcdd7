#pragma once
// Strict, located access to a TOML tree, shared by the model-file and training-config readers.
// Every table is read through a `Table` that records which keys were asked for, and
// `Table::finish` rejects any key nobody asked for, so a typo never passes silently. Every
// error is a ConfigError "FILE:LINE: FIELD: what is wrong". Internal to volley_io.
#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "volley/error.hpp"
#include "volley/registry.hpp"
#include "volley/units.hpp"

namespace volley::io::detail {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Locations and errors

// Where the model text came from.
struct Source {
  std::string name;                        // shown in messages
  fs::path dir;                            // base for relative data file paths
  std::shared_ptr<const std::string> doc;  // source path every node parsed from the file shares
};

// Nodes parsed from the model file share the file's source path; anything else in the tree was
// put there by an override.
inline bool from_override(const Source& src, const toml::node& node) {
  return node.source().path != src.doc;
}

[[noreturn]] inline void fail_at(const Source& src, const toml::node& node, std::string_view field,
                          std::string_view what) {
  if (from_override(src, node))
    throw ConfigError(fmt::format("{}: {} (set by --set): {}", src.name, field, what));
  throw ConfigError(fmt::format("{}:{}: {}: {}", src.name, node.source().begin.line, field, what));
}

inline std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// A typical quantity of a dimension, for "needs a unit" hints.
inline std::string_view example_of(const std::optional<Dimension>& dim) {
  if (!dim) return "\"1 mV\"";
  if (*dim == Dimension::seconds()) return "\"20 ms\"";
  if (*dim == Dimension::volts()) return "\"-50 mV\"";
  if (*dim == Dimension::amperes()) return "\"0.5 nA\"";
  if (*dim == Dimension::siemens()) return "\"5 nS\"";
  if (*dim == Dimension::farads()) return "\"200 pF\"";
  if (*dim == Dimension::ohms()) return "\"100 MOhm\"";
  if (*dim == Dimension::hertz()) return "\"10 Hz\"";
  return "\"1 mV\"";
}

inline std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

inline bool is_identifier(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// ---------------------------------------------------------------------------------------------
// Typed access to one node

enum class Bound { kAny, kPositive, kNonNegative };

class Table;

// A node together with its dotted name, with typed conversions that fail with file and line.
class Field {
 public:
  Field(const Source& src, const toml::node& node, std::string name)
      : src_(&src), node_(&node), name_(std::move(name)) {}

  const toml::node& node() const { return *node_; }
  const std::string& name() const { return name_; }
  [[noreturn]] void fail(std::string_view what) const { fail_at(*src_, *node_, name_, what); }

  std::string string() const {
    if (const auto* s = node_->as_string()) return s->get();
    fail(fmt::format("expected a string, got {}", type_name(node_->type())));
  }

  bool boolean() const {
    if (const auto* b = node_->as_boolean()) return b->get();
    fail(fmt::format("expected true or false, got {}", type_name(node_->type())));
  }

  std::int64_t integer(std::int64_t min,
                       std::int64_t max = std::numeric_limits<std::int64_t>::max()) const {
    const auto* i = node_->as_integer();
    if (!i) fail(fmt::format("expected an integer, got {}", type_name(node_->type())));
    const std::int64_t v = i->get();
    if (v < min) fail(fmt::format("must be >= {}, got {}", min, v));
    if (v > max) fail(fmt::format("must be <= {}, got {}", max, v));
    return v;
  }

  // A plain number (integer or floating point).
  double number() const {
    if (const auto* i = node_->as_integer()) return static_cast<double>(i->get());
    if (const auto* f = node_->as_floating_point()) return f->get();
    fail(fmt::format("expected a number, got {}", type_name(node_->type())));
  }

  double probability() const {
    const double p = number();
    if (!(p >= 0.0 && p <= 1.0)) fail(fmt::format("must be a probability in [0, 1], got {}", p));
    return p;
  }

  // A quantity string such as "20 ms", in SI units. With `dim` set the quantity must have that
  // dimension; otherwise any dimension except a pure number is accepted and stored in `dim`.
  double quantity(std::optional<Dimension>& dim, Bound bound = Bound::kAny) const {
    if (node_->is_number()) {
      // Dimensionless fields (gating variables, ...) take plain numbers.
      if (!(dim && *dim == Dimension::none()))
        fail(fmt::format("needs a unit, e.g. {}", example_of(dim)));
      const double x = number();
      if (bound == Bound::kPositive && !(x > 0.0)) fail(fmt::format("must be > 0, got {}", x));
      if (bound == Bound::kNonNegative && !(x >= 0.0)) fail(fmt::format("must be >= 0, got {}", x));
      return x;
    }
    const auto* s = node_->as_string();
    if (!s)
      fail(fmt::format("expected a quantity string such as {}, got {}", example_of(dim),
                       type_name(node_->type())));
    const std::string& text = s->get();
    double value = 0.0;
    try {
      if (dim) {
        value = parse_quantity(text, *dim);
      } else {
        const Quantity q = parse_quantity(text);
        if (q.dim == Dimension::none())
          fail(fmt::format("'{}' needs a unit, e.g. {}", text, example_of(dim)));
        dim = q.dim;
        value = q.value;
      }
    } catch (const UnitError& e) {
      fail(e.what());
    }
    if (bound == Bound::kPositive && !(value > 0.0))
      fail(fmt::format("must be > 0, got '{}'", text));
    if (bound == Bound::kNonNegative && !(value >= 0.0))
      fail(fmt::format("must be >= 0, got '{}'", text));
    return value;
  }
  double quantity(Dimension dim, Bound bound = Bound::kAny) const {
    std::optional<Dimension> d = dim;
    return quantity(d, bound);
  }

  // The elements of an array, named "field[i]".
  std::vector<Field> elements() const {
    const auto* a = node_->as_array();
    if (!a) fail(fmt::format("expected an array, got {}", type_name(node_->type())));
    std::vector<Field> out;
    for (std::size_t i = 0; i < a->size(); ++i)
      out.emplace_back(*src_, *a->get(i), fmt::format("{}[{}]", name_, i));
    return out;
  }

  std::vector<double> quantities(std::optional<Dimension>& dim, Bound bound = Bound::kAny) const {
    std::vector<double> out;
    for (const Field& e : elements()) out.push_back(e.quantity(dim, bound));
    return out;
  }
  std::vector<double> quantities(Dimension dim, Bound bound = Bound::kAny) const {
    std::optional<Dimension> d = dim;
    return quantities(d, bound);
  }

  // A path relative to the model file's directory.
  std::string path() const {
    const fs::path p(string());
    return (p.is_absolute() ? p : src_->dir / p).string();
  }

  Table table() const;

 private:
  const Source* src_;
  const toml::node* node_;
  std::string name_;
};

// ---------------------------------------------------------------------------------------------
// A table whose keys are checked: each key must be asked for before `finish`.

class Table {
 public:
  Table(const Source& src, const toml::table& table, std::string name)
      : src_(&src), table_(&table), name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  std::string child(std::string_view key) const {
    return name_.empty() ? std::string(key) : fmt::format("{}.{}", name_, key);
  }
  const toml::table& node() const { return *table_; }
  [[noreturn]] void fail(std::string_view what) const { fail_at(*src_, *table_, name_, what); }

  std::optional<Field> get(std::string_view key) {
    known_.emplace_back(key);
    if (const toml::node* n = table_->get(key)) return Field(*src_, *n, child(key));
    return std::nullopt;
  }

  Field need(std::string_view key) {
    if (auto f = get(key)) return *f;
    missing(key);
  }

  [[noreturn]] void missing(std::string_view key, std::string_view hint = {}) const {
    fail_at(
        *src_, *table_, child(key),
        hint.empty() ? "missing required field" : fmt::format("missing required field ({})", hint));
  }

  // Assigns `out` when the key is present.
  void read(std::string_view key, double& out, Dimension dim, Bound bound = Bound::kAny) {
    if (auto f = get(key)) out = f->quantity(dim, bound);
  }

  // All entries (for tables keyed by name), in file order; entries added by overrides come last.
  std::vector<std::pair<std::string, Field>> entries() {
    std::vector<std::pair<std::string, Field>> out;
    for (const auto& [key, node] : *table_) {
      known_.emplace_back(key.str());
      out.emplace_back(std::string(key.str()), Field(*src_, node, child(key.str())));
    }
    auto order = [this](const Field& f) {
      const auto& b = f.node().source().begin;
      return std::tuple(from_override(*src_, f.node()), b.line, b.column);
    };
    std::stable_sort(out.begin(), out.end(), [&](const auto& x, const auto& y) {
      return order(x.second) < order(y.second);
    });
    return out;
  }

  // Rejects keys that were never asked for.
  void finish() const {
    for (const auto& [key, node] : *table_) {
      if (std::find(known_.begin(), known_.end(), key.str()) != known_.end()) continue;
      std::string allowed;
      for (const auto& k : known_)
        if (allowed.find(fmt::format("'{}'", k)) == std::string::npos)
          allowed += fmt::format("{}'{}'", allowed.empty() ? "" : ", ", k);
      fail_at(*src_, node, child(key.str()),
              fmt::format("unknown key '{}'{}", key.str(),
                          allowed.empty() ? "" : fmt::format(" (allowed here: {})", allowed)));
    }
  }

 private:
  const Source* src_;
  const toml::table* table_;
  std::string name_;
  std::vector<std::string> known_;
};

inline Table Field::table() const {
  const auto* t = node_->as_table();
  if (!t) fail(fmt::format("expected a table, got {}", type_name(node_->type())));
  return Table(*src_, *t, name_);
}


// ---------------------------------------------------------------------------------------------
// Reading through registries (include/volley/registry.hpp)

// Assigns every parameter of `params` that the table gives, checked against its dimension and
// range; the others keep their value in `p` (the defaults, or a preset's).
template <class P>
void read_params(Table& t, std::span<const Param<P>> params, P& p) {
  for (const auto& spec : params) {
    const auto f = t.get(spec.key);
    if (!f) continue;
    const double x = spec.integer() ? static_cast<double>(f->integer(
                                          std::numeric_limits<std::int64_t>::min()))
                                    : f->quantity(spec.dim);
    if (const std::string bad = spec.check(x); !bad.empty()) f->fail(bad);
    spec.set(p, x);
  }
}

// One declared parameter (registry entries erase the struct): a quantity of its dimension (a plain
// number when dimensionless, an integer when integral), checked against its range.
inline double read_param(const Field& f, const ParamInfo& info) {
  const double x = info.integer
                       ? static_cast<double>(f.integer(std::numeric_limits<std::int64_t>::min()))
                       : f.quantity(info.dim);
  if (const std::string bad = info.check(x); !bad.empty()) f.fail(bad);
  return x;
}

// Every declared parameter the table gives, appended to `out` as (key, SI value).
inline void read_params(Table& t, std::span<const ParamInfo> params,
                        std::vector<std::pair<std::string, double>>& out) {
  for (const auto& info : params)
    if (const auto f = t.get(info.key))
      out.emplace_back(std::string(info.key), read_param(*f, info));
}

// The entry a string field names: "unknown <what> 'x' (expected one of ...)" otherwise.
template <class Entry>
const Entry& lookup(const Field& f, const Registry<Entry>& r) {
  const std::string name = f.string();
  if (const Entry* e = r.find(name)) return *e;
  f.fail(r.unknown(name));
}

// The enum value a string field names.
template <class E>
E choose(const Field& f, const Registry<Choice<E>>& r) {
  return lookup(f, r).value;
}

inline std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// Applies "dotted.path=VALUE": VALUE is TOML ("40000", "\"10 ms\"", "{ rule = ... }") or, when
// it is not valid TOML, a string. The tables on the path must exist; the last key may be new.
inline void apply_override(toml::table& root, const Source& src, const std::string& text) {
  const auto eq = text.find('=');
  std::vector<std::string> keys;
  if (eq != std::string::npos) {
    std::istringstream in(text.substr(0, eq));
    for (std::string k; std::getline(in, k, '.');) keys.push_back(trim(k));
  }
  if (keys.empty() ||
      std::any_of(keys.begin(), keys.end(), [](const auto& k) { return k.empty(); }))
    throw ConfigError(fmt::format(
        "{}: --set '{}': expected dotted.path=VALUE, e.g. populations.P.size=100", src.name, text));
  const std::string path = join(keys, ".");
  toml::table* table = &root;
  std::string prefix;
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
    prefix += (i ? "." : "") + keys[i];
    toml::node* next = table->get(keys[i]);
    if (!next)
      throw ConfigError(fmt::format("{}: {} (set by --set): there is no table '{}' in the file",
                                    src.name, path, prefix));
    // An array of tables is indexed by the next key: layers.0.size=200.
    if (auto* array = next->as_array(); array && i + 2 < keys.size()) {
      const std::string& index = keys[++i];
      prefix += "." + index;
      const bool digits = std::all_of(index.begin(), index.end(),
                                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
      if (!digits || std::stoull(index) >= array->size())
        throw ConfigError(fmt::format("{}: {} (set by --set): '{}' is not an index of the {} "
                                      "elements of '{}'",
                                      src.name, path, index, array->size(), keys[i - 1]));
      next = array->get(std::stoull(index));
    }
    table = next->as_table();
    if (!table)
      throw ConfigError(fmt::format("{}: {} (set by --set): '{}' is {}, not a table", src.name,
                                    path, prefix, type_name(next->type())));
  }
  const std::string value = trim(text.substr(eq + 1));
  toml::table parsed;
  try {
    parsed = toml::parse(std::string_view("x = " + value), std::string_view("--set"));
  } catch (const toml::parse_error&) {
  }
  if (toml::node* node = parsed.size() == 1 ? parsed.get("x") : nullptr)
    node->visit([&](auto& n) { table->insert_or_assign(keys.back(), std::move(n)); });
  else
    table->insert_or_assign(keys.back(), value);
}

// Parses TOML text (errors name the line) and applies "--set" overrides; sets src.doc.
inline toml::table parse_document(std::string_view text, Source& src,
                                  const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(src.name));
  } catch (const toml::parse_error& e) {
    throw ConfigError(
        fmt::format("{}:{}: invalid TOML: {}", src.name, e.source().begin.line, e.description()));
  }
  src.doc = root.source().path;
  for (const auto& o : overrides) apply_override(root, src, o);
  return root;
}

// The whole of a text file; `what` names it in errors ("model file", "training file").
inline std::string read_text(const std::string& path, std::string_view what) {
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw ConfigError(fmt::format("{}: cannot read {}: it is a directory", path, what));
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError(fmt::format("{}: cannot read {}: {}", path, what, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(fmt::format("{}: cannot read {}", path, what));
  return text.str();
}

}  // namespace volley::io::detail
