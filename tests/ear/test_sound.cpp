// Sounds: levels, generators (checked in the frequency domain), binaural cues recovered by
// phase and cross-correlation, added noise, and WAV round trips and error messages (each must
// name the file and the specific problem).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <complex>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "volley/ear/sound.hpp"
#include "volley/error.hpp"
#include "support/error_of.hpp"
#include "support/temp_dir.hpp"

using namespace volley;
using namespace volley::ear;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

namespace {

constexpr double kPi = std::numbers::pi;

using volley::test::error_of;
using volley::test::TempDir;

// Σ x[n]·e^{−2πi·f·n/fs} over frames [lo, hi) of one channel. For x = A·sin(2πft + φ) over a
// whole number of periods this is (A·(hi−lo)/2)·e^{i(φ − π/2)}.
std::complex<double> dft_at(const std::vector<float>& x, double fs, double f, std::size_t lo = 0,
                            std::size_t hi = 0) {
  if (hi == 0) hi = x.size();
  std::complex<double> acc = 0.0;
  for (std::size_t n = lo; n < hi; ++n)
    acc +=
        static_cast<double>(x[n]) * std::polar(1.0, -2.0 * kPi * f * static_cast<double>(n) / fs);
  return acc;
}
double amplitude_at(const std::vector<float>& x, double fs, double f) {
  return 2.0 * std::abs(dft_at(x, fs, f)) / static_cast<double>(x.size());
}
// The phase φ of the sine component at f, in (−π, π].
double phase_at(const std::vector<float>& x, double fs, double f, std::size_t lo, std::size_t hi) {
  return std::arg(dft_at(x, fs, f, lo, hi) * std::complex<double>(0.0, 1.0));
}
double wrap(double a) { return std::remainder(a, 2.0 * kPi); }

// A plain radix-2 FFT for the spectral tests (independent of the library's).
void fft(std::vector<std::complex<double>>& a) {
  const std::size_t n = a.size();
  for (std::size_t i = 1, j = 0; i < n; ++i) {
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (std::size_t len = 2; len <= n; len <<= 1)
    for (std::size_t k = 0; k < len / 2; ++k) {
      const auto w =
          std::polar(1.0, -2.0 * kPi * static_cast<double>(k) / static_cast<double>(len));
      for (std::size_t i = k; i < n; i += len) {
        const auto u = a[i], v = a[i + len / 2] * w;
        a[i] = u + v;
        a[i + len / 2] = u - v;
      }
    }
}

// Welch power spectrum: Hann-windowed segments of `seg` samples, 50% overlap, averaged.
std::vector<double> welch(const std::vector<float>& x, std::size_t seg) {
  std::vector<double> p(seg / 2 + 1, 0.0);
  std::vector<std::complex<double>> buf(seg);
  std::size_t count = 0;
  for (std::size_t start = 0; start + seg <= x.size(); start += seg / 2, ++count) {
    for (std::size_t i = 0; i < seg; ++i)
      buf[i] =
          x[start + i] *
          (0.5 - 0.5 * std::cos(2.0 * kPi * static_cast<double>(i) / static_cast<double>(seg)));
    fft(buf);
    for (std::size_t k = 0; k < p.size(); ++k) p[k] += std::norm(buf[k]);
  }
  for (double& v : p) v /= static_cast<double>(count);
  return p;
}

// Slope of a least-squares line through (x, y).
double slope(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) mx += x[i], my += y[i];
  mx /= static_cast<double>(x.size());
  my /= static_cast<double>(y.size());
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  return sxy / sxx;
}

// The lag (in samples) maximising Σ a[n]·b[n + lag] over |lag| <= max_lag.
int xcorr_peak(const std::vector<float>& a, const std::vector<float>& b, int max_lag) {
  int best = 0;
  double best_value = -1e300;
  const auto n = static_cast<int>(a.size());
  for (int lag = -max_lag; lag <= max_lag; ++lag) {
    double acc = 0.0;
    for (int i = std::max(0, -lag); i < std::min(n, n - lag); ++i) acc += a[i] * b[i + lag];
    if (acc > best_value) best_value = acc, best = lag;
  }
  return best;
}

double snr_db(const std::vector<float>& signal, const std::vector<float>& mixed) {
  double s = 0, e = 0;
  for (std::size_t i = 0; i < signal.size(); ++i) {
    s += static_cast<double>(signal[i]) * signal[i];
    const double d = static_cast<double>(mixed[i]) - signal[i];
    e += d * d;
  }
  return 10.0 * std::log10(s / e);
}

Sound scaled(Sound s, double gain) {
  for (float& v : s.samples) v = static_cast<float>(v * gain);
  return s;
}

}  // namespace

