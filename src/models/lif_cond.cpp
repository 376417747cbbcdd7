#include "volley/models/lif_cond.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "volley/error.hpp"
#include "volley/models/spike_scan.hpp"
#include "volley/rng.hpp"

namespace volley {

void LifCondParams::validate(const std::string& where) const {
  auto fail = [&](const std::string& msg) { throw ParameterError(fmt::format("{}: {}", where, msg)); };
  check_params(params(), *this, where);
  if (!(v_th > v_reset)) fail(fmt::format("v_th ({} V) must be above v_reset ({} V)", v_th, v_reset));
  for (const auto& c : channels)
    if (!(c.tau > 0.0)) fail(fmt::format("channel '{}': tau must be > 0, got {} s", c.name, c.tau));
  v_init.validate(where + ".v_init");
}

LifCondPopulation::LifCondPopulation(std::string name, LifCondParams params)
    : Population(std::move(name)), p_(std::move(params)) {
  p_.validate(fmt::format("population '{}'", this->name()));
  for (const auto& c : p_.channels) channels_.push_back({c.name, Dimension::siemens(), false});
  g_.resize(p_.channels.size());
}

double LifCondPopulation::injection_factor(Dimension given) const {
  if (given == Dimension::amperes()) return 1.0;
  return Population::injection_factor(given);
}

void LifCondPopulation::prepare(double dt) {
  p_.validate(fmt::format("population '{}'", name()));
  dt_ = dt;
  decay_.clear();
  for (const auto& c : p_.channels) decay_.push_back(static_cast<float>(std::exp(-dt / c.tau)));
  // Brian2's rule: integration resumes in the step where t - t_spike >= t_ref, so v is held
  // for round(t_ref/dt) - 1 steps after the spike step.
  ref_steps_ = static_cast<std::int32_t>(std::max(0LL, std::llround(p_.t_ref / dt) - 1));
}

void LifCondPopulation::update(const StepContext& ctx, std::size_t lo, std::size_t hi,
                               std::vector<std::uint32_t>& spikes) {
  const std::size_t nc = p_.channels.size();
  const float* drv = drive();
  const float gl = static_cast<float>(p_.g_l), el = static_cast<float>(p_.v_rest);
  const float dt_c = static_cast<float>(dt_ / p_.c_m), bias = static_cast<float>(p_.i_offset);
  const bool euler = p_.method == LifCondParams::Method::kEuler;
  float* v = v_.data();
  std::int32_t* rf = refrac_.data();
  // Pass 1: receive events, accumulate total conductance G and driving term I per neuron.
  thread_local AlignedVector<float> G, I;
  G.resize(hi - lo);
  I.resize(hi - lo);
  for (std::size_t i = lo; i < hi; ++i) {
    G[i - lo] = gl;
    I[i - lo] = gl * el + bias + (drv ? drv[i] : 0.0f);
  }
  for (std::size_t k = 0; k < nc; ++k) {
    float* g = g_[k].data();
    absorb_ring(k, g, ctx.step, lo, hi);
    const float e = static_cast<float>(p_.channels[k].e_rev);
    for (std::size_t i = lo; i < hi; ++i) {
      G[i - lo] += g[i];
      I[i - lo] += g[i] * e;
    }
  }
  // Pass 2: membrane.
  for (std::size_t i = lo; i < hi; ++i) {
    const float gt = G[i - lo], it = I[i - lo];
    float vi;
    if (euler) {
      vi = v[i] + dt_c * (it - gt * v[i]);
    } else {
      const float vinf = it / gt;
      vi = vinf + (v[i] - vinf) * std::exp(-gt * dt_c);
    }
    const std::int32_t r = rf[i];
    v[i] = r > 0 ? v[i] : vi;
    rf[i] = r > 0 ? r - 1 : 0;
  }
  // Pass 3: conductances decay after the membrane update.
  for (std::size_t k = 0; k < nc; ++k) {
    float* g = g_[k].data();
    const float d = decay_[k];
    for (std::size_t i = lo; i < hi; ++i) g[i] *= d;
  }
  // Pass 4: threshold and reset without a branch per neuron, then the spike list.
  const float th = static_cast<float>(p_.v_th), vr = static_cast<float>(p_.v_reset);
  const std::int32_t ref = ref_steps_;
  thread_local AlignedVector<std::uint8_t> fired;
  fired.resize(hi - lo);
  std::uint8_t* __restrict f = fired.data();
  for (std::size_t i = lo; i < hi; ++i) {
    const bool spike = v[i] > th;
    f[i - lo] = spike;
    v[i] = spike ? vr : v[i];
    rf[i] = spike ? ref : rf[i];
  }
  collect_spikes(f, lo, hi - lo, spikes);
}

std::vector<std::string> LifCondPopulation::variable_names() const {
  std::vector<std::string> names{"v"};
  for (const auto& c : p_.channels) names.push_back(c.name);
  return names;
}

float* LifCondPopulation::channel_state(std::size_t channel) { return g_.at(channel).data(); }

VariableView LifCondPopulation::find_variable(std::string_view name) {
  if (name == "v") return {v_.data(), true, 1.0, Dimension::volts()};
  for (std::size_t k = 0; k < p_.channels.size(); ++k)
    if (p_.channels[k].name == name) return {g_[k].data(), true, 1.0, Dimension::siemens()};
  return {};
}

void LifCondPopulation::resize_state(std::size_t old_size, std::size_t new_size,
                                     std::uint64_t seed) {
  draw_initial(v_, p_.v_init, old_size, new_size, seed, 0);
  refrac_.resize(new_size, 0);
  for (auto& g : g_) g.resize(new_size, 0.0f);
}

}  // namespace volley
