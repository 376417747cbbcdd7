#pragma once
// The interaural-phase-difference task of the SNN sound-localisation tutorial (Goodman et al.,
// Cosyne 2022): each ear has `fibres` Poisson fibres whose rate follows a tone,
//   rate(t) = R_max · (½·(1 + sin(2π·f·t + φ + ipd_ear)))^k,   ipd_left = 0, ipd_right = IPD,
// with a random start phase φ per sample and IPD ~ U(−90°, 90°); the label is the IPD's bin among
// `classes` equal bins of that range. Inputs 0..fibres−1 are the left ear, the rest the right.
// Samples are generated on the fly from a counter-based RNG keyed by (seed, sample), so a
// sample is the same in every epoch and on every thread.
#include <cstddef>
#include <cstdint>
#include <string>

#include "volley/data/events.hpp"

namespace volley::ear {

struct IpdTaskConfig {
  std::size_t fibres = 100;       // per ear
  double rate_max = 600.0;        // Hz
  double frequency = 20.0;        // Hz
  double power = 2.0;             // k
  std::size_t classes = 12;
  double dt = 1e-3;               // s
  std::size_t steps = 100;        // 100 ms per sample
  std::size_t samples = 1000;
  std::uint64_t seed = 1;
  void validate() const;          // ParameterError naming the field
};

class IpdSource final : public data::EventSource {
 public:
  explicit IpdSource(IpdTaskConfig config, std::string description = "ipd task");
  std::size_t size() const override { return c_.samples; }
  std::size_t n_inputs() const override { return 2 * c_.fibres; }
  std::size_t n_steps() const override { return c_.steps; }
  std::size_t n_classes() const override { return c_.classes; }
  int label(std::size_t index) const override;
  void fill(std::size_t index, std::uint64_t epoch, data::SampleEvents& out) const override;
  std::string description() const override { return description_; }

  double ipd_deg(std::size_t index) const;  // the sample's true IPD, in (−90, 90)
  // Centre of class c's IPD bin, in degrees.
  double class_centre_deg(int c) const;

 private:
  IpdTaskConfig c_;
  std::string description_;
};

}  // namespace volley::ear
