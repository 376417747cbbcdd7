// NIR graphs: the HDF5 layout of NIR's Python package (read, validated, written with the HDF5 C
// library), and the mapping between NIR and volley's trained networks. See volley/io/nir.hpp
// and docs/nir.md.
#include "volley/io/nir.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "core/atomic_file.hpp"
#include "hdf5_util.hpp"
#include "volley/data/events.hpp"
#include "volley/error.hpp"
#include "volley/io/export.hpp"
#include "volley/io/train_config.hpp"
#include "volley/models/discrete_lif.hpp"
#include "volley/train/optimizer.hpp"
#include "volley/train/runner.hpp"
#include "volley/version.hpp"

namespace volley::io::nir {

namespace fs = std::filesystem;
using hdf5::Handle;

// ---- arrays ---------------------------------------------------------------------------------

Array Array::scalar(double x, Type t) { return Array{t, {}, {x}}; }

Array Array::vector(std::vector<double> v, Type t) {
  Array a{t, {v.size()}, std::move(v)};
  return a;
}

Array Array::filled(std::size_t n, double x) { return vector(std::vector<double>(n, x)); }

Array Array::matrix(std::size_t rows, std::size_t cols, std::vector<double> v) {
  return Array{Type::float64, {rows, cols}, std::move(v)};
}

const Node* Node::find(std::string_view child) const {
  for (const Node& n : nodes)
    if (n.name == child) return &n;
  return nullptr;
}

namespace {

std::string dims_text(const std::vector<std::size_t>& d) {
  if (d.empty()) return "()";
  std::string s = "(";
  for (std::size_t k = 0; k < d.size(); ++k) s += fmt::format("{}{}", k ? ", " : "", d[k]);
  return s + ")";
}

std::size_t product(const std::vector<std::size_t>& d) {
  std::size_t n = 1;
  for (auto x : d) n *= x;
  return n;
}

// ---- the primitives -------------------------------------------------------------------------

// How a node's input and output sizes follow from its parameters.
enum class Form { input, output, weights, elementwise, flatten, graph };

struct Spec {
  std::string_view type;
  Form form;
  std::vector<std::string_view> required, optional;
};

// Parameters as NIR's dataclasses declare them (nir/ir/*.py). Optional ones have defaults there
// (v_reset = 0, w_in = 1) or are absent in older files (Output's shape).
const std::vector<Spec>& specs() {
  static const std::vector<Spec> s = {
      {"Input", Form::input, {"shape"}, {}},
      {"Output", Form::output, {}, {"shape"}},
      {"Affine", Form::weights, {"weight", "bias"}, {}},
      {"Linear", Form::weights, {"weight"}, {}},
      {"Scale", Form::elementwise, {"scale"}, {}},
      {"LIF", Form::elementwise, {"tau", "r", "v_leak", "v_threshold"}, {"v_reset"}},
      {"CubaLIF", Form::elementwise, {"tau_mem", "tau_syn", "r", "v_leak", "v_threshold"},
       {"v_reset", "w_in"}},
      {"LI", Form::elementwise, {"tau", "r", "v_leak"}, {}},
      {"CubaLI", Form::elementwise, {"tau_mem", "tau_syn", "r", "v_leak"}, {"w_in"}},
      {"IF", Form::elementwise, {"r", "v_threshold"}, {"v_reset"}},
      {"I", Form::elementwise, {"r"}, {}},
      {"Threshold", Form::elementwise, {"threshold"}, {}},
      {"Delay", Form::elementwise, {"delay"}, {}},
      {"Flatten", Form::flatten, {"start_dim", "end_dim"}, {"input_type"}},
      {"NIRGraph", Form::graph, {}, {}},
  };
  return s;
}

const Spec* spec_of(std::string_view type) {
  for (const Spec& s : specs())
    if (s.type == type) return &s;
  return nullptr;
}

bool is_integer_param(std::string_view p) {
  return p == "shape" || p == "input_type" || p == "start_dim" || p == "end_dim";
}

std::string supported_list() {
  std::string s;
  for (const Spec& x : specs()) s += fmt::format("{}{}", s.empty() ? "" : ", ", x.type);
  return s;
}

std::string node_label(const std::string& path, const Node& n) {
  return fmt::format("node '{}' ({})", path, n.type);
}

// The sizes of what a node takes and gives (element counts; nullopt when not known from the
// node alone, e.g. an Output without a shape).
struct Sizes {
  std::optional<std::size_t> in, out;
};

Sizes sizes_of(const Node& n) {
  const Spec* s = spec_of(n.type);
  if (!s) return {};
  auto param = [&](const char* p) -> const Array* {
    const auto it = n.params.find(p);
    return it == n.params.end() ? nullptr : &it->second;
  };
  auto shape_count = [](const Array& a) {
    std::size_t c = 1;
    for (double x : a.values) c *= static_cast<std::size_t>(x);
    return c;
  };
  switch (s->form) {
    case Form::input:
    case Form::output:
      if (const Array* a = param("shape")) return {shape_count(*a), shape_count(*a)};
      return {};
    case Form::weights: {
      const Array* w = param("weight");
      if (!w || w->shape.size() < 2) return {};
      const std::size_t batch =
          product(std::vector<std::size_t>(w->shape.begin(), w->shape.end() - 2));
      return {batch * w->shape.back(), batch * w->shape[w->shape.size() - 2]};
    }
    case Form::elementwise: {
      std::size_t n_max = 0;
      for (const auto& [k, a] : n.params) n_max = std::max(n_max, a.size());
      return {n_max, n_max};
    }
    case Form::flatten:
      if (const Array* a = param("input_type")) return {shape_count(*a), shape_count(*a)};
      return {};
    case Form::graph: {
      const Node* in = nullptr;
      const Node* out = nullptr;
      int n_in = 0, n_out = 0;
      for (const Node& c : n.nodes) {
        if (c.type == "Input") in = &c, ++n_in;
        if (c.type == "Output") out = &c, ++n_out;
      }
      Sizes r;
      if (n_in == 1) r.in = sizes_of(*in).out;
      if (n_out == 1) r.out = sizes_of(*out).in;
      return r;
    }
  }
  return {};
}

// The node an edge end names in graph `g`: a node of g, or "sub.name" inside a subgraph.
const Node* resolve(const Node& g, const std::string& name) {
  if (const Node* n = g.find(name)) return n;
  for (std::size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
    const Node* sub = g.find(name.substr(0, dot));
    if (sub && sub->type == "NIRGraph")
      if (const Node* n = resolve(*sub, name.substr(dot + 1))) return n;
  }
  return nullptr;
}

void validate_node(const Node& n, const std::string& path, const std::string& where,
                   bool named = true) {
  if (named && (n.name.empty() || n.name.find('/') != std::string::npos))
    throw ConfigError(fmt::format("{}: node '{}': a node name must be non-empty and without '/'",
                                  where, path));
  const Spec* s = spec_of(n.type);
  if (!s)
    throw ConfigError(fmt::format(
        "{}: {} has a type volley does not support (supported: {})", where, node_label(path, n),
        supported_list()));
  const std::string at = fmt::format("{}: {}", where, node_label(path, n));
  for (std::string_view p : s->required)
    if (!n.params.count(std::string(p)))
      throw ConfigError(fmt::format("{}: missing parameter '{}'", at, p));
  for (const auto& [k, a] : n.params) {
    const bool known = std::find(s->required.begin(), s->required.end(), k) != s->required.end() ||
                       std::find(s->optional.begin(), s->optional.end(), k) != s->optional.end();
    if (!known) {
      std::string list;
      for (auto p : s->required) list += fmt::format("{}{}", list.empty() ? "" : ", ", p);
      for (auto p : s->optional) list += fmt::format("{}{}", list.empty() ? "" : ", ", p);
      throw ConfigError(fmt::format("{}: unknown parameter '{}' (a {} has {})", at, k, n.type,
                                    list.empty() ? "none" : list));
    }
    if (product(a.shape) != a.values.size())
      throw ConfigError(fmt::format("{}: parameter '{}' has {} values for its shape {}", at, k,
                                    a.values.size(), dims_text(a.shape)));
    for (std::size_t i = 0; i < a.values.size(); ++i) {
      const double x = a.values[i];
      if (!std::isfinite(x))
        throw ConfigError(fmt::format("{}: parameter '{}' has a value that is not a finite "
                                      "number (element {})",
                                      at, k, i));
      if (is_integer_param(k) && x != std::floor(x))
        throw ConfigError(
            fmt::format("{}: parameter '{}' must hold whole numbers, has {}", at, k, x));
      if ((k == "shape" || k == "input_type") && x < 0)
        throw ConfigError(fmt::format("{}: parameter '{}' has a negative size {}", at, k, x));
    }
  }
  if (s->form == Form::weights) {
    const Array& w = n.params.at("weight");
    if (w.shape.size() < 2)
      throw ConfigError(fmt::format("{}: 'weight' must be a matrix (out × in), has shape {}", at,
                                    dims_text(w.shape)));
    if (const auto b = n.params.find("bias"); b != n.params.end()) {
      const std::size_t out = *sizes_of(n).out;
      if (b->second.size() != out && b->second.size() != 1)
        throw ConfigError(fmt::format("{}: 'bias' has {} values but 'weight' {} has {} outputs",
                                      at, b->second.size(), dims_text(w.shape), out));
    }
  }
  if (s->form == Form::elementwise) {
    // NIR's neurons take one value per neuron of every parameter; a single value is read as the
    // same for every neuron (w_in and v_reset are scalars by default in NIR).
    const std::size_t size = *sizes_of(n).out;
    for (const auto& [k, a] : n.params)
      if (a.size() != size && a.size() != 1) {
        std::string biggest;
        for (const auto& [k2, a2] : n.params)
          if (a2.size() == size) {
            biggest = k2;
            break;
          }
        throw ConfigError(fmt::format("{}: parameter '{}' has shape {} but '{}' has {} values", at,
                                      k, dims_text(a.shape), biggest, size));
      }
  }
  if (s->form != Form::graph && (!n.nodes.empty() || !n.edges.empty()))
    throw ConfigError(fmt::format("{}: only a NIRGraph has nodes and edges", at));
  if (s->form != Form::graph) return;

  if (!n.params.empty())
    throw ConfigError(fmt::format("{}: a NIRGraph has nodes and edges, not parameters", at));
  std::set<std::string> names;
  for (const Node& c : n.nodes) {
    if (!names.insert(c.name).second)
      throw ConfigError(fmt::format("{}: two nodes are named '{}'", at, c.name));
    validate_node(c, path.empty() ? c.name : path + "." + c.name, where);
  }
  const std::string graph = path.empty() ? "the graph" : fmt::format("graph '{}'", path);
  auto full = [&](const std::string& name) { return path.empty() ? name : path + "." + name; };
  for (const auto& [a, b] : n.edges) {
    const Node* pa = resolve(n, a);
    const Node* pb = resolve(n, b);
    for (const auto& [end, p] : {std::pair{a, pa}, std::pair{b, pb}})
      if (!p) {
        std::string list;
        for (const Node& c : n.nodes) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", c.name);
        throw ConfigError(fmt::format(
            "{}: {}: the edge '{}' -> '{}' names node '{}', which does not exist (its nodes: {})",
            where, graph, a, b, end, list.empty() ? "none" : list));
      }
    const auto out = sizes_of(*pa).out;
    const auto in = sizes_of(*pb).in;
    if (out && in && *out != *in)
      throw ConfigError(fmt::format(
          "{}: the edge '{}' -> '{}' connects {} with {} outputs to {} with {} inputs", where,
          full(a), full(b), node_label(full(a), *pa), *out, node_label(full(b), *pb), *in));
  }
}

// ---- HDF5 reading ---------------------------------------------------------------------------

// The names in a group, in creation order when the group records it (as volley's files do),
// otherwise by name (h5py's default order).
std::vector<std::string> children(hid_t g, const std::string& at) {
  H5G_info_t info;
  if (H5Gget_info(g, &info) < 0) throw IoError(fmt::format("{}: cannot list the group", at));
  H5_index_t index = H5_INDEX_NAME;
  {
    Handle gcpl(H5Gget_create_plist(g), H5Pclose, fmt::format("{}: no creation properties", at));
    unsigned flags = 0;
    if (H5Pget_link_creation_order(gcpl, &flags) >= 0 && (flags & H5P_CRT_ORDER_INDEXED))
      index = H5_INDEX_CRT_ORDER;
  }
  std::vector<std::string> out;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(g, ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) throw IoError(fmt::format("{}: cannot read the name of entry {}", at, i));
    std::vector<char> buf(static_cast<std::size_t>(len) + 1, '\0');
    H5Lget_name_by_idx(g, ".", index, H5_ITER_INC, i, buf.data(), buf.size(), H5P_DEFAULT);
    out.emplace_back(buf.data(), static_cast<std::size_t>(len));
  }
  return out;
}

enum class Kind { group, dataset, other };

Kind kind_of(hid_t g, const std::string& name, const std::string& at) {
  Handle obj(H5Oopen(g, name.c_str(), H5P_DEFAULT), H5Oclose,
             fmt::format("{}/{}: cannot open", at, name));
  switch (H5Iget_type(obj)) {
    case H5I_GROUP: return Kind::group;
    case H5I_DATASET: return Kind::dataset;
    default: return Kind::other;
  }
}

std::vector<std::size_t> extent(hid_t space) {
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> d(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space, d.data(), nullptr);
  return std::vector<std::size_t>(d.begin(), d.end());
}

// The strings of a string dataset (any rank; variable or fixed length), or nullopt for another
// type. `dims` receives its shape.
std::optional<std::vector<std::string>> read_strings(hid_t ds, const std::string& at,
                                                     std::vector<std::size_t>& dims) {
  Handle type(H5Dget_type(ds), H5Tclose, fmt::format("{}: no type", at));
  if (H5Tget_class(type) != H5T_STRING) return std::nullopt;
  Handle space(H5Dget_space(ds), H5Sclose, fmt::format("{}: no dataspace", at));
  dims = extent(space);
  const auto n = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
  std::vector<std::string> out;
  if (n == 0) return out;
  if (H5Tis_variable_str(type) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose, "HDF5: cannot copy the string type");
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5Tget_cset(type));
    std::vector<char*> raw(n, nullptr);
    if (H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
      throw IoError(fmt::format("{}: cannot read the strings", at));
    hdf5::VlenReclaim reclaim(mem, space, raw.data());
    for (char* s : raw) out.emplace_back(s ? s : "");
    return out;
  }
  const std::size_t len = H5Tget_size(type);
  Handle mem(H5Tcopy(type), H5Tclose, "HDF5: cannot copy the string type");
  std::vector<char> buf(n * len + 1, '\0');
  if (H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
    throw IoError(fmt::format("{}: cannot read the strings", at));
  const bool spaces = H5Tget_strpad(type) == H5T_STR_SPACEPAD;
  for (std::size_t k = 0; k < n; ++k) {
    std::string s(buf.data() + k * len, len);
    s.resize(std::strlen(s.c_str()));
    if (spaces)
      while (!s.empty() && s.back() == ' ') s.pop_back();
    out.push_back(std::move(s));
  }
  return out;
}

// A numeric dataset as an Array, or nullopt for another type (strings, compounds, enums).
std::optional<Array> read_array(hid_t ds, const std::string& at) {
  Handle type(H5Dget_type(ds), H5Tclose, fmt::format("{}: no type", at));
  Array a;
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: a.type = Array::Type::int64; break;
    case H5T_FLOAT: a.type = H5Tget_size(type) <= 4 ? Array::Type::float32 : Array::Type::float64; break;
    default: return std::nullopt;
  }
  Handle space(H5Dget_space(ds), H5Sclose, fmt::format("{}: no dataspace", at));
  a.shape = extent(space);
  a.values.resize(product(a.shape));
  if (!a.values.empty() &&
      H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.values.data()) < 0)
    throw IoError(fmt::format("{}: cannot read the numbers (a compression filter this HDF5 "
                              "library lacks?)",
                              at));
  return a;
}

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)), where_(fmt::format("NIR file '{}'", path_)) {}

  Node read(std::string* version) {
    hdf5::quiet();
    std::error_code ec;
    if (!fs::exists(path_, ec))
      throw IoError(fmt::format("{}: cannot open (no such file)", where_));
#if H5_VERSION_GE(1, 12, 0)
    const htri_t hdf5 = H5Fis_accessible(path_.c_str(), H5P_DEFAULT);
#else
    const htri_t hdf5 = H5Fis_hdf5(path_.c_str());
#endif
    if (hdf5 <= 0)
      throw IoError(fmt::format("{}: not an HDF5 file (NIR graphs are HDF5 files written by "
                                "nir.write or a tool using it)",
                                where_));
    Handle file(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
                fmt::format("{}: cannot open", where_));
    if (version) {
      version->clear();
      if (H5Lexists(file, "version", H5P_DEFAULT) > 0 &&
          kind_of(file, "version", where_) == Kind::dataset) {
        Handle ds(H5Dopen2(file, "version", H5P_DEFAULT), H5Dclose, where_ + "/version: cannot open");
        std::vector<std::size_t> dims;
        if (auto s = read_strings(ds, where_ + "/version", dims); s && s->size() == 1)
          *version = s->front();
      }
    }
    if (H5Lexists(file, "node", H5P_DEFAULT) <= 0 || kind_of(file, "node", where_) != Kind::group) {
      Handle root(H5Gopen2(file, "/", H5P_DEFAULT), H5Gclose, where_ + ": cannot open /");
      std::string list;
      for (const auto& c : children(root, where_)) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", c);
      throw ConfigError(fmt::format(
          "{}: no group /node, so this is not a NIR graph (NIR files hold /version and /node; "
          "this one holds {})",
          where_, list.empty() ? "nothing" : list));
    }
    Handle g(H5Gopen2(file, "node", H5P_DEFAULT), H5Gclose, where_ + "/node: cannot open");
    Node graph = read_node(g, "");
    if (graph.type != "NIRGraph")
      throw ConfigError(fmt::format("{}: /node is a {}, not a NIRGraph", where_, graph.type));
    validate(graph, where_);
    return graph;
  }

 private:
  // The node stored in group `g`; `path` is its dotted name for messages ("" for the graph).
  Node read_node(hid_t g, const std::string& path) {
    const std::string at = fmt::format("{}: {}", where_, path.empty() ? std::string("/node")
                                                                      : fmt::format("node '{}'", path));
    Node n;
    const auto names = children(g, at);
    if (std::find(names.begin(), names.end(), "type") == names.end() ||
        kind_of(g, "type", at) != Kind::dataset)
      throw ConfigError(fmt::format("{}: no 'type' (every NIR node names its type, e.g. \"LIF\")", at));
    {
      Handle ds(H5Dopen2(g, "type", H5P_DEFAULT), H5Dclose, at + "/type: cannot open");
      std::vector<std::size_t> dims;
      const auto s = read_strings(ds, at + "/type", dims);
      if (!s || s->size() != 1) throw ConfigError(fmt::format("{}: 'type' is not a string", at));
      n.type = s->front();
    }
    const bool graph = n.type == "NIRGraph";
    const Spec* spec = spec_of(n.type);
    if (!spec)
      throw ConfigError(fmt::format("{}: type '{}' is not supported by volley (supported: {})", at,
                                    n.type, supported_list()));
    for (const std::string& k : names) {
      if (k == "type") continue;
      const Kind kind = kind_of(g, k, at);
      if (kind == Kind::group) {
        Handle sub(H5Gopen2(g, k.c_str(), H5P_DEFAULT), H5Gclose, fmt::format("{}/{}: cannot open", at, k));
        if (k == "metadata") {
          n.metadata = read_metadata(sub, at + "/metadata");
        } else if (graph && k == "nodes") {
          for (const std::string& c : children(sub, at + "/nodes")) {
            if (kind_of(sub, c, at) != Kind::group)
              throw ConfigError(fmt::format("{}/nodes/{}: a node must be a group", at, c));
            Handle cg(H5Gopen2(sub, c.c_str(), H5P_DEFAULT), H5Gclose,
                      fmt::format("{}/nodes/{}: cannot open", at, c));
            Node child = read_node(cg, path.empty() ? c : path + "." + c);
            child.name = c;
            n.nodes.push_back(std::move(child));
          }
        }
        // Other groups (input_type/output_type of some NIR versions) describe shapes that
        // follow from the parameters: not needed.
        continue;
      }
      if (kind != Kind::dataset) continue;
      Handle ds(H5Dopen2(g, k.c_str(), H5P_DEFAULT), H5Dclose, fmt::format("{}/{}: cannot open", at, k));
      if (graph && k == "edges") {
        n.edges = read_edges(ds, at + "/edges");
        continue;
      }
      auto a = read_array(ds, fmt::format("{}/{}", at, k));
      if (!a) continue;  // a string or other non-numeric entry no primitive defines
      const bool known =
          std::find(spec->required.begin(), spec->required.end(), k) != spec->required.end() ||
          std::find(spec->optional.begin(), spec->optional.end(), k) != spec->optional.end();
      if (known) n.params[k] = std::move(*a);
    }
    if (graph && std::find(names.begin(), names.end(), "nodes") == names.end())
      throw ConfigError(fmt::format("{}: a NIRGraph without 'nodes'", at));
    if (graph && std::find(names.begin(), names.end(), "edges") == names.end())
      throw ConfigError(fmt::format("{}: a NIRGraph without 'edges'", at));
    return n;
  }

  std::vector<std::pair<std::string, std::string>> read_edges(hid_t ds, const std::string& at) {
    std::vector<std::size_t> dims;
    const auto s = read_strings(ds, at, dims);
    std::vector<std::pair<std::string, std::string>> out;
    if (!s) {
      // h5py stores an empty edge list as an empty float array.
      Handle space(H5Dget_space(ds), H5Sclose, at + ": no dataspace");
      if (H5Sget_simple_extent_npoints(space) == 0) return out;
      throw ConfigError(fmt::format("{}: edges must be strings (n × 2: source, target)", at));
    }
    if (s->empty()) return out;
    if (dims.size() != 2 || dims[1] != 2)
      throw ConfigError(fmt::format("{}: edges must be n × 2 (source, target), found shape {}", at,
                                    dims_text(dims)));
    for (std::size_t k = 0; k < dims[0]; ++k) out.emplace_back((*s)[2 * k], (*s)[2 * k + 1]);
    return out;
  }

  Metadata read_metadata(hid_t g, const std::string& at) {
    Metadata m;
    for (const std::string& k : children(g, at)) {
      if (kind_of(g, k, at) != Kind::dataset) continue;
      Handle ds(H5Dopen2(g, k.c_str(), H5P_DEFAULT), H5Dclose, fmt::format("{}/{}: cannot open", at, k));
      std::vector<std::size_t> dims;
      if (auto s = read_strings(ds, at + "/" + k, dims)) {
        if (s->size() == 1 && dims.empty()) m.text[k] = s->front();
      } else if (auto a = read_array(ds, at + "/" + k)) {
        m.numbers[k] = std::move(*a);
      }
    }
    return m;
  }

  std::string path_, where_;
};

