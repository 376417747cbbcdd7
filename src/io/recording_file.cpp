// Reads spikes.h5 / record.h5 (HDF5 C API) into a Recording.
#include <fmt/format.h>
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "hdf5_util.hpp"
#include "volley/error.hpp"
#include "volley/io/recording.hpp"

namespace volley::io {
namespace {

using hdf5::Handle;

// The top-level group the writer gives structural plasticity (outputs.hpp).
constexpr const char* kStructuralGroup = "structural_plasticity";

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& object, const std::string& why) const {
    throw IoError(fmt::format("recording '{}': {}: {}", path_, object, why));
  }

  // Names of the links directly below `loc`, in creation-independent (name) order.
  std::vector<std::string> children(hid_t loc) const {
    std::vector<std::string> names;
    H5Literate(
        loc, H5_INDEX_NAME, H5_ITER_INC, nullptr,
        [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
          static_cast<std::vector<std::string>*>(data)->push_back(name);
          return 0;
        },
        &names);
    return names;
  }

  bool is_group(hid_t loc, const std::string& name) const {
    const hid_t g = H5Gopen2(loc, name.c_str(), H5P_DEFAULT);  // fails (quietly) for a dataset
    if (g < 0) return false;
    H5Gclose(g);
    return true;
  }

  // A dataset read whole as `mem_type`, with its dimensions.
  template <class T>
  std::vector<T> read(hid_t loc, const std::string& name, hid_t mem_type, const std::string& where,
                      std::vector<hsize_t>* dims = nullptr) const {
    Handle ds(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose,
              fmt::format("recording '{}': {}/{}: cannot open", path_, where, name));
    Handle space(H5Dget_space(ds), H5Sclose, fmt::format("recording '{}': {}/{}: no dataspace", path_, where, name));
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 1 || rank > 2) fail(where + "/" + name, fmt::format("rank {}, expected 1 or 2", rank));
    std::vector<hsize_t> d(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space, d.data(), nullptr);
    std::size_t n = 1;
    for (auto x : d) n *= static_cast<std::size_t>(x);
    std::vector<T> out(n);
    if (n > 0 && H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
      fail(where + "/" + name, "cannot read (wrong type?)");
    if (dims) *dims = d;
    return out;
  }

  template <class T>
  bool attribute(hid_t loc, const char* name, hid_t mem_type, T& value) const {
    if (H5Aexists(loc, name) <= 0) return false;
    Handle a(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose, fmt::format("recording '{}': attribute {}", path_, name));
    return H5Aread(a, mem_type, &value) >= 0;
  }

  std::vector<std::string> strings(hid_t loc, const std::string& name) const {
    Handle ds(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose,
              fmt::format("recording '{}': {}: cannot open", path_, name));
    Handle space(H5Dget_space(ds), H5Sclose, "HDF5: dataspace");
    hsize_t n = 0;
    H5Sget_simple_extent_dims(space, &n, nullptr);
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "HDF5: string type");
    H5Tset_size(type, H5T_VARIABLE);
    {  // the same character set as the file (HDF5 converts neither way between ASCII and UTF-8)
      Handle file_type(H5Dget_type(ds), H5Tclose, "HDF5: dataset type");
      if (H5Tget_class(file_type) != H5T_STRING || H5Tis_variable_str(file_type) <= 0)
        fail(name, "is not an array of variable-length strings");
      H5Tset_cset(type, H5Tget_cset(file_type));
    }
    std::vector<char*> raw(n, nullptr);
    if (n > 0 && H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
      fail(name, "cannot read as strings");
    hdf5::VlenReclaim reclaim(type, space, raw.data());
    std::vector<std::string> out;
    for (char* c : raw) out.emplace_back(c ? c : "");
    return out;
  }

