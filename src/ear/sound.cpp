// Sound levels, stimulus generators and binaural cues (see sound.hpp). WAV I/O is in wav.cpp.
#include "volley/ear/sound.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <string_view>

#include "core/fft.hpp"
#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::ear {
namespace {

constexpr std::uint32_t kStreamWhite = 0x7410;  // white_noise: index = frame
constexpr std::uint32_t kStreamPink = 0x7411;   // pink_noise: index = DFT bin
constexpr std::uint32_t kStreamAdd = 0x7412;    // add_noise: index = frame, step = channel
constexpr double kTwoPi = 2.0 * std::numbers::pi;

[[noreturn]] void bad(std::string_view what, std::string_view field, const std::string& why) {
  throw ParameterError(fmt::format("{}: {}: {}", what, field, why));
}

void check_samplerate(std::string_view what, double samplerate) {
  if (!(samplerate > 0.0) || !std::isfinite(samplerate))
    bad(what, "samplerate", fmt::format("must be > 0 Hz, got {}", samplerate));
}

void check_frequency(std::string_view what, std::string_view field, double f, double samplerate) {
  if (!(f > 0.0) || !(f < samplerate / 2.0))
    bad(what, field,
        fmt::format("must be in (0, {}) Hz (below Nyquist at samplerate {} Hz), got {}",
                    samplerate / 2.0, samplerate, f));
}

// The number of samples in `duration` seconds (rounded; at least one). The cap keeps frame
// indices within the RNG's 32-bit counter.
std::size_t frame_count(std::string_view what, double duration, double samplerate) {
  check_samplerate(what, samplerate);
  if (!(duration > 0.0) || !std::isfinite(duration))
    bad(what, "duration", fmt::format("must be > 0 s, got {}", duration));
  const double n = std::round(duration * samplerate);
  if (n < 1.0)
    bad(what, "duration",
        fmt::format("{} s is shorter than one sample at {} Hz", duration, samplerate));
  if (n > 2147483648.0) bad(what, "duration", fmt::format("{} s is too long", duration));
  return static_cast<std::size_t>(n);
}

void check_sound(std::string_view what, const Sound& s) {
  check_samplerate(what, s.samplerate);
  if (s.channels == 0) bad(what, "channels", "must be >= 1");
  if (s.samples.size() % s.channels != 0)
    bad(what, "samples",
        fmt::format("{} samples is not a whole number of {}-channel frames", s.samples.size(),
                    s.channels));
}

Sound mono(double samplerate, std::size_t frames) {
  Sound s;
  s.samplerate = samplerate;
  s.channels = 1;
  s.samples.assign(frames, 0.0f);
  return s;
}

// out[n] = x[n - delay] for a delay of `delay` >= 0 samples, by windowed-sinc interpolation:
// taps c[k] = sinc(k − μ)·blackman(k − μ) for |k − μ| < L, applied at integer offset m,
// where delay = m + μ. Samples before the start are zero.
std::vector<float> delayed(const std::vector<float>& x, double delay) {
  constexpr int kHalf = 32;  // L: taps each side
  const auto m = static_cast<std::ptrdiff_t>(std::floor(delay));
  const double mu = delay - static_cast<double>(m);
  std::vector<double> taps;  // taps[k + kHalf - 1] for k in [1 − L, L]
  if (mu == 0.0) {
    taps.assign(2 * kHalf, 0.0);
    taps[kHalf - 1] = 1.0;
  } else {
    double sum = 0.0;
    for (int k = 1 - kHalf; k <= kHalf; ++k) {
      const double t = k - mu;
      const double w =
          0.42 + 0.5 * std::cos(std::numbers::pi * t / kHalf) + 0.08 * std::cos(kTwoPi * t / kHalf);
      const double c = std::sin(std::numbers::pi * t) / (std::numbers::pi * t) * w;
      taps.push_back(c);
      sum += c;
    }
    for (double& c : taps) c /= sum;  // exact gain at DC
  }
  const auto n = static_cast<std::ptrdiff_t>(x.size());
  std::vector<float> out(x.size(), 0.0f);
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    double acc = 0.0;
    for (int k = 1 - kHalf; k <= kHalf; ++k) {
      const std::ptrdiff_t j = i - m - k;
      if (j >= 0 && j < n) acc += taps[static_cast<std::size_t>(k + kHalf - 1)] * x[j];
    }
    out[i] = static_cast<float>(acc);
  }
  return out;
}

}  // namespace

