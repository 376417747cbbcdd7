#pragma once
// Spike sources: populations without membrane state whose spikes drive projections.
//
// PoissonGroup: each neuron fires independently with probability rate(t) * dt per step
// (Brian2's PoissonGroup). The rate is constant, or a piecewise-constant time series sampled
// every `rate_dt` (like a TimedArray; the last value holds after the end).
//
// SpikeGenerator: explicit (time, index) events (Brian2's SpikeGeneratorGroup). A spike at time t
// is emitted in the step that contains t, i.e. step floor(t/dt + 1e-6).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "volley/population.hpp"
#include "volley/registry.hpp"

namespace volley {

struct PoissonGroupParams {
  double rate = 0.0;               // Hz, used when `rates` is empty
  std::vector<double> rates;       // Hz, one value per rate_dt
  double rate_dt = 0.0;            // s
  // Sinusoidal modulation of `rate` (the ear fibres of Goodman's sound-localisation tutorial):
  // rate(t) = rate · (½·(1 + sin(2π·f·t + phase)))^power. Off when mod_frequency is 0.
  double mod_frequency = 0.0;      // Hz
  double mod_phase = 0.0;          // rad
  double mod_power = 1.0;
  void validate(const std::string& where) const;
  // The scalar parameters as model files and the registry name them (`rates` is an array).
  static std::span<const Param<PoissonGroupParams>> params() {
    using P = PoissonGroupParams;
    static const Param<P> kParams[] = {
        {"rate", &P::rate, Dimension::hertz(), Range::non_negative(), "constant rate"},
        {"rate_dt", &P::rate_dt, Dimension::seconds(), Range::non_negative(),
         "spacing of `rates`: rates[k] applies from k rate_dt, the last holds (> 0 with rates)"},
        {"modulation.frequency", &P::mod_frequency, Dimension::hertz(), Range::non_negative(),
         "with `rate`: rate(t) = rate (1/2 (1 + sin(2 pi frequency t + phase)))^power; 0 = off"},
        {"modulation.phase", &P::mod_phase, Dimension::none(), Range::any(),
         "phase of the modulation in radians (model files: `modulation.phase_deg`, degrees)"},
        {"modulation.power", &P::mod_power, Dimension::none(), Range::positive(),
         "power of the modulation"},
    };
    return kParams;
  }
};

class PoissonGroup final : public Population {
 public:
  PoissonGroup(std::string name, PoissonGroupParams params);
  std::string_view model() const override { return "poisson"; }
  void prepare(double dt) override;
  void update(const StepContext& ctx, std::size_t lo, std::size_t hi,
              std::vector<std::uint32_t>& spikes) override;

 protected:
  VariableView find_variable(std::string_view) override { return {}; }
  void resize_state(std::size_t, std::size_t, std::uint64_t) override {}

 private:
  PoissonGroupParams p_;
  double dt_ = 0.0;
};

struct SpikeEvent {
  double time = 0.0;        // s
  std::uint32_t index = 0;  // neuron
};

class SpikeGenerator final : public Population {
 public:
  // `size` neurons; events may come in any order.
  SpikeGenerator(std::string name, std::vector<SpikeEvent> events);
  std::string_view model() const override { return "spike_generator"; }
  void prepare(double dt) override;
  void update(const StepContext& ctx, std::size_t lo, std::size_t hi,
              std::vector<std::uint32_t>& spikes) override;

 protected:
  VariableView find_variable(std::string_view) override { return {}; }
  void resize_state(std::size_t old_size, std::size_t new_size, std::uint64_t seed) override;

 private:
  std::vector<SpikeEvent> events_;
  std::vector<std::uint64_t> steps_;  // per event, sorted by (step, index) after prepare
  std::vector<std::uint32_t> index_;
};

// Reads "index time" rows (whitespace or comma separated, '#' comments) with times in
// `time_unit` seconds; throws IoError naming the file and line of a bad row.
std::vector<SpikeEvent> read_spike_events(const std::string& path, double time_unit);

}  // namespace volley
