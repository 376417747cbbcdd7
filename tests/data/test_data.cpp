// The data layer (volley::data): build_sample, StoredEvents, the IDX reader (raw and gzip, every error case),
// the Fashion-MNIST loader, and the latency and Poisson image encoders.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "volley/error.hpp"
#include "volley/data/events.hpp"
#include "volley/data/encoders.hpp"
#include "volley/data/idx.hpp"
#include "support/error_of.hpp"
#include "support/temp_dir.hpp"

using namespace volley;
using namespace volley::data;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

using volley::test::TempDir;

void write_raw(const std::string& path, const Bytes& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good()) << path;
}

void write_gz(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

Bytes read_raw(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void put_be32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

// An IDX file: magic, big-endian dims, then the payload as given (which may be wrong on purpose).
Bytes idx_bytes(std::uint32_t magic, const std::vector<std::uint32_t>& dims, const Bytes& payload) {
  Bytes b;
  put_be32(b, magic);
  for (const auto d : dims) put_be32(b, d);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes iota_bytes(std::size_t n, std::uint8_t start = 0) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(start + i);
  return b;
}

using volley::test::error_of;

SampleEvents sample_of(std::vector<std::uint32_t> offsets, std::vector<std::uint32_t> units,
                       std::vector<float> values = {}) {
  SampleEvents s;
  s.offsets = std::move(offsets);
  s.units = std::move(units);
  s.values = values.empty() ? std::vector<float>(s.units.size(), 1.0f) : std::move(values);
  return s;
}

}  // namespace

// ---- build_sample ----

TEST(BuildSample, CountingSortIsStableWithinAStep) {
  const std::vector<std::uint32_t> steps{2, 0, 2, 1, 0, 2};
  const std::vector<std::uint32_t> units{5, 1, 3, 2, 4, 5};
  const std::vector<float> values{1, 2, 3, 4, 5, 6};
  SampleEvents out;
  out.units = {99};  // stale content is discarded
  build_sample(steps, units, values, 4, out);
  EXPECT_EQ(out.n_steps(), 4u);
  EXPECT_EQ(out.offsets, (std::vector<std::uint32_t>{0, 2, 3, 6, 6}));
  EXPECT_EQ(out.units, (std::vector<std::uint32_t>{1, 4, 2, 5, 3, 5}));
  EXPECT_EQ(out.values, (std::vector<float>{2, 5, 4, 1, 3, 6}));
}

TEST(BuildSample, EmptyInputGivesEmptySteps) {
  SampleEvents out;
  build_sample({}, {}, {}, 3, out);
  EXPECT_EQ(out.offsets, (std::vector<std::uint32_t>{0, 0, 0, 0}));
  EXPECT_EQ(out.size(), 0u);
}

TEST(BuildSample, RejectsStepOutOfRange) {
  const std::vector<std::uint32_t> steps{0, 3}, units{0, 1};
  const std::vector<float> values{1, 1};
  SampleEvents out;
  const auto msg = error_of<ParameterError>([&] { build_sample(steps, units, values, 3, out); });
  EXPECT_THAT(msg, AllOf(HasSubstr("event 1"), HasSubstr("step 3"), HasSubstr("n_steps 3")));
}

TEST(BuildSample, RejectsLengthMismatch) {
  const std::vector<std::uint32_t> steps{0, 1}, units{0};
  const std::vector<float> values{1, 1};
  SampleEvents out;
  EXPECT_THROW(build_sample(steps, units, values, 3, out), ParameterError);
}

// ---- StoredEvents ----

TEST(StoredEvents, ConstructorValidatesSizes) {
  EXPECT_THAT(error_of<ParameterError>([] { StoredEvents(0, 10, 2, "d"); }), HasSubstr("n_inputs"));
  EXPECT_THAT(error_of<ParameterError>([] { StoredEvents(5, 0, 2, "d"); }), HasSubstr("n_steps"));
  EXPECT_THAT(error_of<ParameterError>([] { StoredEvents(5, 10, 0, "d"); }),
              HasSubstr("n_classes"));
}

TEST(StoredEvents, AddFillAndTruncate) {
  StoredEvents ev(8, 4, 3, "synthetic");
  EXPECT_EQ(ev.description(), "synthetic");
  ev.add(sample_of({0, 1, 1, 3, 3}, {7, 0, 2}, {1.0f, 2.0f, 0.5f}), 2);
  ev.add(sample_of({0, 0, 0, 0, 0}, {}), 0);
  ev.add(sample_of({0, 2, 2, 2, 3}, {1, 3, 4}), 1);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev.n_inputs(), 8u);
  EXPECT_EQ(ev.n_steps(), 4u);
  EXPECT_EQ(ev.n_classes(), 3u);
  EXPECT_EQ(ev.total_events(), 6u);
  EXPECT_EQ(ev.label(0), 2);
  EXPECT_EQ(ev.label(2), 1);

  SampleEvents out;
  ev.fill(0, 0, out);
  EXPECT_EQ(out.offsets, (std::vector<std::uint32_t>{0, 1, 1, 3, 3}));
  EXPECT_EQ(out.units, (std::vector<std::uint32_t>{7, 0, 2}));
  EXPECT_EQ(out.values, (std::vector<float>{1.0f, 2.0f, 0.5f}));
  ev.fill(1, 5, out);  // reuses the buffer; epoch is irrelevant
  EXPECT_EQ(out.offsets, (std::vector<std::uint32_t>{0, 0, 0, 0, 0}));
  EXPECT_TRUE(out.units.empty());
  ev.fill(2, 0, out);
  EXPECT_EQ(out.offsets, (std::vector<std::uint32_t>{0, 2, 2, 2, 3}));
  EXPECT_EQ(out.units, (std::vector<std::uint32_t>{1, 3, 4}));

  ev.truncate(10);
  EXPECT_EQ(ev.size(), 3u);
  ev.truncate(1);
  EXPECT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev.total_events(), 3u);
  ev.fill(0, 0, out);
  EXPECT_EQ(out.units, (std::vector<std::uint32_t>{7, 0, 2}));
  // Adding after truncation continues cleanly.
  ev.add(sample_of({0, 0, 1, 1, 1}, {5}), 0);
  ev.fill(1, 0, out);
  EXPECT_EQ(out.offsets, (std::vector<std::uint32_t>{0, 0, 1, 1, 1}));
  EXPECT_EQ(out.units, (std::vector<std::uint32_t>{5}));
}

