#include "volley/train/noise.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::train {
namespace {
// Not 0x7400 + kind: the IPD task draws its samples from 0x7400 and 0x7401 with the same keys.
constexpr std::uint32_t kStreamNoise = 0x7700;
}

const Registry<Choice<NoiseKind>>& noise_kinds() {
  static const Registry<Choice<NoiseKind>> r(
      "noise", {{"deletion", NoiseKind::deletion,
                 "each input event is dropped with probability LEVEL (0 to 1)"},
                {"jitter", NoiseKind::jitter,
                 "each input event moves by a normal time shift of standard deviation LEVEL "
                 "(seconds), rounded to steps and clipped to the sample"},
                {"spurious", NoiseKind::spurious,
                 "each input gains extra spikes at LEVEL Hz (a Bernoulli draw per input and step)"},
                {"gaussian", NoiseKind::gaussian,
                 "static images: each pixel gains normal noise of standard deviation LEVEL (full "
                 "scale 1) before encoding"},
                {"salt_pepper", NoiseKind::salt_pepper,
                 "static images: each pixel becomes black or white with probability LEVEL before "
                 "encoding"}});
  return r;
}

bool is_pixel_noise(NoiseKind kind) {
  return kind == NoiseKind::gaussian || kind == NoiseKind::salt_pepper;
}

std::unique_ptr<data::ImageSource> noisy_images(const data::ImageSource& source, NoiseSpec noise) {
  const std::string name(noise_kinds().name_of(noise.kind));
  if (!is_pixel_noise(noise.kind))
    throw ParameterError(fmt::format("noise '{}' acts on events, not on pixels", name));
  if (!(noise.level >= 0.0 && noise.level <= 1.0))
    throw ParameterError(fmt::format("noise '{}': the level must be in [0, 1] (full scale), got {}",
                                     name, noise.level));
  data::ImageSet set = source.images();
  const std::size_t per = set.rows * set.cols;
  const std::uint32_t stream = kStreamNoise + static_cast<std::uint32_t>(noise.kind);
  for (std::size_t i = 0; i < set.n; ++i) {
    CounterRng rng(noise.seed, stream, static_cast<std::uint32_t>(i), 0);
    for (std::size_t k = 0; k < per; ++k) {
      std::uint8_t& px = set.pixels[i * per + k];
      if (noise.kind == NoiseKind::gaussian) {
        const double x = static_cast<double>(px) / 255.0 + noise.level * rng.normal();
        px = static_cast<std::uint8_t>(std::lround(std::clamp(x, 0.0, 1.0) * 255.0));
      } else {
        const double u = rng.uniform();
        if (u < noise.level) px = u < 0.5 * noise.level ? 0 : 255;
      }
    }
  }
  return std::make_unique<data::ImageSource>(
      std::move(set), source.config(),
      fmt::format("{} with {} noise {}", source.description(), name, noise.level),
      source.n_classes());
}

NoisyEvents::NoisyEvents(const data::EventSource& base, NoiseSpec noise, double dt)
    : base_(base), noise_(noise), dt_(dt) {
  const std::string name(noise_kinds().name_of(noise.kind));
  if (!(dt > 0.0)) throw ParameterError(fmt::format("noise '{}': dt must be > 0", name));
  if (is_pixel_noise(noise.kind))
    throw ParameterError(fmt::format("noise '{}' acts on the pixels of static images, not on events",
                                     name));
  const double x = noise.level;
  switch (noise.kind) {
    case NoiseKind::deletion:
      if (!(x >= 0.0 && x <= 1.0))
        throw ParameterError(fmt::format("noise 'deletion': the level is a probability in [0, 1], "
                                         "got {}",
                                         x));
      break;
    case NoiseKind::jitter:
      if (!(x >= 0.0 && std::isfinite(x)))
        throw ParameterError(fmt::format("noise 'jitter': the level is a time >= 0 (s), got {}", x));
      break;
    case NoiseKind::spurious:
      if (!(x >= 0.0 && x * dt <= 1.0))
        throw ParameterError(fmt::format(
            "noise 'spurious': the level is a rate >= 0 (Hz) with rate·dt <= 1, got {} Hz at dt = "
            "{} s",
            x, dt));
      break;
    case NoiseKind::gaussian:
    case NoiseKind::salt_pepper:
      break;
  }
}

std::string NoisyEvents::description() const {
  return fmt::format("{} with {} noise {}", base_.description(), noise_kinds().name_of(noise_.kind),
                     noise_.level);
}

void NoisyEvents::fill(std::size_t index, std::uint64_t epoch, data::SampleEvents& out) const {
  data::SampleEvents clean;
  base_.fill(index, epoch, clean);
  const std::size_t T = clean.n_steps();
  const auto sample = static_cast<std::uint32_t>(index);
  std::vector<std::uint32_t> steps, units;
  std::vector<float> values;
  const std::uint32_t stream = kStreamNoise + static_cast<std::uint32_t>(noise_.kind);
  for (std::size_t t = 0; t < T; ++t)
    for (std::uint32_t e = clean.offsets[t]; e < clean.offsets[t + 1]; ++e) {
      // One generator per event: keyed by the sample and the event's position in it.
      CounterRng rng(noise_.seed, stream, sample, e);
      std::size_t step = t;
      if (noise_.kind == NoiseKind::deletion && rng.uniform() < noise_.level) continue;
      if (noise_.kind == NoiseKind::jitter && noise_.level > 0.0) {
        const double shift = std::round(rng.normal() * noise_.level / dt_);
        const double moved = std::clamp(static_cast<double>(t) + shift, 0.0,
                                        static_cast<double>(T - 1));
        step = static_cast<std::size_t>(moved);
      }
      steps.push_back(static_cast<std::uint32_t>(step));
      units.push_back(clean.units[e]);
      values.push_back(clean.values[e]);
    }
  if (noise_.kind == NoiseKind::spurious && noise_.level > 0.0) {
    const double p = noise_.level * dt_;
    for (std::uint32_t u = 0; u < base_.n_inputs(); ++u) {
      CounterRng rng(noise_.seed, stream, sample, (std::uint64_t{1} << 40) + u);
      for (std::size_t t = 0; t < T; ++t)
        if (rng.uniform() < p) {
          steps.push_back(static_cast<std::uint32_t>(t));
          units.push_back(u);
          values.push_back(1.0f);
        }
    }
  }
  data::build_sample(steps, units, values, T, out);
}

}  // namespace volley::train