// ---- HDF5 writing ---------------------------------------------------------------------------

// A group that keeps its entries in the order they are written (h5py lists them in that order)
// and stores no times (the same graph gives the same bytes).
Handle new_group(hid_t parent, const std::string& name) {
  Handle gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose, "HDF5: cannot create a property list");
  H5Pset_obj_track_times(gcpl, 0);
  H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  return Handle(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), H5Gclose,
                fmt::format("HDF5: cannot create group {}", name));
}

Handle dataset_props() {
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "HDF5: cannot create a property list");
  H5Pset_obj_track_times(dcpl, 0);
  return dcpl;
}

Handle utf8_string_type() {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose, "HDF5: cannot copy the string type");
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

// Strings as h5py writes str objects: variable-length UTF-8, a scalar (dims empty) or an array.
void write_strings(hid_t parent, const std::string& name, const std::vector<std::string>& values,
                   const std::vector<hsize_t>& dims) {
  std::vector<const char*> raw;
  for (const auto& v : values) raw.push_back(v.c_str());
  Handle type = utf8_string_type();
  Handle space(dims.empty() ? H5Screate(H5S_SCALAR)
                            : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
               H5Sclose, fmt::format("HDF5: cannot create the dataspace of {}", name));
  Handle dcpl = dataset_props();
  Handle ds(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
            fmt::format("HDF5: cannot create dataset {}", name));
  if (!raw.empty() && H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
    throw IoError(fmt::format("HDF5: cannot write dataset {}", name));
}

void write_array(hid_t parent, const std::string& name, const Array& a) {
  std::vector<hsize_t> dims(a.shape.begin(), a.shape.end());
  Handle space(dims.empty() ? H5Screate(H5S_SCALAR)
                            : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
               H5Sclose, fmt::format("HDF5: cannot create the dataspace of {}", name));
  Handle dcpl = dataset_props();
  auto create = [&](hid_t file_type) {
    return Handle(H5Dcreate2(parent, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                  H5Dclose, fmt::format("HDF5: cannot create dataset {}", name));
  };
  herr_t status = 0;
  switch (a.type) {
    case Array::Type::float64: {
      Handle ds = create(H5T_IEEE_F64LE);
      if (!a.values.empty())
        status = H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.values.data());
      break;
    }
    case Array::Type::float32: {
      std::vector<float> v(a.values.begin(), a.values.end());
      Handle ds = create(H5T_IEEE_F32LE);
      if (!v.empty()) status = H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
      break;
    }
    case Array::Type::int64: {
      std::vector<std::int64_t> v;
      for (double x : a.values) v.push_back(static_cast<std::int64_t>(std::llround(x)));
      Handle ds = create(H5T_STD_I64LE);
      if (!v.empty()) status = H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
      break;
    }
  }
  if (status < 0) throw IoError(fmt::format("HDF5: cannot write dataset {}", name));
}

void write_node(hid_t g, const Node& n) {
  write_strings(g, "type", {n.type}, {});
  for (const auto& [k, a] : n.params) write_array(g, k, a);
  if (!n.metadata.empty()) {
    Handle m = new_group(g, "metadata");
    for (const auto& [k, s] : n.metadata.text) write_strings(m, k, {s}, {});
    for (const auto& [k, a] : n.metadata.numbers) write_array(m, k, a);
  }
  if (n.type != "NIRGraph") return;
  {
    Handle nodes = new_group(g, "nodes");
    for (const Node& c : n.nodes) {
      Handle cg = new_group(nodes, c.name);
      write_node(cg, c);
    }
  }
  std::vector<std::string> flat;
  for (const auto& [a, b] : n.edges) {
    flat.push_back(a);
    flat.push_back(b);
  }
  write_strings(g, "edges", flat, {static_cast<hsize_t>(n.edges.size()), 2});
}

}  // namespace

