// The IPD classification task (see ipd_task.hpp).
#include "volley/ear/ipd_task.hpp"

#include <fmt/format.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::ear {
namespace {
constexpr std::uint32_t kStreamIpd = 0x7400;      // IPD and start phase of a sample
constexpr std::uint32_t kStreamSpikes = 0x7401;   // its spikes, one counter per step
}  // namespace

void IpdTaskConfig::validate() const {
  auto bad = [](std::string_view f, const std::string& w) {
    throw ParameterError(fmt::format("ipd task: {}: {}", f, w));
  };
  if (fibres < 1) bad("fibres", "must be >= 1");
  if (!(rate_max > 0.0) || rate_max * dt > 1.0) bad("rate_max", "must be in (0, 1/dt]");
  if (!(frequency > 0.0)) bad("frequency", "must be > 0");
  if (!(power > 0.0)) bad("power", "must be > 0");
  if (classes < 2) bad("classes", "must be >= 2");
  if (!(dt > 0.0)) bad("dt", "must be > 0");
  if (steps < 1) bad("steps", "must be >= 1");
  if (samples < 1) bad("samples", "must be >= 1");
}

IpdSource::IpdSource(IpdTaskConfig config, std::string description)
    : c_(config), description_(std::move(description)) {
  c_.validate();
}

double IpdSource::ipd_deg(std::size_t index) const {
  CounterRng rng(c_.seed, kStreamIpd, static_cast<std::uint32_t>(index), 0);
  return -90.0 + 180.0 * rng.uniform();
}

int IpdSource::label(std::size_t index) const {
  const double x = (ipd_deg(index) + 90.0) / 180.0;
  const auto c = static_cast<int>(x * static_cast<double>(c_.classes));
  return std::min(c, static_cast<int>(c_.classes) - 1);
}

double IpdSource::class_centre_deg(int c) const {
  return -90.0 + 180.0 * (c + 0.5) / static_cast<double>(c_.classes);
}

void IpdSource::fill(std::size_t index, std::uint64_t, data::SampleEvents& out) const {
  CounterRng head(c_.seed, kStreamIpd, static_cast<std::uint32_t>(index), 0);
  const double ipd = (-90.0 + 180.0 * head.uniform()) * std::numbers::pi / 180.0;
  const double phase0 = 2.0 * std::numbers::pi * head.uniform();
  out.reset(c_.steps);
  for (std::size_t t = 0; t < c_.steps; ++t) {
    const double theta = 2.0 * std::numbers::pi * c_.frequency * static_cast<double>(t) * c_.dt + phase0;
    double p[2];
    for (int ear = 0; ear < 2; ++ear) {
      const double x = 0.5 * (1.0 + std::sin(theta + (ear == 1 ? ipd : 0.0)));
      p[ear] = c_.rate_max * std::pow(x, c_.power) * c_.dt;
    }
    // Step-keyed stream, one draw per fibre: the same sample on every epoch and thread.
    CounterRng rng(c_.seed, kStreamSpikes, static_cast<std::uint32_t>(index), t);
    for (std::size_t u = 0; u < 2 * c_.fibres; ++u) {
      if (rng.uniform() < p[u < c_.fibres ? 0 : 1]) {
        out.units.push_back(static_cast<std::uint32_t>(u));
        out.values.push_back(1.0f);
      }
    }
    out.offsets[t + 1] = static_cast<std::uint32_t>(out.units.size());
  }
}

}  // namespace volley::ear