std::vector<float> Sound::channel(std::size_t c) const {
  if (c >= channels)
    throw ParameterError(
        fmt::format("sound: channel {} does not exist ({} channels)", c, channels));
  std::vector<float> out(frames());
  for (std::size_t f = 0; f < out.size(); ++f) out[f] = samples[f * channels + c];
  return out;
}

double rms(const Sound& s, std::size_t channel) {
  if (channel >= s.channels)
    throw ParameterError(
        fmt::format("rms: channel {} does not exist ({} channels)", channel, s.channels));
  const std::size_t n = s.frames();
  if (n == 0) return 0.0;
  double sum = 0.0;
  for (std::size_t f = 0; f < n; ++f) {
    const double v = s.samples[f * s.channels + channel];
    sum += v * v;
  }
  return std::sqrt(sum / static_cast<double>(n));
}

double level_db(const Sound& s, std::size_t channel) {
  const double r = rms(s, channel);
  return r > 0.0 ? 20.0 * std::log10(r) : -std::numeric_limits<double>::infinity();
}

Sound& set_level_db(Sound& s, double db) {
  check_sound("set_level_db", s);
  if (!std::isfinite(db)) bad("set_level_db", "db", "must be finite");
  double loudest = 0.0;
  for (std::size_t c = 0; c < s.channels; ++c) loudest = std::max(loudest, rms(s, c));
  if (!(loudest > 0.0)) throw ParameterError("set_level_db: the sound is silent");
  const double gain = std::pow(10.0, db / 20.0) / loudest;
  for (float& v : s.samples) v = static_cast<float>(v * gain);
  return s;
}

Sound tone(double frequency, double duration, double samplerate, double phase) {
  const std::size_t n = frame_count("tone", duration, samplerate);
  check_frequency("tone", "frequency", frequency, samplerate);
  if (!std::isfinite(phase)) bad("tone", "phase", "must be finite");
  Sound s = mono(samplerate, n);
  for (std::size_t i = 0; i < n; ++i)
    s.samples[i] = static_cast<float>(
        std::sin(kTwoPi * frequency * static_cast<double>(i) / samplerate + phase));
  return s;
}

Sound harmonic_complex(double f0, std::size_t n_harmonics, double duration, double samplerate) {
  const std::size_t n = frame_count("harmonic_complex", duration, samplerate);
  check_frequency("harmonic_complex", "f0", f0, samplerate);
  if (n_harmonics < 1) bad("harmonic_complex", "n_harmonics", "must be >= 1");
  const double top = f0 * static_cast<double>(n_harmonics);
  if (top >= samplerate / 2.0)
    bad("harmonic_complex", "n_harmonics",
        fmt::format("harmonic {} is at {} Hz, at or above Nyquist ({} Hz at samplerate {} Hz)",
                    n_harmonics, top, samplerate / 2.0, samplerate));
  Sound s = mono(samplerate, n);
  for (std::size_t i = 0; i < n; ++i) {
    const double theta = kTwoPi * f0 * static_cast<double>(i) / samplerate;
    double acc = 0.0;
    for (std::size_t k = 1; k <= n_harmonics; ++k) acc += std::sin(static_cast<double>(k) * theta);
    s.samples[i] = static_cast<float>(acc);
  }
  return s;
}

Sound white_noise(double duration, double samplerate, std::uint64_t seed) {
  const std::size_t n = frame_count("white_noise", duration, samplerate);
  Sound s = mono(samplerate, n);
  // One RNG per frame: sample i does not depend on the length or on how the loop is split.
  for (std::size_t i = 0; i < n; ++i)
    s.samples[i] = static_cast<float>(
        CounterRng(seed, kStreamWhite, static_cast<std::uint32_t>(i), 0).normal());
  return s;
}