const std::vector<std::string_view>& supported_types() {
  static const std::vector<std::string_view> t = [] {
    std::vector<std::string_view> v;
    for (const Spec& s : specs()) v.push_back(s.type);
    return v;
  }();
  return t;
}

void validate(const Node& graph, const std::string& where) {
  if (graph.type != "NIRGraph")
    throw ConfigError(fmt::format("{}: the top node is a {}, not a NIRGraph", where, graph.type));
  // The top graph has no name of its own: its path is "", so messages name its nodes plainly.
  validate_node(graph, "", where, false);
}

Node read(const std::string& path, std::string* version) { return Reader(path).read(version); }

void write(const std::string& path, const Node& graph) {
  validate(graph, fmt::format("NIR graph for '{}'", path));
  hdf5::quiet();
  detail::replace_file_atomically(path, [&](const std::string& tmp) {
    Handle fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "HDF5: cannot create a property list");
    H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT), H5Fclose,
                fmt::format("cannot create '{}'", path));
    write_strings(file, "version", {std::string(kFormatVersion)}, {});
    Handle g = new_group(file, "node");
    write_node(g, graph);
  });
}

// ---- volley → NIR -------------------------------------------------------------------------

namespace {

// The factor between NIR's weights and the trainer's (docs/nir.md): with ZOH input over a step,
// (1 − β)·r for the membrane, times (1 − α)·w_in with a synaptic current. The same expression
// on export and import, so that a weight divided and multiplied by it comes back bit for bit.
double weight_factor(float alpha, float beta, bool syn, double r, double w_in) {
  const double f = (1.0 - static_cast<double>(beta)) * r;
  return syn ? f * (1.0 - static_cast<double>(alpha)) * w_in : f;
}

// Per-neuron time constants of a layer's decay factors: the configured one where the factor is
// the configured factor, −dt/ln(x) where it was learned (checked to give x back).
std::vector<double> time_constants(const train::Net& net, std::size_t l, std::size_t param,
                                   double tau, const char* what) {
  const double dt = net.config().dt;
  const float expected = decay_factor(dt, tau);
  std::vector<double> out;
  const auto& values = net.params()[param].value;
  for (std::size_t j = 0; j < values.size(); ++j) {
    const float x = values[j];
    if (x == expected) {
      out.push_back(tau);
      continue;
    }
    if (!(x > 0.0f && x < 1.0f))
      throw ConfigError(fmt::format(
          "layer {}: neuron {} has the {} factor {}, which no time constant gives (NIR needs a "
          "time constant > 0)",
          l, j, what, x));
    const double t = -dt / std::log(static_cast<double>(x));
    if (decay_factor(dt, t) != x)
      throw ConfigError(fmt::format("layer {}: neuron {}: the {} factor {} cannot be written as a "
                                    "time constant that gives it back exactly",
                                    l, j, what, x));
    out.push_back(t);
  }
  return out;
}

std::string layer_node(std::size_t l) { return fmt::format("layer{}", l); }

}  // namespace

