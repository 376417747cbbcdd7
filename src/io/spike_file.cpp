// spikes.h5 writer (HDF5 C API). Files are written to a temporary name and renamed when
// complete, so a failed run never leaves a half-written file over a good one.
#include <hdf5.h>

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include "core/atomic_file.hpp"
#include "volley/error.hpp"
#include "volley/io/outputs.hpp"
#include "hdf5_util.hpp"

namespace volley::io {
namespace {

using hdf5::Handle;
using hdf5::group;
using hdf5::scalar_attribute;
using hdf5::write_dataset;

constexpr const char* kStructuralGroup = "structural_plasticity";

const char* unit_of(Dimension d) {
  if (d == Dimension::volts()) return "V";
  if (d == Dimension::amperes()) return "A";
  if (d == Dimension::siemens()) return "S";
  if (d == Dimension::seconds()) return "s";
  return "1";
}

// The eps shared by every element of calcium population `population` (the Ca its growth curves
// steer towards), or none when it has no element or its elements disagree: then no single
// target exists to draw.
std::optional<double> calcium_target(const StructuralPlasticitySpec& spec,
                                     const std::string& population) {
  std::optional<double> eps;
  for (const auto& e : spec.elements) {
    if (e.population != population) continue;
    if (eps && *eps != e.curve.eps) return std::nullopt;
    eps = e.curve.eps;
  }
  return eps;
}

// /structural_plasticity (layout in outputs.hpp). The reader tells it from a population group
// by its update_interval attribute; a population of that name would be ambiguous, so it is
// refused here rather than written into.
void write_structural(hid_t file, const Network& net, const std::string& path) {
  const StructuralPlasticity& sp = *net.structural_plasticity();
  if (H5Lexists(file, kStructuralGroup, H5P_DEFAULT) > 0)
    throw IoError(
        fmt::format("'{}': a population named '{}' clashes with the group of structural "
                    "plasticity; rename the population",
                    path, kStructuralGroup));
  const StructuralRecord& rec = sp.recorded();
  Handle g = group(file, kStructuralGroup);
  scalar_attribute(g, "update_interval", H5T_NATIVE_DOUBLE, sp.spec().update_interval);
  scalar_attribute(g, "updates", H5T_NATIVE_UINT64, sp.updates());
  scalar_attribute(g, "created", H5T_NATIVE_UINT64, sp.created());
  scalar_attribute(g, "deleted", H5T_NATIVE_UINT64, sp.deleted());
  write_dataset(g, "t", H5T_NATIVE_DOUBLE, rec.t, {}, "s");
  Handle ca = group(g, "calcium");
  Handle ca_final = group(g, "calcium_final");
  for (std::size_t k = 0; k < sp.calcium_populations().size(); ++k) {
    const std::string& name = sp.calcium_populations()[k];
    write_dataset(ca, name, H5T_NATIVE_DOUBLE, rec.mean_ca[k], {});
    if (const auto target = calcium_target(sp.spec(), name)) {
      Handle ds(H5Dopen2(ca, name.c_str(), H5P_DEFAULT), H5Dclose,
                fmt::format("HDF5: cannot open dataset calcium/{}", name));
      scalar_attribute(ds, "target", H5T_NATIVE_DOUBLE, *target);
    }
    write_dataset(ca_final, name, H5T_NATIVE_DOUBLE, sp.calcium(k, net.step()), {});
  }
  Handle elements = group(g, "elements");
  for (std::size_t e = 0; e < sp.element_names().size(); ++e) {
    Handle eg = group(elements, sp.element_names()[e]);
    write_dataset(eg, "z", H5T_NATIVE_DOUBLE, rec.mean_z[e], {});
    write_dataset(eg, "connected", H5T_NATIVE_UINT64, rec.connected[e], {});
  }
  Handle synapses = group(g, "synapses");
  for (std::size_t k = 0; k < sp.projection_names().size(); ++k)
    write_dataset(synapses, sp.projection_names()[k], H5T_NATIVE_UINT64, rec.synapses[k], {});
}

// /NAME/sizes and /NAME/removed of a population whose neurons were added or removed (layout
// in outputs.hpp); nothing for one that kept its size.
void write_sizes(hid_t file, const Network& net, const Population& pop) {
  const auto& history = net.size_history(pop.name());
  if (history.size() <= 1) return;
  Handle g = group(file, pop.name());
  if (H5Aexists(g, "size") <= 0)
    scalar_attribute(g, "size", H5T_NATIVE_UINT64, static_cast<std::uint64_t>(pop.size()));
  Handle sizes = group(g, "sizes");
  std::vector<double> t;
  std::vector<std::uint64_t> size, living;
  for (const auto& h : history) {
    t.push_back(h.time);
    size.push_back(h.size);
    living.push_back(h.living);
  }
  write_dataset(sizes, "t", H5T_NATIVE_DOUBLE, t, {}, "s");
  write_dataset(sizes, "size", H5T_NATIVE_UINT64, size, {});
  write_dataset(sizes, "living", H5T_NATIVE_UINT64, living, {});
  std::vector<std::uint32_t> removed;
  for (std::size_t i = 0; i < pop.size(); ++i)
    if (!pop.alive(i)) removed.push_back(static_cast<std::uint32_t>(i));
  write_dataset(g, "removed", H5T_NATIVE_UINT32, removed, {});
}

}  // namespace

void write_spike_file(const std::string& path, const Network& net) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become exceptions, not stderr noise
  detail::replace_file_atomically(path, [&](const std::string& tmp) {
    Handle fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "HDF5: cannot create a file property list");
    Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT), H5Fclose,
                fmt::format("HDF5: cannot create file '{}'", tmp));
    scalar_attribute(file, "duration", H5T_NATIVE_DOUBLE, net.time());
    scalar_attribute(file, "dt", H5T_NATIVE_DOUBLE, net.dt());
    // Merge spike monitors per population, in network order.
    for (const auto& m : net.spike_monitors()) {
      Handle g = group(file, m->population().name());
      scalar_attribute(g, "size", H5T_NATIVE_UINT64, static_cast<std::uint64_t>(m->population().size()));
      std::string times = "times", units = "units";
      if (H5Lexists(g, "times", H5P_DEFAULT) > 0) {  // second monitor of the same population
        times = "times_" + m->name();
        units = "units_" + m->name();
      }
      write_dataset(g, times, H5T_NATIVE_DOUBLE, m->times, {}, "s");
      write_dataset(g, units, H5T_NATIVE_UINT32, m->units, {});
    }
    for (const auto& m : net.state_monitors()) {
      Handle g = group(file, m->population().name());
      Handle s = group(g, "state");
      Handle mg = group(s, m->name());
      write_dataset(mg, "t", H5T_NATIVE_DOUBLE, m->times, {}, "s");
      write_dataset(mg, "indices", H5T_NATIVE_UINT32, m->indices(), {});
      for (std::size_t k = 0; k < m->variables().size(); ++k)
        write_dataset(mg, m->variables()[k], H5T_NATIVE_FLOAT, m->values[k],
                {static_cast<hsize_t>(m->times.size()), static_cast<hsize_t>(m->indices().size())},
                unit_of(m->dims[k]));
    }
    for (const auto& m : net.rate_monitors()) {
      Handle g = group(file, m->population().name());
      Handle r = group(g, "rate");
      Handle mg = group(r, m->name());
      write_dataset(mg, "t", H5T_NATIVE_DOUBLE, m->times, {}, "s");
      write_dataset(mg, "rate", H5T_NATIVE_DOUBLE, m->rates, {}, "Hz");
    }
    for (const auto& m : net.weight_monitors()) {
      const Projection& pr = m->projection();
      Handle g = group(file, pr.source().name());
      if (H5Aexists(g, "size") <= 0)
        scalar_attribute(g, "size", H5T_NATIVE_UINT64, static_cast<std::uint64_t>(pr.source().size()));
      Handle w = group(g, "weights");
      Handle mg = group(w, m->name());
      std::vector<std::uint32_t> pre, post;
      for (const auto& [i, j] : m->pairs()) {
        pre.push_back(static_cast<std::uint32_t>(i + pr.pre_begin()));
        post.push_back(static_cast<std::uint32_t>(j + pr.post_begin()));
      }
      const char* unit = unit_of(pr.weight_dim());
      write_dataset(mg, "t", H5T_NATIVE_DOUBLE, m->times, {}, "s");
      write_dataset(mg, "pre", H5T_NATIVE_UINT32, pre, {});
      write_dataset(mg, "post", H5T_NATIVE_UINT32, post, {});
      write_dataset(mg, "w", H5T_NATIVE_FLOAT, m->values,
                    {static_cast<hsize_t>(m->times.size()), static_cast<hsize_t>(pre.size())}, unit);
      write_dataset(mg, "mean", H5T_NATIVE_DOUBLE, m->means, {}, unit);
      hdf5::write_strings(mg, "projection", {pr.name()});
      hdf5::write_strings(mg, "target", {pr.target().name()});
    }
    for (const auto& pop : net.populations()) write_sizes(file, net, *pop);
    if (net.structural_plasticity()) write_structural(file, net, path);
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0)
      throw IoError(fmt::format("HDF5: cannot flush '{}'", tmp));
  });
}

}  // namespace volley::io