  void read_states(hid_t pop, PopulationRecording& p) const {
    Handle state(H5Gopen2(pop, "state", H5P_DEFAULT), H5Gclose, "HDF5: state group");
    for (const auto& monitor : children(state)) {
      const std::string where = p.name + "/state/" + monitor;
      Handle g(H5Gopen2(state, monitor.c_str(), H5P_DEFAULT), H5Gclose, "HDF5: monitor group");
      const auto t = read<double>(g, "t", H5T_NATIVE_DOUBLE, where);
      const auto idx = read<std::uint32_t>(g, "indices", H5T_NATIVE_UINT32, where);
      for (const auto& var : children(g)) {
        if (var == "t" || var == "indices") continue;
        std::vector<hsize_t> dims;
        StateRecording s{monitor, t, idx, var, "", read<float>(g, var, H5T_NATIVE_FLOAT, where, &dims)};
        if (dims.size() != 2 || dims[0] != t.size() || dims[1] != idx.size())
          fail(where + "/" + var, fmt::format("shape does not match {} samples × {} neurons", t.size(), idx.size()));
        Handle ds(H5Dopen2(g, var.c_str(), H5P_DEFAULT), H5Dclose, "HDF5: state dataset");
        s.unit = hdf5::string_attribute(ds, "unit");
        p.states.push_back(std::move(s));
      }
    }
  }

  void read_weights(hid_t pop, PopulationRecording& p) const {
    Handle weights(H5Gopen2(pop, "weights", H5P_DEFAULT), H5Gclose, "HDF5: weights group");
    for (const auto& monitor : children(weights)) {
      const std::string where = p.name + "/weights/" + monitor;
      Handle g(H5Gopen2(weights, monitor.c_str(), H5P_DEFAULT), H5Gclose, "HDF5: monitor group");
      WeightRecording r;
      r.monitor = monitor;
      r.t = read<double>(g, "t", H5T_NATIVE_DOUBLE, where);
      r.pre = read<std::uint32_t>(g, "pre", H5T_NATIVE_UINT32, where);
      r.post = read<std::uint32_t>(g, "post", H5T_NATIVE_UINT32, where);
      std::vector<hsize_t> dims;
      r.w = read<float>(g, "w", H5T_NATIVE_FLOAT, where, &dims);
      r.mean = read<double>(g, "mean", H5T_NATIVE_DOUBLE, where);
      if (r.pre.size() != r.post.size()) fail(where, "pre and post differ in length");
      if (dims.size() != 2 || dims[0] != r.t.size() || dims[1] != r.pre.size())
        fail(where + "/w", fmt::format("shape does not match {} samples × {} synapses", r.t.size(),
                                       r.pre.size()));
      if (r.mean.size() != r.t.size()) fail(where + "/mean", "length differs from t");
      Handle ds(H5Dopen2(g, "w", H5P_DEFAULT), H5Dclose, "HDF5: weights dataset");
      r.unit = hdf5::string_attribute(ds, "unit");
      const auto proj = strings(g, "projection");
      const auto target = strings(g, "target");
      r.projection = proj.empty() ? "" : proj[0];
      r.target = target.empty() ? "" : target[0];
      p.weights.push_back(std::move(r));
    }
  }

  void read_rates(hid_t pop, PopulationRecording& p) const {
    Handle rate(H5Gopen2(pop, "rate", H5P_DEFAULT), H5Gclose, "HDF5: rate group");
    for (const auto& monitor : children(rate)) {
      const std::string where = p.name + "/rate/" + monitor;
      Handle g(H5Gopen2(rate, monitor.c_str(), H5P_DEFAULT), H5Gclose, "HDF5: monitor group");
      RateRecording r{monitor, read<double>(g, "t", H5T_NATIVE_DOUBLE, where),
                      read<double>(g, "rate", H5T_NATIVE_DOUBLE, where)};
      if (r.t.size() != r.rate.size()) fail(where, "t and rate differ in length");
      p.rates.push_back(std::move(r));
    }
  }

  void read_sizes(hid_t g, PopulationRecording& p) const {
    const std::string where = p.name + "/sizes";
    Handle sg = required_group(g, "sizes", p.name);
    PopulationRecording::Sizes s;
    s.t = series<double>(sg, "t", H5T_NATIVE_DOUBLE, where, std::nullopt);
    s.size = series<std::uint64_t>(sg, "size", H5T_NATIVE_UINT64, where, s.t.size());
    s.living = series<std::uint64_t>(sg, "living", H5T_NATIVE_UINT64, where, s.t.size());
    for (std::size_t k = 0; k < s.t.size(); ++k) {
      if (!std::isfinite(s.t[k]) || (k > 0 && s.t[k] < s.t[k - 1]))
        fail(where + "/t", "times must be finite and ascending");
      if (s.living[k] > s.size[k])
        fail(where, fmt::format("entry {}: {} living neurons of {}", k, s.living[k], s.size[k]));
    }
    if (H5Lexists(g, "removed", H5P_DEFAULT) > 0) {
      p.removed = series<std::uint32_t>(g, "removed", H5T_NATIVE_UINT32, p.name, std::nullopt);
      for (const std::uint32_t i : p.removed)
        if (i >= p.size)
          fail(p.name + "/removed", fmt::format("neuron {} but the population has {}", i, p.size));
    }
    p.sizes = std::move(s);
  }