Node to_nir(const train::Net& net) {
  const train::NetConfig& c = net.config();
  if (c.forward == train::ForwardMode::smooth)
    throw ConfigError(
        "the network was trained with the smooth forward mode (sigmoid outputs instead of "
        "spikes); NIR describes spiking neurons, so only forward = \"heaviside\" can be exported");
  if (net.is_ann())
    throw ConfigError(
        "the checkpoint is an ANN twin (relu units, trained with --twin ann); only spiking "
        "networks can be exported");
  for (std::size_t l = 0; l < c.layers.size(); ++l) {
    const train::LayerConfig& lc = c.layers[l];
    if (lc.kind == train::LayerKind::alif || lc.kind == train::LayerKind::adlif)
      throw ConfigError(fmt::format(
          "layer {} is an adaptive LIF (type \"{}\"); NIR has no adaptive neuron, so only \"lif\" "
          "and \"readout\" layers can be exported (`volley export` writes it for `volley sim`)",
          l, train::layer_kinds().name_of(lc.kind)));
    if (lc.max_delay > 0.0)
      throw ConfigError(fmt::format(
          "layer {} has synaptic delays (max_delay); NIR's Affine and Linear nodes have none and "
          "its Delay node is one per neuron, not per synapse, so the network cannot be written "
          "(`volley export` writes it, delays and all, for `volley sim`)",
          l));
    if (lc.kind == train::LayerKind::lif && lc.reset == train::ResetMode::subtract)
      throw ConfigError(fmt::format(
          "layer {} resets by subtracting the threshold; NIR's LIF and CubaLIF set v to v_reset "
          "after a spike, so only reset = \"multiply\" (to 0) or \"none\" (a leaky integrator "
          "followed by a Threshold node) can be exported",
          l));
  }
  Node g;
  g.type = "NIRGraph";
  auto add = [&](std::string name, std::string type) -> Node& {
    Node n;
    n.name = std::move(name);
    n.type = std::move(type);
    g.nodes.push_back(std::move(n));
    return g.nodes.back();
  };
  add("input", "Input").params["shape"] =
      Array::vector({static_cast<double>(c.n_inputs)}, Array::Type::int64);
  std::string prev = "input";
  std::size_t n_pre = c.n_inputs;
  for (std::size_t l = 0; l < c.layers.size(); ++l) {
    const train::LayerConfig& lc = c.layers[l];
    const std::size_t n = lc.size;
    const bool syn = lc.tau_syn > 0.0;
    const bool readout = lc.kind == train::LayerKind::readout;
    const bool threshold_node = !readout && lc.reset == train::ResetMode::none;
    const auto& alpha = net.params()[net.alpha_param(l)].value;
    const auto& beta = net.params()[net.beta_param(l)].value;
    const std::vector<double> tau_mem = time_constants(net, l, net.beta_param(l), lc.tau_mem,
                                                       "membrane decay (β)");
    const std::vector<double> tau_syn =
        syn ? time_constants(net, l, net.alpha_param(l), lc.tau_syn, "synaptic decay (α)")
            : std::vector<double>();
    // θ per neuron (learned, learn_threshold) or the layer's.
    std::vector<double> theta(n, lc.threshold);
    if (net.threshold_param(l) != train::Net::kNone) {
      const auto& x = net.params()[net.threshold_param(l)].value;
      theta.assign(x.begin(), x.end());
    }
    std::vector<double> factor(n);
    for (std::size_t j = 0; j < n; ++j) {
      factor[j] = weight_factor(alpha[j], beta[j], syn, 1.0, 1.0);
      if (!(factor[j] > 0.0))
        throw ConfigError(fmt::format(
            "layer {}: neuron {} has a decay factor of 1 in float (a time constant too long for "
            "dt = {} s): it does not leak, and NIR's weights (the trainer's divided by "
            "(1 − α)(1 − β)) would be infinite",
            l, j, c.dt));
    }
    // W_nir[j, i] = W_volley[i, j] / factor_j; synapses a sparse layer lacks are 0.
    auto to_matrix = [&](const train::WeightLayout& W) {
      std::vector<double> m(W.n_post * W.n_pre, 0.0);
      const auto& v = net.params()[W.param].value;
      for (std::size_t i = 0; i < W.n_pre; ++i) {
        const std::size_t b = W.dense ? i * W.n_post : W.row_ptr[i];
        const std::size_t e = W.dense ? (i + 1) * W.n_post : W.row_ptr[i + 1];
        for (std::size_t k = b; k < e; ++k) {
          const std::size_t j = W.dense ? k - b : W.cols[k];
          m[j * W.n_pre + i] = static_cast<double>(v[k]) / factor[j];
        }
      }
      return Array::matrix(W.n_post, W.n_pre, std::move(m));
    };
    const std::string name = layer_node(l);
    Node& w = add(name + "_w", "Affine");
    w.params["weight"] = to_matrix(net.input_weights(l));
    w.params["bias"] = Array::filled(n, 0.0);

    Node& neuron = add(name, syn ? (readout || threshold_node ? "CubaLI" : "CubaLIF")
                                 : (readout || threshold_node ? "LI" : "LIF"));
    if (syn) {
      neuron.params["tau_mem"] = Array::vector(tau_mem);
      neuron.params["tau_syn"] = Array::vector(tau_syn);
      neuron.params["w_in"] = Array::filled(n, 1.0);
    } else {
      neuron.params["tau"] = Array::vector(tau_mem);
    }
    neuron.params["r"] = Array::filled(n, 1.0);
    neuron.params["v_leak"] = Array::filled(n, 0.0);
    if (!readout && !threshold_node) {
      neuron.params["v_threshold"] = Array::vector(theta);
      neuron.params["v_reset"] = Array::filled(n, 0.0);
    }
    std::string spikes = name;
    if (threshold_node) {
      spikes = name + "_spike";
      add(spikes, "Threshold").params["threshold"] = Array::vector(theta);
    }
    g.edges.emplace_back(prev, name + "_w");
    g.edges.emplace_back(name + "_w", name);
    if (threshold_node) g.edges.emplace_back(name, spikes);
    if (lc.recurrent) {
      add(name + "_v", "Linear").params["weight"] = to_matrix(net.recurrent_weights(l));
      g.edges.emplace_back(spikes, name + "_v");
      g.edges.emplace_back(name + "_v", name);
    }
    prev = spikes;
    n_pre = n;
  }
  add("output", "Output").params["shape"] =
      Array::vector({static_cast<double>(n_pre)}, Array::Type::int64);
  g.edges.emplace_back(prev, "output");
  g.metadata.numbers["dt"] = Array::scalar(c.dt);
  g.metadata.numbers["steps"] = Array::scalar(static_cast<double>(c.n_steps), Array::Type::int64);
  g.metadata.text["generator"] = fmt::format("volley {}", kVersion);
  g.metadata.text["discretisation"] =
      "volley runs this graph at the time step dt with zero-order-hold input: alpha = "
      "exp(-dt/tau_syn), beta = exp(-dt/tau_mem), trainer weight W[i,j] = (1-alpha_j)(1-beta_j) "
      "r_j w_in_j W_nir[j,i] (LIF/LI: (1-beta_j) r_j W_nir[j,i]); see volley's docs/nir.md";
  return g;
}