TEST(StoredEvents, AcceptsShorterAndEmptySamples) {
  StoredEvents ev(4, 5, 2, "d");
  ev.add(sample_of({0, 1, 2}, {0, 3}), 1);  // two steps only
  ev.add(SampleEvents{}, 0);                // no steps at all
  SampleEvents out;
  ev.fill(0, 0, out);
  EXPECT_EQ(out.offsets, (std::vector<std::uint32_t>{0, 1, 2, 2, 2, 2}));
  ev.fill(1, 0, out);
  EXPECT_EQ(out.n_steps(), 5u);
  EXPECT_EQ(out.size(), 0u);
}

TEST(StoredEvents, AddRejectsBadSamplesNamingThem) {
  StoredEvents ev(4, 3, 2, "mydata");
  ev.add(sample_of({0, 1, 1, 1}, {0}), 0);
  // unit out of range, in what would be sample 1
  auto msg = error_of<ParameterError>([&] { ev.add(sample_of({0, 1, 2, 2}, {1, 7}), 1); });
  EXPECT_THAT(msg, AllOf(HasSubstr("mydata"), HasSubstr("sample 1"), HasSubstr("unit 7"),
                         HasSubstr("n_inputs 4")));
  // an event at step 3 of a 3-step set
  msg = error_of<ParameterError>([&] { ev.add(sample_of({0, 0, 0, 0, 1}, {2}), 1); });
  EXPECT_THAT(msg, AllOf(HasSubstr("sample 1"), HasSubstr("step 3"), HasSubstr("n_steps 3")));
  // labels outside [0, 2)
  msg = error_of<ParameterError>([&] { ev.add(sample_of({0, 0, 0, 0}, {}), 2); });
  EXPECT_THAT(msg, AllOf(HasSubstr("sample 1"), HasSubstr("label 2")));
  msg = error_of<ParameterError>([&] { ev.add(sample_of({0, 0, 0, 0}, {}), -1); });
  EXPECT_THAT(msg, AllOf(HasSubstr("sample 1"), HasSubstr("label -1")));
  // inconsistent buffers
  EXPECT_THROW(ev.add(sample_of({0, 2, 1, 2}, {0, 1}), 0), ParameterError);
  EXPECT_THROW(ev.add(sample_of({0, 1, 1, 1}, {0, 1}), 0), ParameterError);
  EXPECT_THROW(ev.add(sample_of({0, 1, 1, 1}, {0}, {1.0f, 2.0f}), 0), ParameterError);
  // nothing was added by the failed calls
  EXPECT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev.total_events(), 1u);
}

// ---- IDX reader ----

