#include "volley/io/synapse_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/atomic_file.hpp"
#include "hdf5_util.hpp"
#include "volley/error.hpp"

namespace volley::io {

using hdf5::Handle;

SynapseTable read_synapses(const std::string& path, const std::string& group) {
  hdf5::quiet();
  std::string g = group;
  while (!g.empty() && g.front() == '/') g.erase(g.begin());
  const std::string where = fmt::format("synapse file '{}': group '{}'", path, group);
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
              fmt::format("synapse file '{}': cannot open (missing, or not HDF5)", path));
  if (!g.empty() && !hdf5::link_exists(file, g)) throw IoError(fmt::format("{}: missing", where));
  Handle loc(H5Gopen2(file, g.empty() ? "/" : g.c_str(), H5P_DEFAULT), H5Gclose,
             fmt::format("{}: not a group", where));
  auto indices = [&](const char* name) {
    std::vector<hsize_t> dims;
    const auto x = hdf5::read_numbers<std::int64_t>(loc, name, H5T_NATIVE_INT64, where, &dims);
    if (dims.size() != 1) throw IoError(fmt::format("{}/{}: must be one-dimensional", where, name));
    std::vector<std::uint32_t> out(x.size());
    for (std::size_t k = 0; k < x.size(); ++k) {
      if (x[k] < 0 || x[k] > 0xFFFFFFFELL)
        throw IoError(fmt::format("{}/{}[{}]: index {} is out of range", where, name, k, x[k]));
      out[k] = static_cast<std::uint32_t>(x[k]);
    }
    return out;
  };
  SynapseTable t;
  t.pre = indices("pre");
  t.post = indices("post");
  std::vector<hsize_t> dims;
  t.weight = hdf5::read_numbers<float>(loc, "weight", H5T_NATIVE_FLOAT, where, &dims);
  if (dims.size() != 1) throw IoError(fmt::format("{}/weight: must be one-dimensional", where));
  if (t.post.size() != t.pre.size() || t.weight.size() != t.pre.size())
    throw IoError(fmt::format("{}: pre, post and weight have different lengths ({}, {}, {})", where,
                              t.pre.size(), t.post.size(), t.weight.size()));
  {
    Handle ds(H5Dopen2(loc, "weight", H5P_DEFAULT), H5Dclose, where + "/weight: cannot open");
    t.unit = hdf5::string_attribute(ds, "unit");
    if (t.unit == "1") t.unit.clear();
  }
  for (std::size_t k = 0; k < t.weight.size(); ++k)
    if (!std::isfinite(t.weight[k]))
      throw IoError(fmt::format("{}/weight[{}]: not a finite number", where, k));
  if (hdf5::link_exists(loc, "delay")) {
    t.delay = hdf5::read_numbers<double>(loc, "delay", H5T_NATIVE_DOUBLE, where, &dims);
    if (dims.size() != 1 || t.delay.size() != t.pre.size())
      throw IoError(fmt::format("{}/delay: must be one-dimensional with one value per synapse "
                                "({}), has {}",
                                where, t.pre.size(), t.delay.size()));
    Handle ds(H5Dopen2(loc, "delay", H5P_DEFAULT), H5Dclose, where + "/delay: cannot open");
    const std::string unit = hdf5::string_attribute(ds, "unit");
    if (unit != "s")
      throw IoError(fmt::format("{}/delay: unit '{}'; delays are stored in seconds (unit \"s\")",
                                where, unit));
    for (std::size_t k = 0; k < t.delay.size(); ++k)
      if (!std::isfinite(t.delay[k]) || t.delay[k] < 0.0)
        throw IoError(fmt::format("{}/delay[{}]: {} is not a delay (a finite number >= 0 s)",
                                  where, k, t.delay[k]));
  }
  std::vector<std::size_t> order(t.pre.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::pair(t.pre[a], t.post[a]) < std::pair(t.pre[b], t.post[b]);
  });
  for (std::size_t k = 1; k < order.size(); ++k)
    if (t.pre[order[k]] == t.pre[order[k - 1]] && t.post[order[k]] == t.post[order[k - 1]])
      throw IoError(fmt::format("{}: the pair ({}, {}) is given twice (entries {} and {})", where,
                                t.pre[order[k]], t.post[order[k]], order[k - 1], order[k]));
  return t;
}

NeuronValues read_neuron_values(const std::string& path, const std::string& dataset) {
  hdf5::quiet();
  std::string d = dataset;
  while (!d.empty() && d.front() == '/') d.erase(d.begin());
  const std::string where = fmt::format("file '{}'", path);
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
              fmt::format("file '{}': cannot open (missing, or not HDF5)", path));
  std::vector<hsize_t> dims;
  NeuronValues v;
  v.values = hdf5::read_numbers<double>(file, d, H5T_NATIVE_DOUBLE, where, &dims);
  if (dims.size() != 1)
    throw IoError(fmt::format("{}/{}: must be one-dimensional", where, d));
  for (std::size_t k = 0; k < v.values.size(); ++k)
    if (!std::isfinite(v.values[k]))
      throw IoError(fmt::format("{}/{}[{}]: not a finite number", where, d, k));
  Handle ds(H5Dopen2(file, d.c_str(), H5P_DEFAULT), H5Dclose, where + "/" + d + ": cannot open");
  v.unit = hdf5::string_attribute(ds, "unit");
  if (v.unit == "1") v.unit.clear();
  return v;
}

void write_synapses(const std::string& path,
                    const std::vector<std::pair<std::string, SynapseTable>>& groups,
                    const std::vector<std::pair<std::string, NeuronValues>>& values) {
  hdf5::quiet();
  detail::replace_file_atomically(path, [&](const std::string& tmp) {
    Handle fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "HDF5: cannot create a property list");
    Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT), H5Fclose,
                fmt::format("cannot create '{}'", path));
    for (const auto& [name, t] : groups) {
      Handle g = hdf5::group(file, name);
      hdf5::write_dataset(g, "pre", H5T_NATIVE_UINT32, t.pre, {});
      hdf5::write_dataset(g, "post", H5T_NATIVE_UINT32, t.post, {});
      hdf5::write_dataset(g, "weight", H5T_NATIVE_FLOAT, t.weight, {},
                          t.unit.empty() ? "1" : t.unit.c_str());
      if (!t.delay.empty()) hdf5::write_dataset(g, "delay", H5T_NATIVE_DOUBLE, t.delay, {}, "s");
    }
    for (const auto& [name, v] : values) {
      const auto slash = name.rfind('/');
      if (slash == std::string::npos) {
        hdf5::write_dataset(file, name, H5T_NATIVE_DOUBLE, v.values, {},
                            v.unit.empty() ? "1" : v.unit.c_str());
      } else {
        Handle g = hdf5::group(file, name.substr(0, slash));
        hdf5::write_dataset(g, name.substr(slash + 1), H5T_NATIVE_DOUBLE, v.values, {},
                            v.unit.empty() ? "1" : v.unit.c_str());
      }
    }
  });
}

}  // namespace volley::io