// ---- NIR → volley -------------------------------------------------------------------------

namespace {

// The graph with its subgraphs inlined: vertices are the primitives (named by dotted paths), and
// the Input/Output nodes of subgraphs and Flatten nodes (volley's layers are flat vectors) are
// removed, their inputs joined to their outputs.
struct Flat {
  std::vector<std::string> path;
  std::vector<const Node*> node;
  std::vector<std::vector<std::size_t>> succ, pred;
  std::vector<bool> removed;
  std::map<std::string, std::size_t> index;
  std::size_t input = SIZE_MAX, output = SIZE_MAX;
  std::string where;

  std::size_t add(const std::string& p, const Node* n) {
    if (index.count(p))
      throw ConfigError(fmt::format("{}: two nodes have the path '{}' (a node name with a dot "
                                    "that is also a subgraph's node)",
                                    where, p));
    index[p] = path.size();
    path.push_back(p);
    node.push_back(n);
    succ.emplace_back();
    pred.emplace_back();
    removed.push_back(false);
    return path.size() - 1;
  }
  const std::string& type(std::size_t v) const { return node[v]->type; }
  std::string label(std::size_t v) const { return node_label(path[v], *node[v]); }

  void inline_graph(const Node& g, const std::string& prefix, bool top) {
    for (const Node& n : g.nodes) {
      if (n.type == "NIRGraph") {
        inline_graph(n, prefix + n.name + ".", false);
        continue;
      }
      const std::size_t v = add(prefix + n.name, &n);
      if (top && n.type == "Input") {
        if (input != SIZE_MAX)
          throw ConfigError(fmt::format("{}: the graph has more than one Input ('{}' and '{}'); "
                                        "volley's networks take one input vector",
                                        where, path[input], path[v]));
        input = v;
      }
      if (top && n.type == "Output") {
        if (output != SIZE_MAX)
          throw ConfigError(fmt::format("{}: the graph has more than one Output ('{}' and '{}'); "
                                        "volley's networks have one output layer",
                                        where, path[output], path[v]));
        output = v;
      }
    }
    for (const auto& [a, b] : g.edges) {
      const std::size_t va = endpoint(g, prefix, a, true), vb = endpoint(g, prefix, b, false);
      succ[va].push_back(vb);
      pred[vb].push_back(va);
    }
  }

  // An edge end: a node, "sub.node" inside a subgraph, or a subgraph (its Output as a source,
  // its Input as a target).
  std::size_t endpoint(const Node& g, const std::string& prefix, const std::string& name,
                       bool source) {
    if (const Node* n = g.find(name)) {
      if (n->type != "NIRGraph") return index.at(prefix + name);
      const char* want = source ? "Output" : "Input";
      const Node* port = nullptr;
      int count = 0;
      for (const Node& c : n->nodes)
        if (c.type == want) port = &c, ++count;
      if (count != 1)
        throw ConfigError(fmt::format(
            "{}: subgraph '{}' has {} {} nodes; an edge {} a subgraph needs exactly one", where,
            prefix + name, count, want, source ? "from" : "into"));
      return index.at(prefix + name + "." + port->name);
    }
    for (std::size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
      const Node* sub = g.find(name.substr(0, dot));
      if (sub && sub->type == "NIRGraph" && resolve(*sub, name.substr(dot + 1)))
        return endpoint(*sub, prefix + name.substr(0, dot + 1), name.substr(dot + 1), source);
    }
    throw ConfigError(fmt::format("{}: an edge names node '{}', which does not exist", where,
                                  prefix + name));
  }

  void bypass(std::size_t v) {
    for (std::size_t p : pred[v]) {
      auto& s = succ[p];
      s.erase(std::remove(s.begin(), s.end(), v), s.end());
    }
    for (std::size_t s : succ[v]) {
      auto& p = pred[s];
      p.erase(std::remove(p.begin(), p.end(), v), p.end());
    }
    for (std::size_t p : pred[v])
      for (std::size_t s : succ[v]) {
        if (p == v || s == v) continue;
        succ[p].push_back(s);
        pred[s].push_back(p);
      }
    pred[v].clear();
    succ[v].clear();
    removed[v] = true;
  }
};

const Array& param(const Node& n, const char* p) { return n.params.at(p); }

// Value j of a per-neuron parameter (a single value applies to every neuron); `fallback` when
// the parameter is absent.
double value(const Node& n, const char* p, std::size_t j, double fallback) {
  const auto it = n.params.find(p);
  if (it == n.params.end()) return fallback;
  const Array& a = it->second;
  return a.size() == 1 ? a.values[0] : a.values[j];
}

bool is_weights(const std::string& t) { return t == "Affine" || t == "Linear"; }
bool is_neuron(const std::string& t) {
  return t == "LIF" || t == "CubaLIF" || t == "LI" || t == "CubaLI";
}

// Why a primitive cannot stand where a layer's neurons should.
std::string not_a_layer(const std::string& type) {
  if (type == "IF" || type == "I")
    return "volley's neurons are leaky (an integrator without leak has no finite decay "
           "factor); use LIF/CubaLIF with a long time constant instead";
  if (type == "Delay") return "volley's layers have no synaptic delays";
  if (type == "Threshold")
    return "a Threshold is imported only directly after a leaky integrator (LI or CubaLI), as a "
           "layer without reset";
  if (is_weights(type)) return "two weight nodes in a row (volley's layers have one weight matrix)";
  if (is_neuron(type))
    return "volley's layers start with their weights (an Affine or Linear node, e.g. the "
           "identity, before the neurons)";
  if (type == "Input" || type == "Output") return "the chain ends before its layer's neurons";
  if (type == "Scale") return "a Scale is folded only next to a layer's weights";
  return "not a layer of volley";
}

}  // namespace

