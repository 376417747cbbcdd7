// IDX reader (MNIST / Fashion-MNIST files, gzip-compressed or not) and the Fashion-MNIST loader.
// zlib's gz* functions read gzip and plain files alike, so there is one read path; the content
// decides how a file is treated, never its name.
#include "volley/data/idx.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

#include "volley/error.hpp"

namespace volley::data {
namespace {

namespace fs = std::filesystem;

// Closes a gzFile.
struct GzClose {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzClose>;

struct FileBytes {
  std::vector<std::uint8_t> bytes;  // decompressed when the file is gzip
  bool compressed = false;
};

// The whole (decompressed) content of a file.
FileBytes read_all(const std::string& path) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (!fs::exists(st)) throw IoError(fmt::format("IDX file '{}': no such file", path));
  if (!fs::is_regular_file(st))
    throw IoError(fmt::format("IDX file '{}': not a regular file", path));
  errno = 0;
  GzFile f(gzopen(path.c_str(), "rb"));
  if (!f)
    throw IoError(fmt::format("IDX file '{}': cannot open: {}", path,
                              errno ? std::strerror(errno) : "out of memory"));
  gzbuffer(f.get(), 1u << 17);
  FileBytes out;
  constexpr unsigned kChunk = 1u << 20;
  for (;;) {
    const std::size_t old = out.bytes.size();
    out.bytes.resize(old + kChunk);
    const int got = gzread(f.get(), out.bytes.data() + old, kChunk);
    if (got < 0) {
      int errnum = 0;
      const char* msg = gzerror(f.get(), &errnum);
      throw IoError(fmt::format("IDX file '{}': corrupt gzip data ({})", path,
                                errnum == Z_ERRNO ? std::strerror(errno) : msg));
    }
    out.bytes.resize(old + static_cast<std::size_t>(got));
    if (got == 0) break;
  }
  int errnum = Z_OK;
  gzerror(f.get(), &errnum);
  if (errnum == Z_BUF_ERROR)
    throw IoError(fmt::format(
        "IDX file '{}': the gzip stream ends early (file truncated after {} decompressed bytes)",
        path, out.bytes.size()));
  out.compressed = gzdirect(f.get()) == 0;
  return out;
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// Name of an IDX data-type code, or nullptr for an unknown code.
const char* type_name(std::uint8_t code) {
  switch (code) {
    case 0x08:
      return "uint8";
    case 0x09:
      return "int8";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return nullptr;
  }
}

// "uint8, 3-D" for a magic number (callers make sure the type code is known).
std::string describe_magic(std::uint32_t magic) {
  const char* t = type_name(static_cast<std::uint8_t>(magic >> 8));
  return fmt::format("{}, {}-D", t ? t : "unknown type", magic & 0xFFu);
}

std::string expected_magic_text(std::uint32_t expected) {
  if (expected != 0) return fmt::format("0x{:08X} ({})", expected, describe_magic(expected));
  return fmt::format("0x{:08X} (uint8 labels) or 0x{:08X} (uint8 images)", kIdxLabelsMagic,
                     kIdxImagesMagic);
}

}  // namespace

IdxArray read_idx(const std::string& path, std::uint32_t expected_magic) {
  FileBytes file = read_all(path);
  auto& b = file.bytes;
  const char* after = file.compressed ? " (after decompression)" : "";

  if (b.size() < 4 || b[0] != 0 || b[1] != 0) {
    const std::string start =
        b.size() < 4 ? fmt::format("{} bytes, too short for the 4-byte magic number", b.size())
                     : fmt::format("it starts with 0x{:08X}", be32(b.data()));
    throw IoError(fmt::format("IDX file '{}': {} ({}; IDX files start with {})", path,
                              file.compressed ? "gzip-compressed but the content is not IDX data"
                                              : "neither gzip-compressed nor IDX data",
                              start, expected_magic_text(expected_magic)));
  }
  const std::uint32_t magic = be32(b.data());
  const std::uint8_t type = b[2], ndims = b[3];
  if (!type_name(type) || ndims == 0)
    throw IoError(fmt::format("IDX file '{}': wrong magic number 0x{:08X} ({}), expected {}", path,
                              magic, ndims == 0 ? "zero dimensions" : "unknown data type",
                              expected_magic_text(expected_magic)));
  if (type != 0x08)
    throw IoError(fmt::format(
        "IDX file '{}': data type {} (code 0x{:02X}) is not supported, only uint8 (code 0x08)",
        path, type_name(type), type));
  if (expected_magic != 0 && magic != expected_magic)
    throw IoError(fmt::format("IDX file '{}': wrong magic number 0x{:08X} ({}), expected {}", path,
                              magic, describe_magic(magic), expected_magic_text(expected_magic)));

  const std::size_t header = 4 + 4 * std::size_t{ndims};
  if (b.size() < header)
    throw IoError(
        fmt::format("IDX file '{}': truncated header: {} dimensions need {} bytes, found {}{}",
                    path, ndims, header, b.size(), after));
  IdxArray out;
  out.dims.resize(ndims);
  std::uint64_t expected = 1;
  bool overflow = false;
  std::string shape;
  for (std::size_t d = 0; d < ndims; ++d) {
    out.dims[d] = be32(b.data() + 4 + 4 * d);
    shape += fmt::format("{}{}", d ? "x" : "", out.dims[d]);
    if (out.dims[d] != 0 && expected > std::numeric_limits<std::uint64_t>::max() / out.dims[d])
      overflow = true;
    else
      expected *= out.dims[d];
  }
  const std::size_t found = b.size() - header;
  if (overflow || expected > found)
    throw IoError(fmt::format(
        "IDX file '{}': truncated data: shape {} needs {} bytes after the header, found {}{}", path,
        shape, overflow ? std::string("more than 2^64") : std::to_string(expected), found, after));
  if (expected < found)
    throw IoError(
        fmt::format("IDX file '{}': {} bytes of trailing data after the {} bytes of shape {}{}",
                    path, found - expected, expected, shape, after));

  // Drop the header in place rather than copying the (possibly large) data.
  b.erase(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(header));
  out.data = std::move(b);
  return out;
}

ImageSet load_fashion_mnist(const std::string& dir, bool train, std::size_t limit) {
  constexpr const char* kHint =
      "install it with `apt-get install dataset-fashion-mnist` or pass the directory holding the "
      "IDX files";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw IoError(fmt::format("Fashion-MNIST directory '{}' not found; {}", dir, kHint));

  // Prefer the .gz file, fall back to the uncompressed one.
  auto locate = [&](const std::string& base) {
    const fs::path plain = fs::path(dir) / base;
    const fs::path gz = fs::path(dir) / (base + ".gz");
    if (fs::exists(gz, ec)) return gz.string();
    if (fs::exists(plain, ec)) return plain.string();
    throw IoError(fmt::format("Fashion-MNIST file '{}' (or '{}') not found; {}", gz.string(),
                              plain.string(), kHint));
  };
  const std::string prefix = train ? "train" : "t10k";
  const std::string images_path = locate(prefix + "-images-idx3-ubyte");
  const std::string labels_path = locate(prefix + "-labels-idx1-ubyte");

  IdxArray images = read_idx(images_path, kIdxImagesMagic);
  IdxArray labels = read_idx(labels_path, kIdxLabelsMagic);
  if (images.dims[0] != labels.dims[0])
    throw IoError(fmt::format("Fashion-MNIST: '{}' has {} images but '{}' has {} labels",
                              images_path, images.dims[0], labels_path, labels.dims[0]));
  if (images.dims[1] == 0 || images.dims[2] == 0)
    throw IoError(fmt::format("Fashion-MNIST: '{}' has empty images ({}x{} pixels)", images_path,
                              images.dims[1], images.dims[2]));
  for (std::size_t i = 0; i < labels.data.size(); ++i)
    if (labels.data[i] >= 10)
      throw IoError(fmt::format("Fashion-MNIST: '{}': sample {} has label {}, must be in [0, 10)",
                                labels_path, i, labels.data[i]));

  ImageSet set;
  set.n = images.dims[0];
  set.rows = images.dims[1];
  set.cols = images.dims[2];
  if (limit > 0) set.n = std::min(set.n, limit);
  images.data.resize(set.n * set.rows * set.cols);
  labels.data.resize(set.n);
  set.pixels = std::move(images.data);
  set.labels = std::move(labels.data);
  return set;
}

}  // namespace volley::data
