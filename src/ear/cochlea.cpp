// The cochlear front end (see cochlea.hpp).
#include "volley/ear/cochlea.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>
#include <cstring>
#include <numbers>
#include <string>
#include <string_view>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::ear {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr std::uint32_t kNerveStreamBase = 0x00EA0000u;
// Samples per block in Cochlea: the block's filterbank output (block × channels floats, 1.4 MB
// for 700 channels) stays in cache between the three stages.
constexpr std::size_t kBlock = 512;
// Hair-cell values below this are zero (see HairCells::process).
constexpr float kFlush = 1e-30f;
// The filterbank zeroes state values below kFlushState every kFlushEvery samples, before a
// decaying state can turn subnormal (from 1e-250 that takes > 1e5 samples even for a 20 Hz
// channel at 192 kHz); a state that small contributes nothing to a float output.
constexpr double kFlushState = 1e-250;
constexpr std::size_t kFlushEvery = 4096;

[[noreturn]] void bad(std::string_view where, std::string_view field, const std::string& what) {
  throw ParameterError(fmt::format("{}: {}: {}", where, field, what));
}

void check_cf(double cf, double samplerate, std::string_view where) {
  if (!(cf > 0.0) || !std::isfinite(cf))
    bad(where, "centre frequency", fmt::format("{} Hz must be > 0", cf));
  if (samplerate > 0.0 && !(cf < 0.5 * samplerate))
    bad(where, "centre frequency",
        fmt::format("{} Hz must be below the Nyquist frequency {} Hz", cf, 0.5 * samplerate));
}

// Pole radius a = e^(−2πb/fs) of a channel.
double pole_radius(double cf, double samplerate) {
  return std::exp(-kTwoPi * gammatone_bandwidth(cf) / samplerate);
}

// Complex response at f of the digital channel before the output gain G:
// Re(y) of a complex filter Hc has the response ½·(Hc(ω) + conj(Hc(−ω))).
std::complex<double> digital_response(double f, double cf, double samplerate) {
  const double a = pole_radius(cf, samplerate);
  const std::complex<double> pole = std::polar(a, kTwoPi * cf / samplerate);
  const double w = kTwoPi * f / samplerate;
  const double g4 = std::pow(1.0 - a, 4);
  const auto hc = [&](double omega) {
    const std::complex<double> d = 1.0 - pole * std::polar(1.0, -omega);
    return g4 / (d * d * d * d);
  };
  return 0.5 * (hc(w) + std::conj(hc(-w)));
}

std::complex<double> analog_response(double f, double cf) {
  const double b = gammatone_bandwidth(cf);
  const std::complex<double> lo(b, f - cf), hi(b, f + cf);
  return 1.0 / (lo * lo * lo * lo) + 1.0 / (hi * hi * hi * hi);
}

// Cube root for x > 0 that the compiler can vectorise (std::cbrt is a library call): the
// exponent-dividing bit trick gives a few per cent, three Newton steps reach float precision.
inline float cbrt_positive(float x) {
  float y = std::bit_cast<float>(std::bit_cast<std::uint32_t>(x) / 3u + 709921077u);
  for (int i = 0; i < 3; ++i) y = (2.0f * y + x / (y * y)) * (1.0f / 3.0f);
  return y;
}

