// Spiking Heidelberg Digits files: write_shd → read_shd round trip (binning, spike counts, the
// time window, limit, speakers), the on-disk layout, and every reader error, using files the
// tests build themselves (valid ones with write_shd, broken ones by editing them with HDF5).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "volley/error.hpp"
#include "volley/io/shd.hpp"
#include "support/error_of.hpp"
#include "support/temp_dir.hpp"

using namespace volley;
using io::read_shd;
using io::ShdOptions;
using io::write_shd;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

namespace {

using volley::test::TempDir;

// Closes an hid_t at the end of a scope.
struct H {
  hid_t id;
  herr_t (*close)(hid_t);
  ~H() {
    if (id >= 0) close(id);
  }
  operator hid_t() const { return id; }
};

// Opens an existing file read-write and hands it to `edit`.
void edit_file(const std::string& path, const std::function<void(hid_t)>& edit) {
  H file{H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose};
  ASSERT_GE(file.id, 0) << path;
  edit(file);
}

// Creates a 1-D dataset of variable-length arrays of T (file element type file_base).
template <class T>
void put_vlen(hid_t loc, const char* name, hid_t file_base, hid_t mem_base,
              std::vector<std::vector<T>> data) {
  std::vector<hvl_t> v(data.size());
  for (std::size_t i = 0; i < data.size(); ++i) v[i] = hvl_t{data[i].size(), data[i].data()};
  const hsize_t n = data.size();
  H space{H5Screate_simple(1, &n, nullptr), H5Sclose};
  H ftype{H5Tvlen_create(file_base), H5Tclose};
  H mtype{H5Tvlen_create(mem_base), H5Tclose};
  H ds{H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose};
  ASSERT_GE(ds.id, 0) << name;
  ASSERT_GE(H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0) << name;
}

// Creates a 1-D dataset of plain values.
template <class T>
void put_plain(hid_t loc, const char* name, hid_t file_type, hid_t mem_type,
               const std::vector<T>& data) {
  const hsize_t n = data.size();
  H space{H5Screate_simple(1, &n, nullptr), H5Sclose};
  H ds{H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose};
  ASSERT_GE(ds.id, 0) << name;
  ASSERT_GE(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), 0) << name;
}

using volley::test::error_of;

// Three samples: spikes chosen away from bin edges (times go through float32).
struct Small {
  std::vector<std::vector<double>> times{
      {0.00050, 0.00120, 0.00150, 0.00190, 0.00310, 0.00350, 0.00155}, {}, {0.00990, 0.00050}};
  std::vector<std::vector<std::uint32_t>> units{{3, 1, 1, 1, 2, 0, 4}, {}, {699, 699}};
  std::vector<int> labels{5, 0, 19};
  std::vector<int> speakers{1, 2, 3};
};

ShdOptions options(double dt = 1e-3, std::size_t n_steps = 10) {
  ShdOptions o;
  o.dt = dt;
  o.n_steps = n_steps;
  return o;
}

}  // namespace

TEST(Shd, RoundTripBinsAndCounts) {
  TempDir dir;
  const Small s;
  const std::string path = dir / "shd_small.h5";
  write_shd(path, s.times, s.units, s.labels, &s.speakers);
  EXPECT_FALSE(fs::exists(path + ".partial"));

  std::vector<int> speakers{42};
  const auto ev = read_shd(path, options(), &speakers);
  ASSERT_EQ(ev->size(), 3u);
  EXPECT_EQ(ev->n_inputs(), 700u);
  EXPECT_EQ(ev->n_steps(), 10u);
  EXPECT_EQ(ev->n_classes(), 20u);
  EXPECT_EQ(ev->description(), "shd_small.h5");
  EXPECT_EQ(ev->label(0), 5);
  EXPECT_EQ(ev->label(1), 0);
  EXPECT_EQ(ev->label(2), 19);
  EXPECT_EQ(speakers, (std::vector<int>{1, 2, 3}));

  volley::train::SampleEvents out;
  ev->fill(0, 0, out);
  // step 0: unit 3; step 1: unit 1 three times (one event, value 3) and unit 4; step 3: 0 and 2.
  EXPECT_EQ(out.offsets, (std::vector<std::uint32_t>{0, 1, 3, 3, 5, 5, 5, 5, 5, 5, 5}));
  EXPECT_EQ(out.units, (std::vector<std::uint32_t>{3, 1, 4, 0, 2}));
  EXPECT_EQ(out.values, (std::vector<float>{1, 3, 1, 1, 1}));
  ev->fill(1, 0, out);
  EXPECT_EQ(out.size(), 0u);
  EXPECT_EQ(out.n_steps(), 10u);
  ev->fill(2, 0, out);
  EXPECT_EQ(out.offsets, (std::vector<std::uint32_t>{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2}));
  EXPECT_EQ(out.units, (std::vector<std::uint32_t>{699, 699}));
  EXPECT_EQ(ev->total_events(), 7u);

  // A coarser bin merges more.
  const auto coarse = read_shd(path, options(2e-3, 5));
  coarse->fill(0, 0, out);
  EXPECT_EQ(out.offsets, (std::vector<std::uint32_t>{0, 3, 5, 5, 5, 5}));
  EXPECT_EQ(out.units, (std::vector<std::uint32_t>{1, 3, 4, 0, 2}));
  EXPECT_EQ(out.values, (std::vector<float>{3, 1, 1, 1, 1}));
}