TEST(Idx, ReadsRawAndGzipFiles) {
  TempDir dir;
  const Bytes pixels = iota_bytes(2 * 3 * 4, 10);
  const Bytes image_file = idx_bytes(kIdxImagesMagic, {2, 3, 4}, pixels);
  const Bytes label_file = idx_bytes(kIdxLabelsMagic, {5}, {3, 1, 4, 1, 5});
  write_raw(dir / "images", image_file);
  write_gz(dir / "images.gz", image_file);
  write_raw(dir / "labels.gz", label_file);  // the name does not decide, the content does
  write_gz(dir / "labels", label_file);
  for (const char* name : {"images", "images.gz"}) {
    const IdxArray a = read_idx(dir / name, kIdxImagesMagic);
    EXPECT_EQ(a.dims, (std::vector<std::uint32_t>{2, 3, 4})) << name;
    EXPECT_EQ(a.data, pixels) << name;
  }
  for (const char* name : {"labels", "labels.gz"}) {
    const IdxArray a = read_idx(dir / name);
    EXPECT_EQ(a.dims, (std::vector<std::uint32_t>{5})) << name;
    EXPECT_EQ(a.data, (Bytes{3, 1, 4, 1, 5})) << name;
  }
}

TEST(Idx, ReadsOtherUint8ShapesAndEmptyArrays) {
  TempDir dir;
  write_gz(dir / "a.gz", idx_bytes(0x00000802, {2, 2}, {1, 2, 3, 4}));
  EXPECT_EQ(read_idx(dir / "a.gz").dims, (std::vector<std::uint32_t>{2, 2}));
  write_raw(dir / "b", idx_bytes(kIdxLabelsMagic, {0}, {}));
  const IdxArray b = read_idx(dir / "b");
  EXPECT_EQ(b.dims, (std::vector<std::uint32_t>{0}));
  EXPECT_TRUE(b.data.empty());
}

TEST(Idx, MissingFile) {
  TempDir dir;
  const std::string path = dir / "nope-idx1-ubyte";
  EXPECT_THAT(error_of([&] { read_idx(path); }), AllOf(HasSubstr(path), HasSubstr("no such file")));
  EXPECT_THAT(error_of([&] { read_idx(dir.str()); }),
              AllOf(HasSubstr(dir.str()), HasSubstr("not a regular file")));
}

TEST(Idx, NeitherGzipNorIdx) {
  TempDir dir;
  const std::string path = dir / "text";
  write_raw(path, Bytes{'h', 'e', 'l', 'l', 'o', '\n'});
  EXPECT_THAT(error_of([&] { read_idx(path); }),
              AllOf(HasSubstr(path), HasSubstr("neither gzip-compressed nor IDX"),
                    HasSubstr("0x68656C6C"), HasSubstr("0x00000803")));
  const std::string tiny = dir / "tiny";
  write_raw(tiny, Bytes{0, 0});
  EXPECT_THAT(
      error_of([&] { read_idx(tiny); }),
      AllOf(HasSubstr(tiny), HasSubstr("neither gzip-compressed nor IDX"), HasSubstr("2 bytes")));
  const std::string empty = dir / "empty";
  write_raw(empty, Bytes{});
  EXPECT_THAT(error_of([&] { read_idx(empty); }), HasSubstr("0 bytes"));
  const std::string gz = dir / "text.gz";
  write_gz(gz, Bytes{'h', 'e', 'l', 'l', 'o', '\n'});
  EXPECT_THAT(error_of([&] { read_idx(gz); }),
              AllOf(HasSubstr(gz), HasSubstr("gzip-compressed but the content is not IDX")));
}

TEST(Idx, WrongMagicNumber) {
  TempDir dir;
  // A label file where images are expected.
  const std::string labels = dir / "labels.gz";
  write_gz(labels, idx_bytes(kIdxLabelsMagic, {3}, {0, 1, 2}));
  EXPECT_THAT(error_of([&] { read_idx(labels, kIdxImagesMagic); }),
              AllOf(HasSubstr(labels), HasSubstr("wrong magic number 0x00000801"),
                    HasSubstr("expected 0x00000803")));
  // An unknown type code, and zero dimensions.
  const std::string bad_type = dir / "bad_type";
  write_raw(bad_type, idx_bytes(0x00001203, {1, 1, 1}, {0}));
  EXPECT_THAT(error_of([&] { read_idx(bad_type); }),
              AllOf(HasSubstr(bad_type), HasSubstr("wrong magic number 0x00001203"),
                    HasSubstr("0x00000801"), HasSubstr("0x00000803")));
  const std::string no_dims = dir / "no_dims";
  write_raw(no_dims, idx_bytes(0x00000800, {}, {}));
  EXPECT_THAT(error_of([&] { read_idx(no_dims); }),
              AllOf(HasSubstr(no_dims), HasSubstr("0x00000800"), HasSubstr("zero dimensions")));
}

