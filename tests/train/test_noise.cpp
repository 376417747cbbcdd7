// Input noise for robustness curves (train/noise.hpp): level 0 changes nothing; deletion, jitter
// and spurious spikes have the statistics their levels say; the noise is a function of (seed,
// sample) only, so evaluation is the same for any order and thread count; bad levels are refused.
#include <gtest/gtest.h>

#include <cmath>

#include "support/toy_events.hpp"
#include "volley/error.hpp"
#include "volley/train/noise.hpp"
#include "volley/train/trainer.hpp"

namespace vt = volley::train;
using volley::data::SampleEvents;

namespace {

constexpr double kDt = 1e-3;

std::size_t total_events(const volley::data::EventSource& d) {
  SampleEvents ev;
  std::size_t n = 0;
  for (std::size_t s = 0; s < d.size(); ++s) {
    d.fill(s, 0, ev);
    n += ev.size();
  }
  return n;
}

}  // namespace

TEST(Noise, LevelZeroChangesNothing) {
  const auto data = volley::test::bernoulli_data(20, 30, 2, 10, 3);
  for (const auto& k : vt::noise_kinds()) {
    if (vt::is_pixel_noise(k.value)) continue;  // PixelNoiseOnStaticImages
    const vt::NoisyEvents noisy(data, {k.value, 0.0, 5}, kDt);
    SampleEvents a, b;
    for (std::size_t s = 0; s < data.size(); ++s) {
      data.fill(s, 0, a);
      noisy.fill(s, 0, b);
      EXPECT_EQ(a.offsets, b.offsets) << k.name;
      EXPECT_EQ(a.units, b.units) << k.name;
      EXPECT_EQ(a.values, b.values) << k.name;
    }
  }
}

TEST(Noise, LevelsHaveTheirStatistics) {
  const auto data = volley::test::bernoulli_data(40, 50, 2, 40, 4);  // 0.25 per (input, step)
  const double clean = static_cast<double>(total_events(data));
  ASSERT_GT(clean, 15000.0);
  // Deletion: binomial(clean, 1 − p).
  const double p = 0.3;
  const double kept = static_cast<double>(total_events(vt::NoisyEvents(data, {vt::NoiseKind::deletion, p, 1}, kDt)));
  EXPECT_NEAR(kept, clean * (1 - p), 5 * std::sqrt(clean * p * (1 - p)));
  EXPECT_EQ(total_events(vt::NoisyEvents(data, {vt::NoiseKind::deletion, 1.0, 1}, kDt)), 0u);
  // Spurious: binomial(inputs · steps · samples, r·dt) extra events.
  const double r = 20.0, cells = 40.0 * 50.0 * 40.0;
  const double extra =
      static_cast<double>(total_events(vt::NoisyEvents(data, {vt::NoiseKind::spurious, r, 1}, kDt))) - clean;
  EXPECT_NEAR(extra, cells * r * kDt, 5 * std::sqrt(cells * r * kDt));
  // Jitter keeps every event and moves them by about sigma (clipping at the ends aside).
  const vt::NoisyEvents jittered(data, {vt::NoiseKind::jitter, 3e-3, 1}, kDt);
  EXPECT_EQ(total_events(jittered), static_cast<std::size_t>(clean));
  SampleEvents a, b;
  data.fill(7, 0, a);
  jittered.fill(7, 0, b);
  double mean_a = 0.0, mean_b = 0.0;
  for (std::size_t t = 0; t < 50; ++t) {
    mean_a += static_cast<double>(t) * (a.offsets[t + 1] - a.offsets[t]);
    mean_b += static_cast<double>(t) * (b.offsets[t + 1] - b.offsets[t]);
  }
  EXPECT_NE(a.offsets, b.offsets);
  EXPECT_NEAR(mean_a / static_cast<double>(a.size()), mean_b / static_cast<double>(b.size()), 1.0);
}

