#pragma once
// Input noise on event data, for robustness curves: an EventSource that perturbs another's
// samples, seeded and keyed by (seed, sample, unit/step), so the perturbed data are the same for
// any thread count and any evaluation order.
//   deletion p      each input event is dropped with probability p (one draw per event)
//   jitter σ        each event moves by round(N(0, σ)/dt) steps, clipped to the sample
//   spurious r      each (input, step) gains an extra event of value 1 with probability r·dt
// Events that land on the same (step, unit) are kept separately, as data::build_sample does.
// Static images (data::ImageSource) can also be perturbed before they are encoded:
//   gaussian σ       each pixel gains N(0, σ) in units of full scale, clipped to [0, 1] and
//                    rounded to the 8-bit grey levels
//   salt_pepper p    each pixel becomes black or white (half each) with probability p
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "volley/data/encoders.hpp"
#include "volley/data/events.hpp"
#include "volley/registry.hpp"

namespace volley::train {

enum class NoiseKind { deletion, jitter, spurious, gaussian, salt_pepper };

// The noise kinds by name (`volley robustness --noise`), with what their level means.
const Registry<Choice<NoiseKind>>& noise_kinds();

struct NoiseSpec {
  NoiseKind kind = NoiseKind::deletion;
  double level = 0.0;  // probability (deletion), seconds (jitter), Hz (spurious)
  std::uint64_t seed = 1;
};

// Whether a noise kind acts on the pixels of static images (rather than on events).
bool is_pixel_noise(NoiseKind kind);

// The images of `source` with pixel noise, encoded as `source` encodes them. Throws
// ParameterError for an event noise kind or a level outside [0, 1].
std::unique_ptr<data::ImageSource> noisy_images(const data::ImageSource& source, NoiseSpec noise);

class NoisyEvents final : public data::EventSource {
 public:
  // Throws ParameterError for a level outside its range (p in [0, 1], σ >= 0, r >= 0 with
  // r·dt <= 1), dt <= 0, or a pixel noise kind (see noisy_images).
  NoisyEvents(const data::EventSource& base, NoiseSpec noise, double dt);
  std::size_t size() const override { return base_.size(); }
  std::size_t n_inputs() const override { return base_.n_inputs(); }
  std::size_t n_steps() const override { return base_.n_steps(); }
  std::size_t n_classes() const override { return base_.n_classes(); }
  int label(std::size_t index) const override { return base_.label(index); }
  void fill(std::size_t index, std::uint64_t epoch, data::SampleEvents& out) const override;
  std::string description() const override;

 private:
  const data::EventSource& base_;
  NoiseSpec noise_;
  double dt_;
};

}  // namespace volley::train