// Many samples (several read blocks, so the reader reserves room after the first) of unsorted
// spikes with repeats, in the published layout (float32, uint16) and in a wider one (float64
// times, int64 units, read through conversion): both bin exactly as a plain sort-and-count.
TEST(Shd, ManySamplesBinLikeASortInEitherLayout) {
  TempDir dir;
  const std::size_t n = 700, n_in = 50, n_steps = 20;
  std::vector<std::vector<double>> times(n);
  std::vector<std::vector<std::uint32_t>> units(n);
  std::vector<int> labels(n);
  std::uint64_t x = 12345;
  auto next = [&x] { return (x = x * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
  for (std::size_t i = 0; i < n; ++i) {
    labels[i] = static_cast<int>(i % 20);
    const std::size_t k = next() % (i % 7 == 0 ? 1 : 400);  // some samples empty
    for (std::size_t j = 0; j < k; ++j) {
      // Bin centres (exact in float32 after flooring), some past the 20-step window.
      times[i].push_back((static_cast<double>(next() % 24) + 0.5) * 1e-3);
      units[i].push_back(static_cast<std::uint32_t>(next() % n_in));
    }
  }
  const std::string narrow = dir / "narrow.h5", wide = dir / "wide.h5";
  write_shd(narrow, times, units, labels, nullptr);
  {
    H file{H5Fcreate(wide.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose};
    H spikes{H5Gcreate2(file, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose};
    std::vector<std::vector<std::int64_t>> u64(n);
    for (std::size_t i = 0; i < n; ++i) u64[i].assign(units[i].begin(), units[i].end());
    put_vlen(spikes, "times", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, times);
    put_vlen(spikes, "units", H5T_STD_I64LE, H5T_NATIVE_INT64, u64);
    put_plain(file, "labels", H5T_STD_I32LE, H5T_NATIVE_INT, labels);
  }
  ShdOptions o = options(1e-3, n_steps);
  o.n_inputs = n_in;
  const auto a = read_shd(narrow, o), b = read_shd(wide, o);
  ASSERT_EQ(a->size(), n);
  ASSERT_EQ(b->size(), n);
  volley::train::SampleEvents got, got_b;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::uint64_t> keys;  // step << 32 | unit
    for (std::size_t j = 0; j < times[i].size(); ++j) {
      const auto step = static_cast<std::uint64_t>(std::floor(times[i][j] / 1e-3));
      if (step < n_steps) keys.push_back(step << 32 | units[i][j]);
    }
    std::sort(keys.begin(), keys.end());
    std::vector<std::uint32_t> offsets(n_steps + 1, 0), want_units;
    std::vector<float> want_values;
    for (std::size_t j = 0; j < keys.size();) {
      std::size_t e = j;
      while (e < keys.size() && keys[e] == keys[j]) ++e;
      want_units.push_back(static_cast<std::uint32_t>(keys[j] & 0xFFFFFFFFu));
      want_values.push_back(static_cast<float>(e - j));
      ++offsets[(keys[j] >> 32) + 1];
      j = e;
    }
    for (std::size_t t = 0; t < n_steps; ++t) offsets[t + 1] += offsets[t];
    a->fill(i, 0, got);
    b->fill(i, 0, got_b);
    ASSERT_EQ(got.offsets, offsets) << "sample " << i;
    ASSERT_EQ(got.units, want_units) << "sample " << i;
    ASSERT_EQ(got.values, want_values) << "sample " << i;
    ASSERT_EQ(got_b.offsets, offsets) << "sample " << i;
    ASSERT_EQ(got_b.units, want_units) << "sample " << i;
    ASSERT_EQ(got_b.values, want_values) << "sample " << i;
    EXPECT_EQ(a->label(i), labels[i]);
  }
}

TEST(Shd, SpikesAfterTheWindowAreDropped) {
  TempDir dir;
  const std::string path = dir / "late.h5";
  write_shd(path, {{0.0029, 0.00301, 0.5, 1e30, std::numeric_limits<double>::infinity()}},
            {{1, 2, 3, 4, 5}}, {0});
  volley::train::SampleEvents out;
  const auto short_window = read_shd(path, options(1e-3, 3));
  short_window->fill(0, 0, out);
  EXPECT_EQ(out.offsets, (std::vector<std::uint32_t>{0, 0, 0, 1}));
  EXPECT_EQ(out.units, (std::vector<std::uint32_t>{1}));
  const auto long_window = read_shd(path, options(1e-3, 1000));
  long_window->fill(0, 0, out);
  EXPECT_EQ(out.units, (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(out.offsets[501] - out.offsets[500], 1u);
}

TEST(Shd, LimitAndSpeakers) {
  TempDir dir;
  const Small s;
  const std::string with = dir / "with.h5", without = dir / "without.h5";
  write_shd(with, s.times, s.units, s.labels, &s.speakers);
  write_shd(without, s.times, s.units, s.labels);
  ShdOptions o = options();
  o.limit = 2;
  std::vector<int> speakers;
  const auto ev = read_shd(with, o, &speakers);
  EXPECT_EQ(ev->size(), 2u);
  EXPECT_EQ(speakers, (std::vector<int>{1, 2}));
  o.limit = 10;
  EXPECT_EQ(read_shd(with, o)->size(), 3u);
  speakers = {7};
  EXPECT_EQ(read_shd(without, options(), &speakers)->size(), 3u);
  EXPECT_TRUE(speakers.empty());
}

TEST(Shd, EmptyFile) {
  TempDir dir;
  const std::string path = dir / "empty.h5";
  write_shd(path, {}, {}, {});
  EXPECT_EQ(read_shd(path, options())->size(), 0u);
}

TEST(Shd, WrittenLayoutMatchesThePublishedFiles) {
  TempDir dir;
  const Small s;
  const std::string path = dir / "layout.h5";
  write_shd(path, s.times, s.units, s.labels, &s.speakers);
  H file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  ASSERT_GE(file.id, 0);
  auto type_of = [&](const char* name, bool vlen) {
    H ds{H5Dopen2(file, name, H5P_DEFAULT), H5Dclose};
    EXPECT_GE(ds.id, 0) << name;
    H t{H5Dget_type(ds), H5Tclose};
    EXPECT_EQ(H5Tget_class(t) == H5T_VLEN, vlen) << name;
    return vlen ? H5Tget_super(t) : H5Tcopy(t);
  };
  H times{type_of("spikes/times", true), H5Tclose};
  EXPECT_EQ(H5Tget_class(times), H5T_FLOAT);
  EXPECT_EQ(H5Tget_size(times), 4u);
  H units{type_of("spikes/units", true), H5Tclose};
  EXPECT_EQ(H5Tget_class(units), H5T_INTEGER);
  EXPECT_EQ(H5Tget_size(units), 2u);
  EXPECT_EQ(H5Tget_sign(units), H5T_SGN_NONE);
  for (const char* name : {"labels", "extra/speaker"}) {
    H t{type_of(name, false), H5Tclose};
    EXPECT_EQ(H5Tget_class(t), H5T_INTEGER) << name;
    EXPECT_EQ(H5Tget_size(t), 1u) << name;
    EXPECT_EQ(H5Tget_sign(t), H5T_SGN_NONE) << name;
  }
}

TEST(Shd, ReadsHalfPrecisionTimesAndIntLabels) {
  // h5py stores float16 as a custom 16-bit float type; SHD files written that way must read.
  TempDir dir;
  const std::string path = dir / "f16.h5";
  {
    H file{H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose};
    ASSERT_GE(file.id, 0);
    H spikes{H5Gcreate2(file, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose};
    H f16{H5Tcopy(H5T_IEEE_F32LE), H5Tclose};
    ASSERT_GE(H5Tset_fields(f16, 15, 10, 5, 0, 10), 0);
    ASSERT_GE(H5Tset_size(f16, 2), 0);
    ASSERT_GE(H5Tset_ebias(f16, 15), 0);
    // 0.0625 = 2^-4 and 0.75 are exact in half precision.
    put_vlen<double>(spikes, "times", f16, H5T_NATIVE_DOUBLE, {{0.0625, 0.75, 0.0625}, {0.75}});
    put_vlen<std::int32_t>(spikes, "units", H5T_STD_I32LE, H5T_NATIVE_INT32, {{10, 11, 10}, {0}});
    put_plain<std::int64_t>(file, "labels", H5T_STD_I64LE, H5T_NATIVE_INT64, {3, 7});
  }
  const auto ev = read_shd(path, options(0.01, 100));
  ASSERT_EQ(ev->size(), 2u);
  EXPECT_EQ(ev->label(1), 7);
  volley::train::SampleEvents out;
  ev->fill(0, 0, out);
  EXPECT_EQ(out.offsets[7] - out.offsets[6], 1u);  // 0.0625 / 0.01 = 6.25
  EXPECT_EQ(out.units[out.offsets[6]], 10u);
  EXPECT_EQ(out.values[out.offsets[6]], 2.0f);
  EXPECT_EQ(out.offsets[76] - out.offsets[75], 1u);  // 0.75 / 0.01 = 75
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(ev->total_events(), 3u);
}

// ---- errors ----

TEST(Shd, MissingFile) {
  TempDir dir;
  const std::string path = dir / "nope.h5";
  EXPECT_THAT(error_of([&] { read_shd(path, options()); }),
              AllOf(HasSubstr(path), HasSubstr("no such file")));
}

TEST(Shd, NotHdf5) {
  TempDir dir;
  const std::string path = dir / "text.h5";
  std::ofstream(path) << "this is not HDF5\n";
  EXPECT_THAT(error_of([&] { read_shd(path, options()); }),
              AllOf(HasSubstr(path), HasSubstr("not an HDF5 file")));
}

TEST(Shd, MissingDatasets) {
  TempDir dir;
  const Small s;
  for (const char* name : {"spikes/units", "spikes/times", "labels"}) {
    const std::string path = dir / "missing.h5";
    write_shd(path, s.times, s.units, s.labels);
    edit_file(path, [&](hid_t f) { ASSERT_GE(H5Ldelete(f, name, H5P_DEFAULT), 0); });
    EXPECT_THAT(
        error_of([&] { read_shd(path, options()); }),
        AllOf(HasSubstr(path), HasSubstr(std::string("'") + name + "'"), HasSubstr("missing")));
  }
  // Without the whole group.
  const std::string path = dir / "nogroup.h5";
  write_shd(path, s.times, s.units, s.labels);
  edit_file(path, [](hid_t f) { ASSERT_GE(H5Ldelete(f, "spikes", H5P_DEFAULT), 0); });
  EXPECT_THAT(error_of([&] { read_shd(path, options()); }),
              AllOf(HasSubstr(path), HasSubstr("'spikes/times'"), HasSubstr("missing")));
}

TEST(Shd, TimesAndUnitsLengthMismatchInASample) {
  TempDir dir;
  const Small s;
  const std::string path = dir / "mismatch.h5";
  write_shd(path, s.times, s.units, s.labels);
  edit_file(path, [](hid_t f) {
    ASSERT_GE(H5Ldelete(f, "spikes/units", H5P_DEFAULT), 0);
    H g{H5Gopen2(f, "spikes", H5P_DEFAULT), H5Gclose};
    put_vlen<std::uint16_t>(g, "units", H5T_STD_U16LE, H5T_NATIVE_UINT16,
                            {{3, 1, 1, 1, 2, 0, 4}, {}, {699}});
  });
  EXPECT_THAT(error_of([&] { read_shd(path, options()); }),
              AllOf(HasSubstr(path), HasSubstr("sample 2"), HasSubstr("2 spikes in 'spikes/times'"),
                    HasSubstr("1 in 'spikes/units'")));
}

TEST(Shd, SampleCountMismatch) {
  TempDir dir;
  const Small s;
  const std::string path = dir / "labels.h5";
  write_shd(path, s.times, s.units, s.labels);
  edit_file(path, [](hid_t f) {
    ASSERT_GE(H5Ldelete(f, "labels", H5P_DEFAULT), 0);
    put_plain<std::uint8_t>(f, "labels", H5T_STD_U8LE, H5T_NATIVE_UINT8, {1, 2, 3, 4});
  });
  EXPECT_THAT(error_of([&] { read_shd(path, options()); }),
              AllOf(HasSubstr(path), HasSubstr("'labels' has 4 entries"), HasSubstr("3 samples")));

  const std::string units = dir / "units.h5";
  write_shd(units, s.times, s.units, s.labels);
  edit_file(units, [](hid_t f) {
    ASSERT_GE(H5Ldelete(f, "spikes/units", H5P_DEFAULT), 0);
    H g{H5Gopen2(f, "spikes", H5P_DEFAULT), H5Gclose};
    put_vlen<std::uint16_t>(g, "units", H5T_STD_U16LE, H5T_NATIVE_UINT16, {{1}, {2}});
  });
  EXPECT_THAT(error_of([&] { read_shd(units, options()); }),
              AllOf(HasSubstr(units), HasSubstr("'spikes/times' has 3 samples"),
                    HasSubstr("'spikes/units' has 2")));

  const std::string spk = dir / "speakers.h5";
  const std::vector<int> speakers{1, 2, 3};
  write_shd(spk, s.times, s.units, s.labels, &speakers);
  edit_file(spk, [](hid_t f) {
    ASSERT_GE(H5Ldelete(f, "extra/speaker", H5P_DEFAULT), 0);
    H g{H5Gopen2(f, "extra", H5P_DEFAULT), H5Gclose};
    put_plain<std::uint8_t>(g, "speaker", H5T_STD_U8LE, H5T_NATIVE_UINT8, {1});
  });
  std::vector<int> got;
  EXPECT_THAT(error_of([&] { read_shd(spk, options(), &got); }),
              AllOf(HasSubstr(spk), HasSubstr("'extra/speaker' has 1 entries")));
  EXPECT_EQ(read_shd(spk, options())->size(), 3u);  // ignored unless asked for
}

TEST(Shd, UnitOutOfRange) {
  TempDir dir;
  const std::string path = dir / "units.h5";
  write_shd(path, {{0.001}, {0.001, 0.002}}, {{5}, {699, 700}}, {0, 1});
  EXPECT_THAT(error_of([&] { read_shd(path, options()); }),
              AllOf(HasSubstr(path), HasSubstr("sample 1"), HasSubstr("'spikes/units'[1] = 700"),
                    HasSubstr("n_inputs 700")));
  ShdOptions wide = options();
  wide.n_inputs = 701;
  EXPECT_EQ(read_shd(path, wide)->size(), 2u);
  // Negative units (signed storage) are reported, not wrapped.
  const std::string neg = dir / "negative.h5";
  {
    H file{H5Fcreate(neg.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose};
    H spikes{H5Gcreate2(file, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose};
    put_vlen<float>(spikes, "times", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {{0.001f}});
    put_vlen<std::int16_t>(spikes, "units", H5T_STD_I16LE, H5T_NATIVE_INT16, {{-3}});
    put_plain<std::uint8_t>(file, "labels", H5T_STD_U8LE, H5T_NATIVE_UINT8, {0});
  }
  EXPECT_THAT(error_of([&] { read_shd(neg, options()); }),
              AllOf(HasSubstr(neg), HasSubstr("sample 0"), HasSubstr("= -3")));
}

TEST(Shd, LabelOutOfRange) {
  TempDir dir;
  const std::string path = dir / "labels.h5";
  write_shd(path, {{}, {}, {}}, {{}, {}, {}}, {0, 19, 20});
  EXPECT_THAT(error_of([&] { read_shd(path, options()); }),
              AllOf(HasSubstr(path), HasSubstr("'labels'"), HasSubstr("sample 2"),
                    HasSubstr("label 20"), HasSubstr("[0, 20)")));
  ShdOptions o = options();
  o.limit = 2;  // the bad sample is not read
  EXPECT_EQ(read_shd(path, o)->size(), 2u);
}

TEST(Shd, NegativeOrNanTime) {
  TempDir dir;
  const std::string neg = dir / "negative.h5", nan = dir / "nan.h5";
  write_shd(neg, {{0.001}, {0.002, -0.001}}, {{1}, {2, 3}}, {0, 0});
  EXPECT_THAT(error_of([&] { read_shd(neg, options()); }),
              AllOf(HasSubstr(neg), HasSubstr("sample 1"), HasSubstr("'spikes/times'[1]"),
                    HasSubstr("negative")));
  write_shd(nan, {{std::nan("")}}, {{1}}, {0});
  EXPECT_THAT(error_of([&] { read_shd(nan, options()); }),
              AllOf(HasSubstr(nan), HasSubstr("sample 0"), HasSubstr("'spikes/times'[0]"),
                    HasSubstr("NaN")));
}

TEST(Shd, WrongDatasetTypes) {
  TempDir dir;
  const std::string path = dir / "types.h5";
  {
    H file{H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose};
    H spikes{H5Gcreate2(file, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose};
    put_plain<double>(spikes, "times", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {0.1});
    put_vlen<std::uint16_t>(spikes, "units", H5T_STD_U16LE, H5T_NATIVE_UINT16, {{1}});
    put_plain<std::uint8_t>(file, "labels", H5T_STD_U8LE, H5T_NATIVE_UINT8, {0});
  }
  EXPECT_THAT(error_of([&] { read_shd(path, options()); }),
              AllOf(HasSubstr(path), HasSubstr("'spikes/times'"), HasSubstr("variable-length")));
}

TEST(Shd, InvalidOptions) {
  TempDir dir;
  const std::string path = dir / "ok.h5";
  write_shd(path, {{}}, {{}}, {0});
  ShdOptions o = options();
  o.dt = 0;
  EXPECT_THAT(error_of<ParameterError>([&] { read_shd(path, o); }), HasSubstr("dt"));
  o = options();
  o.n_steps = 0;
  EXPECT_THAT(error_of<ParameterError>([&] { read_shd(path, o); }), HasSubstr("n_steps"));
  o = options();
  o.n_inputs = 0;
  EXPECT_THAT(error_of<ParameterError>([&] { read_shd(path, o); }), HasSubstr("n_inputs"));
  o = options();
  o.n_classes = 0;
  EXPECT_THAT(error_of<ParameterError>([&] { read_shd(path, o); }), HasSubstr("n_classes"));
}

TEST(Shd, WriteValidatesAndLeavesNothingBehind) {
  TempDir dir;
  const std::string path = dir / "bad.h5";
  EXPECT_THAT(error_of<ParameterError>([&] {
                write_shd(path, {{0.1}}, {{1, 2}}, {0});
              }),
              HasSubstr("sample 0"));
  EXPECT_THROW(write_shd(path, {{0.1}}, {{1}}, {0, 1}), ParameterError);
  EXPECT_THAT(error_of<ParameterError>([&] { write_shd(path, {{0.1}}, {{70000}}, {0}); }),
              HasSubstr("unit 70000"));
  EXPECT_THAT(error_of<ParameterError>([&] { write_shd(path, {{0.1}}, {{1}}, {256}); }),
              HasSubstr("label 256"));
  const std::vector<int> speakers{-1};
  EXPECT_THAT(error_of<ParameterError>([&] { write_shd(path, {{0.1}}, {{1}}, {0}, &speakers); }),
              HasSubstr("speaker -1"));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".partial"));
  // An unwritable destination is an IoError naming it.
  const std::string nowhere = dir / "no-such-dir/x.h5";
  EXPECT_THAT(error_of([&] { write_shd(nowhere, {{0.1}}, {{1}}, {0}); }),
              HasSubstr(nowhere + ".partial"));
}

TEST(Shd, WriteReplacesAnExistingFile) {
  TempDir dir;
  const std::string path = dir / "replace.h5";
  write_shd(path, {{0.001}}, {{1}}, {0});
  write_shd(path, {{0.001}, {0.002}}, {{1}, {2}}, {3, 4});
  const auto ev = read_shd(path, options());
  ASSERT_EQ(ev->size(), 2u);
  EXPECT_EQ(ev->label(1), 4);
}