TEST(Noise, SameForAnyOrderAndThreadCount) {
  const auto data = volley::test::toy_data(64, 2);
  const vt::NoisyEvents noisy(data, {vt::NoiseKind::deletion, 0.4, 9}, kDt);
  SampleEvents first, again, other;
  noisy.fill(5, 0, first);
  noisy.fill(3, 0, other);
  noisy.fill(5, 0, again);
  EXPECT_EQ(first.units, again.units);
  EXPECT_EQ(first.offsets, again.offsets);
  const vt::NoisyEvents reseeded(data, {vt::NoiseKind::deletion, 0.4, 10}, kDt);
  SampleEvents re;
  std::size_t differ = 0;
  for (std::size_t s = 0; s < data.size(); ++s) {
    noisy.fill(s, 0, first);
    reseeded.fill(s, 0, re);
    differ += first.units != re.units;
  }
  EXPECT_GT(differ, 32u) << "another seed should draw other deletions";

  vt::Net net(volley::test::toy_net(20));
  vt::TrainSettings one, two;
  two.threads = 2;
  vt::Trainer t1(net, {}, {}, one), t2(net, {}, {}, two);
  EXPECT_EQ(t1.evaluate(noisy).accuracy, t2.evaluate(noisy).accuracy);
  EXPECT_EQ(t1.evaluate(noisy).loss, t2.evaluate(noisy).loss);
}

TEST(Noise, RefusesImpossibleLevels) {
  const auto data = volley::test::toy_data(2, 1);
  auto message = [&](vt::NoiseKind k, double level) -> std::string {
    try {
      vt::NoisyEvents(data, {k, level, 1}, kDt);
    } catch (const volley::ParameterError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(message(vt::NoiseKind::deletion, 1.5).find("probability in [0, 1], got 1.5"), std::string::npos);
  EXPECT_NE(message(vt::NoiseKind::jitter, -1e-3).find("time >= 0"), std::string::npos);
  EXPECT_NE(message(vt::NoiseKind::spurious, 2000.0).find("rate·dt <= 1"), std::string::npos);
}

// Pixel noise on static images: level 0 gives the same spikes; salt-and-pepper replaces the
// stated share of pixels by black or white; Gaussian noise moves pixels by about σ; event noise
// kinds are refused for pixels and pixel kinds for events.
TEST(Noise, PixelNoiseOnStaticImages) {
  volley::data::ImageSet set;
  set.n = 20;
  set.rows = set.cols = 10;
  set.labels.assign(20, 0);
  for (std::size_t i = 0; i < 20 * 100; ++i) set.pixels.push_back(static_cast<std::uint8_t>(60 + i % 120));
  volley::data::EncoderConfig enc;
  enc.n_steps = 50;
  const volley::data::ImageSource clean(set, enc, "test images", 10);
  SampleEvents a, b;
  {
    const auto same = vt::noisy_images(clean, {vt::NoiseKind::gaussian, 0.0, 1});
    clean.fill(3, 0, a);
    same->fill(3, 0, b);
    EXPECT_EQ(a.units, b.units);
    EXPECT_EQ(a.offsets, b.offsets);
  }
  const auto sp = vt::noisy_images(clean, {vt::NoiseKind::salt_pepper, 0.4, 1});
  std::size_t changed = 0, black = 0;
  for (std::size_t i = 0; i < set.pixels.size(); ++i) {
    const std::uint8_t x = sp->images().pixels[i];
    if (x != set.pixels[i]) {
      ++changed;
      EXPECT_TRUE(x == 0 || x == 255);
      black += x == 0;
    }
  }
  EXPECT_NEAR(static_cast<double>(changed), 0.4 * 2000, 5 * std::sqrt(2000 * 0.4 * 0.6));
  EXPECT_NEAR(static_cast<double>(black), 0.5 * static_cast<double>(changed), 5 * std::sqrt(changed * 0.25));
  const auto g = vt::noisy_images(clean, {vt::NoiseKind::gaussian, 0.1, 1});
  double sq = 0.0;
  for (std::size_t i = 0; i < set.pixels.size(); ++i) {
    const double d = (static_cast<double>(g->images().pixels[i]) - set.pixels[i]) / 255.0;
    sq += d * d;
  }
  EXPECT_NEAR(std::sqrt(sq / 2000.0), 0.1, 0.01);  // no clipping: pixels stay in [60, 180) ± 4σ
  EXPECT_THROW(vt::noisy_images(clean, {vt::NoiseKind::deletion, 0.1, 1}), volley::ParameterError);
  EXPECT_THROW(vt::NoisyEvents(clean, {vt::NoiseKind::gaussian, 0.1, 1}, kDt), volley::ParameterError);
}