// --- Sound and levels -------------------------------------------------------------------------

TEST(Sound, FramesDurationAndChannel) {
  const Sound s = with_ipd(100.0, 0.5, 0.25, 8000.0);
  EXPECT_EQ(s.channels, 2u);
  EXPECT_EQ(s.frames(), 2000u);
  EXPECT_DOUBLE_EQ(s.duration(), 0.25);
  const auto right = s.channel(1);
  ASSERT_EQ(right.size(), 2000u);
  EXPECT_EQ(right[7], s.samples[2 * 7 + 1]);
  EXPECT_THAT(error_of<ParameterError>([&] { (void)s.channel(2); }), HasSubstr("channel 2"));
}

TEST(Sound, LevelOfUnitSineIsMinus3dB) {
  const Sound s = tone(1000.0, 1.0);
  EXPECT_NEAR(rms(s, 0), 1.0 / std::sqrt(2.0), 1e-6);
  EXPECT_NEAR(level_db(s, 0), 20.0 * std::log10(1.0 / std::sqrt(2.0)), 1e-4);  // −3.0103 dB
  EXPECT_EQ(level_db(silence(0.1, 44100.0), 0), -INFINITY);
}

TEST(Sound, SetLevelScalesTheLoudestChannelAndKeepsTheIld) {
  Sound s = binaural(white_noise(0.5, 44100.0, 3), 0.0, 6.0);
  set_level_db(s, -20.0);
  EXPECT_NEAR(level_db(s, 0), -20.0, 1e-4);
  EXPECT_NEAR(level_db(s, 1), -26.0, 1e-4);
  Sound quiet = silence(0.1, 44100.0);
  EXPECT_THAT(error_of<ParameterError>([&] { set_level_db(quiet, 0.0); }), HasSubstr("silent"));
}

// --- Generators -------------------------------------------------------------------------------

TEST(Generators, ToneFrequencyPhaseAndLength) {
  const Sound s = tone(440.0, 1.0, 44100.0, kPi / 3);
  EXPECT_EQ(s.frames(), 44100u);
  // Zero crossings: two per cycle.
  int crossings = 0;
  for (std::size_t i = 1; i < s.samples.size(); ++i)
    crossings += (s.samples[i - 1] < 0.0f) != (s.samples[i] < 0.0f);
  EXPECT_NEAR(crossings, 880, 1);
  // DFT with 1 Hz bins: the peak is the 440 Hz bin, at unit amplitude and the given phase.
  double best = 0, best_f = 0;
  for (double f = 430.0; f <= 450.0; f += 1.0)
    if (const double a = amplitude_at(s.samples, 44100.0, f); a > best) best = a, best_f = f;
  EXPECT_EQ(best_f, 440.0);
  EXPECT_NEAR(best, 1.0, 1e-5);
  EXPECT_NEAR(phase_at(s.samples, 44100.0, 440.0, 0, 44100), kPi / 3, 1e-5);
}

TEST(Generators, HarmonicComplexHasPeaksExactlyAtTheHarmonics) {
  const double fs = 16000.0, f0 = 250.0;
  const Sound s = harmonic_complex(f0, 6, 1.0, fs);
  std::vector<double> spectrum;  // amplitude at 1 Hz steps (the DFT bins of a 1 s sound)
  for (int f = 0; f <= 2000; ++f) spectrum.push_back(amplitude_at(s.samples, fs, f));
  for (int f = 0; f <= 2000; ++f) {
    const bool harmonic = f % 250 == 0 && f >= 250 && f <= 1500;
    if (harmonic)
      EXPECT_NEAR(spectrum[f], 1.0, 1e-4) << f << " Hz";
    else
      EXPECT_LT(spectrum[f], 1e-4) << f << " Hz";
  }
}