// The filterbank's inner loops. Separate restrict parameters (rather than pointers derived
// from one array inside the member function) are what lets GCC vectorise over channels.
void gammatone_kernel(std::size_t n, std::size_t steps, const float* __restrict in,
                      float* __restrict out, const double* __restrict pr,
                      const double* __restrict pi, const double* __restrict g,
                      const double* __restrict og, double* __restrict s0r, double* __restrict s0i,
                      double* __restrict s1r, double* __restrict s1i, double* __restrict s2r,
                      double* __restrict s2i, double* __restrict s3r, double* __restrict s3i) {
  for (std::size_t t = 0; t < steps; ++t) {
    const double x = in[t];
    for (std::size_t c = 0; c < n; ++c) {
      const double a = pr[c], b = pi[c], k = g[c];
      // y_k = k·y_{k−1} + (a + ib)·y_k[n−1]; stage 1 has a real input.
      double r = k * x + a * s0r[c] - b * s0i[c];
      double i = a * s0i[c] + b * s0r[c];
      s0r[c] = r;
      s0i[c] = i;
      double nr = k * r + a * s1r[c] - b * s1i[c];
      double ni = k * i + a * s1i[c] + b * s1r[c];
      s1r[c] = nr;
      s1i[c] = ni;
      r = k * nr + a * s2r[c] - b * s2i[c];
      i = k * ni + a * s2i[c] + b * s2r[c];
      s2r[c] = r;
      s2i[c] = i;
      nr = k * r + a * s3r[c] - b * s3i[c];
      ni = k * i + a * s3i[c] + b * s3r[c];
      s3r[c] = nr;
      s3i[c] = ni;
      out[t * n + c] = static_cast<float>(og[c] * nr);
    }
  }
}

// Per-sample spike probability of each channel (see NerveConfig): the Hill rate function with
// a compile-time exponent, so the loop vectorises, then the dead-time correction
// p = rate·dt/(1 − rate·(m−1)·dt), the probability for which the mean interval
// (m − 1)·dt + dt/p equals 1/rate.
struct RateParams {
  double spont, range, half_n, dt, dead_time;
};

template <int N>
void spike_probabilities_n(const float* __restrict y, std::size_t n, const RateParams& r,
                           double* __restrict p) {
  for (std::size_t c = 0; c < n; ++c) {
    // max(y, 0) by clearing negative values through their sign bit: a compare-and-select
    // before the division below would stop GCC from vectorising (-ftrapping-math).
    const auto bits = std::bit_cast<std::int32_t>(y[c]);
    const double v = std::bit_cast<float>(bits & ~(bits >> 31));
    double vn = v;
    if constexpr (N >= 2) vn *= v;
    if constexpr (N >= 3) vn *= v;
    if constexpr (N >= 4) vn *= v;
    if constexpr (N >= 5) vn *= v;
    if constexpr (N >= 6) vn *= v;
    if constexpr (N >= 7) vn *= v;
    if constexpr (N >= 8) vn *= v;
    const double rate = r.spont + r.range * vn / (vn + r.half_n);
    // May exceed 1 by rounding of the dead time; a draw in [0, 1) then always fires.
    p[c] = rate * r.dt / (1.0 - rate * r.dead_time);
  }
}

void spike_probabilities(int exponent, const float* y, std::size_t n, const RateParams& r,
                         double* p) {
  switch (exponent) {
    case 1:
      return spike_probabilities_n<1>(y, n, r, p);
    case 2:
      return spike_probabilities_n<2>(y, n, r, p);
    case 3:
      return spike_probabilities_n<3>(y, n, r, p);
    case 4:
      return spike_probabilities_n<4>(y, n, r, p);
    case 5:
      return spike_probabilities_n<5>(y, n, r, p);
    case 6:
      return spike_probabilities_n<6>(y, n, r, p);
    case 7:
      return spike_probabilities_n<7>(y, n, r, p);
    default:
      return spike_probabilities_n<8>(y, n, r, p);
  }
}

}  // namespace

// ---- ERB scale ------------------------------------------------------------------------------

double erb_hz(double f) { return 24.7 * (4.37 * f / 1000.0 + 1.0); }

double erb_number(double f) { return 21.4 * std::log10(4.37 * f / 1000.0 + 1.0); }

double erb_number_to_hz(double erb) { return (std::pow(10.0, erb / 21.4) - 1.0) * 1000.0 / 4.37; }

std::vector<double> erb_space(double f_low, double f_high, std::size_t n) {
  if (!(f_low > 0.0) || !std::isfinite(f_low)) bad("erb_space", "f_low", "must be > 0");
  if (!(f_high >= f_low) || !std::isfinite(f_high)) bad("erb_space", "f_high", "must be >= f_low");
  if (n < 1) bad("erb_space", "n", "must be >= 1");
  std::vector<double> out(n);
  out[0] = f_low;
  if (n == 1) return out;
  const double e0 = erb_number(f_low), e1 = erb_number(f_high);
  for (std::size_t i = 1; i + 1 < n; ++i)
    out[i] = erb_number_to_hz(e0 + (e1 - e0) * static_cast<double>(i) / static_cast<double>(n - 1));
  out[n - 1] = f_high;  // exact endpoints, not a round trip through log10/pow
  return out;
}

