#pragma once
// Image encoders: an EventSource that turns uint8 grey-scale images into input events on the
// fly, one input unit per pixel (n_inputs = rows * cols).
//
// latency  (SpyTorch tutorial): x = pixel / 255; a pixel with x < threshold never spikes;
//          otherwise it spikes once, at step floor(tau_eff * ln(x / (x - threshold))) (x clipped
//          to >= threshold + 1e-7 as in the reference), if that step is < n_steps.
//          Deterministic: epoch is ignored.
// poisson  every pixel spikes at every step independently with probability max_rate * x. The
//          draws come from CounterRng(seed, kImageEncoderStream, sample index, epoch), so a
//          (sample, epoch) pair always gives the same events, whichever thread asks.
// analog   not spikes: every pixel is an event at step 0 with value x = pixel / 255 (zeros
//          included), the input of the ANN twin (train/twin.hpp); n_steps is normally 1.
// Event values are 1 (except analog); within a step events are in increasing unit order.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "volley/data/events.hpp"
#include "volley/data/idx.hpp"

namespace volley::data {

struct EncoderConfig {
  enum class Kind { latency, poisson, analog } kind = Kind::latency;
  std::size_t n_steps = 100;
  double tau_eff = 20.0;   // latency: time constant, in steps
  double threshold = 0.2;  // latency: pixels below this fraction of 255 stay silent
  double max_rate = 0.2;   // poisson: spike probability per step at pixel value 1
  std::uint64_t seed = 1;  // poisson
};

// RNG stream of the Poisson image encoder (outside the RngStream ranges used elsewhere).
inline constexpr std::uint32_t kImageEncoderStream = (8u << 24) + 0x1E;

class ImageSource final : public EventSource {
 public:
  // Throws ParameterError naming the field for an invalid config (n_steps > 0, tau_eff > 0,
  // threshold in (0, 1), max_rate in (0, 1]) and for an inconsistent image set (pixel or label
  // count, a label >= n_classes).
  ImageSource(std::shared_ptr<const ImageSet> images, EncoderConfig config, std::string description,
              std::size_t n_classes = 10);
  ImageSource(ImageSet images, EncoderConfig config, std::string description,
              std::size_t n_classes = 10);

  std::size_t size() const override { return images_->n; }
  std::size_t n_inputs() const override { return n_inputs_; }
  std::size_t n_steps() const override { return config_.n_steps; }
  std::size_t n_classes() const override { return n_classes_; }
  int label(std::size_t index) const override { return images_->labels[index]; }
  void fill(std::size_t index, std::uint64_t epoch, SampleEvents& out) const override;
  std::string description() const override { return description_; }

  const EncoderConfig& config() const { return config_; }
  const ImageSet& images() const { return *images_; }
  // Latency encoding: the step at which a pixel of this grey value spikes, -1 if it never does.
  int latency_step(std::uint8_t pixel) const { return latency_step_[pixel]; }
  // The same for any intensity x in [0, 1] (the table above is this at x = pixel / 255).
  static int latency_step_of(double x, const EncoderConfig& c);
  // Poisson encoding: the spike probability per step of a pixel of this grey value.
  double spike_probability(std::uint8_t pixel) const { return p_[pixel]; }

 private:
  // Calls f(step, unit) for every event of a sample, units in increasing order (steps in any
  // order); the same calls every time for the same (index, epoch).
  template <class F>
  void for_each_event(std::size_t index, std::uint64_t epoch, F&& f) const;

  std::shared_ptr<const ImageSet> images_;
  EncoderConfig config_;
  std::string description_;
  std::size_t n_classes_, n_inputs_;
  std::array<int, 256> latency_step_{};
  std::array<double, 256> p_{};          // poisson: spike probability per step
  std::array<double, 256> inv_log_q_{};  // poisson: 1 / ln(1 - p), for geometric gaps
};

}  // namespace volley::data
