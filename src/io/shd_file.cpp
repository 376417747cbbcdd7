// Spiking Heidelberg Digits reader and writer (HDF5 C API). The reader converts the ragged
// spike arrays while binning them, a block of samples at a time, so the whole file is never
// held unbinned in memory. The writer uses the layout of the published files (float32 times,
// uint16 units, uint8 labels) and renames a temporary file when complete.
#include <fmt/format.h>
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <type_traits>

#include "volley/error.hpp"
#include "volley/io/shd.hpp"
#include "core/atomic_file.hpp"
#include "hdf5_util.hpp"

namespace volley::io {
namespace {

namespace fs = std::filesystem;
using hdf5::Handle;
using hdf5::VlenReclaim;
using hdf5::link_exists;

// Reads one SHD file; keeps the path for messages.
class Reader {
 public:
  Reader(const std::string& path, hid_t file) : path_(path), file_(file) {}

  Handle open(const std::string& name) const {
    if (!link_exists(file_, name))
      throw IoError(fmt::format("SHD file '{}': dataset '{}' is missing", path_, name));
    return Handle(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), H5Dclose,
                  fmt::format("SHD file '{}': cannot open dataset '{}'", path_, name));
  }

  // Number of entries of a 1-D dataset.
  hsize_t length(hid_t ds, const std::string& name) const {
    Handle space(H5Dget_space(ds), H5Sclose,
                 fmt::format("SHD file '{}': cannot read the shape of '{}'", path_, name));
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank != 1)
      throw IoError(fmt::format("SHD file '{}': dataset '{}' must be 1-D, has {} dimensions", path_,
                                name, rank));
    hsize_t n = 0;
    H5Sget_simple_extent_dims(space, &n, nullptr);
    return n;
  }

  // Checks the type class of a dataset, and for a variable-length one that of its elements.
  void check_type(hid_t ds, const std::string& name, H5T_class_t base, bool vlen) const {
    Handle type(H5Dget_type(ds), H5Tclose,
                fmt::format("SHD file '{}': cannot read the type of '{}'", path_, name));
    const char* base_name = base == H5T_FLOAT ? "floating-point" : "integer";
    if (vlen) {
      if (H5Tget_class(type) != H5T_VLEN)
        throw IoError(fmt::format(
            "SHD file '{}': dataset '{}' must hold variable-length arrays (one per sample)", path_,
            name));
      Handle super(H5Tget_super(type), H5Tclose,
                   fmt::format("SHD file '{}': cannot read the type of '{}'", path_, name));
      if (H5Tget_class(super) != base)
        throw IoError(
            fmt::format("SHD file '{}': dataset '{}' must hold {} arrays", path_, name, base_name));
    } else if (H5Tget_class(type) != base) {
      throw IoError(
          fmt::format("SHD file '{}': dataset '{}' must hold {} values", path_, name, base_name));
    }
  }

  // Whether a variable-length dataset's elements are of class `base`, `size` bytes, and (for
  // integers) unsigned when `is_unsigned`.
  bool element_is(hid_t ds, H5T_class_t base, std::size_t size, bool is_unsigned) const {
    Handle type(H5Dget_type(ds), H5Tclose, fmt::format("SHD file '{}': cannot read a type", path_));
    Handle super(H5Tget_super(type), H5Tclose, fmt::format("SHD file '{}': cannot read a type", path_));
    if (H5Tget_class(super) != base || H5Tget_size(super) != size) return false;
    // Floats: exactly the native IEEE single (a custom 4-byte layout goes through double).
    if (base == H5T_FLOAT) return H5Tequal(super, H5T_NATIVE_FLOAT) > 0;
    return (H5Tget_sign(super) == H5T_SGN_NONE) == is_unsigned;
  }