TEST(Idx, DataTypeOtherThanUint8) {
  TempDir dir;
  const std::string path = dir / "floats";
  write_raw(path, idx_bytes(0x00000D01, {1}, {0, 0, 0, 0}));
  EXPECT_THAT(error_of([&] { read_idx(path); }),
              AllOf(HasSubstr(path), HasSubstr("float32"), HasSubstr("not supported"),
                    HasSubstr("only uint8")));
  // Also when a specific magic number is expected: the type is the real problem.
  const std::string ints = dir / "ints.gz";
  write_gz(ints, idx_bytes(0x00000C03, {1, 1, 1}, {0, 0, 0, 1}));
  EXPECT_THAT(error_of([&] { read_idx(ints, kIdxImagesMagic); }),
              AllOf(HasSubstr(ints), HasSubstr("int32"), HasSubstr("only uint8")));
}

TEST(Idx, TruncatedData) {
  TempDir dir;
  const Bytes file = idx_bytes(kIdxImagesMagic, {2, 2, 3}, iota_bytes(10));  // 12 needed
  const std::string raw = dir / "raw", gz = dir / "data.gz";
  write_raw(raw, file);
  write_gz(gz, file);
  for (const auto& path : {raw, gz})
    EXPECT_THAT(error_of([&] { read_idx(path); }),
                AllOf(HasSubstr(path), HasSubstr("truncated"), HasSubstr("2x2x3"),
                      HasSubstr("needs 12 bytes"), HasSubstr("found 10")));
  // A header cut inside the dimensions.
  const std::string header = dir / "header";
  write_raw(header, Bytes{0, 0, 8, 3, 0, 0, 0, 2, 0, 0});
  EXPECT_THAT(error_of([&] { read_idx(header); }),
              AllOf(HasSubstr(header), HasSubstr("truncated header"), HasSubstr("16 bytes"),
                    HasSubstr("found 10")));
  // Sizes whose product overflows are truncation too, not a crash.
  const std::string huge = dir / "huge";
  write_raw(huge, idx_bytes(0x00000804, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 2}, {1}));
  EXPECT_THAT(error_of([&] { read_idx(huge); }), AllOf(HasSubstr(huge), HasSubstr("truncated")));
}

TEST(Idx, TruncatedGzipStream) {
  TempDir dir;
  const std::string full = dir / "full.gz", cut = dir / "cut.gz";
  Bytes payload(5000);
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
  write_gz(full, idx_bytes(kIdxLabelsMagic, {5000}, payload));
  Bytes compressed = read_raw(full);
  ASSERT_GT(compressed.size(), 100u);
  compressed.resize(compressed.size() / 2);
  write_raw(cut, compressed);
  EXPECT_THAT(error_of([&] { read_idx(cut); }), AllOf(HasSubstr(cut), HasSubstr("truncated")));
}

TEST(Idx, TrailingGarbage) {
  TempDir dir;
  const Bytes file = idx_bytes(kIdxLabelsMagic, {3}, {1, 2, 3, 4, 5});
  const std::string raw = dir / "raw", gz = dir / "data.gz";
  write_raw(raw, file);
  write_gz(gz, file);
  for (const auto& path : {raw, gz})
    EXPECT_THAT(
        error_of([&] { read_idx(path); }),
        AllOf(HasSubstr(path), HasSubstr("2 bytes of trailing data"), HasSubstr("3 bytes")));
}

// ---- Fashion-MNIST loader ----

namespace {

// Writes a tiny Fashion-MNIST-like set: n images of 2x3 with pixel values from `start`.
void write_set(const TempDir& dir, const std::string& prefix, std::uint32_t n_images,
               const Bytes& labels, bool gz_images, bool gz_labels, std::uint8_t start = 0) {
  const Bytes images =
      idx_bytes(kIdxImagesMagic, {n_images, 2, 3}, iota_bytes(n_images * 6, start));
  const Bytes lab = idx_bytes(kIdxLabelsMagic, {static_cast<std::uint32_t>(labels.size())}, labels);
  const std::string ip = dir / (prefix + "-images-idx3-ubyte");
  const std::string lp = dir / (prefix + "-labels-idx1-ubyte");
  if (gz_images)
    write_gz(ip + ".gz", images);
  else
    write_raw(ip, images);
  if (gz_labels)
    write_gz(lp + ".gz", lab);
  else
    write_raw(lp, lab);
}

}  // namespace

