// Tests of the cochlear front end: ERB scale, gammatone magnitude responses measured with pure
// tones, hair-cell phase locking (vector strength) and auditory-nerve spike statistics.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdio>
#include <numbers>
#include <vector>

#include "volley/ear/cochlea.hpp"
#include "volley/error.hpp"
#include "volley/rng.hpp"

using namespace volley;
using namespace volley::ear;

namespace {

constexpr double kPi = std::numbers::pi;

// A sine of the given amplitude.
std::vector<float> sine(double f, double amplitude, double samplerate, double seconds) {
  std::vector<float> s(static_cast<std::size_t>(seconds * samplerate));
  for (std::size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<float>(amplitude *
                              std::sin(2.0 * kPi * f * static_cast<double>(i) / samplerate));
  return s;
}

// Peak amplitude in pascals of a tone at `db` dB SPL (re 20 µPa RMS).
double spl_amplitude(double db) { return 20e-6 * std::sqrt(2.0) * std::pow(10.0, db / 20.0); }

std::vector<float> tone_spl(double f, double db, double samplerate, double seconds) {
  return sine(f, spl_amplitude(db), samplerate, seconds);
}

// Steady-state amplitude of channel c of a filterbank output: √2·RMS over a whole number of
// periods of f, starting at sample `skip`.
double steady_amplitude(const std::vector<float>& out, std::size_t channels, std::size_t c,
                        std::size_t skip, double f, double samplerate) {
  const std::size_t available = out.size() / channels - skip;
  const double periods = std::floor(static_cast<double>(available) * f / samplerate);
  const auto n = static_cast<std::size_t>(std::round(periods * samplerate / f));
  double sum = 0.0;
  for (std::size_t t = skip; t < skip + n; ++t) {
    const double y = out[t * channels + c];
    sum += y * y;
  }
  return std::sqrt(2.0 * sum / static_cast<double>(n));
}

// Mean firing rate of the units [first, last) over [t0, t1) seconds.
double mean_rate(const std::vector<SpikeEvent>& spikes, std::uint32_t first, std::uint32_t last,
                 double t0, double t1) {
  std::size_t n = 0;
  for (const auto& [t, u] : spikes)
    if (u >= first && u < last && t >= t0 && t < t1) ++n;
  return static_cast<double>(n) / (static_cast<double>(last - first) * (t1 - t0));
}

// Vector strength (Goldberg & Brown 1969) of the units [first, last) at frequency f, from t0 on.
double vector_strength(const std::vector<SpikeEvent>& spikes, std::uint32_t first,
                       std::uint32_t last, double f, double t0) {
  std::complex<double> sum;
  std::size_t n = 0;
  for (const auto& [t, u] : spikes) {
    if (u < first || u >= last || t < t0) continue;
    sum += std::polar(1.0, 2.0 * kPi * f * t);
    ++n;
  }
  return n == 0 ? 0.0 : std::abs(sum) / static_cast<double>(n);
}

}  // namespace

// ---- ERB scale --------------------------------------------------------------------------------

TEST(Erb, GlasbergMooreValues) {
  EXPECT_NEAR(erb_hz(1000.0), 132.639, 1e-3);
  EXPECT_NEAR(erb_hz(0.0), 24.7, 1e-12);
  EXPECT_NEAR(erb_hz(100.0), 35.4939, 1e-3);
  EXPECT_NEAR(erb_hz(500.0), 78.6695, 1e-3);
  EXPECT_NEAR(erb_hz(4000.0), 456.456, 1e-3);
  // ERB-number (Cams): 0 at 0 Hz, ≈ 15.6 at 1 kHz, ≈ 27.1 at 4 kHz, ≈ 35.3 at 10 kHz.
  EXPECT_NEAR(erb_number(0.0), 0.0, 1e-12);
  EXPECT_NEAR(erb_number(1000.0), 15.621, 1e-3);
  EXPECT_NEAR(erb_number(4000.0), 27.107, 1e-3);
  EXPECT_NEAR(erb_number(10000.0), 35.317, 1e-3);
  for (double f : {20.0, 440.0, 3000.0, 16000.0})
    EXPECT_NEAR(erb_number_to_hz(erb_number(f)), f, 1e-9 * f);
  EXPECT_NEAR(gammatone_bandwidth(1000.0), 1.019 * 132.639, 1e-3);
}

TEST(Erb, SpaceHasExactEndpointsAndEqualErbSteps) {
  const auto cf = erb_space(50.0, 8000.0, 700);
  ASSERT_EQ(cf.size(), 700u);
  EXPECT_EQ(cf.front(), 50.0);
  EXPECT_EQ(cf.back(), 8000.0);
  const double step = (erb_number(8000.0) - erb_number(50.0)) / 699.0;
  for (std::size_t i = 1; i < cf.size(); ++i) {
    ASSERT_GT(cf[i], cf[i - 1]);
    EXPECT_NEAR(erb_number(cf[i]) - erb_number(cf[i - 1]), step, 1e-9);
  }
  const auto two = erb_space(100.0, 5000.0, 2);
  EXPECT_EQ(two, (std::vector<double>{100.0, 5000.0}));
  EXPECT_EQ(erb_space(300.0, 900.0, 1), std::vector<double>{300.0});
  EXPECT_THROW(erb_space(0.0, 1000.0, 10), ParameterError);
  EXPECT_THROW(erb_space(2000.0, 1000.0, 10), ParameterError);
  EXPECT_THROW(erb_space(100.0, 1000.0, 0), ParameterError);
}

// ---- Gammatone magnitude response -------------------------------------------------------------

TEST(GammatoneMagnitude, AnalyticResponseShape) {
  for (double cf : {250.0, 1000.0, 4000.0}) {
    const double b = gammatone_bandwidth(cf);
    EXPECT_NEAR(gammatone_magnitude_db(cf, cf, 0.0), 0.0, 1e-12);
    for (double k : {-2.0, -1.0, -0.5, 0.5, 1.0, 2.0}) {
      // Near cf the exact response is the familiar [1 + ((f − cf)/b)²]^(−2) plus a small
      // negative-frequency correction that shrinks as cf/b grows.
      const double approx = -40.0 * std::log10(1.0 + k * k);
      const double tol = cf < 500.0 ? 0.1 : 0.01;
      EXPECT_NEAR(gammatone_magnitude_db(cf + k * b, cf, 0.0), approx, tol) << cf << " " << k;
    }
  }
  // The 3-dB points of a 4th-order gammatone are cf ± 0.4350·b, where [1 + x²]² = √2.
  EXPECT_NEAR(gammatone_magnitude_db(4000.0 + 0.4349 * gammatone_bandwidth(4000.0), 4000.0, 0.0),
              -3.0103, 0.01);
  EXPECT_THROW(gammatone_magnitude_db(100.0, 0.0, 0.0), ParameterError);
  EXPECT_THROW(gammatone_magnitude_db(100.0, 9000.0, 16000.0), ParameterError);
  EXPECT_THROW(gammatone_magnitude_db(100.0, 1000.0, -1.0), ParameterError);
}

// The digital filter's response departs from the continuous one as b/fs and cf/fs grow
// (frequency warping of the one-pole sections, and the image at fs − f near Nyquist).
TEST(GammatoneMagnitude, DigitalFilterTracksAnalogNearCf) {
  for (double fs : {16000.0, 44100.0}) {
    double worst = 0.0;
    for (double cf : {100.0, 500.0, 2000.0, 5000.0}) {
      const double b = gammatone_bandwidth(cf);
      EXPECT_NEAR(gammatone_magnitude_db(cf, cf, fs), 0.0, 1e-12);
      for (double k : {-2.0, -1.0, -0.5, 0.5, 1.0, 2.0}) {
        const double f = cf + k * b;
        const double d = gammatone_magnitude_db(f, cf, fs) - gammatone_magnitude_db(f, cf, 0.0);
        worst = std::max(worst, std::abs(d));
        EXPECT_LT(std::abs(d), fs > 40000.0 ? 0.05 : 0.5)
            << "fs " << fs << " cf " << cf << " k " << k;
      }
    }
    std::printf("  fs %.0f Hz, cf 100-5000 Hz, cf ± 2b: largest |digital - analog| = %.4f dB\n", fs,
                worst);
  }
}

// ---- Gammatone filterbank ---------------------------------------------------------------------

TEST(GammatoneFilterbank, RejectsBadParameters) {
  EXPECT_THROW(GammatoneFilterbank({}, 16000.0), ParameterError);
  EXPECT_THROW(GammatoneFilterbank({1000.0}, 0.0), ParameterError);
  EXPECT_THROW(GammatoneFilterbank({0.0}, 16000.0), ParameterError);
  EXPECT_THROW(GammatoneFilterbank({-5.0}, 16000.0), ParameterError);
  EXPECT_THROW(GammatoneFilterbank({1000.0, 8000.0}, 16000.0), ParameterError);
  GammatoneFilterbank fb({100.0, 7999.0}, 16000.0);
  EXPECT_EQ(fb.channels(), 2u);
  EXPECT_EQ(fb.centre_frequencies(), (std::vector<double>{100.0, 7999.0}));
}

// The project's acceptance criterion: tones at cf and cf ± 0.5, 1, 2 bandwidths, steady-state
// output amplitude within 0.5 dB of the analytic gammatone response, and 0 dB at cf within 0.1.
TEST(GammatoneFilterbank, MeasuredMagnitudeMatchesGammatone) {
  const double fs = 44100.0;
  const std::vector<double> cfs{250.0, 500.0, 1000.0, 2000.0, 4000.0};
  const std::vector<double> offsets{-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0};
  GammatoneFilterbank fb(cfs, fs);
  const auto skip = static_cast<std::size_t>(0.15 * fs);  // ≥ 49 envelope time constants
  std::vector<float> out;
  std::printf("  cf(Hz)  offset(b)  measured(dB)  analog(dB)  error(dB)  vs digital(dB)\n");
  for (std::size_t c = 0; c < cfs.size(); ++c) {
    double worst = 0.0;
    for (double k : offsets) {
      const double f = cfs[c] + k * gammatone_bandwidth(cfs[c]);
      fb.reset();
      fb.process(sine(f, 1.0, fs, 0.4), out);
      const double measured = 20.0 * std::log10(steady_amplitude(out, cfs.size(), c, skip, f, fs));
      const double analog = gammatone_magnitude_db(f, cfs[c], 0.0);
      const double digital = gammatone_magnitude_db(f, cfs[c], fs);
      std::printf("  %6.0f  %9.1f  %12.4f  %10.4f  %9.4f  %14.4f\n", cfs[c], k, measured, analog,
                  measured - analog, measured - digital);
      EXPECT_NEAR(measured, analog, k == 0.0 ? 0.1 : 0.5) << "cf " << cfs[c] << " offset " << k;
      // The digital filter's own response is what the samples should show, up to float output.
      EXPECT_NEAR(measured, digital, 0.01) << "cf " << cfs[c] << " offset " << k;
      worst = std::max(worst, std::abs(measured - analog));
    }
    std::printf("  cf %.0f Hz: largest |measured - analog| = %.4f dB\n", cfs[c], worst);
  }
}

TEST(GammatoneFilterbank, BlocksContinueStateAndResetRestarts) {
  const double fs = 16000.0;
  GammatoneFilterbank fb(erb_space(100.0, 6000.0, 13), fs);
  std::vector<float> sound(3000);
  for (std::size_t i = 0; i < sound.size(); ++i)
    sound[i] = static_cast<float>(CounterRng(3, 0, 0, i).normal());
  std::vector<float> whole, part, joined;
  fb.process(sound, whole);
  fb.reset();
  for (std::size_t t0 = 0; t0 < sound.size(); t0 += 777) {
    const std::size_t len = std::min<std::size_t>(777, sound.size() - t0);
    fb.process(std::span<const float>(sound).subspan(t0, len), part);
    joined.insert(joined.end(), part.begin(), part.end());
  }
  EXPECT_EQ(joined, whole);
  fb.reset();
  fb.process(sound, part);
  EXPECT_EQ(part, whole);
}

// ---- Hair cells and auditory nerve ------------------------------------------------------------

TEST(Cochlea, RejectsBadParameters) {
  CochleaConfig c;
  EXPECT_THROW(Cochlea(c, 16000.0), ParameterError);  // f_high = 8000 is not below Nyquist
  c.f_high = 7500.0;
  EXPECT_NO_THROW(Cochlea(c, 16000.0));
  CochleaConfig bad = c;
  bad.nerve.refractory = 5e-3;  // 250/s needs intervals of 4 ms on average
  EXPECT_THROW(Cochlea(bad, 16000.0), ParameterError);
  bad = c;
  bad.nerve.spont_rate = 300.0;
  EXPECT_THROW(Cochlea(bad, 16000.0), ParameterError);
  bad = c;
  bad.nerve.fibres_per_channel = 0;
  EXPECT_THROW(Cochlea(bad, 16000.0), ParameterError);
  bad = c;
  bad.ihc.lowpass_order = 5;
  EXPECT_THROW(Cochlea(bad, 16000.0), ParameterError);
  bad = c;
  bad.centre_frequencies = {100.0, 9000.0};
  EXPECT_THROW(Cochlea(bad, 16000.0), ParameterError);
  bad = c;
  bad.level_gain = 0.0;
  EXPECT_THROW(Cochlea(bad, 16000.0), ParameterError);
}

TEST(Cochlea, SpontaneousRateInSilence) {
  const double fs = 16000.0;
  const std::vector<float> silence(static_cast<std::size_t>(2.0 * fs), 0.0f);
  for (double spont : {5.0, 50.0}) {
    CochleaConfig c;
    c.centre_frequencies = {500.0, 1000.0, 2000.0, 4000.0};
    c.nerve.fibres_per_channel = 100;
    c.nerve.spont_rate = spont;
    const auto spikes = auditory_nerve(silence, fs, c);
    const double rate = mean_rate(spikes, 0, 400, 0.0, 2.0);
    std::printf("  spont_rate %.0f/s: measured %.2f/s (%zu spikes)\n", spont, rate, spikes.size());
    // Poisson counts: 4000 and 40000 expected; 4 standard deviations ≈ 6.3 % and 2 %.
    EXPECT_NEAR(rate, spont, spont * (spont < 10.0 ? 0.07 : 0.025));
  }
}

TEST(Cochlea, ConstantMaximalDriveFiresAtMaxRate) {
  // The dead-time correction makes a constant rate exact even at 250/s with 1 ms refractoriness
  // (uncorrected Bernoulli draws would give 250/1.25 = 200/s).
  const double fs = 16000.0;
  NerveConfig nc;
  nc.fibres_per_channel = 100;
  nc.half_drive = 1e-3;  // drive 1 → rate within 1e-12 of max_rate
  AuditoryNerve nerve(2, fs, nc);
  const std::vector<float> drive(static_cast<std::size_t>(2.0 * fs) * 2, 1.0f);
  std::vector<SpikeEvent> spikes;
  nerve.process(drive, spikes);
  const double rate = mean_rate(spikes, 0, 200, 0.0, 2.0);
  std::printf("  constant drive, max_rate 250/s: measured %.2f/s\n", rate);
  EXPECT_NEAR(rate, 250.0, 2.5);
  EXPECT_NEAR(nerve_rate(1.0, nc), 250.0, 1e-9);
  EXPECT_EQ(nerve_rate(0.0, nc), 5.0);
}

// The documented random-number keying: unit u fires at sample t iff it is out of refractoriness
// and CounterRng(seed, 0x00EA0000 + stream_object, u, t).uniform() < p.
TEST(Cochlea, SpikesFollowTheDocumentedCounterRngKeying) {
  const double fs = 10000.0;
  NerveConfig nc;
  nc.fibres_per_channel = 3;
  nc.seed = 77;
  nc.stream_object = 5;
  nc.refractory = 1e-3;  // 10 samples
  AuditoryNerve nerve(2, fs, nc);
  const std::size_t steps = 20000;
  std::vector<float> drive(steps * 2);
  for (std::size_t t = 0; t < steps; ++t) {
    drive[2 * t] = 0.3f;       // channel 0: about 210/s
    drive[2 * t + 1] = -1.0f;  // channel 1: negative drive counts as 0 (spontaneous)
  }
  std::vector<SpikeEvent> spikes;
  nerve.process(drive, spikes);

  std::vector<SpikeEvent> expected;
  const double dt = 1.0 / fs, dead_time = 9 * dt;
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::uint32_t u = 0; u < 6; ++u) {
      const double rate = nerve_rate(u < 3 ? 0.3 : 0.0, nc);
      const double p = rate * dt / (1.0 - rate * dead_time);
      bool ready = true;
      for (auto it = expected.rbegin(); it != expected.rend(); ++it)
        if (it->second == u) {
          ready = std::llround((static_cast<double>(t) * dt - it->first) * fs) >= 10;
          break;
        }
      if (ready && CounterRng(77, 0x00EA0000u + 5u, u, t).uniform() < p)
        expected.emplace_back(static_cast<double>(t) / fs, u);
    }
  }
  ASSERT_GT(expected.size(), 200u);
  EXPECT_EQ(spikes, expected);
}