  // Whether the top-level group `name` is structural plasticity's rather than a population's:
  // the writer gives it an update_interval attribute and refuses a population of that name.
  bool is_structural(hid_t file, const std::string& name) const {
    if (name != kStructuralGroup || !is_group(file, name)) return false;
    Handle g(H5Gopen2(file, name.c_str(), H5P_DEFAULT), H5Gclose, "HDF5: structural group");
    return H5Aexists(g, "update_interval") > 0;
  }

  // A one-dimensional dataset of `expected` values (t's length, when given), else IoError
  // naming it.
  template <class T>
  std::vector<T> series(hid_t loc, const std::string& name, hid_t mem_type,
                        const std::string& where, std::optional<std::size_t> expected) const {
    std::vector<hsize_t> dims;
    std::vector<T> v = read<T>(loc, name, mem_type, where, &dims);
    if (dims.size() != 1) fail(where + "/" + name, fmt::format("rank {}, expected 1", dims.size()));
    if (expected && v.size() != *expected)
      fail(where + "/" + name,
           fmt::format("{} values but t has {}; the series must match it", v.size(), *expected));
    return v;
  }

  // A subgroup that the layout requires, opened; IoError naming it when missing.
  Handle required_group(hid_t loc, const std::string& name, const std::string& where) const {
    if (!is_group(loc, name)) fail(where + "/" + name, "missing (or not a group)");
    return Handle(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), H5Gclose,
                  fmt::format("recording '{}': {}/{}: cannot open", path_, where, name));
  }

  StructuralRecording structural(hid_t file) const {
    const std::string where = kStructuralGroup;
    Handle g(H5Gopen2(file, kStructuralGroup, H5P_DEFAULT), H5Gclose, "HDF5: structural group");
    StructuralRecording s;
    auto need = [&](const char* name, hid_t type, auto& value) {
      if (!attribute(g, name, type, value))
        fail(where, fmt::format("attribute {} missing or unreadable", name));
    };
    need("update_interval", H5T_NATIVE_DOUBLE, s.update_interval);
    need("updates", H5T_NATIVE_UINT64, s.updates);
    need("created", H5T_NATIVE_UINT64, s.created);
    need("deleted", H5T_NATIVE_UINT64, s.deleted);
    s.t = series<double>(g, "t", H5T_NATIVE_DOUBLE, where, std::nullopt);
    for (double t : s.t)
      if (!std::isfinite(t)) fail(where + "/t", "holds a non-finite time");
    const std::size_t n = s.t.size();
    {
      const std::string w = where + "/calcium";
      Handle ca = required_group(g, "calcium", where);
      for (const auto& pop : children(ca)) {
        StructuralRecording::Series x{pop, series<double>(ca, pop, H5T_NATIVE_DOUBLE, w, n),
                                      std::nullopt};
        Handle ds(H5Dopen2(ca, pop.c_str(), H5P_DEFAULT), H5Dclose, "HDF5: calcium dataset");
        double target = 0.0;
        if (H5Aexists(ds, "target") > 0) {
          if (!attribute(ds, "target", H5T_NATIVE_DOUBLE, target))
            fail(w + "/" + pop, "unreadable target attribute");
          x.target = target;
        }
        s.calcium.push_back(std::move(x));
      }
    }
    {
      const std::string w = where + "/calcium_final";
      Handle ca = required_group(g, "calcium_final", where);
      for (const auto& pop : children(ca))  // one value per neuron: no length to match
        s.calcium_final.push_back(
            {pop, series<double>(ca, pop, H5T_NATIVE_DOUBLE, w, std::nullopt), std::nullopt});
    }
    {
      Handle elements = required_group(g, "elements", where);
      for (const auto& name : children(elements)) {
        const std::string w = where + "/elements/" + name;
        Handle e = required_group(elements, name, where + "/elements");
        s.elements.push_back({name, series<double>(e, "z", H5T_NATIVE_DOUBLE, w, n),
                              series<std::uint64_t>(e, "connected", H5T_NATIVE_UINT64, w, n)});
      }
    }
    {
      const std::string w = where + "/synapses";
      Handle syn = required_group(g, "synapses", where);
      for (const auto& proj : children(syn))
        s.synapses.push_back({proj, series<std::uint64_t>(syn, proj, H5T_NATIVE_UINT64, w, n)});
    }
    return s;
  }

  PopulationRecording population(hid_t file, const std::string& name) const {
    PopulationRecording p;
    p.name = name;
    Handle g(H5Gopen2(file, name.c_str(), H5P_DEFAULT), H5Gclose, "HDF5: population group");
    std::uint64_t size = 0;
    const bool sized = attribute(g, "size", H5T_NATIVE_UINT64, size);
    if (H5Lexists(g, "times", H5P_DEFAULT) > 0) {
      p.times = read<double>(g, "times", H5T_NATIVE_DOUBLE, name);
      p.units = read<std::uint32_t>(g, "units", H5T_NATIVE_UINT32, name);
      if (p.times.size() != p.units.size())
        fail(name, fmt::format("{} times but {} units", p.times.size(), p.units.size()));
      for (double t : p.times)
        if (!std::isfinite(t)) fail(name + "/times", "holds a non-finite time");
      if (H5Lexists(g, "samples", H5P_DEFAULT) > 0) {
        p.samples = read<std::uint32_t>(g, "samples", H5T_NATIVE_UINT32, name);
        if (p.samples.size() != p.times.size()) fail(name + "/samples", "length differs from times");
      }
    }
    const std::uint32_t largest = p.units.empty() ? 0 : *std::max_element(p.units.begin(), p.units.end());
    if (sized) {
      p.size = static_cast<std::size_t>(size);
      if (!p.units.empty() && largest >= p.size)
        fail(name + "/units", fmt::format("unit {} but the population has {} neurons", largest, p.size));
    } else {
      p.size = p.units.empty() ? 0 : std::size_t{largest} + 1;
    }
    if (H5Lexists(g, "state", H5P_DEFAULT) > 0) read_states(g, p);
    if (H5Lexists(g, "rate", H5P_DEFAULT) > 0) read_rates(g, p);
    if (H5Lexists(g, "weights", H5P_DEFAULT) > 0) read_weights(g, p);
    if (H5Lexists(g, "sizes", H5P_DEFAULT) > 0) read_sizes(g, p);
    return p;
  }

 private:
  std::string path_;
};

}  // namespace