TEST(FashionMnist, LoadsTrainAndTestSetsWithLimit) {
  TempDir dir;
  write_set(dir, "train", 3, {9, 0, 4}, true, false);
  write_set(dir, "t10k", 2, {1, 2}, false, true, 100);
  const ImageSet train = load_fashion_mnist(dir.str(), true);
  EXPECT_EQ(train.n, 3u);
  EXPECT_EQ(train.rows, 2u);
  EXPECT_EQ(train.cols, 3u);
  EXPECT_EQ(train.pixels, iota_bytes(18));
  EXPECT_EQ(train.labels, (Bytes{9, 0, 4}));
  const ImageSet test = load_fashion_mnist(dir.str(), false);
  EXPECT_EQ(test.n, 2u);
  EXPECT_EQ(test.pixels, iota_bytes(12, 100));
  EXPECT_EQ(test.labels, (Bytes{1, 2}));
  const ImageSet limited = load_fashion_mnist(dir.str(), true, 2);
  EXPECT_EQ(limited.n, 2u);
  EXPECT_EQ(limited.pixels, iota_bytes(12));
  EXPECT_EQ(limited.labels, (Bytes{9, 0}));
  EXPECT_EQ(load_fashion_mnist(dir.str(), true, 100).n, 3u);
}

TEST(FashionMnist, PrefersGzipFiles) {
  TempDir dir;
  write_set(dir, "train", 1, {1}, false, false, 0);
  write_set(dir, "train", 1, {2}, true, true, 50);
  const ImageSet s = load_fashion_mnist(dir.str(), true);
  EXPECT_EQ(s.labels, (Bytes{2}));
  EXPECT_EQ(s.pixels, iota_bytes(6, 50));
}

TEST(FashionMnist, MissingDirectoryOrFilesSayHowToInstall) {
  TempDir dir;
  const std::string missing = dir / "no-such-dir";
  auto msg = error_of([&] { load_fashion_mnist(missing, true); });
  EXPECT_THAT(msg, AllOf(HasSubstr(missing), HasSubstr("apt-get install dataset-fashion-mnist"),
                         HasSubstr("pass the directory holding the IDX files")));
  msg = error_of([&] { load_fashion_mnist(dir.str(), true); });
  EXPECT_THAT(msg, AllOf(HasSubstr(dir / "train-images-idx3-ubyte"),
                         HasSubstr("apt-get install dataset-fashion-mnist")));
  write_set(dir, "train", 1, {1}, true, true);
  fs::remove(dir / "train-labels-idx1-ubyte.gz");
  msg = error_of([&] { load_fashion_mnist(dir.str(), true); });
  EXPECT_THAT(msg, AllOf(HasSubstr(dir / "train-labels-idx1-ubyte"),
                         HasSubstr("apt-get install dataset-fashion-mnist")));
}

TEST(FashionMnist, CountMismatch) {
  TempDir dir;
  write_set(dir, "train", 3, {1, 2}, true, true);
  EXPECT_THAT(error_of([&] { load_fashion_mnist(dir.str(), true); }),
              AllOf(HasSubstr(dir / "train-images-idx3-ubyte.gz"),
                    HasSubstr(dir / "train-labels-idx1-ubyte.gz"), HasSubstr("3 images"),
                    HasSubstr("2 labels")));
}

TEST(FashionMnist, LabelOutOfRange) {
  TempDir dir;
  write_set(dir, "t10k", 3, {1, 10, 2}, true, true);
  EXPECT_THAT(error_of([&] { load_fashion_mnist(dir.str(), false); }),
              AllOf(HasSubstr(dir / "t10k-labels-idx1-ubyte.gz"), HasSubstr("sample 1"),
                    HasSubstr("label 10")));
}

TEST(FashionMnist, ImagesAndLabelsSwapped) {
  TempDir dir;
  // A label file under the images name: the magic number check catches it.
  write_gz(dir / "train-images-idx3-ubyte.gz", idx_bytes(kIdxLabelsMagic, {1}, {1}));
  write_gz(dir / "train-labels-idx1-ubyte.gz", idx_bytes(kIdxLabelsMagic, {1}, {1}));
  EXPECT_THAT(error_of([&] { load_fashion_mnist(dir.str(), true); }),
              AllOf(HasSubstr("train-images-idx3-ubyte.gz"), HasSubstr("0x00000801"),
                    HasSubstr("expected 0x00000803")));
}

TEST(FashionMnist, RealDataset) {
  if (!fs::is_directory(kFashionMnistDir))
    GTEST_SKIP() << kFashionMnistDir << " not installed (apt-get install dataset-fashion-mnist)";
  const ImageSet train = load_fashion_mnist(kFashionMnistDir, true);
  EXPECT_EQ(train.n, 60000u);
  EXPECT_EQ(train.rows, 28u);
  EXPECT_EQ(train.cols, 28u);
  EXPECT_EQ(train.pixels.size(), 60000u * 784u);
  ASSERT_EQ(train.labels.size(), 60000u);
  EXPECT_EQ(train.labels[0], 9);  // ankle boot
  const ImageSet test = load_fashion_mnist(kFashionMnistDir, false);
  EXPECT_EQ(test.n, 10000u);
  EXPECT_EQ(test.labels.size(), 10000u);
  // Ten balanced classes.
  std::vector<int> counts(10, 0);
  for (const auto l : train.labels) ++counts[l];
  for (int c = 0; c < 10; ++c) EXPECT_EQ(counts[c], 6000) << "class " << c;
}