TEST(Cochlea, RateGrowsWithLevelAndSaturatesNearMaxRate) {
  const double fs = 44100.0;
  CochleaConfig c;
  c.centre_frequencies = {500.0, 4000.0};
  c.nerve.fibres_per_channel = 20;
  std::printf("  level(dB SPL)  rate@500Hz  rate@4kHz  (steady, 0.1-0.4 s)\n");
  std::vector<double> r500, r4k;
  for (double db = 0.0; db <= 100.0; db += 10.0) {
    const auto s500 = auditory_nerve(tone_spl(500.0, db, fs, 0.4), fs, c);
    const auto s4k = auditory_nerve(tone_spl(4000.0, db, fs, 0.4), fs, c);
    r500.push_back(mean_rate(s500, 0, 20, 0.1, 0.4));
    r4k.push_back(mean_rate(s4k, 20, 40, 0.1, 0.4));
    std::printf("  %13.0f  %10.1f  %9.1f\n", db, r500.back(), r4k.back());
  }
  // Near spont at 0 dB SPL, then non-decreasing (up to counting noise) and saturating.
  EXPECT_LT(r4k.front(), 12.0);
  EXPECT_LT(r500.front(), 12.0);
  for (std::size_t i = 1; i < r4k.size(); ++i) {
    EXPECT_GT(r4k[i], r4k[i - 1] - 8.0) << i;
    EXPECT_GT(r500[i], r500[i - 1] - 8.0) << i;
  }
  EXPECT_GT(r4k[6], 100.0);  // 60 dB: well driven
  EXPECT_GT(r4k.back(), 0.9 * 250.0);
  EXPECT_LT(r4k.back(), 1.03 * 250.0);
  EXPECT_LT(r4k.back() - r4k[9], 0.05 * 250.0);  // 90 → 100 dB: saturated
  // A 500 Hz tone modulates the rate within each cycle, so it saturates lower.
  EXPECT_GT(r500.back(), 120.0);
  EXPECT_LT(r500.back(), r4k.back());
}