double gammatone_bandwidth(double cf) { return 1.019 * erb_hz(cf); }

double gammatone_magnitude_db(double f, double cf, double samplerate) {
  if (!(samplerate >= 0.0)) bad("gammatone_magnitude_db", "samplerate", "must be >= 0");
  check_cf(cf, samplerate, "gammatone_magnitude_db");
  if (samplerate == 0.0)
    return 20.0 * std::log10(std::abs(analog_response(f, cf)) / std::abs(analog_response(cf, cf)));
  return 20.0 * std::log10(std::abs(digital_response(f, cf, samplerate)) /
                           std::abs(digital_response(cf, cf, samplerate)));
}

// ---- Gammatone filterbank -------------------------------------------------------------------

GammatoneFilterbank::GammatoneFilterbank(std::vector<double> centre_frequencies, double samplerate)
    : cf_(std::move(centre_frequencies)), fs_(samplerate) {
  if (!(fs_ > 0.0) || !std::isfinite(fs_)) bad("gammatone filterbank", "samplerate", "must be > 0");
  if (cf_.empty()) bad("gammatone filterbank", "channels", "need at least one centre frequency");
  const std::size_t n = cf_.size();
  pole_re_.resize(n);
  pole_im_.resize(n);
  gain_.resize(n);
  out_gain_.resize(n);
  for (std::size_t c = 0; c < n; ++c) {
    check_cf(cf_[c], fs_, "gammatone filterbank");
    const double a = pole_radius(cf_[c], fs_);
    pole_re_[c] = a * std::cos(kTwoPi * cf_[c] / fs_);
    pole_im_[c] = a * std::sin(kTwoPi * cf_[c] / fs_);
    gain_[c] = 1.0 - a;
    out_gain_[c] = 1.0 / std::abs(digital_response(cf_[c], cf_[c], fs_));
  }
  state_re_.assign(4 * n, 0.0);
  state_im_.assign(4 * n, 0.0);
}

void GammatoneFilterbank::reset() {
  std::fill(state_re_.begin(), state_re_.end(), 0.0);
  std::fill(state_im_.begin(), state_im_.end(), 0.0);
}

void GammatoneFilterbank::process(std::span<const float> in, std::vector<float>& out) {
  out.resize(in.size() * channels());
  process(in, std::span<float>(out));
}

void GammatoneFilterbank::process(std::span<const float> in, std::span<float> out) {
  const std::size_t n = channels();
  if (out.size() != in.size() * n)
    bad("gammatone filterbank", "process", "output must hold samples × channels values");
  double* sr = state_re_.data();
  double* si = state_im_.data();
  for (std::size_t t0 = 0; t0 < in.size(); t0 += kFlushEvery) {
    const std::size_t len = std::min(kFlushEvery, in.size() - t0);
    gammatone_kernel(n, len, in.data() + t0, out.data() + t0 * n, pole_re_.data(), pole_im_.data(),
                     gain_.data(), out_gain_.data(), sr, si, sr + n, si + n, sr + 2 * n, si + 2 * n,
                     sr + 3 * n, si + 3 * n);
    for (std::size_t k = 0; k < 4 * n; ++k) {
      if (std::abs(sr[k]) < kFlushState) sr[k] = 0.0;
      if (std::abs(si[k]) < kFlushState) si[k] = 0.0;
    }
  }
}

// ---- Hair cells -----------------------------------------------------------------------------

