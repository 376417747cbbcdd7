#pragma once
// Small RAII helpers over the HDF5 C API, shared by volley's HDF5 readers and writers.
#include <fmt/format.h>
#include <hdf5.h>

#include <cstring>
#include <string>
#include <vector>

#include "volley/error.hpp"

namespace volley::io::hdf5 {

// Owns an hid_t and closes it with the matching function; a negative id throws IoError(message).
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t), const std::string& message) : id_(id), close_(close) {
    if (id_ < 0) throw IoError(message);
  }
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  operator hid_t() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// Frees the memory HDF5 allocated for a buffer of variable-length elements.
class VlenReclaim {
 public:
  VlenReclaim(hid_t type, hid_t space, void* buf) : type_(type), space_(space), buf_(buf) {}
  ~VlenReclaim() {
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(type_, space_, H5P_DEFAULT, buf_);
#else
    H5Dvlen_reclaim(type_, space_, H5P_DEFAULT, buf_);
#endif
  }
  VlenReclaim(const VlenReclaim&) = delete;
  VlenReclaim& operator=(const VlenReclaim&) = delete;

 private:
  hid_t type_, space_;
  void* buf_;
};

// Whether every component of a slash-separated path exists below loc (H5Lexists fails, rather
// than answering false, when an intermediate group is missing).
inline bool link_exists(hid_t loc, const std::string& path) {
  std::size_t pos = 0;
  while (true) {
    const std::size_t slash = path.find('/', pos);
    const std::string prefix = path.substr(0, slash);
    if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) return true;
    pos = slash + 1;
  }
}


// Opens `name` below parent, creating the group if it is missing.
inline Handle group(hid_t parent, const std::string& name) {
  if (H5Lexists(parent, name.c_str(), H5P_DEFAULT) > 0)
    return Handle(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose,
                  fmt::format("HDF5: cannot open group {}", name));
  return Handle(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                fmt::format("HDF5: cannot create group {}", name));
}

// Writes `data` as dataset `name` of file type `type` (also the memory type), with `dims`
// (default: one dimension of data.size()) and an optional "unit" string attribute. No
// modification times are stored: the same data gives the same bytes.
template <class T>
void write_dataset(hid_t parent, const std::string& name, hid_t type, const std::vector<T>& data,
                   std::vector<hsize_t> dims, const char* unit = nullptr) {
  if (dims.empty()) dims = {static_cast<hsize_t>(data.size())};
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
               fmt::format("HDF5: cannot create the dataspace of {}", name));
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "HDF5: cannot create a property list");
  H5Pset_obj_track_times(dcpl, 0);
  Handle ds(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
            H5Dclose, fmt::format("HDF5: cannot create dataset {}", name));
  if (!data.empty() && H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0)
    throw IoError(fmt::format("HDF5: cannot write dataset {}", name));
  if (unit) {
    Handle str(H5Tcopy(H5T_C_S1), H5Tclose, "HDF5: cannot copy the string type");
    H5Tset_size(str, std::string(unit).size() + 1);
    Handle aspace(H5Screate(H5S_SCALAR), H5Sclose, "HDF5: cannot create an attribute space");
    Handle attr(H5Acreate2(ds, "unit", str, aspace, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                fmt::format("HDF5: cannot create the unit attribute of {}", name));
    H5Awrite(attr, str, unit);
  }
}

// A scalar numeric attribute, replaced if present.
template <class T>
void scalar_attribute(hid_t object, const char* name, hid_t type, T value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, "HDF5: cannot create a scalar dataspace");
  if (H5Aexists(object, name) > 0) H5Adelete(object, name);
  Handle attr(H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
              fmt::format("HDF5: cannot create attribute {}", name));
  if (H5Awrite(attr, type, &value) < 0) throw IoError(fmt::format("HDF5: cannot write attribute {}", name));
}

// A one-dimensional dataset of variable-length UTF-8 strings.
inline void write_strings(hid_t parent, const std::string& name, const std::vector<std::string>& values) {
  std::vector<const char*> raw;
  for (const auto& v : values) raw.push_back(v.c_str());
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "HDF5: cannot copy the string type");
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  const hsize_t n = raw.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose, "HDF5: cannot create a dataspace");
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "HDF5: cannot create a property list");
  H5Pset_obj_track_times(dcpl, 0);
  Handle ds(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
            fmt::format("HDF5: cannot create dataset {}", name));
  if (n > 0 && H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
    throw IoError(fmt::format("HDF5: cannot write dataset {}", name));
}

// Turns HDF5's own error printing off: volley reports failures as exceptions with context.
inline void quiet() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// A numeric dataset read whole, converted to `mem_type`, with its dimensions. Failures throw
// IoError "WHERE/NAME: what"; a non-numeric dataset (a string) is refused.
template <class T>
std::vector<T> read_numbers(hid_t loc, const std::string& name, hid_t mem_type,
                            const std::string& where, std::vector<hsize_t>* dims = nullptr) {
  const std::string at = where.empty() ? name : where + "/" + name;
  if (!link_exists(loc, name)) throw IoError(fmt::format("{}: missing", at));
  Handle ds(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose,
            fmt::format("{}: not a dataset", at));
  Handle type(H5Dget_type(ds), H5Tclose, fmt::format("{}: no type", at));
  const H5T_class_t cls = H5Tget_class(type);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    throw IoError(fmt::format("{}: expected numbers, found another type", at));
  Handle space(H5Dget_space(ds), H5Sclose, fmt::format("{}: no dataspace", at));
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) throw IoError(fmt::format("{}: unreadable dataspace", at));
  std::vector<hsize_t> d(static_cast<std::size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space, d.data(), nullptr);
  std::size_t n = 1;
  for (auto x : d) n *= static_cast<std::size_t>(x);
  std::vector<T> out(n);
  if (n > 0 && H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    throw IoError(fmt::format("{}: cannot read as numbers", at));
  if (dims) *dims = std::move(d);
  return out;
}

// A string attribute (fixed or variable length); "" when absent.
inline std::string string_attribute(hid_t object, const char* name) {
  if (H5Aexists(object, name) <= 0) return {};
  Handle a(H5Aopen(object, name, H5P_DEFAULT), H5Aclose, fmt::format("attribute {}", name));
  Handle type(H5Aget_type(a), H5Tclose, "HDF5: attribute type");
  if (H5Tget_class(type) != H5T_STRING) return {};
  Handle space(H5Aget_space(a), H5Sclose, "HDF5: attribute space");
  if (H5Tis_variable_str(type) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose, "HDF5: string type");
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5Tget_cset(type));
    char* raw = nullptr;
    if (H5Aread(a, mem, &raw) < 0) return {};
    std::string s = raw ? raw : "";
    VlenReclaim reclaim(mem, space, &raw);
    return s;
  }
  std::string s(H5Tget_size(type), '\0');
  Handle mem(H5Tcopy(H5T_C_S1), H5Tclose, "HDF5: string type");
  H5Tset_size(mem, s.size());
  if (H5Aread(a, mem, s.data()) < 0) return {};
  s.resize(std::strlen(s.c_str()));
  return s;
}

}  // namespace volley::io::hdf5