// ---- encoders ----

namespace {

ImageSet image_set(std::size_t n, std::size_t rows, std::size_t cols, Bytes pixels, Bytes labels) {
  ImageSet s;
  s.n = n;
  s.rows = rows;
  s.cols = cols;
  s.pixels = std::move(pixels);
  s.labels = std::move(labels);
  return s;
}

// The reference formula (SpyTorch's current2firing_time followed by the int cast and the
// `< n_steps` filter).
int reference_latency(int pixel, double tau, double thr, std::size_t n_steps) {
  const double x = pixel / 255.0;
  if (x < thr) return -1;
  const double xc = std::max(x, thr + 1e-7);
  const double T = tau * std::log(xc / (xc - thr));
  const int step = static_cast<int>(T);
  return T < static_cast<double>(n_steps) ? step : -1;
}

}  // namespace

TEST(LatencyEncoder, KnownValues) {
  ImageSource src(image_set(1, 1, 1, {0}, {0}), EncoderConfig{}, "latency");
  EXPECT_EQ(src.latency_step(255), 4);   // 20 ln(1 / 0.8) = 4.46
  EXPECT_EQ(src.latency_step(200), 5);   // 5.89
  EXPECT_EQ(src.latency_step(128), 10);  // 10.16
  EXPECT_EQ(src.latency_step(100), 14);  // 14.27
  EXPECT_EQ(src.latency_step(52), 79);   // 79.02
  EXPECT_EQ(src.latency_step(51), -1);   // at threshold: 290, after n_steps
  EXPECT_EQ(src.latency_step(50), -1);   // below threshold
  EXPECT_EQ(src.latency_step(0), -1);
  // With a longer window the pixel at exactly the threshold spikes (x < thr is silent, x = thr
  // is clipped to thr + 1e-7).
  EncoderConfig long_window;
  long_window.n_steps = 300;
  ImageSource src300(image_set(1, 1, 1, {0}, {0}), long_window, "latency");
  EXPECT_EQ(src300.latency_step(51), 290);
  EXPECT_EQ(src300.latency_step(50), -1);
}

TEST(LatencyEncoder, TableMatchesFormulaForAllGreyValues) {
  for (const auto& [tau, thr, n_steps] :
       {std::tuple{20.0, 0.2, std::size_t{100}}, std::tuple{5.0, 0.05, std::size_t{30}},
        std::tuple{100.0, 0.5, std::size_t{1000}}}) {
    EncoderConfig c;
    c.tau_eff = tau;
    c.threshold = thr;
    c.n_steps = n_steps;
    ImageSource src(image_set(1, 1, 1, {0}, {0}), c, "latency");
    for (int v = 0; v < 256; ++v)
      EXPECT_EQ(src.latency_step(static_cast<std::uint8_t>(v)),
                reference_latency(v, tau, thr, n_steps))
          << "pixel " << v << " tau " << tau << " thr " << thr;
  }
}

TEST(LatencyEncoder, FillGivesOneSpikePerBrightPixelInOrder) {
  // Two 2x3 images; the second is used.
  const Bytes pixels{0,   0,  0,   0,   0,   0,     // image 0
                     255, 50, 128, 255, 100, 200};  // image 1
  ImageSource src(image_set(2, 2, 3, pixels, {3, 7}), EncoderConfig{}, "fmnist-like");
  EXPECT_EQ(src.size(), 2u);
  EXPECT_EQ(src.n_inputs(), 6u);
  EXPECT_EQ(src.n_steps(), 100u);
  EXPECT_EQ(src.n_classes(), 10u);
  EXPECT_EQ(src.label(1), 7);
  EXPECT_EQ(src.description(), "fmnist-like");
  SampleEvents out;
  src.fill(1, 0, out);
  ASSERT_EQ(out.n_steps(), 100u);
  ASSERT_EQ(out.size(), 5u);
  // step 4: units 0 and 3 (255); step 5: unit 5 (200); step 10: unit 2; step 14: unit 4.
  EXPECT_EQ(out.offsets[4], 0u);
  EXPECT_EQ(out.offsets[5], 2u);
  EXPECT_EQ(out.offsets[6], 3u);
  EXPECT_EQ(out.offsets[11], 4u);
  EXPECT_EQ(out.offsets[15], 5u);
  EXPECT_EQ(out.offsets[100], 5u);
  EXPECT_EQ(out.units, (std::vector<std::uint32_t>{0, 3, 5, 2, 4}));
  EXPECT_EQ(out.values, std::vector<float>(5, 1.0f));
  // Deterministic: another epoch gives the same events.
  SampleEvents again;
  src.fill(1, 17, again);
  EXPECT_EQ(again.offsets, out.offsets);
  EXPECT_EQ(again.units, out.units);
  src.fill(0, 0, out);
  EXPECT_EQ(out.size(), 0u);
  EXPECT_EQ(out.n_steps(), 100u);
}

