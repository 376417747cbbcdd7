// Checkpoint files (format in checkpoint.hpp).
#include "volley/train/checkpoint.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/atomic_file.hpp"
#include "volley/error.hpp"

namespace volley::train {
namespace {

constexpr char kMagic[8] = {'V', 'O', 'L', 'L', 'E', 'Y', 'C', 'K'};
constexpr std::uint32_t kVersion = 2;

class Writer {
 public:
  template <class T>
  void pod(const T& x) {
    const auto* p = reinterpret_cast<const char*>(&x);
    buf_.insert(buf_.end(), p, p + sizeof(T));
  }
  void str(const std::string& s) {
    pod<std::uint64_t>(s.size());
    buf_.insert(buf_.end(), s.begin(), s.end());
  }
  void floats(const std::vector<float>& v) {
    pod<std::uint64_t>(v.size());
    const auto* p = reinterpret_cast<const char*>(v.data());
    buf_.insert(buf_.end(), p, p + v.size() * sizeof(float));
  }
  void u32s(const std::vector<std::uint32_t>& v) {
    pod<std::uint64_t>(v.size());
    const auto* p = reinterpret_cast<const char*>(v.data());
    buf_.insert(buf_.end(), p, p + v.size() * sizeof(std::uint32_t));
  }
  void named(const std::vector<std::pair<std::string, std::vector<float>>>& list) {
    pod<std::uint64_t>(list.size());
    for (const auto& [name, v] : list) {
      str(name);
      floats(v);
    }
  }
  const std::vector<char>& bytes() const { return buf_; }

 private:
  std::vector<char> buf_;
};

class Reader {
 public:
  Reader(const std::vector<char>& b, std::size_t begin, std::size_t end, const std::string& path)
      : b_(b), pos_(begin), end_(end), path_(path) {}
  template <class T>
  T pod() {
    need(sizeof(T));
    T x;
    std::memcpy(&x, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return x;
  }
  std::string str() {
    const auto n = pod<std::uint64_t>();
    need(n);
    std::string s(b_.data() + pos_, n);
    pos_ += n;
    return s;
  }
  std::vector<float> floats() {
    const auto n = pod<std::uint64_t>();
    if (n > (end_ - pos_) / sizeof(float)) corrupt("an array runs past the end");
    std::vector<float> v(n);
    if (n > 0) std::memcpy(v.data(), b_.data() + pos_, n * sizeof(float));  // data() may be null
    pos_ += n * sizeof(float);
    return v;
  }
  std::vector<std::uint32_t> u32s() {
    const auto n = pod<std::uint64_t>();
    if (n > (end_ - pos_) / sizeof(std::uint32_t)) corrupt("an array runs past the end");
    std::vector<std::uint32_t> v(n);
    if (n > 0) std::memcpy(v.data(), b_.data() + pos_, n * sizeof(std::uint32_t));
    pos_ += n * sizeof(std::uint32_t);
    return v;
  }
  std::vector<std::pair<std::string, std::vector<float>>> named() {
    const auto n = pod<std::uint64_t>();
    if (n > end_ - pos_) corrupt("a list runs past the end");
    std::vector<std::pair<std::string, std::vector<float>>> out;
    for (std::uint64_t i = 0; i < n; ++i) {
      std::string name = str();
      out.emplace_back(std::move(name), floats());
    }
    return out;
  }
  bool done() const { return pos_ == end_; }
  [[noreturn]] void corrupt(std::string_view what) const {
    throw IoError(fmt::format("{}: corrupt checkpoint: {}", path_, what));
  }

 private:
  void need(std::uint64_t n) {
    if (n > end_ - pos_) corrupt("truncated record");
  }
  const std::vector<char>& b_;
  std::size_t pos_, end_;
  const std::string& path_;
};

std::uint32_t crc(const char* p, std::size_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    c = crc32(c, reinterpret_cast<const Bytef*>(p), chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<std::uint32_t>(c);
}

}  // namespace

void write_checkpoint(const std::string& path, const Checkpoint& ck) {
  Writer w;
  w.str(ck.config_name);
  w.str(ck.config_text);
  w.pod<std::uint64_t>(ck.options.size());
  for (const auto& o : ck.options) w.str(o);
  w.pod(ck.epochs_done);
  w.pod(ck.optimizer_steps);
  w.named(ck.params);
  w.named(ck.opt_m);
  w.named(ck.opt_v);
  w.pod<std::uint64_t>(ck.patterns.size());
  for (const auto& p : ck.patterns) {
    w.str(p.name);
    w.u32s(p.row_ptr);
    w.u32s(p.cols);
  }
  const auto& payload = w.bytes();
  const std::uint64_t size = payload.size();
  const std::uint32_t sum = crc(payload.data(), payload.size());
  std::string file(kMagic, sizeof kMagic);
  file.append(reinterpret_cast<const char*>(&kVersion), sizeof kVersion);
  file.append(reinterpret_cast<const char*>(&size), sizeof size);
  file.append(payload.data(), payload.size());
  file.append(reinterpret_cast<const char*>(&sum), sizeof sum);
  detail::write_file_atomically(path, file);
}

Checkpoint read_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("{}: cannot read checkpoint: {}", path, std::strerror(errno)));
  std::vector<char> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t header = sizeof kMagic + sizeof(std::uint32_t) + sizeof(std::uint64_t);
  if (b.size() < header || std::memcmp(b.data(), kMagic, sizeof kMagic) != 0)
    throw IoError(fmt::format("{}: not a volley checkpoint (no VOLLEYCK header)", path));
  Reader head(b, sizeof kMagic, header, path);
  const auto version = head.pod<std::uint32_t>();
  if (version != kVersion && version != 1)
    throw IoError(fmt::format("{}: checkpoint version {} is not supported (expected {})", path,
                              version, kVersion));
  const auto size = head.pod<std::uint64_t>();
  if (b.size() != header + size + sizeof(std::uint32_t))
    throw IoError(fmt::format("{}: corrupt checkpoint: {} bytes, header says {}", path, b.size(),
                              header + size + sizeof(std::uint32_t)));
  std::uint32_t stored;
  std::memcpy(&stored, b.data() + header + size, sizeof stored);
  if (crc(b.data() + header, size) != stored)
    throw IoError(fmt::format("{}: corrupt checkpoint: CRC mismatch", path));
  Reader r(b, header, header + size, path);
  Checkpoint ck;
  ck.config_name = r.str();
  ck.config_text = r.str();
  const auto n_opt = r.pod<std::uint64_t>();
  if (n_opt > size) r.corrupt("bad option count");
  for (std::uint64_t i = 0; i < n_opt; ++i) ck.options.push_back(r.str());
  ck.epochs_done = r.pod<std::uint32_t>();
  ck.optimizer_steps = r.pod<std::uint64_t>();
  ck.params = r.named();
  ck.opt_m = r.named();
  ck.opt_v = r.named();
  if (version >= 2) {
    const auto n = r.pod<std::uint64_t>();
    if (n > size) r.corrupt("bad pattern count");
    for (std::uint64_t i = 0; i < n; ++i) {
      Checkpoint::Pattern p;
      p.name = r.str();
      p.row_ptr = r.u32s();
      p.cols = r.u32s();
      ck.patterns.push_back(std::move(p));
    }
  }
  if (!r.done()) r.corrupt("trailing bytes");
  return ck;
}

}  // namespace volley::train