TEST(Generators, HarmonicsAtOrAboveNyquistAreRejected) {
  EXPECT_NO_THROW(harmonic_complex(1000.0, 7, 0.1, 16000.0));  // 7 kHz < 8 kHz
  const std::string msg =
      error_of<ParameterError>([] { harmonic_complex(1000.0, 8, 0.1, 16000.0); });
  EXPECT_THAT(msg, AllOf(HasSubstr("n_harmonics"), HasSubstr("harmonic 8"), HasSubstr("Nyquist")));
  EXPECT_THAT(error_of<ParameterError>([] { harmonic_complex(100.0, 0, 0.1); }),
              HasSubstr("n_harmonics"));
}

TEST(Generators, ImpossibleParametersNameTheField) {
  auto msg = [](auto f) { return error_of<ParameterError>(f); };
  EXPECT_THAT(msg([] { tone(440.0, 0.0); }), AllOf(HasSubstr("tone"), HasSubstr("duration")));
  EXPECT_THAT(msg([] { tone(440.0, -1.0); }), HasSubstr("duration"));
  EXPECT_THAT(msg([] { tone(440.0, 1e-6); }), HasSubstr("shorter than one sample"));
  EXPECT_THAT(msg([] { tone(0.0, 1.0); }), HasSubstr("frequency"));
  EXPECT_THAT(msg([] { tone(22050.0, 1.0); }), HasSubstr("frequency"));
  EXPECT_THAT(msg([] { tone(440.0, 1.0, 0.0); }), HasSubstr("samplerate"));
  EXPECT_THAT(msg([] { tone(440.0, 1.0, NAN); }), HasSubstr("samplerate"));
  EXPECT_THAT(msg([] { white_noise(0.0, 44100.0, 1); }), HasSubstr("duration"));
  EXPECT_THAT(msg([] { pink_noise(1.0, -8000.0, 1); }), HasSubstr("samplerate"));
  EXPECT_THAT(msg([] { silence(1.0, 0.0); }), HasSubstr("samplerate"));
  EXPECT_THAT(msg([] { with_ipd(30000.0, 0.1, 1.0, 44100.0); }), HasSubstr("frequency"));
  EXPECT_THAT(msg([] { binaural(with_ipd(500.0, 0.0, 0.1, 44100.0), 0.0, 0.0); }),
              HasSubstr("1 channel"));
  EXPECT_THAT(msg([] { binaural(tone(500.0, 0.01), 0.02, 0.0); }), HasSubstr("itd_seconds"));
}

TEST(Generators, WhiteNoiseIsStandardGaussianAndReproducible) {
  const Sound a = white_noise(2.0, 44100.0, 42);
  const auto n = static_cast<double>(a.frames());
  double sum = 0, sq = 0, fourth = 0;
  for (float v : a.samples) sum += v, sq += v * v, fourth += std::pow(v, 4.0);
  const double mean = sum / n, var = sq / n - mean * mean;
  // 88200 samples: the standard error of the mean is 0.0034 and of the variance 0.0048; the
  // bounds are about 4 standard errors. Kurtosis 3 checks the shape (Gaussian, not uniform).
  EXPECT_NEAR(mean, 0.0, 0.015);
  EXPECT_NEAR(var, 1.0, 0.02);
  EXPECT_NEAR(fourth / n / (var * var), 3.0, 0.07);
  EXPECT_EQ(white_noise(2.0, 44100.0, 42).samples, a.samples);
  EXPECT_NE(white_noise(2.0, 44100.0, 43).samples, a.samples);
  // Sample i does not depend on the length.
  const Sound b = white_noise(0.5, 44100.0, 42);
  EXPECT_TRUE(std::equal(b.samples.begin(), b.samples.end(), a.samples.begin()));
}