std::unique_ptr<train::Net> Imported::make_net() const {
  auto net = std::make_unique<train::Net>(config);
  train::Checkpoint ck;
  ck.params = params;
  train::restore(ck, *net, nullptr, "NIR import");
  return net;
}

Imported from_nir(const Node& graph, const ImportOptions& options, const std::string& where) {
  validate(graph, where);
  if (options.base.forward == train::ForwardMode::smooth)
    throw ConfigError(fmt::format(
        "{}: the training file uses the smooth forward mode; a NIR graph is a spiking network "
        "(forward = \"heaviside\")",
        where));
  if (!(options.dt > 0.0) || !std::isfinite(options.dt))
    throw ConfigError(fmt::format("{}: the time step must be > 0 s, got {}", where, options.dt));
  Flat f;
  f.where = where;
  f.inline_graph(graph, "", true);
  if (f.input == SIZE_MAX) throw ConfigError(fmt::format("{}: the graph has no Input node", where));
  if (f.output == SIZE_MAX) throw ConfigError(fmt::format("{}: the graph has no Output node", where));
  for (std::size_t v = 0; v < f.path.size(); ++v) {
    const bool port = (f.type(v) == "Input" && v != f.input) || (f.type(v) == "Output" && v != f.output);
    if (port || f.type(v) == "Flatten") f.bypass(v);
  }
  for (std::size_t v = 0; v < f.path.size(); ++v) {
    auto s = f.succ[v];
    std::sort(s.begin(), s.end());
    if (std::adjacent_find(s.begin(), s.end()) != s.end())
      throw ConfigError(fmt::format("{}: {} is connected twice to the same node (its signal would "
                                    "be added twice); volley imports each connection once",
                                    where, f.label(v)));
  }

  Imported out;
  train::NetConfig& c = out.config;
  c = options.base;
  c.dt = options.dt;
  c.n_steps = options.steps;
  c.layers.clear();
  c.n_inputs = *sizes_of(*f.node[f.input]).out;
  std::set<std::size_t> visited{f.input};

  auto only_successor = [&](std::size_t v, std::size_t except) -> std::size_t {
    std::vector<std::size_t> s;
    for (std::size_t x : f.succ[v])
      if (x != except) s.push_back(x);
    if (s.size() == 1) return s[0];
    if (s.empty())
      throw ConfigError(fmt::format("{}: {} leads nowhere; volley imports a chain of layers from "
                                    "the Input to the Output",
                                    where, f.label(v)));
    std::string list;
    for (std::size_t x : s) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", f.path[x]);
    throw ConfigError(fmt::format("{}: {} feeds {} nodes ({}); volley imports a chain of layers "
                                  "(one path from Input to Output, plus recurrent weights)",
                                  where, f.label(v), s.size(), list));
  };
  auto single_input = [&](std::size_t v) {
    if (f.pred[v].size() != 1)
      throw ConfigError(fmt::format("{}: {} has {} inputs; volley's weights take one layer's "
                                    "output",
                                    where, f.label(v), f.pred[v].size()));
  };
  auto visit = [&](std::size_t v) {
    if (!visited.insert(v).second)
      throw ConfigError(fmt::format("{}: the chain of layers comes back to {}", where, f.label(v)));
  };
  // A Scale's values (one per element, or one for all).
  auto scale_values = [&](std::size_t v, std::size_t n) {
    const Array& s = param(*f.node[v], "scale");
    std::vector<double> x(n);
    for (std::size_t k = 0; k < n; ++k) x[k] = s.size() == 1 ? s.values[0] : s.values[k];
    return x;
  };

  std::size_t spikes_prev = f.input, n_pre = c.n_inputs;
  std::size_t cur = only_successor(f.input, SIZE_MAX);
  for (std::size_t l = 0;; ++l) {
    if (cur == f.output)
      throw ConfigError(fmt::format("{}: {} leads straight to the Output; volley expects a layer "
                                    "(Affine or Linear, then neurons) there",
                                    where, f.label(spikes_prev)));
    // The layer's weights: [Scale] Affine|Linear [Scale].
    std::vector<double> col(n_pre, 1.0);
    std::vector<std::string> folded;
    while (f.type(cur) == "Scale") {
      visit(cur);
      single_input(cur);
      const auto s = scale_values(cur, n_pre);
      for (std::size_t i = 0; i < n_pre; ++i) col[i] *= s[i];
      folded.push_back(f.path[cur]);
      cur = only_successor(cur, SIZE_MAX);
    }
    if (!is_weights(f.type(cur)))
      throw ConfigError(fmt::format("{}: {} follows '{}', where volley expects a layer's weights "
                                    "(Affine or Linear): {}",
                                    where, f.label(cur), f.path[f.pred[cur].empty() ? cur : f.pred[cur][0]],
                                    not_a_layer(f.type(cur))));
    visit(cur);
    single_input(cur);
    const std::size_t wv = cur;
    const Node& wn = *f.node[wv];
    if (const auto b = wn.params.find("bias"); b != wn.params.end())
      for (double x : b->second.values)
        if (x != 0.0)
          throw ConfigError(fmt::format("{}: {} has a bias of {}; volley's layers have no bias, "
                                        "so only a zero bias can be imported",
                                        where, f.label(wv), x));
    if (param(wn, "weight").shape.size() != 2)
      throw ConfigError(fmt::format("{}: {}: volley imports 2-D weights (out × in), this one has "
                                    "shape {}",
                                    where, f.label(wv), dims_text(param(wn, "weight").shape)));
    const std::size_t n = param(wn, "weight").shape[0];
    cur = only_successor(wv, SIZE_MAX);
    std::vector<double> row(n, 1.0);
    std::size_t chain_pred = wv;
    while (f.type(cur) == "Scale") {
      visit(cur);
      single_input(cur);
      const auto s = scale_values(cur, n);
      for (std::size_t j = 0; j < n; ++j) row[j] *= s[j];
      folded.push_back(f.path[cur]);
      chain_pred = cur;
      cur = only_successor(cur, SIZE_MAX);
    }
    // The neurons.
    if (!is_neuron(f.type(cur)))
      throw ConfigError(fmt::format("{}: {} follows the weights '{}', where volley expects "
                                    "neurons (LIF, CubaLIF, LI or CubaLI): {}",
                                    where, f.label(cur), f.path[chain_pred], not_a_layer(f.type(cur))));
    visit(cur);
    const std::size_t nv = cur;
    const Node& nn = *f.node[nv];
    const bool leaky_integrator = nn.type == "LI" || nn.type == "CubaLI";
    const bool syn = nn.type == "CubaLIF" || nn.type == "CubaLI";
    std::size_t spikes = nv;
    if (leaky_integrator && f.succ[nv].size() == 1 && f.type(f.succ[nv][0]) == "Threshold") {
      spikes = f.succ[nv][0];
      visit(spikes);
      single_input(spikes);
    }
    const bool readout = leaky_integrator && spikes == nv;
    // Recurrent weights: another input of the neurons, fed by their own spikes.
    std::size_t rv = SIZE_MAX;
    for (std::size_t p : f.pred[nv]) {
      if (p == chain_pred) continue;
      if (rv != SIZE_MAX)
        throw ConfigError(fmt::format("{}: {} has {} inputs; a volley layer takes its weights "
                                      "and at most one recurrent weight node",
                                      where, f.label(nv), f.pred[nv].size()));
      rv = p;
    }
    if (rv != SIZE_MAX) {
      const bool from_self = f.pred[rv].size() == 1 && f.pred[rv][0] == spikes;
      if (!is_weights(f.type(rv)) || !from_self || f.succ[rv].size() != 1)
        throw ConfigError(fmt::format(
            "{}: {} feeds {}, but is not a recurrent weight node (an Affine or Linear from the "
            "layer's own spikes '{}' back to it)",
            where, f.label(rv), f.label(nv), f.path[spikes]));
      if (readout)
        throw ConfigError(fmt::format("{}: {} is the readout (a leaky integrator without spikes) "
                                      "and has recurrent weights '{}'; volley's readout is not "
                                      "recurrent",
                                      where, f.label(nv), f.path[rv]));
      visit(rv);
      const Node& r = *f.node[rv];
      if (const auto b = r.params.find("bias"); b != r.params.end())
        for (double x : b->second.values)
          if (x != 0.0)
            throw ConfigError(fmt::format("{}: {} has a bias of {}; only a zero bias can be "
                                          "imported",
                                          where, f.label(rv), x));
      if (param(r, "weight").shape != std::vector<std::size_t>{n, n})
        throw ConfigError(fmt::format("{}: {}: recurrent weights of {} neurons must be {} × {}, "
                                      "this one has shape {}",
                                      where, f.label(rv), n, n, n, dims_text(param(r, "weight").shape)));
    }
    const std::size_t next = only_successor(spikes, rv);
    if (readout && next != f.output)
      throw ConfigError(fmt::format(
          "{}: {} gives a voltage, not spikes, and feeds '{}'; a leaky integrator is imported "
          "as the readout (the last layer) or, followed by a Threshold, as a layer without reset",
          where, f.label(nv), f.path[next]));

    // Per-neuron values.
    const std::string at = fmt::format("{}: {}", where, f.label(nv));
    std::vector<double> tau_mem(n), tau_syn(n, 0.0), theta(n, 1.0), factor(n);
    std::vector<float> alpha(n, 0.0f), beta(n);
    for (std::size_t j = 0; j < n; ++j) {
      tau_mem[j] = value(nn, syn ? "tau_mem" : "tau", j, 0.0);
      if (syn) tau_syn[j] = value(nn, "tau_syn", j, 0.0);
      for (const auto& [key, t] : {std::pair{"tau_mem", tau_mem[j]}, std::pair{"tau_syn", tau_syn[j]}})
        if ((syn || std::string_view(key) == "tau_mem") && !(t > 0.0))
          throw ConfigError(fmt::format("{}: {} of neuron {} is {}; time constants must be > 0", at,
                                        syn ? key : "tau", j, t));
      const double leak = value(nn, "v_leak", j, 0.0);
      if (leak != 0.0)
        throw ConfigError(fmt::format(
            "{}: v_leak is {} at neuron {}; volley's neurons relax to 0, so only v_leak = 0 can "
            "be imported",
            at, leak, j));
      const double reset = value(nn, "v_reset", j, 0.0);
      if (reset != 0.0)
        throw ConfigError(fmt::format(
            "{}: v_reset is {} at neuron {}; volley's neurons reset to 0, so only v_reset = 0 "
            "can be imported",
            at, reset, j));
      if (!readout) {
        theta[j] = spikes == nv ? value(nn, "v_threshold", j, 1.0)
                                : value(*f.node[spikes], "threshold", j, 1.0);
        if (!(theta[j] > 0.0))
          throw ConfigError(fmt::format("{}: the threshold of neuron {} is {}; volley's "
                                        "thresholds are > 0",
                                        at, j, theta[j]));
      }
      beta[j] = decay_factor(options.dt, tau_mem[j]);
      if (syn) alpha[j] = decay_factor(options.dt, tau_syn[j]);
      if (beta[j] == 1.0f || alpha[j] == 1.0f)
        throw ConfigError(fmt::format(
            "{}: neuron {}: a time constant of {} s is so long against dt = {} s that "
            "exp(−dt/τ) rounds to 1 in float: the neuron would not leak and take no input",
            at, j, beta[j] == 1.0f ? tau_mem[j] : tau_syn[j], options.dt));
      factor[j] = weight_factor(alpha[j], beta[j], syn, value(nn, "r", j, 1.0),
                                syn ? value(nn, "w_in", j, 1.0) : 1.0);
    }
    const bool uniform_theta = std::all_of(theta.begin(), theta.end(), [&](double x) { return x == theta[0]; });
    if (!uniform_theta) {
      // v/θ_j has threshold 1 and the same spikes: fold 1/θ_j into the neuron's weights.
      for (std::size_t j = 0; j < n; ++j) factor[j] /= theta[j];
      out.notes.push_back(fmt::format("{}: the thresholds differ between neurons; the membrane "
                                      "of neuron j is imported divided by its threshold θ_j "
                                      "(threshold 1, weights into j divided by θ_j): the same "
                                      "spikes, voltages in units of θ_j",
                                      f.label(nv)));
    }
    if (!folded.empty())
      out.notes.push_back(fmt::format("Scale node(s) {} folded into the weights of '{}'",
                                      fmt::join(folded, ", "), f.path[wv]));
    auto uniform = [](const std::vector<double>& v) {
      return std::all_of(v.begin(), v.end(), [&](double x) { return x == v[0]; });
    };
    if (!uniform(tau_mem) || (syn && !uniform(tau_syn)))
      out.notes.push_back(fmt::format("{}: time constants differ between neurons; layer {} keeps "
                                      "them per neuron (its decay factors α and β), and its "
                                      "table in network.toml gives neuron 0's",
                                      f.label(nv), l));

    train::LayerConfig lc;
    lc.kind = readout ? train::LayerKind::readout : train::LayerKind::lif;
    lc.size = n;
    lc.tau_mem = tau_mem[0];
    lc.tau_syn = syn ? tau_syn[0] : 0.0;
    lc.threshold = readout ? 1.0 : (uniform_theta ? theta[0] : 1.0);
    lc.reset = spikes == nv ? train::ResetMode::multiply : train::ResetMode::none;
    lc.recurrent = rv != SIZE_MAX;
    lc.density = 1.0;
    lc.recurrent_density = 1.0;
    c.layers.push_back(lc);

    // W_volley[i, j] = factor_j · row_j · W_nir[j, i] · col_i (pre-major).
    const Array& W = param(wn, "weight");
    std::vector<float> w(n_pre * n);
    for (std::size_t i = 0; i < n_pre; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        double x = W.values[j * n_pre + i];
        if (row[j] != 1.0 || col[i] != 1.0) x = x * row[j] * col[i];
        w[i * n + j] = static_cast<float>(x * factor[j]);
      }
    out.params.emplace_back(fmt::format("layer{}.w", l), std::move(w));
    if (rv != SIZE_MAX) {
      const Array& R = param(*f.node[rv], "weight");
      std::vector<float> v(n * n);
      for (std::size_t k = 0; k < n; ++k)
        for (std::size_t j = 0; j < n; ++j)
          v[k * n + j] = static_cast<float>(R.values[j * n + k] * factor[j]);
      out.params.emplace_back(fmt::format("layer{}.v", l), std::move(v));
    }
    out.params.emplace_back(fmt::format("layer{}.alpha", l), alpha);
    out.params.emplace_back(fmt::format("layer{}.beta", l), beta);
    out.layers.push_back(fmt::format(
        "layer {}: {} {} neurons ({} '{}'{}{}), weights '{}' {} × {}", l,
        readout ? "readout" : "lif", n, nn.type, f.path[nv],
        spikes != nv ? fmt::format(" + Threshold '{}', reset none", f.path[spikes]) : "",
        rv != SIZE_MAX ? fmt::format(", recurrent '{}'", f.path[rv]) : "", f.path[wv], n, n_pre));

    spikes_prev = spikes;
    n_pre = n;
    cur = next;
    if (cur == f.output) break;
  }
  for (std::size_t v = 0; v < f.path.size(); ++v)
    if (!f.removed[v] && v != f.output && !visited.count(v))
      throw ConfigError(fmt::format("{}: {} is not on the chain of layers from '{}' to '{}'; "
                                    "volley imports one chain (with recurrent weights)",
                                    where, f.label(v), f.path[f.input], f.path[f.output]));
  try {
    c.validate();
  } catch (const ParameterError& e) {
    throw ConfigError(fmt::format("{}: the imported network is not valid: {}", where, e.what()));
  }
  return out;
}