void HairCellConfig::validate() const {
  constexpr std::string_view w = "hair cells";
  if (!(compression_gain > 0.0)) bad(w, "compression_gain", "must be > 0");
  if (!(lowpass_cutoff > 0.0)) bad(w, "lowpass_cutoff", "must be > 0");
  if (lowpass_order < 0 || lowpass_order > 4) bad(w, "lowpass_order", "must be in 0..4");
  if (!(fast_tau > 0.0)) bad(w, "fast_tau", "must be > 0");
  if (!(slow_tau > 0.0)) bad(w, "slow_tau", "must be > 0");
  if (!(fast_weight >= 0.0)) bad(w, "fast_weight", "must be >= 0");
  if (!(slow_weight >= 0.0)) bad(w, "slow_weight", "must be >= 0");
}

HairCells::HairCells(std::size_t channels, double samplerate, const HairCellConfig& config)
    : channels_(channels), c_(config) {
  c_.validate();
  if (channels_ < 1) bad("hair cells", "channels", "must be >= 1");
  if (!(samplerate > 0.0)) bad("hair cells", "samplerate", "must be > 0");
  const double dt = 1.0 / samplerate;
  // Exact discretisation of a one-pole lowpass (impulse invariance), stable for any step.
  lp_alpha_ = static_cast<float>(1.0 - std::exp(-kTwoPi * c_.lowpass_cutoff * dt));
  fast_alpha_ = static_cast<float>(1.0 - std::exp(-dt / c_.fast_tau));
  slow_alpha_ = static_cast<float>(1.0 - std::exp(-dt / c_.slow_tau));
  lp_state_.assign(static_cast<std::size_t>(c_.lowpass_order) * channels_, 0.0f);
  fast_.assign(channels_, 0.0f);
  slow_.assign(channels_, 0.0f);
}

void HairCells::reset() {
  std::fill(lp_state_.begin(), lp_state_.end(), 0.0f);
  std::fill(fast_.begin(), fast_.end(), 0.0f);
  std::fill(slow_.begin(), slow_.end(), 0.0f);
}

void HairCells::process(std::span<float> signal) {
  const std::size_t n = channels_;
  if (signal.size() % n != 0)
    bad("hair cells", "process", "signal size must be a multiple of the channel count");
  const std::size_t steps = signal.size() / n;
  const int order = c_.lowpass_order;
  const float gain = static_cast<float>(c_.compression_gain);
  const float la = lp_alpha_, fa = fast_alpha_, sa = slow_alpha_;
  const float wf = static_cast<float>(c_.fast_weight), ws = static_cast<float>(c_.slow_weight);
  float* __restrict fast = fast_.data();
  float* __restrict slow = slow_.data();
  for (std::size_t t = 0; t < steps; ++t) {
    float* __restrict x = signal.data() + t * n;
    for (std::size_t c = 0; c < n; ++c) {
      const float v = x[c];
      // Below kFlush the cube root is < 1e-10: treat as zero and keep the bit trick in range.
      x[c] = v > kFlush ? gain * cbrt_positive(v) : 0.0f;
    }
    // The states are >= 0. In silence they decay towards subnormal numbers, where rounding
    // can hold them for ever (and subnormal arithmetic is slow on many CPUs): values below
    // kFlush are set to 0.
    for (int k = 0; k < order; ++k) {
      float* __restrict s = lp_state_.data() + static_cast<std::size_t>(k) * n;
      for (std::size_t c = 0; c < n; ++c) {
        const float v = s[c] + la * (x[c] - s[c]);
        s[c] = v > kFlush ? v : 0.0f;
        x[c] = s[c];
      }
    }
    for (std::size_t c = 0; c < n; ++c) {
      const float v = x[c];
      x[c] = v / (1.0f + wf * fast[c] + ws * slow[c]);
      const float f = fast[c] + fa * (v - fast[c]), s = slow[c] + sa * (v - slow[c]);
      fast[c] = f > kFlush ? f : 0.0f;
      slow[c] = s > kFlush ? s : 0.0f;
    }
  }
}

// ---- Auditory nerve -------------------------------------------------------------------------