TEST(Cochlea, AdaptationGivesAnOnsetResponse) {
  const double fs = 44100.0;
  CochleaConfig c;
  c.centre_frequencies = {4000.0};
  c.nerve.fibres_per_channel = 500;
  const auto spikes = auditory_nerve(tone_spl(4000.0, 50.0, fs, 0.3), fs, c);
  // 1-6 ms: after the filter's build-up, while the fast adaptation is acting.
  const double onset = mean_rate(spikes, 0, 500, 0.001, 0.006);
  const double steady = mean_rate(spikes, 0, 500, 0.2, 0.3);
  std::printf("  4 kHz, 50 dB SPL: onset (1-6 ms) %.0f/s, steady (200-300 ms) %.0f/s\n", onset,
              steady);
  EXPECT_GT(onset, 1.3 * steady);
}

TEST(Cochlea, PhaseLockingFallsWithFrequency) {
  const double fs = 44100.0;
  const std::vector<double> freqs{500.0, 1000.0, 2000.0, 4000.0};
  CochleaConfig c;
  c.centre_frequencies = freqs;
  c.nerve.fibres_per_channel = 20;
  std::vector<double> vs;
  for (std::size_t i = 0; i < freqs.size(); ++i) {
    const auto spikes = auditory_nerve(tone_spl(freqs[i], 60.0, fs, 0.5), fs, c);
    const auto first = static_cast<std::uint32_t>(20 * i);
    vs.push_back(vector_strength(spikes, first, first + 20, freqs[i], 0.05));
    std::printf(
        "  %5.0f Hz tone at 60 dB SPL, channel cf %.0f Hz: vector strength %.3f, "
        "rate %.0f/s\n",
        freqs[i], freqs[i], vs.back(), mean_rate(spikes, first, first + 20, 0.05, 0.5));
  }
  EXPECT_GT(vs[0], 0.5);
  EXPECT_GT(vs[0], vs[1]);
  EXPECT_GT(vs[1], vs[2]);
  EXPECT_GT(vs[2], vs[3]);
  EXPECT_LT(vs[3], 0.2);
}

