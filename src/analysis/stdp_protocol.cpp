#include "volley/analysis/stdp_protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>

#include "volley/error.hpp"
#include "volley/models/lif.hpp"
#include "volley/models/sources.hpp"
#include "volley/network.hpp"

namespace volley::analysis {
namespace {

constexpr double kKick = 30e-3;  // V: jump that makes the post neuron fire from rest or reset

struct Condition {
  double frequency_hz, delta_t;
  std::vector<std::int64_t> pre_steps, post_steps;
};

void check(const PairingProtocol& p) {
  auto fail = [](const std::string& m) { throw ParameterError("pairing protocol: " + m); };
  if (p.frequencies_hz.empty()) fail("frequencies_hz is empty");
  if (p.delta_t.empty()) fail("delta_t is empty");
  if (p.pairings < 1) fail(fmt::format("pairings must be >= 1, got {}", p.pairings));
  if (!(p.dt > 0.0) || !std::isfinite(p.dt)) fail(fmt::format("dt must be > 0, got {} s", p.dt));
  if (!(p.w0 > 0.0) || !std::isfinite(p.w0)) fail(fmt::format("w0 must be > 0, got {} V", p.w0));
  if (!(p.start >= p.dt) || !std::isfinite(p.start))
    fail(fmt::format("start must be >= dt, got {} s", p.start));
  if (!(p.tail >= 0.0) || !std::isfinite(p.tail))
    fail(fmt::format("tail must be >= 0, got {} s", p.tail));
  if (p.threads < 1) fail(fmt::format("threads must be >= 1, got {}", p.threads));
  for (double f : p.frequencies_hz)
    if (!(f > 0.0) || !std::isfinite(f)) fail(fmt::format("frequency must be > 0, got {} Hz", f));
}

std::vector<Condition> conditions(const PairingProtocol& p) {
  std::vector<Condition> out;
  const auto to_steps = [&](double t) { return static_cast<std::int64_t>(std::llround(t / p.dt)); };
  for (double f : p.frequencies_hz) {
    const std::int64_t period = to_steps(1.0 / f);
    for (double d : p.delta_t) {
      const std::int64_t lag = to_steps(d);
      if (lag == 0 || std::llabs(lag) >= period)
        throw ParameterError(fmt::format(
            "pairing protocol: delta_t = {} s must be at least one step of dt and shorter than "
            "the period 1/rho = {} s",
            d, 1.0 / f));
      Condition c{f, d, {}, {}};
      for (int k = 0; k < p.pairings; ++k) {
        const std::int64_t first = to_steps(p.start + static_cast<double>(k) / f);
        c.pre_steps.push_back(lag > 0 ? first : first - lag);
        c.post_steps.push_back(lag > 0 ? first + lag : first);
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace

double PairingResult::change(double frequency_hz, double delta_t) const {
  for (const auto& p : points)
    if (std::abs(p.frequency_hz - frequency_hz) <= 1e-9 * frequency_hz &&
        std::abs(p.delta_t - delta_t) <= 1e-12)
      return p.relative_change;
  throw ParameterError(fmt::format("pairing protocol: no result for rho = {} Hz, delta_t = {} s",
                                   frequency_hz, delta_t));
}

PairingResult run_pairing_protocol(const StdpParams& stdp, const PairingProtocol& protocol) {
  check(protocol);
  stdp.validate("pairing protocol: stdp");
  const std::vector<Condition> conds = conditions(protocol);
  const double dt = protocol.dt;

  std::vector<SpikeEvent> pre_events, kick_events;
  std::int64_t last = 0;
  for (std::size_t i = 0; i < conds.size(); ++i) {
    const auto n = static_cast<std::uint32_t>(i);
    // Times at the middle of their step, so the generator's floor() picks that step exactly.
    for (auto s : conds[i].pre_steps)
      pre_events.push_back({(static_cast<double>(s) + 0.5) * dt, n});
    for (auto s : conds[i].post_steps)
      kick_events.push_back({(static_cast<double>(s - 1) + 0.5) * dt, n});
    last = std::max({last, conds[i].pre_steps.back(), conds[i].post_steps.back()});
  }

  const std::size_t n = conds.size();
  Network net(dt, 1);
  LifParams lp;
  lp.channels = {{"exc", 5e-3}, {"kick", 0.0}};
  lp.v_init = Distribution::constant(lp.v_rest);
  net.add<LifPopulation>("post", n, lp);
  net.add(std::make_unique<SpikeGenerator>("pre", std::move(pre_events)), n);
  net.add(std::make_unique<SpikeGenerator>("kicker", std::move(kick_events)), n);
  ProjectionSpec plastic;
  plastic.name = "plastic";
  plastic.source = "pre";
  plastic.target = "post";
  plastic.connector = OneToOne{};
  plastic.weight = Distribution::constant(protocol.w0);
  plastic.stdp = stdp;
  net.connect(plastic);
  ProjectionSpec kick;
  kick.name = "kick";
  kick.source = "kicker";
  kick.target = "post";
  kick.channel = "kick";
  kick.connector = OneToOne{};
  kick.weight = Distribution::constant(kKick);
  net.connect(kick);
  auto& post = net.record_spikes("post_spikes", "post");
  net.run(static_cast<double>(last + 1) * dt + protocol.tail, RunOptions{protocol.threads});

  // Every post neuron fired exactly at its wanted steps (and nowhere else).
  std::vector<std::vector<std::int64_t>> fired(n);
  for (std::size_t k = 0; k < post.times.size(); ++k)
    fired[post.units[k]].push_back(static_cast<std::int64_t>(std::llround(post.times[k] / dt)));
  for (std::size_t i = 0; i < n; ++i)
    if (fired[i] != conds[i].post_steps)
      throw Error(fmt::format(
          "pairing protocol: the post neuron of rho = {} Hz, delta_t = {} s fired {} times, not "
          "at its {} scheduled steps",
          conds[i].frequency_hz, conds[i].delta_t, fired[i].size(), conds[i].post_steps.size()));

  const Projection& proj = net.projection("plastic");
  const double factor = proj.weight_factor();
  // The change relative to the stored (float) initial weight, in the projection's units.
  const double w_start = static_cast<float>(protocol.w0 * factor);
  PairingResult result;
  for (std::size_t i = 0; i < n; ++i) {
    // One-to-one: synapse i is the only one of row i.
    const double w = proj.weights()[proj.row_ptr()[i]];
    result.points.push_back(
        {conds[i].frequency_hz, conds[i].delta_t, w / factor, (w - w_start) / w_start});
  }
  return result;
}

}  // namespace volley::analysis