TEST(Generators, PinkNoiseFallsTenDecibelsPerDecade) {
  for (const double fs : {44100.0, 16000.0}) {
    // 6 s (not a power of two: the generator cuts its synthesis block).
    const Sound s = pink_noise(6.0, fs, 7);
    EXPECT_NEAR(rms(s, 0), 1.0, 1e-5);
    EXPECT_EQ(pink_noise(6.0, fs, 7).samples, s.samples);
    const std::size_t seg = 8192;
    const std::vector<double> p = welch(s.samples, seg);
    // Mean power density in octave bands from 50 Hz up to fs/4 and a line through
    // 10·log10(power) against log10(f). Each band averages >= 19 bins × 60 segments, so its
    // level is known within ~0.1 dB and the fitted slope within a few tenths of a dB/decade;
    // ±1 dB/decade still tells pink (−10) from white (0) or brown (−20) noise by a wide margin.
    std::vector<double> lf, ldb;
    for (double lo = 50.0; 2.0 * lo <= fs / 4.0; lo *= 2.0) {
      const auto k0 = static_cast<std::size_t>(std::ceil(lo / fs * seg));
      const auto k1 = static_cast<std::size_t>(std::floor(2.0 * lo / fs * seg));
      double acc = 0;
      for (std::size_t k = k0; k < k1; ++k) acc += p[k];
      lf.push_back(std::log10(lo * std::sqrt(2.0)));
      ldb.push_back(10.0 * std::log10(acc / static_cast<double>(k1 - k0)));
    }
    ASSERT_GE(lf.size(), 5u);
    const double db_per_decade = slope(lf, ldb);
    EXPECT_NEAR(db_per_decade, -10.0, 1.0) << "fs = " << fs;
    // And the bands lie on the line: 1/f throughout, not just on average.
    const double mx = (lf.front() + lf.back()) / 2, my = (ldb.front() + ldb.back()) / 2;
    for (std::size_t i = 0; i < lf.size(); ++i)
      EXPECT_NEAR(ldb[i], my + db_per_decade * (lf[i] - mx), 1.0) << "band " << i;
  }
}

TEST(Generators, Silence) {
  const Sound s = silence(0.5, 16000.0);
  EXPECT_EQ(s.frames(), 8000u);
  EXPECT_TRUE(std::all_of(s.samples.begin(), s.samples.end(), [](float v) { return v == 0; }));
}

// --- Binaural cues ----------------------------------------------------------------------------

TEST(Binaural, ItdOfNoiseIsRecoveredByCrossCorrelation) {
  const double fs = 44100.0;
  const Sound noise = white_noise(0.5, fs, 11);
  for (const double itd : {300e-6, -300e-6, 100e-6, 0.0}) {
    const Sound b = binaural(noise, itd, 0.0);
    ASSERT_EQ(b.channels, 2u);
    ASSERT_EQ(b.frames(), noise.frames());
    // Right = left delayed by itd·fs samples: the correlation peaks at that lag.
    const int lag = xcorr_peak(b.channel(0), b.channel(1), 40);
    EXPECT_LE(std::abs(lag - itd * fs), 1.0) << "itd " << itd << " lag " << lag;
    EXPECT_EQ(lag, std::lround(itd * fs));
  }
  // The leading ear is the untouched input.
  EXPECT_EQ(binaural(noise, 300e-6, 0.0).channel(0), noise.samples);
  EXPECT_EQ(binaural(noise, -300e-6, 0.0).channel(1), noise.samples);
}

TEST(Binaural, SubSampleItdGivesTheExpectedPhaseShift) {
  const double fs = 44100.0, f = 500.0, itd = 100e-6;  // 4.41 samples
  const Sound b = binaural(tone(f, 1.0, fs), itd, 0.0);
  // 441 samples are exactly 5 cycles; skip the first 441 (the delayed ear's onset).
  const std::size_t lo = 441, hi = 441 * 100;
  const double dphi =
      wrap(phase_at(b.channel(1), fs, f, lo, hi) - phase_at(b.channel(0), fs, f, lo, hi));
  const double expected = -2.0 * kPi * f * itd;  // the right ear lags: −0.314 rad
  EXPECT_NEAR(dphi, expected, 1e-2);
  EXPECT_NEAR(dphi, expected, 1e-5);  // what the windowed-sinc interpolator actually achieves
  EXPECT_NEAR(rms(b, 1) / rms(b, 0), 1.0, 1e-3);
}

