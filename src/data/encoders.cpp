// Image encoders (latency and Poisson) producing input events from uint8 images on the fly.
// Both are tables over the 256 grey values built once in the constructor; fill() only walks
// the pixels of one image.
#include "volley/data/encoders.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::data {

ImageSource::ImageSource(ImageSet images, EncoderConfig config, std::string description,
                         std::size_t n_classes)
    : ImageSource(std::make_shared<const ImageSet>(std::move(images)), config,
                  std::move(description), n_classes) {}

ImageSource::ImageSource(std::shared_ptr<const ImageSet> images, EncoderConfig config,
                         std::string description, std::size_t n_classes)
    : images_(std::move(images)),
      config_(config),
      description_(std::move(description)),
      n_classes_(n_classes),
      n_inputs_(0) {
  const auto& c = config_;
  // Negated comparisons so that NaN fails too.
  if (c.n_steps == 0 || c.n_steps > std::numeric_limits<std::uint32_t>::max())
    throw ParameterError(
        fmt::format("{}: encoder n_steps must be in [1, 2^32), got {}", description_, c.n_steps));
  if (!(c.tau_eff > 0.0) || !std::isfinite(c.tau_eff))
    throw ParameterError(
        fmt::format("{}: encoder tau_eff must be > 0 (steps), got {}", description_, c.tau_eff));
  if (!(c.threshold > 0.0 && c.threshold < 1.0))
    throw ParameterError(
        fmt::format("{}: encoder threshold must be in (0, 1), got {}", description_, c.threshold));
  if (!(c.max_rate > 0.0 && c.max_rate <= 1.0))
    throw ParameterError(
        fmt::format("{}: encoder max_rate must be in (0, 1], got {}", description_, c.max_rate));
  if (n_classes_ == 0) throw ParameterError(fmt::format("{}: n_classes must be > 0", description_));
  if (!images_) throw ParameterError(fmt::format("{}: no image set", description_));

  const ImageSet& s = *images_;
  n_inputs_ = s.rows * s.cols;
  if (n_inputs_ == 0)
    throw ParameterError(fmt::format("{}: images have {}x{} pixels, need at least one",
                                     description_, s.rows, s.cols));
  if (s.pixels.size() != s.n * n_inputs_)
    throw ParameterError(fmt::format("{}: {} pixels for {} images of {}x{}, expected {}",
                                     description_, s.pixels.size(), s.n, s.rows, s.cols,
                                     s.n * n_inputs_));
  if (s.labels.size() != s.n)
    throw ParameterError(
        fmt::format("{}: {} labels for {} images", description_, s.labels.size(), s.n));
  for (std::size_t i = 0; i < s.n; ++i)
    if (s.labels[i] >= n_classes_)
      throw ParameterError(fmt::format("{}: sample {} has label {}, must be in [0, {})",
                                       description_, i, s.labels[i], n_classes_));

  for (int v = 0; v < 256; ++v) {
    const double x = v / 255.0;
    latency_step_[v] = latency_step_of(x, c);
    // Poisson: gaps between spikes are geometric, floor(ln(u) / ln(1 - p)) with u in (0, 1].
    p_[v] = c.max_rate * x;
    inv_log_q_[v] = p_[v] > 0.0 && p_[v] < 1.0 ? 1.0 / std::log1p(-p_[v]) : 0.0;
  }
}

int ImageSource::latency_step_of(double x, const EncoderConfig& c) {
  // As the reference: T = tau * ln(x / (x - thr)) with x clipped to thr + 1e-7, truncated to an
  // integer step; below threshold or at/after n_steps: no spike.
  if (x < c.threshold) return -1;
  const double xc = std::max(x, c.threshold + 1e-7);
  const double T = c.tau_eff * std::log(xc / (xc - c.threshold));
  return T < static_cast<double>(c.n_steps) ? static_cast<int>(T) : -1;
}

template <class F>
void ImageSource::for_each_event(std::size_t index, std::uint64_t epoch, F&& f) const {
  const std::uint8_t* px = images_->pixels.data() + index * n_inputs_;
  const auto n_steps = static_cast<std::uint32_t>(config_.n_steps);
  if (config_.kind == EncoderConfig::Kind::analog) {
    for (std::size_t u = 0; u < n_inputs_; ++u) f(0u, static_cast<std::uint32_t>(u));
    return;
  }
  if (config_.kind == EncoderConfig::Kind::latency) {
    for (std::size_t u = 0; u < n_inputs_; ++u) {
      const int s = latency_step_[px[u]];
      if (s >= 0) f(static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(u));
    }
    return;
  }
  // Poisson: one Bernoulli(p) per (pixel, step), drawn as geometric gaps between spikes (same
  // distribution, one random number per spike instead of one per step).
  CounterRng rng(config_.seed, kImageEncoderStream, static_cast<std::uint32_t>(index), epoch);
  const double end = static_cast<double>(n_steps);
  for (std::size_t u = 0; u < n_inputs_; ++u) {
    const double p = p_[px[u]];
    if (p <= 0.0) continue;
    const auto unit = static_cast<std::uint32_t>(u);
    if (p >= 1.0) {
      for (std::uint32_t s = 0; s < n_steps; ++s) f(s, unit);
      continue;
    }
    const double inv = inv_log_q_[px[u]];
    double t = 0.0;
    for (;;) {
      t += std::floor(std::log(rng.uniform_open0()) * inv);
      if (!(t < end)) break;
      f(static_cast<std::uint32_t>(t), unit);
      t += 1.0;
    }
  }
}

void ImageSource::fill(std::size_t index, std::uint64_t epoch, SampleEvents& out) const {
  if (index >= images_->n)
    throw ParameterError(
        fmt::format("{}: sample index {} out of range (size {})", description_, index, images_->n));
  // Counting sort on step in two passes over the same (deterministic) events: count, then place.
  // Units arrive in increasing order, so each step's events end up sorted by unit.
  const std::size_t n_steps = config_.n_steps;
  out.reset(n_steps);
  for_each_event(index, epoch, [&](std::uint32_t s, std::uint32_t) { ++out.offsets[s + 1]; });
  for (std::size_t t = 0; t < n_steps; ++t) out.offsets[t + 1] += out.offsets[t];
  out.units.resize(out.offsets[n_steps]);
  out.values.assign(out.offsets[n_steps], 1.0f);
  if (config_.kind == EncoderConfig::Kind::analog) {
    const std::uint8_t* px = images_->pixels.data() + index * n_inputs_;
    for (std::size_t u = 0; u < n_inputs_; ++u) out.values[u] = static_cast<float>(px[u] / 255.0);
  }
  for_each_event(index, epoch,
                 [&](std::uint32_t s, std::uint32_t u) { out.units[out.offsets[s]++] = u; });
  // offsets[s] now holds the end of step s: shift back to the begins.
  for (std::size_t t = n_steps; t > 0; --t) out.offsets[t] = out.offsets[t - 1];
  out.offsets[0] = 0;
}

}  // namespace volley::data
