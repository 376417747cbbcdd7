#pragma once
// External drive into a population, applied each step before the neurons update.
//
// PoissonInput: each target neuron receives Binomial(n, rate*dt) events per step from `n`
// independent Poisson sources, each adding `weight` to a channel (Brian2's PoissonInput).
// CurrentInput: a current (or voltage drive) that is constant, changes at given times (steps),
// or follows an array sampled every `array_dt` (Brian2's TimedArray; the last value holds),
// plus optional noise: a fresh sample of `noise` per neuron and step (e.g. Izhikevich's random
// thalamic input 13 (rand - 0.5), held for one step; counter-based, so thread-independent).
#include <cstdint>
#include <string>
#include <vector>

#include "volley/distribution.hpp"
#include "volley/projection.hpp"
#include "volley/units.hpp"

namespace volley {

class Population;
struct StepContext;

class Input {
 public:
  virtual ~Input() = default;
  const std::string& name() const { return name_; }
  Population& target() const { return *target_; }
  virtual void prepare(double dt) = 0;
  // An input over the population to its end follows growth (called before every run).
  void sync_size();
  // Applies this step's drive to target neurons in [lo, hi) (absolute indices).
  virtual void apply(const StepContext& ctx, std::size_t lo, std::size_t hi) = 0;
  virtual bool uses_drive() const { return false; }

 protected:
  Input(std::string name, Population& target, Slice slice);
  std::string name_;
  Population* target_;
  std::size_t lo_ = 0, n_ = 0;
  bool to_end_ = false;
};

struct PoissonInputSpec {
  std::string name, target;
  Slice slice;
  std::string channel = "exc";
  std::uint32_t n = 1;
  double rate = 0.0;    // Hz
  double weight = 0.0;  // SI units of weight_dim
  Dimension weight_dim = Dimension::volts();
};

class PoissonInput final : public Input {
 public:
  PoissonInput(const PoissonInputSpec& spec, Population& target, std::uint32_t id);
  void prepare(double dt) override;
  void apply(const StepContext& ctx, std::size_t lo, std::size_t hi) override;
  std::size_t channel() const { return channel_; }
  bool uses_ring() const;

 private:
  std::size_t channel_;
  std::uint32_t n_sources_, stream_;
  double rate_, p_ = 0.0;
  float weight_;
  std::vector<double> cdf_;  // cumulative Binomial(n, p), empty for large means
  static constexpr std::size_t kHead = 8;  // entries apply() compares without branching
};

// A piecewise-constant time series.
struct TimeSeries {
  enum class Kind { kConstant, kSteps, kArray } kind = Kind::kConstant;
  double value = 0.0;              // constant
  std::vector<double> times;       // steps: value[k] applies from times[k] (sorted, s)
  std::vector<double> values;      // steps or array values (SI)
  double array_dt = 0.0;           // array: sample spacing (s)
  double at(double t) const;
  void validate(const std::string& where) const;
};

struct CurrentInputSpec {
  std::string name, target;
  Slice slice;
  TimeSeries series;
  Dimension dim = Dimension::amperes();
  Distribution noise = Distribution::constant(0.0);  // SI units of `dim`, per neuron and step
};

class CurrentInput final : public Input {
 public:
  // `id` keys the noise stream.
  CurrentInput(const CurrentInputSpec& spec, Population& target, std::uint32_t id = 0);
  void prepare(double dt) override;
  void apply(const StepContext& ctx, std::size_t lo, std::size_t hi) override;
  bool uses_drive() const override { return true; }

 private:
  TimeSeries series_;
  Distribution noise_;
  bool noisy_;
  std::uint32_t stream_;
  double factor_;
};

}  // namespace volley