TEST(Binaural, IldIsRecovered) {
  const Sound noise = white_noise(1.0, 44100.0, 5);
  for (const double ild : {6.0, -10.0, 0.5}) {
    const Sound b = binaural(noise, 0.0, ild);
    EXPECT_NEAR(level_db(b, 0) - level_db(b, 1), ild, 0.1);
    EXPECT_NEAR(level_db(b, 0) - level_db(noise, 0), ild / 2, 1e-3);
    // With an ITD too: the lagging ear loses the noise above ~0.45·fs and |itd| of its tail.
    const Sound c = binaural(pink_noise(1.0, 44100.0, 5), 250e-6, ild);
    EXPECT_NEAR(level_db(c, 0) - level_db(c, 1), ild, 0.1);
  }
}

TEST(Binaural, WithIpdRightChannelLeads) {
  const double fs = 44100.0, f = 500.0;
  for (const double ipd : {0.7, -1.2, kPi / 2}) {
    const Sound s = with_ipd(f, ipd, 1.0, fs);
    ASSERT_EQ(s.channels, 2u);
    const double left = phase_at(s.channel(0), fs, f, 0, 44100);
    const double right = phase_at(s.channel(1), fs, f, 0, 44100);
    EXPECT_NEAR(left, 0.0, 1e-5);
    EXPECT_NEAR(wrap(right - left), ipd, 1e-5);
  }
}

TEST(Binaural, AddNoiseGivesTheRequestedSnrPerChannel) {
  const Sound clean = binaural(harmonic_complex(200.0, 5, 1.0), 200e-6, 12.0);
  for (const double snr : {10.0, 0.0, -5.0}) {
    const Sound noisy = add_noise(clean, snr, 9);
    ASSERT_EQ(noisy.samples.size(), clean.samples.size());
    for (std::size_t c = 0; c < 2; ++c)
      EXPECT_NEAR(snr_db(clean.channel(c), noisy.channel(c)), snr, 0.5) << "channel " << c;
    EXPECT_NEAR(snr_db(clean.channel(0), noisy.channel(0)), snr, 1e-3);  // exact by construction
  }
  EXPECT_EQ(add_noise(clean, 3.0, 9).samples, add_noise(clean, 3.0, 9).samples);
  EXPECT_NE(add_noise(clean, 3.0, 9).samples, add_noise(clean, 3.0, 10).samples);
  EXPECT_THAT(error_of<ParameterError>([] { add_noise(silence(0.1, 8000.0), 10.0, 1); }),
              HasSubstr("silent"));
}

// --- WAV files --------------------------------------------------------------------------------

TEST(Wav, FloatRoundTripIsExact) {
  TempDir dir;
  const std::string path = dir / "stereo.wav";
  const Sound s = scaled(binaural(white_noise(0.3, 48000.0, 2), 150e-6, 4.0), 0.25);
  write_wav(path, s);
  EXPECT_FALSE(fs::exists(path + ".partial"));
  const Sound r = read_wav(path);
  EXPECT_EQ(r.samplerate, 48000.0);
  EXPECT_EQ(r.channels, 2u);
  EXPECT_EQ(r.samples, s.samples);
}

TEST(Wav, Pcm16RoundTripIsWithinOneStep) {
  TempDir dir;
  const std::string path = dir / "tone.wav";
  const Sound s = tone(440.0, 0.2, 22050.0);  // unit amplitude: full scale exactly
  write_wav(path, s, WavEncoding::kPcm16);
  const Sound r = read_wav(path, {.allowed_samplerates = {22050.0, 44100.0}});
  ASSERT_EQ(r.samples.size(), s.samples.size());
  EXPECT_EQ(r.samplerate, 22050.0);
  for (std::size_t i = 0; i < s.samples.size(); ++i)
    ASSERT_NEAR(r.samples[i], s.samples[i], 1.0 / 32768.0) << i;
  // Over full scale cannot be stored as PCM: refused, and nothing is left behind.
  const std::string loud = dir / "loud.wav";
  EXPECT_THAT(
      error_of<ParameterError>([&] { write_wav(loud, scaled(s, 1.5), WavEncoding::kPcm16); }),
      AllOf(HasSubstr(loud), HasSubstr("full scale")));
  EXPECT_FALSE(fs::exists(loud));
  EXPECT_FALSE(fs::exists(loud + ".partial"));
}