  // A whole 1-D integer dataset as int.
  std::vector<int> read_ints(const std::string& name) const {
    Handle ds = open(name);
    check_type(ds, name, H5T_INTEGER, false);
    std::vector<int> v(length(ds, name));
    if (!v.empty() && H5Dread(ds, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
      throw IoError(fmt::format("SHD file '{}': cannot read dataset '{}'", path_, name));
    return v;
  }

 private:
  const std::string& path_;
  hid_t file_;
};

// Bins one sample's spikes into steps of dt, checking every value: keep() takes the spikes
// inside the window as (step, unit) pairs, bin() sorts them by step, then unit (two stable
// counting passes, or a comparison sort for very wide inputs), and merges repeats into counts.
class SampleBinner {
 public:
  SampleBinner(const std::string& path, const ShdOptions& opt) : path_(path), opt_(opt) {}

  template <class Time, class Unit>
  void keep(hsize_t sample, const Time* t, const Unit* u, std::size_t len) {
    steps_.clear();
    units_.clear();
    const double max_step = static_cast<double>(opt_.n_steps);
    for (std::size_t j = 0; j < len; ++j) {
      const double tj = static_cast<double>(t[j]);
      if (std::isnan(tj))
        throw IoError(
            fmt::format("SHD file '{}': sample {}: 'spikes/times'[{}] is NaN", path_, sample, j));
      if (tj < 0.0)
        throw IoError(fmt::format("SHD file '{}': sample {}: 'spikes/times'[{}] = {} is negative",
                                  path_, sample, j, tj));
      bool negative = false;
      if constexpr (std::is_signed_v<Unit>) negative = u[j] < 0;
      if (negative || static_cast<std::uint64_t>(u[j]) >= opt_.n_inputs)
        throw IoError(fmt::format(
            "SHD file '{}': sample {}: 'spikes/units'[{}] = {} is outside [0, n_inputs {})", path_,
            sample, j, static_cast<std::int64_t>(u[j]), opt_.n_inputs));
      const double step = std::floor(tj / opt_.dt);
      if (!(step < max_step)) continue;  // at or after the end of the window
      steps_.push_back(static_cast<std::uint32_t>(step));
      units_.push_back(static_cast<std::uint32_t>(u[j]));
    }
  }

  void bin(train::SampleEvents& out) {
    const std::size_t n = steps_.size(), S = opt_.n_steps;
    out.reset(S);
    order_.resize(n);
    if (opt_.n_inputs <= kCountingUnits) {
      // By unit, then stably by step: sorted by (step, unit).
      std::vector<std::uint32_t>& by_unit = tmp_;
      by_unit.resize(n);
      count_.assign(opt_.n_inputs + 1, 0);
      for (std::size_t j = 0; j < n; ++j) ++count_[units_[j] + 1];
      for (std::size_t c = 0; c < opt_.n_inputs; ++c) count_[c + 1] += count_[c];
      for (std::size_t j = 0; j < n; ++j) by_unit[count_[units_[j]]++] = static_cast<std::uint32_t>(j);
      count_.assign(S + 1, 0);
      for (std::size_t j = 0; j < n; ++j) ++count_[steps_[j] + 1];
      for (std::size_t c = 0; c < S; ++c) count_[c + 1] += count_[c];
      for (const std::uint32_t j : by_unit) order_[count_[steps_[j]]++] = j;
    } else {
      for (std::size_t j = 0; j < n; ++j) order_[j] = static_cast<std::uint32_t>(j);
      std::sort(order_.begin(), order_.end(), [&](std::uint32_t a, std::uint32_t b) {
        return steps_[a] != steps_[b] ? steps_[a] < steps_[b] : units_[a] < units_[b];
      });
    }
    for (std::size_t q = 0; q < n;) {
      const std::uint32_t step = steps_[order_[q]], unit = units_[order_[q]];
      std::size_t e = q + 1;
      while (e < n && steps_[order_[e]] == step && units_[order_[e]] == unit) ++e;
      out.units.push_back(unit);
      out.values.push_back(static_cast<float>(e - q));
      ++out.offsets[step + 1];
      q = e;
    }
    for (std::size_t s = 0; s < S; ++s) out.offsets[s + 1] += out.offsets[s];
  }

 private:
  static constexpr std::size_t kCountingUnits = std::size_t{1} << 16;
  const std::string& path_;
  const ShdOptions& opt_;
  std::vector<std::uint32_t> steps_, units_, order_, tmp_, count_;
};

}  // namespace

std::unique_ptr<train::StoredEvents> read_shd(const std::string& path, const ShdOptions& opt,
                                              std::vector<int>* speakers) {
  if (!(opt.dt > 0.0) || !std::isfinite(opt.dt))
    throw ParameterError(fmt::format("read_shd: dt must be > 0, got {}", opt.dt));
  if (opt.n_steps == 0 || opt.n_steps > std::numeric_limits<std::uint32_t>::max())
    throw ParameterError(
        fmt::format("read_shd: n_steps must be in [1, 2^32), got {}", opt.n_steps));
  if (opt.n_inputs == 0 || opt.n_inputs > std::numeric_limits<std::uint32_t>::max())
    throw ParameterError(
        fmt::format("read_shd: n_inputs must be in [1, 2^32), got {}", opt.n_inputs));
  if (opt.n_classes == 0) throw ParameterError("read_shd: n_classes must be > 0");

  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become exceptions, not stderr noise
  std::error_code ec;
  if (!fs::exists(path, ec)) throw IoError(fmt::format("SHD file '{}': no such file", path));
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw IoError(fmt::format("SHD file '{}': not an HDF5 file", path));
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
              fmt::format("SHD file '{}': cannot open", path));
  const Reader r(path, file);

