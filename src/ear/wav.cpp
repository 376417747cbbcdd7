// WAV input/output through libsndfile (see sound.hpp). libsndfile quietly shortens a WAV whose
// data chunk was cut off (it trusts the file length over the header), so the reader also parses
// the RIFF header itself to notice a truncated file instead of returning a shorter sound.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sndfile.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "core/atomic_file.hpp"
#include "volley/ear/sound.hpp"
#include "volley/error.hpp"

namespace volley::ear {
namespace {

namespace fs = std::filesystem;

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

std::uint32_t le32(const unsigned char* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

// Frames declared by the data chunk of a RIFF/WAVE file, or nothing when the file is another
// format or the length is unknown (streaming writers leave 0 or 0xFFFFFFFF there).
std::optional<std::uint64_t> declared_wav_frames(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char head[12];
  if (!in.read(reinterpret_cast<char*>(head), 12) || std::memcmp(head, "RIFF", 4) != 0 ||
      std::memcmp(head + 8, "WAVE", 4) != 0)
    return std::nullopt;
  std::uint32_t block_align = 0;  // bytes per frame, from the fmt chunk
  unsigned char chunk[8];
  while (in.read(reinterpret_cast<char*>(chunk), 8)) {
    const std::uint32_t size = le32(chunk + 4);
    if (std::memcmp(chunk, "data", 4) == 0) {
      if (block_align == 0 || size == 0 || size == 0xFFFFFFFFu) return std::nullopt;
      return size / block_align;
    }
    std::uint32_t skip = size + (size & 1u);  // chunks are padded to an even length
    if (std::memcmp(chunk, "fmt ", 4) == 0 && size >= 16) {
      unsigned char fmt_chunk[16];
      if (!in.read(reinterpret_cast<char*>(fmt_chunk), 16)) return std::nullopt;
      block_align = fmt_chunk[12] | (fmt_chunk[13] << 8);
      skip -= 16;
    }
    in.seekg(skip, std::ios::cur);
  }
  return std::nullopt;
}

}  // namespace

Sound read_wav(const std::string& path, const WavOptions& options) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw IoError(fmt::format("cannot read '{}': no such file", path));
  if (fs::is_directory(status))
    throw IoError(fmt::format("cannot read '{}': it is a directory", path));

  SF_INFO info{};
  SndfilePtr file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) {
    const std::string why = sf_strerror(nullptr);
    if (sf_error(nullptr) == SF_ERR_SYSTEM)
      throw IoError(fmt::format("cannot read '{}': {}", path, why));
    throw IoError(
        fmt::format("'{}' is not a WAV/sound file or is corrupt (libsndfile: {})", path, why));
  }
  if (info.frames <= 0 || info.channels <= 0)
    throw IoError(fmt::format("'{}' has zero frames (no audio data)", path));
  if (!options.allowed_samplerates.empty() &&
      std::find(options.allowed_samplerates.begin(), options.allowed_samplerates.end(),
                static_cast<double>(info.samplerate)) == options.allowed_samplerates.end())
    throw IoError(fmt::format("'{}': sample rate {} Hz is not supported (allowed: {} Hz)", path,
                              info.samplerate, fmt::join(options.allowed_samplerates, ", ")));

  Sound s;
  s.samplerate = info.samplerate;
  s.channels = static_cast<std::size_t>(info.channels);
  s.samples.resize(static_cast<std::size_t>(info.frames) * s.channels);
  const sf_count_t got = sf_readf_float(file.get(), s.samples.data(), info.frames);
  std::uint64_t declared = static_cast<std::uint64_t>(info.frames);
  if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV)
    declared = std::max(declared, declared_wav_frames(path).value_or(0));
  if (got < 0 || static_cast<std::uint64_t>(got) < declared)
    throw IoError(fmt::format("'{}' is corrupt: truncated: {} of {} frames", path,
                              std::max<sf_count_t>(got, 0), declared));

  float peak = 0.0f;
  for (std::size_t i = 0; i < s.samples.size(); ++i) {
    if (!std::isfinite(s.samples[i]))
      throw IoError(fmt::format("'{}': sample {} of frame {} is not finite", path, i % s.channels,
                                i / s.channels));
    peak = std::max(peak, std::abs(s.samples[i]));
  }
  const double peak_db = 20.0 * std::log10(static_cast<double>(peak));  // −inf when all zero
  if (options.reject_silence && peak_db < options.silence_db)
    throw IoError(fmt::format("'{}' is silent: peak {:.1f} dB re full scale is below {} dB", path,
                              peak_db, options.silence_db));
  return s;
}

void write_wav(const std::string& path, const Sound& s, WavEncoding encoding) {
  auto bad = [&](const std::string& why) {
    throw ParameterError(fmt::format("write_wav '{}': {}", path, why));
  };
  if (s.channels == 0 || s.channels > 1024)
    bad(fmt::format("channels {} not in [1, 1024]", s.channels));
  if (s.samples.size() % s.channels != 0)
    bad(fmt::format("{} samples is not a whole number of {}-channel frames", s.samples.size(),
                    s.channels));
  if (!(s.samplerate >= 1.0) || s.samplerate > INT_MAX || s.samplerate != std::round(s.samplerate))
    bad(fmt::format("samplerate {} Hz must be a whole number of Hz for WAV", s.samplerate));
  for (std::size_t i = 0; i < s.samples.size(); ++i) {
    const float v = s.samples[i];
    if (!std::isfinite(v)) bad(fmt::format("sample {} is not finite", i));
    if (encoding == WavEncoding::kPcm16 && std::abs(v) > 1.0f)
      bad(
          fmt::format("sample {} = {} exceeds full scale (±1) for 16-bit PCM; lower the level "
                      "or write float",
                      i, v));
  }

  SF_INFO info{};
  info.samplerate = static_cast<int>(s.samplerate);
  info.channels = static_cast<int>(s.channels);
  info.format =
      SF_FORMAT_WAV | (encoding == WavEncoding::kPcm16 ? SF_FORMAT_PCM_16 : SF_FORMAT_FLOAT);
  detail::replace_file_atomically(path, [&](const std::string& tmp) {
    SndfilePtr file(sf_open(tmp.c_str(), SFM_WRITE, &info));
    if (!file) throw IoError(fmt::format("cannot write '{}': {}", tmp, sf_strerror(nullptr)));
    // Samples are already within ±1 for PCM; clipping guards the 1.0 → 32767 rounding edge.
    sf_command(file.get(), SFC_SET_CLIPPING, nullptr, SF_TRUE);
    const auto frames = static_cast<sf_count_t>(s.frames());
    const sf_count_t put = sf_writef_float(file.get(), s.samples.data(), frames);
    const std::string why = sf_strerror(file.get());
    const int closed = sf_close(file.release());
    if (put != frames || closed != 0)
      throw IoError(fmt::format("cannot write '{}': wrote {} of {} frames ({})", tmp, put, frames,
                                closed != 0 ? sf_error_number(closed) : why));
  });
}

}  // namespace volley::ear