TEST(Wav, WriteRejectsAMalformedSound) {
  TempDir dir;
  Sound odd;
  odd.channels = 2;
  odd.samples = {0.1f, 0.2f, 0.3f};
  EXPECT_THAT(error_of<ParameterError>([&] { write_wav(dir / "a.wav", odd); }),
              HasSubstr("whole number of 2-channel frames"));
  Sound frac = tone(100.0, 0.1, 8000.5);
  EXPECT_THAT(error_of<ParameterError>([&] { write_wav(dir / "b.wav", frac); }),
              HasSubstr("whole number of Hz"));
  EXPECT_THAT(error_of<IoError>([&] { write_wav(dir / "no/such/dir/c.wav", tone(100.0, 0.1)); }),
              HasSubstr("cannot write"));
}

TEST(Wav, MissingFile) {
  TempDir dir;
  const std::string path = dir / "missing.wav";
  EXPECT_THAT(error_of([&] { read_wav(path); }), AllOf(HasSubstr(path), HasSubstr("no such file")));
  EXPECT_THAT(error_of([&] { read_wav(dir / ""); }), HasSubstr("directory"));
}

TEST(Wav, TextFileIsNotASoundFile) {
  TempDir dir;
  const std::string path = dir / "notes.wav";
  std::ofstream(path) << "these are my notes, not a recording\n";
  EXPECT_THAT(error_of([&] { read_wav(path); }),
              AllOf(HasSubstr(path), HasSubstr("is not a WAV/sound file")));
}

TEST(Wav, TruncatedFileIsReported) {
  TempDir dir;
  for (const auto encoding : {WavEncoding::kPcm16, WavEncoding::kFloat32}) {
    const std::string path = dir / "cut.wav";
    write_wav(path, scaled(tone(300.0, 1000 / 8000.0, 8000.0), 0.5), encoding);
    ASSERT_EQ(read_wav(path).frames(), 1000u);
    const std::size_t bytes_per_frame = encoding == WavEncoding::kPcm16 ? 2 : 4;
    // Cut 300 frames and one odd byte off the end; the header still declares 1000 frames.
    fs::resize_file(path, fs::file_size(path) - 300 * bytes_per_frame - 1);
    EXPECT_THAT(error_of([&] { read_wav(path); }),
                AllOf(HasSubstr(path), HasSubstr("truncated: 699 of 1000 frames")));
  }
}

TEST(Wav, UnsupportedSampleRate) {
  TempDir dir;
  const std::string path = dir / "narrowband.wav";
  write_wav(path, scaled(tone(440.0, 0.1, 16000.0), 0.5));
  EXPECT_EQ(read_wav(path).samplerate, 16000.0);
  EXPECT_THAT(error_of([&] { read_wav(path, {.allowed_samplerates = {44100.0}}); }),
              AllOf(HasSubstr(path), HasSubstr("sample rate 16000 Hz is not supported"),
                    HasSubstr("allowed: 44100 Hz")));
}

TEST(Wav, SilentFile) {
  TempDir dir;
  const std::string path = dir / "quiet.wav";
  write_wav(path, silence(0.1, 44100.0));
  EXPECT_THAT(error_of([&] { read_wav(path); }), AllOf(HasSubstr(path), HasSubstr("is silent")));
  WavOptions keep_silence;
  keep_silence.reject_silence = false;
  EXPECT_EQ(read_wav(path, keep_silence).frames(), 4410u);
  // Peak at −100 dB re full scale: silent by the default −90 dB threshold, not by −120 dB.
  const std::string faint = dir / "faint.wav";
  write_wav(faint, scaled(tone(440.0, 0.1), 1e-5));
  EXPECT_THAT(error_of([&] { read_wav(faint); }), AllOf(HasSubstr(faint), HasSubstr("is silent")));
  WavOptions lower;
  lower.silence_db = -120.0;
  EXPECT_EQ(read_wav(faint, lower).frames(), 4410u);
}

TEST(Wav, ZeroFrames) {
  TempDir dir;
  const std::string path = dir / "empty.wav";
  Sound empty;
  write_wav(path, empty);
  EXPECT_THAT(error_of([&] { read_wav(path); }), AllOf(HasSubstr(path), HasSubstr("zero frames")));
}
