// spikes.h5 writer (HDF5 C API). Files are written to a temporary name and renamed when
// complete, so a failed run never leaves a half-written file over a good one.
#include <hdf5.h>

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <vector>

#include "volley/error.hpp"
#include "volley/io/outputs.hpp"

namespace volley::io {
namespace {

// Owns an hid_t and closes it with the matching function.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t), const std::string& what) : id_(id), close_(close) {
    if (id_ < 0) throw IoError(fmt::format("HDF5: cannot create {}", what));
  }
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  operator hid_t() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

Handle group(hid_t parent, const std::string& name) {
  if (H5Lexists(parent, name.c_str(), H5P_DEFAULT) > 0)
    return Handle(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose, "group " + name);
  return Handle(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                "group " + name);
}

template <class T>
void dataset(hid_t parent, const std::string& name, hid_t type, const std::vector<T>& data,
             std::vector<hsize_t> dims, const char* unit = nullptr) {
  if (dims.empty()) dims = {static_cast<hsize_t>(data.size())};
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
               "dataspace " + name);
  // No modification times in the file: the same recording gives the same bytes.
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "property list");
  H5Pset_obj_track_times(dcpl, 0);
  Handle ds(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
            H5Dclose, "dataset " + name);
  if (!data.empty() && H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0)
    throw IoError(fmt::format("HDF5: cannot write dataset {}", name));
  if (unit) {
    Handle str(H5Tcopy(H5T_C_S1), H5Tclose, "string type");
    H5Tset_size(str, std::string(unit).size() + 1);
    Handle aspace(H5Screate(H5S_SCALAR), H5Sclose, "attribute space");
    Handle attr(H5Acreate2(ds, "unit", str, aspace, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                "attribute unit");
    H5Awrite(attr, str, unit);
  }
}

const char* unit_of(Dimension d) {
  if (d == Dimension::volts()) return "V";
  if (d == Dimension::amperes()) return "A";
  if (d == Dimension::siemens()) return "S";
  if (d == Dimension::seconds()) return "s";
  return "1";
}

}  // namespace

void write_spike_file(const std::string& path, const Network& net) {
  const std::string tmp = path + ".partial";
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become exceptions, not stderr noise
  {
    Handle fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "file property list");
    Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT), H5Fclose,
                fmt::format("file '{}'", tmp));
    // Merge spike monitors per population, in network order.
    for (const auto& m : net.spike_monitors()) {
      Handle g = group(file, m->population().name());
      std::string times = "times", units = "units";
      if (H5Lexists(g, "times", H5P_DEFAULT) > 0) {  // second monitor of the same population
        times = "times_" + m->name();
        units = "units_" + m->name();
      }
      dataset(g, times, H5T_NATIVE_DOUBLE, m->times, {}, "s");
      dataset(g, units, H5T_NATIVE_UINT32, m->units, {});
    }
    for (const auto& m : net.state_monitors()) {
      Handle g = group(file, m->population().name());
      Handle s = group(g, "state");
      Handle mg = group(s, m->name());
      dataset(mg, "t", H5T_NATIVE_DOUBLE, m->times, {}, "s");
      dataset(mg, "indices", H5T_NATIVE_UINT32, m->indices(), {});
      for (std::size_t k = 0; k < m->variables().size(); ++k)
        dataset(mg, m->variables()[k], H5T_NATIVE_FLOAT, m->values[k],
                {static_cast<hsize_t>(m->times.size()), static_cast<hsize_t>(m->indices().size())},
                unit_of(m->dims[k]));
    }
    for (const auto& m : net.rate_monitors()) {
      Handle g = group(file, m->population().name());
      Handle r = group(g, "rate");
      Handle mg = group(r, m->name());
      dataset(mg, "t", H5T_NATIVE_DOUBLE, m->times, {}, "s");
      dataset(mg, "rate", H5T_NATIVE_DOUBLE, m->rates, {}, "Hz");
    }
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0)
      throw IoError(fmt::format("HDF5: cannot flush '{}'", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw IoError(fmt::format("cannot move '{}' to '{}': {}", tmp, path, ec.message()));
}

}  // namespace volley::io