TEST(Cochlea, RefractoryPeriodIsRespected) {
  const double fs = 16000.0;
  CochleaConfig c;
  c.centre_frequencies = {500.0, 2000.0};
  c.nerve.fibres_per_channel = 50;
  c.nerve.refractory = 2e-3;
  const auto spikes = auditory_nerve(tone_spl(500.0, 90.0, fs, 0.5), fs, c);
  std::vector<double> last(100, -1.0);
  double shortest = 1.0;
  for (const auto& [t, u] : spikes) {
    if (last[u] >= 0.0) shortest = std::min(shortest, t - last[u]);
    last[u] = t;
  }
  std::printf("  %zu spikes, shortest interval %.4f ms (refractory 2 ms)\n", spikes.size(),
              shortest * 1e3);
  EXPECT_GE(shortest, 2e-3 - 1e-9);
  EXPECT_LT(shortest, 2e-3 + 0.5 / fs);  // the limit is reached at high rates
}

TEST(Cochlea, SpikesAreOrderedAndReproducible) {
  const double fs = 16000.0;
  CochleaConfig c;
  c.f_low = 100.0;
  c.f_high = 6000.0;
  c.channels = 30;
  c.nerve.fibres_per_channel = 3;
  const auto sound = tone_spl(1000.0, 70.0, fs, 0.3);
  const auto a = auditory_nerve(sound, fs, c);
  const auto b = auditory_nerve(sound, fs, c);
  ASSERT_GT(a.size(), 300u);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  for (const auto& [t, u] : a) ASSERT_LT(u, 90u);

  // The same spikes when the sound arrives in parts.
  Cochlea cochlea(c, fs);
  std::vector<SpikeEvent> parts;
  for (std::size_t t0 = 0; t0 < sound.size(); t0 += 1001) {
    const std::size_t len = std::min<std::size_t>(1001, sound.size() - t0);
    cochlea.process(std::span<const float>(sound).subspan(t0, len), parts);
  }
  EXPECT_EQ(parts, a);
  cochlea.reset();
  std::vector<SpikeEvent> again;
  cochlea.process(sound, again);
  EXPECT_EQ(again, a);

  CochleaConfig other = c;
  other.nerve.seed = 2;
  EXPECT_NE(auditory_nerve(sound, fs, other), a);
  other = c;
  other.nerve.stream_object = 1;  // the other ear
  EXPECT_NE(auditory_nerve(sound, fs, other), a);
}