const PopulationRecording* Recording::find(const std::string& name) const {
  for (const auto& p : populations)
    if (p.name == name) return &p;
  return nullptr;
}

Recording read_recording(const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
#if H5_VERSION_GE(1, 12, 0)
  if (H5Fis_accessible(path.c_str(), H5P_DEFAULT) <= 0)
#else
  if (H5Fis_hdf5(path.c_str()) <= 0)
#endif
    throw IoError(fmt::format("recording '{}': not found or not an HDF5 file", path));
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
              fmt::format("recording '{}': cannot open", path));
  Reader r(path);
  Recording rec;
  r.attribute(file, "duration", H5T_NATIVE_DOUBLE, rec.duration);
  r.attribute(file, "dt", H5T_NATIVE_DOUBLE, rec.dt);
  r.attribute(file, "sample_duration", H5T_NATIVE_DOUBLE, rec.sample_duration);
  for (const auto& name : r.children(file)) {
    if (r.is_structural(file, name)) {
      rec.structural = r.structural(file);
    } else if (r.is_group(file, name)) {
      rec.populations.push_back(r.population(file, name));
    } else if (name == "labels") {
      rec.labels = r.read<int>(file, name, H5T_NATIVE_INT, "");
    } else if (name == "predictions") {
      rec.predictions = r.read<int>(file, name, H5T_NATIVE_INT, "");
    } else if (name == "class_names") {
      rec.class_names = r.strings(file, name);
    }
  }
  if (rec.duration <= 0.0) {  // older files: the last spike or state sample
    for (const auto& p : rec.populations) {
      for (double t : p.times) rec.duration = std::max(rec.duration, t);
      for (const auto& s : p.states)
        if (!s.t.empty()) rec.duration = std::max(rec.duration, s.t.back());
    }
  }
  if (!rec.predictions.empty() && rec.predictions.size() != rec.labels.size())
    throw IoError(fmt::format("recording '{}': {} predictions for {} labels", path,
                              rec.predictions.size(), rec.labels.size()));
  return rec;
}

}  // namespace volley::io