  Handle times = r.open("spikes/times");
  Handle units = r.open("spikes/units");
  r.check_type(times, "spikes/times", H5T_FLOAT, true);
  r.check_type(units, "spikes/units", H5T_INTEGER, true);
  const hsize_t n = r.length(times, "spikes/times");
  const hsize_t n_units = r.length(units, "spikes/units");
  if (n_units != n)
    throw IoError(
        fmt::format("SHD file '{}': 'spikes/times' has {} samples but 'spikes/units' has {}", path,
                    n, n_units));
  const std::vector<int> labels = r.read_ints("labels");
  if (labels.size() != n)
    throw IoError(
        fmt::format("SHD file '{}': 'labels' has {} entries but 'spikes/times' has {} "
                    "samples",
                    path, labels.size(), n));
  const hsize_t n_use = opt.limit > 0 ? std::min<hsize_t>(n, opt.limit) : n;

  if (speakers) {
    speakers->clear();
    if (link_exists(file, "extra/speaker")) {
      *speakers = r.read_ints("extra/speaker");
      if (speakers->size() != n)
        throw IoError(fmt::format(
            "SHD file '{}': 'extra/speaker' has {} entries but 'spikes/times' has {} samples", path,
            speakers->size(), n));
      speakers->resize(n_use);
    }
  }

  auto out = std::make_unique<train::StoredEvents>(opt.n_inputs, opt.n_steps, opt.n_classes,
                                                   fs::path(path).filename().string());
  // Memory types: the published layout (float32 times, uint16 units) is read as it is stored;
  // anything else as double and int64 (so that negative units can be reported). Converting
  // every spike of a 400 MB file to 16 bytes took most of the time of loading it.
  const bool f32_times = r.element_is(times, H5T_FLOAT, 4, false);
  const bool u16_units = r.element_is(units, H5T_INTEGER, 2, true);
  Handle time_type(H5Tvlen_create(f32_times ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE), H5Tclose,
                   "HDF5: cannot create vlen type");
  Handle unit_type(H5Tvlen_create(u16_units ? H5T_NATIVE_UINT16 : H5T_NATIVE_INT64), H5Tclose,
                   "HDF5: cannot create vlen type");
  Handle time_space(H5Dget_space(times), H5Sclose,
                    fmt::format("SHD file '{}': cannot read the shape of 'spikes/times'", path));
  Handle unit_space(H5Dget_space(units), H5Sclose,
                    fmt::format("SHD file '{}': cannot read the shape of 'spikes/units'", path));

  constexpr hsize_t kBlock = 256;  // samples converted per H5Dread
  std::vector<hvl_t> tbuf(kBlock), ubuf(kBlock);
  SampleBinner binner(path, opt);
  train::SampleEvents sample;