TEST(Cochlea, LevelGainScalesTheInput) {
  const double fs = 16000.0;
  CochleaConfig c;
  c.centre_frequencies = {1000.0};
  const auto loud = tone_spl(1000.0, 60.0, fs, 0.1);
  const auto quiet = tone_spl(1000.0, 40.0, fs, 0.1);
  CochleaConfig boosted = c;
  boosted.level_gain = 10.0;
  std::vector<float> d1, d2;
  Cochlea(c, fs).drive(loud, d1);
  Cochlea(boosted, fs).drive(quiet, d2);
  ASSERT_EQ(d1.size(), d2.size());
  for (std::size_t i = 0; i < d1.size(); ++i) ASSERT_NEAR(d1[i], d2[i], 1e-5f + 1e-4f * d1[i]);
}

// After a sound the states decay; they must reach exact zeros instead of lingering as
// subnormal numbers (slow on many CPUs, and rounding can hold them there for ever).
TEST(Cochlea, DriveReturnsToExactZeroInSilence) {
  const double fs = 16000.0;
  CochleaConfig c;
  c.f_high = 7500.0;
  c.channels = 30;
  Cochlea cochlea(c, fs);
  auto sound = tone_spl(1000.0, 90.0, fs, 0.1);
  sound.resize(static_cast<std::size_t>(4.1 * fs), 0.0f);
  std::vector<float> drive;
  cochlea.drive(sound, drive);
  ASSERT_GT(*std::max_element(drive.begin(), drive.end()), 0.1f);
  const std::vector<float> tail(drive.end() - 100 * 30, drive.end());
  EXPECT_EQ(tail, std::vector<float>(tail.size(), 0.0f));
}