// ---- files of `volley import` -------------------------------------------------------------

namespace {

std::string seconds(double s) { return fmt::format("\"{} s\"", s); }

// The [[layers]] entries of a configuration as TOML tables.
toml::array layer_tables(const train::NetConfig& c) {
  toml::array layers;
  for (const train::LayerConfig& l : c.layers) {
    toml::table t;
    t.insert("type", std::string(train::layer_kinds().name_of(l.kind)));
    t.insert("size", static_cast<std::int64_t>(l.size));
    t.insert("tau_mem", fmt::format("{} s", l.tau_mem));
    t.insert("tau_syn", fmt::format("{} s", l.tau_syn));
    if (l.kind != train::LayerKind::readout) {
      t.insert("threshold", l.threshold);
      t.insert("reset", std::string(train::reset_modes().name_of(l.reset)));
      t.insert("recurrent", l.recurrent);
    }
    layers.push_back(std::move(t));
  }
  return layers;
}

}  // namespace

std::string network_toml(const train::NetConfig& c) {
  std::string s = fmt::format("[network]\ndt = {}\nsteps = {}\nseed = {}\n", seconds(c.dt),
                              c.n_steps, c.seed);
  for (const train::LayerConfig& l : c.layers) {
    s += fmt::format("\n[[layers]]\ntype = \"{}\"\nsize = {}\ntau_mem = {}\ntau_syn = {}\n",
                     train::layer_kinds().name_of(l.kind), l.size, seconds(l.tau_mem),
                     seconds(l.tau_syn));
    if (l.kind != train::LayerKind::readout)
      s += fmt::format("threshold = {}\nreset = \"{}\"\nrecurrent = {}\n", l.threshold,
                       train::reset_modes().name_of(l.reset), l.recurrent);
  }
  return s;
}