  for (hsize_t b0 = 0; b0 < n_use; b0 += kBlock) {
    const hsize_t count = std::min(kBlock, n_use - b0);
    Handle mem_space(H5Screate_simple(1, &count, nullptr), H5Sclose,
                     "HDF5: cannot create dataspace");
    H5Sselect_hyperslab(time_space, H5S_SELECT_SET, &b0, nullptr, &count, nullptr);
    H5Sselect_hyperslab(unit_space, H5S_SELECT_SET, &b0, nullptr, &count, nullptr);
    // Zeroed buffers and the reclaimers first, so a failed read frees what it allocated.
    std::fill(tbuf.begin(), tbuf.end(), hvl_t{0, nullptr});
    std::fill(ubuf.begin(), ubuf.end(), hvl_t{0, nullptr});
    const VlenReclaim free_times(time_type, mem_space, tbuf.data());
    const VlenReclaim free_units(unit_type, mem_space, ubuf.data());
    if (H5Dread(times, time_type, mem_space, time_space, H5P_DEFAULT, tbuf.data()) < 0)
      throw IoError(fmt::format("SHD file '{}': cannot read 'spikes/times' (samples {} to {})",
                                path, b0, b0 + count - 1));
    if (H5Dread(units, unit_type, mem_space, unit_space, H5P_DEFAULT, ubuf.data()) < 0)
      throw IoError(fmt::format("SHD file '{}': cannot read 'spikes/units' (samples {} to {})",
                                path, b0, b0 + count - 1));

    for (hsize_t k = 0; k < count; ++k) {
      const hsize_t i = b0 + k;
      if (tbuf[k].len != ubuf[k].len)
        throw IoError(fmt::format(
            "SHD file '{}': sample {} has {} spikes in 'spikes/times' but {} in 'spikes/units'",
            path, i, tbuf[k].len, ubuf[k].len));
      const int label = labels[i];
      if (label < 0 || static_cast<std::size_t>(label) >= opt.n_classes)
        throw IoError(
            fmt::format("SHD file '{}': sample {} has label {} in 'labels', must be in "
                        "[0, {})",
                        path, i, label, opt.n_classes));
      const std::size_t len = tbuf[k].len;
      if (f32_times && u16_units)
        binner.keep(i, static_cast<const float*>(tbuf[k].p), static_cast<const std::uint16_t*>(ubuf[k].p), len);
      else if (f32_times)
        binner.keep(i, static_cast<const float*>(tbuf[k].p), static_cast<const std::int64_t*>(ubuf[k].p), len);
      else if (u16_units)
        binner.keep(i, static_cast<const double*>(tbuf[k].p), static_cast<const std::uint16_t*>(ubuf[k].p), len);
      else
        binner.keep(i, static_cast<const double*>(tbuf[k].p), static_cast<const std::int64_t*>(ubuf[k].p), len);
      binner.bin(sample);
      out->add(sample, label);
    }
    // Room for the whole file from its first block's events per sample (a margin against
    // regrowing, which copied hundreds of megabytes).
    if (b0 == 0 && count < n_use) {
      const double per_sample = static_cast<double>(out->total_events()) / static_cast<double>(count);
      out->reserve(n_use, static_cast<std::size_t>(per_sample * 1.1 * static_cast<double>(n_use)) + 1);
    }
  }
  return out;
}