void NerveConfig::validate() const {
  constexpr std::string_view w = "auditory nerve";
  if (fibres_per_channel < 1) bad(w, "fibres_per_channel", "must be >= 1");
  if (!(spont_rate >= 0.0)) bad(w, "spont_rate", "must be >= 0");
  if (!(max_rate > spont_rate)) bad(w, "max_rate", "must be > spont_rate");
  if (!(refractory >= 0.0)) bad(w, "refractory", "must be >= 0");
  if (!(max_rate * refractory < 1.0))
    bad(w, "max_rate", "must be < 1/refractory (a fibre cannot fire faster than that)");
  if (!(half_drive > 0.0)) bad(w, "half_drive", "must be > 0");
  if (rate_exponent < 1 || rate_exponent > 8) bad(w, "rate_exponent", "must be in 1..8");
  if (stream_object > 0xFFFFu) bad(w, "stream_object", "must be <= 0xFFFF");
}

double nerve_rate(double drive, const NerveConfig& config) {
  const double yn = drive > 0.0 ? std::pow(drive, config.rate_exponent) : 0.0;
  const double hn = std::pow(config.half_drive, config.rate_exponent);
  return config.spont_rate + (config.max_rate - config.spont_rate) * yn / (yn + hn);
}

AuditoryNerve::AuditoryNerve(std::size_t channels, double samplerate, const NerveConfig& config)
    : channels_(channels), fs_(samplerate), c_(config) {
  c_.validate();
  if (channels_ < 1) bad("auditory nerve", "channels", "must be >= 1");
  if (!(fs_ > 0.0)) bad("auditory nerve", "samplerate", "must be > 0");
  if (static_cast<double>(channels_) * static_cast<double>(c_.fibres_per_channel) > 4294967295.0)
    bad("auditory nerve", "fibres_per_channel", "channels × fibres must fit in 32 bits");
  const double dt = 1.0 / fs_;
  // m = ceil(refractory/dt) samples from a spike to the next possible one, so every interval is
  // >= refractory; the 1e-9 keeps an exact multiple (1 ms at 16 kHz) from rounding up.
  const double m = std::max(1.0, std::ceil(c_.refractory / dt - 1e-9));
  dead_samples_ = static_cast<std::uint32_t>(m - 1.0);
  if (!(c_.max_rate * dead_samples_ * dt < 1.0))
    bad("auditory nerve", "max_rate", "must be < 1/refractory at this samplerate");
  stream_ = kNerveStreamBase + c_.stream_object;
  dead_.assign(units(), 0);
  uniform_.resize(units());
  fired_.resize(units() + 8, 0);  // padded so the scan can read whole 8-byte words
  chan_prob_.resize(channels_);
  if (c_.fibres_per_channel > 1) unit_prob_.resize(units());
}

void AuditoryNerve::reset() {
  sample_ = 0;
  std::fill(dead_.begin(), dead_.end(), 0u);
}

void AuditoryNerve::process(std::span<const float> drive, std::vector<SpikeEvent>& spikes) {
  const std::size_t n = channels_, fibres = c_.fibres_per_channel, nu = units();
  if (drive.size() % n != 0)
    bad("auditory nerve", "process", "drive size must be a multiple of the channel count");
  const std::size_t steps = drive.size() / n;
  RateParams rp;
  rp.spont = c_.spont_rate;
  rp.range = c_.max_rate - c_.spont_rate;
  rp.half_n = std::pow(c_.half_drive, c_.rate_exponent);
  rp.dt = 1.0 / fs_;
  rp.dead_time = static_cast<double>(dead_samples_) * rp.dt;
  const std::uint32_t dead_samples = dead_samples_;
  for (std::size_t t = 0; t < steps; ++t, ++sample_) {
    spike_probabilities(c_.rate_exponent, drive.data() + t * n, n, rp, chan_prob_.data());
    const double* p = chan_prob_.data();
    if (fibres > 1) {  // one threshold per unit keeps the loop below a plain vector loop
      for (std::size_t c = 0; c < n; ++c)
        std::fill_n(unit_prob_.data() + c * fibres, fibres, chan_prob_[c]);
      p = unit_prob_.data();
    }
    uniform_batch(c_.seed, stream_, sample_, 0, nu, uniform_.data());
    const double* __restrict uni = uniform_.data();
    std::uint32_t* __restrict dead = dead_.data();
    std::uint8_t* __restrict fired = fired_.data();
    for (std::size_t u = 0; u < nu; ++u) {
      const bool ready = dead[u] == 0;
      const bool fire = ready && uni[u] < p[u];
      dead[u] = fire ? dead_samples : (ready ? 0u : dead[u] - 1u);
      fired[u] = fire ? 1 : 0;
    }
    // Spikes are rare (a few per cent of units per sample): skip eight units at a time.
    const double time = static_cast<double>(sample_) / fs_;
    for (std::size_t u0 = 0; u0 < nu; u0 += 8) {
      std::uint64_t word;
      std::memcpy(&word, fired + u0, 8);
      if (word == 0) continue;
      for (std::size_t u = u0; u < std::min(u0 + 8, nu); ++u)
        if (fired[u]) spikes.emplace_back(time, static_cast<std::uint32_t>(u));
    }
  }
}