TEST(LatencyEncoder, ShortWindowDropsLateSpikes) {
  EncoderConfig c;
  c.n_steps = 5;
  ImageSource src(image_set(1, 1, 3, {255, 200, 128}, {0}), c, "short");
  SampleEvents out;
  src.fill(0, 0, out);
  EXPECT_EQ(out.units, (std::vector<std::uint32_t>{0}));  // 5.89 and 10.16 are >= 5
  EXPECT_EQ(out.offsets, (std::vector<std::uint32_t>{0, 0, 0, 0, 0, 1}));
}

TEST(Encoders, ValidateConfigAndImages) {
  auto make = [](EncoderConfig c) { ImageSource(image_set(1, 1, 1, {0}, {0}), c, "enc"); };
  EncoderConfig c;
  c.n_steps = 0;
  EXPECT_THAT(error_of<ParameterError>([&] { make(c); }), HasSubstr("n_steps"));
  c = {};
  c.tau_eff = 0;
  EXPECT_THAT(error_of<ParameterError>([&] { make(c); }), HasSubstr("tau_eff"));
  c.tau_eff = std::nan("");
  EXPECT_THAT(error_of<ParameterError>([&] { make(c); }), HasSubstr("tau_eff"));
  c = {};
  for (const double thr : {0.0, 1.0, -0.1, std::nan("")}) {
    c.threshold = thr;
    EXPECT_THAT(error_of<ParameterError>([&] { make(c); }), HasSubstr("threshold"));
  }
  c = {};
  for (const double r : {0.0, 1.5, std::nan("")}) {
    c.max_rate = r;
    EXPECT_THAT(error_of<ParameterError>([&] { make(c); }), HasSubstr("max_rate"));
  }
  c = {};
  c.max_rate = 1.0;  // allowed
  EXPECT_NO_THROW(make(c));

  EXPECT_THAT(error_of<ParameterError>([] {
                ImageSource(image_set(2, 1, 2, {0, 0, 0, 0}, {1, 10}), {}, "enc");
              }),
              AllOf(HasSubstr("sample 1"), HasSubstr("label 10")));
  EXPECT_NO_THROW(ImageSource(image_set(2, 1, 2, {0, 0, 0, 0}, {1, 10}), {}, "enc", 11));
  EXPECT_THROW(ImageSource(image_set(2, 1, 2, {0, 0, 0}, {1, 1}), {}, "enc"), ParameterError);
  EXPECT_THROW(ImageSource(image_set(2, 1, 2, {0, 0, 0, 0}, {1}), {}, "enc"), ParameterError);
  EXPECT_THROW(ImageSource(image_set(0, 0, 0, {}, {}), {}, "enc"), ParameterError);
  EXPECT_THROW(ImageSource(std::shared_ptr<const ImageSet>{}, {}, "enc"), ParameterError);
}

namespace {

EncoderConfig poisson_config(double max_rate, std::size_t n_steps, std::uint64_t seed = 1) {
  EncoderConfig c;
  c.kind = EncoderConfig::Kind::poisson;
  c.max_rate = max_rate;
  c.n_steps = n_steps;
  c.seed = seed;
  return c;
}

// Checks the structure of a filled sample: offsets consistent, units increasing within a step
// (so also at most one event per (step, unit)), values 1.
void expect_well_formed(const SampleEvents& s, std::size_t n_inputs) {
  ASSERT_FALSE(s.offsets.empty());
  EXPECT_EQ(s.offsets.front(), 0u);
  EXPECT_EQ(s.offsets.back(), s.size());
  EXPECT_EQ(s.values.size(), s.units.size());
  for (std::size_t t = 0; t + 1 < s.offsets.size(); ++t) {
    ASSERT_LE(s.offsets[t], s.offsets[t + 1]);
    for (std::uint32_t k = s.offsets[t]; k < s.offsets[t + 1]; ++k) {
      EXPECT_LT(s.units[k], n_inputs);
      if (k > s.offsets[t]) {
        EXPECT_LT(s.units[k - 1], s.units[k]) << "step " << t;
      }
      EXPECT_EQ(s.values[k], 1.0f);
    }
  }
}

}  // namespace