void write_shd(const std::string& path, const std::vector<std::vector<double>>& times,
               const std::vector<std::vector<std::uint32_t>>& units, const std::vector<int>& labels,
               const std::vector<int>* speakers, const std::vector<std::string>* keys) {
  const std::size_t n = labels.size();
  if (times.size() != n || units.size() != n)
    throw ParameterError(fmt::format(
        "write_shd '{}': {} time arrays, {} unit arrays and {} labels; all must be equal", path,
        times.size(), units.size(), n));
  if (speakers && speakers->size() != n)
    throw ParameterError(
        fmt::format("write_shd '{}': {} speakers for {} samples", path, speakers->size(), n));
  // Convert to the file's element types, checking that every value fits.
  std::vector<std::vector<float>> t32(n);
  std::vector<std::vector<std::uint16_t>> u16(n);
  std::vector<std::uint8_t> lab(n), spk(speakers ? n : 0);
  std::vector<hvl_t> tv(n), uv(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (times[i].size() != units[i].size())
      throw ParameterError(fmt::format("write_shd '{}': sample {} has {} times but {} units", path,
                                       i, times[i].size(), units[i].size()));
    t32[i].assign(times[i].begin(), times[i].end());
    u16[i].resize(units[i].size());
    for (std::size_t j = 0; j < units[i].size(); ++j) {
      if (units[i][j] > 0xFFFFu)
        throw ParameterError(fmt::format("write_shd '{}': sample {} has unit {}, must be < 65536",
                                         path, i, units[i][j]));
      u16[i][j] = static_cast<std::uint16_t>(units[i][j]);
    }
    if (labels[i] < 0 || labels[i] > 255)
      throw ParameterError(fmt::format(
          "write_shd '{}': sample {} has label {}, must be in [0, 255]", path, i, labels[i]));
    lab[i] = static_cast<std::uint8_t>(labels[i]);
    if (speakers) {
      const int s = (*speakers)[i];
      if (s < 0 || s > 255)
        throw ParameterError(fmt::format(
            "write_shd '{}': sample {} has speaker {}, must be in [0, 255]", path, i, s));
      spk[i] = static_cast<std::uint8_t>(s);
    }
    tv[i] = hvl_t{t32[i].size(), t32[i].data()};
    uv[i] = hvl_t{u16[i].size(), u16[i].data()};
  }

  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  detail::replace_file_atomically(path, [&](const std::string& tmp) {
    Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                fmt::format("SHD file '{}': cannot create", tmp));
    Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "HDF5: cannot create property list");
    H5Pset_obj_track_times(dcpl, 0);  // same data, same bytes
    const hsize_t dim = n;
    Handle space(H5Screate_simple(1, &dim, nullptr), H5Sclose, "HDF5: cannot create dataspace");
    auto write = [&](hid_t parent, const char* name, hid_t file_type, hid_t mem_type,
                     const void* data) {
      Handle ds(H5Dcreate2(parent, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                H5Dclose, fmt::format("SHD file '{}': cannot create dataset '{}'", tmp, name));
      if (n > 0 && H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        throw IoError(fmt::format("SHD file '{}': cannot write dataset '{}'", tmp, name));
    };
    {
      Handle spikes(H5Gcreate2(file, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                    fmt::format("SHD file '{}': cannot create group 'spikes'", tmp));
      Handle tf(H5Tvlen_create(H5T_IEEE_F32LE), H5Tclose, "HDF5: cannot create vlen type");
      Handle tm(H5Tvlen_create(H5T_NATIVE_FLOAT), H5Tclose, "HDF5: cannot create vlen type");
      Handle uf(H5Tvlen_create(H5T_STD_U16LE), H5Tclose, "HDF5: cannot create vlen type");
      Handle um(H5Tvlen_create(H5T_NATIVE_UINT16), H5Tclose, "HDF5: cannot create vlen type");
      write(spikes, "times", tf, tm, tv.data());
      write(spikes, "units", uf, um, uv.data());
    }
    write(file, "labels", H5T_STD_U8LE, H5T_NATIVE_UINT8, lab.data());
    if (speakers || keys) {
      Handle extra(H5Gcreate2(file, "extra", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                   fmt::format("SHD file '{}': cannot create group 'extra'", tmp));
      if (speakers) write(extra, "speaker", H5T_STD_U8LE, H5T_NATIVE_UINT8, spk.data());
      // Variable-length UTF-8 strings, one per class (h5py reads them as bytes or str).
      if (keys) hdf5::write_strings(extra, "keys", *keys);
    }
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0)
      throw IoError(fmt::format("SHD file '{}': cannot flush", tmp));
  });
}

}  // namespace volley::io