// ---- Cochlea --------------------------------------------------------------------------------

std::vector<double> CochleaConfig::resolved_centre_frequencies() const {
  if (!centre_frequencies.empty()) return centre_frequencies;
  return erb_space(f_low, f_high, channels);
}

void CochleaConfig::validate(double samplerate) const {
  constexpr std::string_view w = "cochlea";
  if (!(samplerate > 0.0) || !std::isfinite(samplerate)) bad(w, "samplerate", "must be > 0");
  if (centre_frequencies.empty()) {
    if (!(f_low > 0.0)) bad(w, "f_low", "must be > 0");
    if (!(f_high >= f_low)) bad(w, "f_high", "must be >= f_low");
    if (!(f_high < 0.5 * samplerate))
      bad(w, "f_high",
          fmt::format("{} Hz must be below the Nyquist frequency {} Hz", f_high, 0.5 * samplerate));
    if (channels < 1) bad(w, "channels", "must be >= 1");
  } else {
    for (double cf : centre_frequencies) check_cf(cf, samplerate, "cochlea: centre_frequencies");
  }
  if (!(level_gain > 0.0) || !std::isfinite(level_gain)) bad(w, "level_gain", "must be > 0");
  ihc.validate();
  nerve.validate();
}

Cochlea::Cochlea(const CochleaConfig& config, double samplerate)
    // The comma expression validates the whole config before any stage is built, so errors
    // name the config field rather than a stage's internal check.
    : level_gain_((config.validate(samplerate), config.level_gain)),
      filterbank_(config.resolved_centre_frequencies(), samplerate),
      hair_cells_(filterbank_.channels(), samplerate, config.ihc),
      nerve_(filterbank_.channels(), samplerate, config.nerve) {}

void Cochlea::reset() {
  filterbank_.reset();
  hair_cells_.reset();
  nerve_.reset();
}

void Cochlea::drive(std::span<const float> sound, std::vector<float>& drive) {
  const std::size_t n = channels();
  drive.resize(sound.size() * n);
  for (std::size_t t0 = 0; t0 < sound.size(); t0 += kBlock) {
    const std::size_t len = std::min(kBlock, sound.size() - t0);
    scaled_.resize(len);
    for (std::size_t t = 0; t < len; ++t)
      scaled_[t] = static_cast<float>(level_gain_ * sound[t0 + t]);
    const std::span<float> out(drive.data() + t0 * n, len * n);
    filterbank_.process(scaled_, out);
    hair_cells_.process(out);
  }
}

void Cochlea::process(std::span<const float> sound, std::vector<SpikeEvent>& spikes) {
  for (std::size_t t0 = 0; t0 < sound.size(); t0 += kBlock) {
    const std::size_t len = std::min(kBlock, sound.size() - t0);
    drive(sound.subspan(t0, len), block_);
    nerve_.process(block_, spikes);
  }
}

std::vector<SpikeEvent> auditory_nerve(std::span<const float> sound, double samplerate,
                                       const CochleaConfig& config) {
  Cochlea cochlea(config, samplerate);
  std::vector<SpikeEvent> spikes;
  cochlea.process(sound, spikes);
  return spikes;
}

}  // namespace volley::ear