TEST(PoissonEncoder, MeanCountMatchesRate) {
  // 40x40 pixels of each of three grey values, one image per value.
  const std::size_t side = 40, n_px = side * side, n_steps = 100;
  Bytes pixels;
  const Bytes greys{255, 128, 20};
  for (const auto g : greys) pixels.insert(pixels.end(), n_px, g);
  ImageSource src(image_set(3, side, side, pixels, {0, 1, 2}), poisson_config(0.2, n_steps),
                  "poisson");
  SampleEvents out;
  for (std::size_t i = 0; i < greys.size(); ++i) {
    const double p = 0.2 * greys[i] / 255.0;
    EXPECT_DOUBLE_EQ(src.spike_probability(greys[i]), p);
    src.fill(i, 0, out);
    expect_well_formed(out, n_px);
    const double mean = p * n_steps * n_px;
    const double sd = std::sqrt(n_steps * n_px * p * (1 - p));
    EXPECT_NEAR(static_cast<double>(out.size()), mean, 5 * sd) << "grey " << int(greys[i]);
    // No drift over the window: the two halves hold about the same number of spikes.
    const double first = out.offsets[n_steps / 2], second = out.size() - first;
    EXPECT_NEAR(first - second, 0.0, 5 * sd) << "grey " << int(greys[i]);
    // Per-pixel counts have the binomial variance.
    std::vector<int> per_pixel(n_px, 0);
    for (const auto u : out.units) ++per_pixel[u];
    double m = 0, v = 0;
    for (const int c : per_pixel) m += c;
    m /= n_px;
    for (const int c : per_pixel) v += (c - m) * (c - m);
    v /= (n_px - 1);
    EXPECT_NEAR(v, n_steps * p * (1 - p), 0.15 * n_steps * p * (1 - p) + 0.05)
        << "grey " << int(greys[i]);
  }
}

TEST(PoissonEncoder, BlackPixelsAreSilentAndRateOneFiresEveryStep) {
  ImageSource src(image_set(1, 1, 3, {0, 255, 0}, {0}), poisson_config(1.0, 20), "poisson");
  SampleEvents out;
  src.fill(0, 3, out);
  ASSERT_EQ(out.size(), 20u);
  for (std::size_t t = 0; t < 20; ++t) {
    EXPECT_EQ(out.offsets[t + 1] - out.offsets[t], 1u);
    EXPECT_EQ(out.units[t], 1u);
  }
}

TEST(PoissonEncoder, SameSampleAndEpochGiveSameEvents) {
  const std::size_t n_px = 28 * 28;
  Bytes pixels(2 * n_px);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 7);
  // Image 1 equal to image 0, to show that the sample index (not the pixels) keys the draws.
  std::copy(pixels.begin(), pixels.begin() + n_px, pixels.begin() + n_px);
  ImageSource src(image_set(2, 28, 28, pixels, {0, 0}), poisson_config(0.2, 50), "poisson");
  SampleEvents a, b, c, d;
  src.fill(0, 4, a);
  src.fill(0, 4, b);
  EXPECT_GT(a.size(), 100u);
  EXPECT_EQ(a.offsets, b.offsets);
  EXPECT_EQ(a.units, b.units);
  src.fill(0, 5, c);
  EXPECT_NE(a.units, c.units);
  src.fill(1, 4, d);
  EXPECT_NE(a.units, d.units);
  // Another seed changes the events; the same seed in a new source does not.
  ImageSource same(image_set(2, 28, 28, pixels, {0, 0}), poisson_config(0.2, 50), "poisson");
  ImageSource other(image_set(2, 28, 28, pixels, {0, 0}), poisson_config(0.2, 50, 2), "poisson");
  same.fill(0, 4, b);
  EXPECT_EQ(a.units, b.units);
  other.fill(0, 4, b);
  EXPECT_NE(a.units, b.units);
  // From several threads at once, the same answer.
  std::vector<SampleEvents> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) threads.emplace_back([&src, &r] { src.fill(0, 4, r); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    EXPECT_EQ(r.offsets, a.offsets);
    EXPECT_EQ(r.units, a.units);
  }
}

TEST(PoissonEncoder, SharedImageSet) {
  auto images = std::make_shared<const ImageSet>(image_set(1, 1, 2, {255, 0}, {4}));
  ImageSource lat(images, EncoderConfig{}, "lat");
  ImageSource poi(images, poisson_config(0.5, 10), "poi");
  EXPECT_EQ(&lat.images(), &poi.images());
  EXPECT_EQ(poi.label(0), 4);
  SampleEvents out;
  lat.fill(0, 0, out);
  EXPECT_EQ(out.units, (std::vector<std::uint32_t>{0}));
}