Sound pink_noise(double duration, double samplerate, std::uint64_t seed) {
  const std::size_t n = frame_count("pink_noise", duration, samplerate);
  // Spectral synthesis: Gaussian DFT coefficients with E|X_k|² ∝ 1/k on a power-of-two grid,
  // Hermitian so the inverse transform is real, then the first n samples. Every bin from 1 to
  // Nyquist is exactly 1/f in expectation, at any sample rate (a pinking IIR filter is only
  // close to 1/f over the band it was designed for).
  const std::size_t size = std::max<std::size_t>(2, std::bit_ceil(n));
  std::vector<std::complex<double>> spec(size);
  for (std::size_t k = 1; k <= size / 2; ++k) {
    CounterRng rng(seed, kStreamPink, static_cast<std::uint32_t>(k), 0);
    const double a = rng.normal(), b = rng.normal();
    const double scale = 1.0 / std::sqrt(static_cast<double>(k));
    if (k == size / 2) {
      spec[k] = a * scale * std::numbers::sqrt2;  // the Nyquist bin is real: all power in one part
    } else {
      spec[k] = std::complex<double>(a, b) * scale;
      spec[size - k] = std::conj(spec[k]);
    }
  }
  spec = detail::fft(spec, /*inverse=*/true);
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += spec[i].real() * spec[i].real();
  const double gain = sum > 0.0 ? 1.0 / std::sqrt(sum / static_cast<double>(n)) : 0.0;
  Sound s = mono(samplerate, n);
  for (std::size_t i = 0; i < n; ++i) s.samples[i] = static_cast<float>(spec[i].real() * gain);
  return s;
}

Sound silence(double duration, double samplerate) {
  return mono(samplerate, frame_count("silence", duration, samplerate));
}

Sound binaural(const Sound& mono_sound, double itd_seconds, double ild_db) {
  check_sound("binaural", mono_sound);
  if (mono_sound.channels != 1)
    bad("binaural", "mono", fmt::format("must have 1 channel, has {}", mono_sound.channels));
  if (!std::isfinite(itd_seconds) || std::abs(itd_seconds) >= mono_sound.duration())
    bad("binaural", "itd_seconds",
        fmt::format("|{}| s must be shorter than the sound ({} s)", itd_seconds,
                    mono_sound.duration()));
  if (!std::isfinite(ild_db)) bad("binaural", "ild_db", "must be finite");
  const std::vector<float>& x = mono_sound.samples;
  const std::vector<float> lag = delayed(x, std::abs(itd_seconds) * mono_sound.samplerate);
  const std::vector<float>& left = itd_seconds < 0.0 ? lag : x;
  const std::vector<float>& right = itd_seconds < 0.0 ? x : lag;
  const double gl = std::pow(10.0, ild_db / 40.0), gr = 1.0 / gl;
  Sound out;
  out.samplerate = mono_sound.samplerate;
  out.channels = 2;
  out.samples.resize(2 * x.size());
  for (std::size_t f = 0; f < x.size(); ++f) {
    out.samples[2 * f] = static_cast<float>(left[f] * gl);
    out.samples[2 * f + 1] = static_cast<float>(right[f] * gr);
  }
  return out;
}

Sound with_ipd(double frequency, double ipd_radians, double duration, double samplerate) {
  const std::size_t n = frame_count("with_ipd", duration, samplerate);
  check_frequency("with_ipd", "frequency", frequency, samplerate);
  if (!std::isfinite(ipd_radians)) bad("with_ipd", "ipd_radians", "must be finite");
  Sound s;
  s.samplerate = samplerate;
  s.channels = 2;
  s.samples.resize(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const double theta = kTwoPi * frequency * static_cast<double>(i) / samplerate;
    s.samples[2 * i] = static_cast<float>(std::sin(theta));
    s.samples[2 * i + 1] = static_cast<float>(std::sin(theta + ipd_radians));
  }
  return s;
}

Sound add_noise(const Sound& s, double snr_db, std::uint64_t seed) {
  check_sound("add_noise", s);
  if (!std::isfinite(snr_db)) bad("add_noise", "snr_db", "must be finite");
  const std::size_t n = s.frames();
  if (n > std::numeric_limits<std::uint32_t>::max())
    bad("add_noise", "s", "too many frames for the noise generator");
  Sound out = s;
  std::vector<double> noise(n);
  for (std::size_t c = 0; c < s.channels; ++c) {
    const double signal = rms(s, c);
    if (!(signal > 0.0))
      bad("add_noise", "s", fmt::format("channel {} is silent, so its SNR is undefined", c));
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      noise[i] = CounterRng(seed, kStreamAdd, static_cast<std::uint32_t>(i), c).normal();
      sum += noise[i] * noise[i];
    }
    // Scale the realised noise, not its expected variance, so the SNR is exact.
    const double gain =
        signal / std::pow(10.0, snr_db / 20.0) / std::sqrt(sum / static_cast<double>(n));
    for (std::size_t i = 0; i < n; ++i)
      out.samples[i * s.channels + c] =
          static_cast<float>(s.samples[i * s.channels + c] + gain * noise[i]);
  }
  return out;
}

}  // namespace volley::ear