std::string training_text(const std::string& train_text, const std::string& train_path,
                          const train::NetConfig& config, const std::string& header) {
  toml::table t;
  try {
    t = toml::parse(train_text, train_path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}: {}", train_path, e.description()));
  }
  if (const auto* s = t["surrogate"]["forward"].as_string(); s && s->get() == "smooth")
    throw ConfigError(fmt::format("{}: surrogate.forward = \"smooth\"; a NIR graph is a spiking "
                                  "network (forward = \"heaviside\")",
                                  train_path));
  toml::table* net = t["network"].as_table();
  if (!net) {
    t.insert("network", toml::table{});
    net = t["network"].as_table();
  }
  net->insert_or_assign("dt", fmt::format("{} s", config.dt));
  net->insert_or_assign("steps", static_cast<std::int64_t>(config.n_steps));
  t.insert_or_assign("layers", layer_tables(config));
  if (toml::table* d = t["data"].as_table()) {
    const fs::path base = fs::path(train_path).parent_path();
    for (const char* key : {"path", "train", "test"})
      if (toml::value<std::string>* s = (*d)[key].as_string()) {
        const fs::path p(s->get());
        if (!p.is_absolute()) *s = fs::absolute(base / p).lexically_normal().string();
      }
  }
  std::ostringstream os;
  os << header << t << "\n";
  return os.str();
}

ImportReport import_to_directory(const ImportDirOptions& o) {
  ImportReport rep;
  const std::string where = fmt::format("NIR file '{}'", o.nir_path);
  std::string version;
  const Node graph = read(o.nir_path, &version);

  ImportOptions io;
  std::optional<TrainConfig> cfg;
  if (!o.train_path.empty()) {
    cfg = load_train_config(o.train_path);
    io.base = cfg->net;
    io.dt = cfg->net.dt;
    io.steps = cfg->net.n_steps;
  }
  if (o.dt > 0.0) {
    io.dt = o.dt;
  } else if (!cfg) {
    std::string hint;
    if (const auto it = graph.metadata.numbers.find("dt");
        it != graph.metadata.numbers.end() && it->second.size() == 1)
      hint = fmt::format(" (the file's metadata suggests dt = {} s)", it->second.values[0]);
    throw ConfigError(fmt::format(
        "{}: give the time step to run the graph with, --dt \"1 ms\" or a training file "
        "(--train){}: NIR graphs are continuous-time, and volley does not rely on metadata",
        where, hint));
  }
  if (o.steps > 0) {
    io.steps = o.steps;
  } else if (!cfg) {
    io.steps = 100;
  }
  rep.imported = from_nir(graph, io, where);
  const train::NetConfig& c = rep.imported.config;
  if (fs::exists(fs::path(o.out_dir) / "metrics.jsonl"))
    throw IoError(fmt::format("{} holds a training run (metrics.jsonl); volley import would "
                              "replace its checkpoint: choose another directory",
                              o.out_dir));
  const auto net = rep.imported.make_net();
  const fs::path dir(o.out_dir);
  const std::string header = fmt::format(
      "# A network imported from the NIR graph {} (NIR version '{}') by `volley import`,\n"
      "# run at dt = {} s (see docs/nir.md for the discretisation).\n",
      o.nir_path, version, c.dt);

  // Everything that can fail on the inputs is checked before anything is written.
  std::string training;
  std::optional<train::Checkpoint> ck;
  if (cfg) {
    const std::string tpath = (dir / "training.toml").string();
    training = training_text(cfg->text, o.train_path, c,
                             header + fmt::format("# Data, loss, optimiser and training settings "
                                                  "from {}.\n# Fine-tune: volley train {} --out {} "
                                                  "--resume\n\n",
                                                  o.train_path, tpath, o.out_dir));
    TrainConfig back = load_train_string(training, tpath);
    if (back.net.layers.size() != c.layers.size() || back.net.dt != c.dt ||
        back.net.n_steps != c.n_steps)
      throw Error(fmt::format("volley import: the training file written for {} does not read "
                              "back as the imported network (a bug)",
                              o.nir_path));
    if (back.data.kind == DataConfig::Kind::arrays) {
      rep.notes.push_back(fmt::format("the data of {} are given by the program that trains "
                                      "(dataset = \"arrays\"); their number of inputs is "
                                      "checked when they are given",
                                      o.train_path));
    } else try {
      back.data.train_limit = 1;
      back.data.test_limit = 1;
      const DataSets d = load_data(back);
      if (d.test->n_inputs() != c.n_inputs)
        throw ConfigError(fmt::format("{}: the graph takes {} inputs but the data of {} have {}",
                                      where, c.n_inputs, o.train_path, d.test->n_inputs()));
    } catch (const IoError& e) {
      rep.notes.push_back(fmt::format("the data of {} could not be loaded to check the number of "
                                      "inputs ({}); volley eval will check it",
                                      o.train_path, e.what()));
    }
    train::Checkpoint k;
    k.config_name = tpath;
    k.config_text = training;
    for (const auto& p : net->params()) k.params.emplace_back(p.name, p.value);
    train::Optimizer opt(back.optimizer, net->params());
    for (std::size_t i = 0; i < net->params().size(); ++i) {
      k.opt_m.emplace_back(net->params()[i].name, opt.m()[i]);
      k.opt_v.emplace_back(net->params()[i].name, opt.v()[i]);
    }
    ck = std::move(k);
  }

  fs::create_directories(dir);
  detail::write_file_atomically((dir / "network.toml").string(),
                                header + "\n" + network_toml(c));
  rep.written.push_back("network.toml");
  // The simulator's model: populations and projections, no input spikes (the input population
  // is an empty spike generator; `volley export` of the checkpoint adds test samples).
  data::StoredEvents none(c.n_inputs, c.n_steps, std::max<std::size_t>(net->n_outputs(), 1),
                          "no input (a network imported from NIR)");
  data::SampleEvents empty;
  data::build_sample(std::span<const std::uint32_t>(), std::span<const std::uint32_t>(),
                     std::span<const float>(), c.n_steps, empty);
  none.add(empty, 0);
  try {
    ExportOptions eo;
    eo.source = o.nir_path;
    export_network(*net, none, eo, o.out_dir);
    for (const char* f : {"model.toml", "synapses.h5", "input.h5", "export.json"})
      rep.written.push_back(f);
  } catch (const ConfigError& e) {
    rep.notes.push_back(fmt::format("no model.toml for volley sim: {}", e.what()));
  }
  if (ck) {
    detail::write_file_atomically((dir / "training.toml").string(), training);
    train::write_checkpoint((dir / "checkpoint.bin").string(), *ck);
    rep.written.push_back("training.toml");
    rep.written.push_back("checkpoint.bin");
  }
  rep.notes.insert(rep.notes.begin(), rep.imported.notes.begin(), rep.imported.notes.end());
  return rep;
}

}  // namespace volley::io::nir
