#pragma once
// Input noise on event data, for robustness curves: an EventSource that perturbs another's
// samples, seeded and keyed by (seed, sample, unit/step), so the perturbed data are the same for
// any thread count and any evaluation order.
//   deletion p      each input event is dropped with probability p (one draw per event)
//   jitter σ        each event moves by round(N(0, σ)/dt) steps, clipped to the sample
//   spurious r      each (input, step) gains an extra event of value 1 with probability r·dt
// Events that land on the same (step, unit) are kept separately, as data::build_sample does.
#include <cstdint>
#include <string>
#include <string_view>

#include "volley/data/events.hpp"
#include "volley/registry.hpp"

namespace volley::train {

enum class NoiseKind { deletion, jitter, spurious };

// The noise kinds by name (`volley robustness --noise`), with what their level means.
const Registry<Choice<NoiseKind>>& noise_kinds();

struct NoiseSpec {
  NoiseKind kind = NoiseKind::deletion;
  double level = 0.0;  // probability (deletion), seconds (jitter), Hz (spurious)
  std::uint64_t seed = 1;
};

class NoisyEvents final : public data::EventSource {
 public:
  // Throws ParameterError for a level outside its range (p in [0, 1], σ >= 0, r >= 0 with
  // r·dt <= 1) or dt <= 0.
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