// Not a pass/fail test: the cost of 700 channels for 1 s of sound at 16 kHz.
TEST(Cochlea, Throughput) {
  const double fs = 16000.0;
  std::vector<float> noise(static_cast<std::size_t>(fs));
  for (std::size_t i = 0; i < noise.size(); ++i)
    noise[i] = static_cast<float>(spl_amplitude(60.0) * CounterRng(9, 0, 0, i).normal());
  GammatoneFilterbank fb(erb_space(50.0, 7500.0, 700), fs);
  std::vector<float> out;
  auto t0 = std::chrono::steady_clock::now();
  fb.process(noise, out);
  auto t1 = std::chrono::steady_clock::now();
  fb.reset();
  fb.process(noise, out);  // the output buffer (45 MB) now exists
  auto t2 = std::chrono::steady_clock::now();
  std::printf(
      "  filterbank, 700 channels x 1 s at 16 kHz: %.1f ms (first call, allocating the "
      "output), %.1f ms (output allocated)\n",
      std::chrono::duration<double, std::milli>(t1 - t0).count(),
      std::chrono::duration<double, std::milli>(t2 - t1).count());
  CochleaConfig c;
  c.f_high = 7500.0;
  t0 = std::chrono::steady_clock::now();
  const auto spikes = auditory_nerve(noise, fs, c);
  t1 = std::chrono::steady_clock::now();
  std::printf("  whole chain (filterbank, hair cells, 700 fibres): %.1f ms, %zu spikes\n",
              std::chrono::duration<double, std::milli>(t1 - t0).count(), spikes.size());
  c.nerve.fibres_per_channel = 10;
  t0 = std::chrono::steady_clock::now();
  const auto more = auditory_nerve(noise, fs, c);
  t1 = std::chrono::steady_clock::now();
  std::printf("  whole chain with 10 fibres per channel (7000 units): %.1f ms, %zu spikes\n",
              std::chrono::duration<double, std::milli>(t1 - t0).count(), more.size());
  EXPECT_FALSE(spikes.empty());
}
