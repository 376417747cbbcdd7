#include "volley/models/izhikevich.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley {

void IzhikevichParams::validate(const std::string& where) const {
  auto fail = [&](const std::string& msg) { throw ParameterError(fmt::format("{}: {}", where, msg)); };
  check_params(params(), *this, where);
  if (!(v_peak > c)) fail(fmt::format("v_peak ({} V) must be above c ({} V)", v_peak, c));
  for (const auto& ch : channels)
    if (!(ch.tau >= 0.0))
      fail(fmt::format("channel '{}': tau must be >= 0, got {} s", ch.name, ch.tau));
  v_init.validate(where + ".v_init");
  if (has_u_init) u_init.validate(where + ".u_init");
}

namespace {
// a per ms, c d k0 v0 in mV, as the papers write them.
IzhikevichParams from_paper(double a, double b, double c, double d, double k1 = 5,
                            double k0 = 140, double v0 = -65) {
  IzhikevichParams p;
  p.a = a * 1e3;
  p.b = b;
  p.c = c * 1e-3;
  p.d = d * 1e-3;
  p.k1 = k1;
  p.k0 = k0 * 1e-3;
  p.v_init = Distribution::constant(v0 * 1e-3);
  return p;
}
}  // namespace

std::span<const Preset<IzhikevichParams>> IzhikevichParams::presets() {
  using P = IzhikevichParams;
  static const Preset<P> kPresets[] = {
      {"RS", "regular spiking (Izhikevich 2003, Fig. 2): a 0.02/ms, b 0.2, c -65 mV, d 8 mV",
       [] { return from_paper(0.02, 0.2, -65, 8); }},
      {"IB", "intrinsically bursting: a 0.02/ms, b 0.2, c -55 mV, d 4 mV",
       [] { return from_paper(0.02, 0.2, -55, 4); }},
      {"CH", "chattering: a 0.02/ms, b 0.2, c -50 mV, d 2 mV",
       [] { return from_paper(0.02, 0.2, -50, 2); }},
      {"FS", "fast spiking: a 0.1/ms, b 0.2, c -65 mV, d 2 mV",
       [] { return from_paper(0.1, 0.2, -65, 2); }},
      {"LTS", "low-threshold spiking: a 0.02/ms, b 0.25, c -65 mV, d 2 mV",
       [] { return from_paper(0.02, 0.25, -65, 2); }},
      {"TC", "thalamo-cortical: a 0.02/ms, b 0.25, c -65 mV, d 0.05 mV",
       [] { return from_paper(0.02, 0.25, -65, 0.05); }},
      {"RZ", "resonator: a 0.1/ms, b 0.26, c -65 mV, d 2 mV",
       [] { return from_paper(0.1, 0.26, -65, 2); }},
      {"class1", "class 1 excitability (Izhikevich 2004, figure1.m): a 0.02/ms, b -0.1, "
                 "c -55 mV, d 6 mV, k1 4.1, k0 108 mV, v_init -60 mV",
       [] { return from_paper(0.02, -0.1, -55, 6, 4.1, 108, -60); }},
      {"class2", "class 2 excitability (Izhikevich 2004, figure1.m): a 0.2/ms, b 0.26, "
                 "c -65 mV, d 0, v_init -64 mV",
       [] { return from_paper(0.2, 0.26, -65, 0, 5, 140, -64); }},
  };
  return kPresets;
}

IzhikevichParams IzhikevichParams::preset(std::string_view name) {
  for (const auto& p : presets())
    if (p.name == name) return p.make();
  std::string known;
  for (const auto& p : presets()) known += fmt::format("{}'{}'", known.empty() ? "" : ", ", p.name);
  throw ParameterError(
      fmt::format("unknown izhikevich preset '{}' (expected one of {})", name, known));
}

IzhikevichPopulation::IzhikevichPopulation(std::string name, IzhikevichParams params)
    : Population(std::move(name)), p_(std::move(params)) {
  p_.validate(fmt::format("population '{}'", this->name()));
  for (const auto& c : p_.channels) channels_.push_back({c.name, Dimension::volts(), c.tau == 0.0});
  g_.resize(p_.channels.size());
}

double IzhikevichPopulation::weight_factor(std::size_t channel, Dimension given) const {
  if (given == Dimension::amperes() && p_.R > 0.0) return p_.R;
  return Population::weight_factor(channel, given);
}

double IzhikevichPopulation::injection_factor(Dimension given) const {
  if (given == Dimension::volts()) return 1.0;
  if (given == Dimension::amperes() && p_.R > 0.0) return p_.R;
  return Population::injection_factor(given);
}

void IzhikevichPopulation::prepare(double dt) {
  p_.validate(fmt::format("population '{}'", name()));
  if (dt > 1e-3)
    throw ParameterError(fmt::format("population '{}': izhikevich needs dt <= 1 ms, got {} s",
                                     name(), dt));
  dt_ = dt;
  substeps_ = std::max(1, static_cast<int>(std::ceil(dt / p_.max_step - 1e-9)));
  decay_.clear();
  for (const auto& c : p_.channels)
    decay_.push_back(c.tau > 0.0 ? static_cast<float>(std::exp(-dt / c.tau)) : 0.0f);
}

void IzhikevichPopulation::update(const StepContext& ctx, std::size_t lo, std::size_t hi,
                                  std::vector<std::uint32_t>& spikes) {
  const float* drv = drive();
  float* v = v_.data();
  float* u = u_.data();
  thread_local AlignedVector<float> input, jump;
  input.assign(hi - lo, 0.0f);
  jump.assign(hi - lo, 0.0f);
  for (std::size_t k = 0; k < p_.channels.size(); ++k) {
    if (p_.channels[k].tau == 0.0) {
      float* in = ring(k).row(ctx.step);
      for (std::size_t i = lo; i < hi; ++i) jump[i - lo] += in[i], in[i] = 0.0f;
      continue;
    }
    float* g = g_[k].data();
    absorb_ring(k, g, ctx.step, lo, hi);
    const float d = decay_[k];
    for (std::size_t i = lo; i < hi; ++i) {
      input[i - lo] += g[i];
      g[i] *= d;
    }
  }
  // Forward Euler in `substeps_` internal steps per network step (inputs held over the step);
  // the cut-off is checked after each internal step, so the reset lands within max_step.
  const double hs = dt_ / substeps_ / 1e-3;  // internal step in ms
  const double has = dt_ / substeps_ * p_.a;
  const double peak = p_.v_peak, c = p_.c, d = p_.d, bb = p_.b, kk1 = p_.k1, kk0 = p_.k0;
  // Substeps outermost and branch-free, so each pass over the neurons vectorises; every neuron
  // sees exactly the scalar sequence of operations.
  const std::size_t n = hi - lo;
  thread_local AlignedVector<double> vv, uu, ii, fired;
  vv.resize(n);
  uu.resize(n);
  ii.resize(n);
  fired.assign(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    vv[i] = v[lo + i] + jump[i];  // float sums, as the state is stored
    uu[i] = u[lo + i];
    ii[i] = input[i] + (drv ? drv[lo + i] : 0.0f);
  }
  double* __restrict vp = vv.data();
  double* __restrict up = uu.data();
  const double* __restrict ip = ii.data();
  double* __restrict fp = fired.data();
  for (int s = 0; s < substeps_; ++s) {
    for (std::size_t i = 0; i < n; ++i) {
      const double vi = vp[i], ui = up[i];
      const double vn = vi + hs * (40.0 * vi * vi + kk1 * vi + kk0 - ui + ip[i]);
      const double un = ui + has * (bb * vi - ui);
      const bool now = fp[i] == 0.0 && vn >= peak;  // at most one spike per network step
      vp[i] = now ? c : vn;
      up[i] = now ? un + d : un;
      fp[i] = now ? 1.0 : fp[i];
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    v[lo + i] = static_cast<float>(vp[i]);
    u[lo + i] = static_cast<float>(up[i]);
    if (fp[i] != 0.0) spikes.push_back(static_cast<std::uint32_t>(lo + i));
  }
}

std::vector<std::string> IzhikevichPopulation::variable_names() const {
  std::vector<std::string> names{"v", "u"};
  for (const auto& c : p_.channels)
    if (c.tau > 0.0) names.push_back(c.name);
  return names;
}

float* IzhikevichPopulation::channel_state(std::size_t channel) {
  return p_.channels.at(channel).tau > 0.0 ? g_[channel].data() : nullptr;
}

VariableView IzhikevichPopulation::find_variable(std::string_view name) {
  if (name == "v") return {v_.data(), true, 1.0, Dimension::volts()};
  if (name == "u") return {u_.data(), true, 1.0, Dimension::volts()};
  for (std::size_t k = 0; k < p_.channels.size(); ++k)
    if (p_.channels[k].name == name && p_.channels[k].tau > 0.0)
      return {g_[k].data(), true, 1.0, Dimension::volts()};
  return {};
}

void IzhikevichPopulation::resize_state(std::size_t old_size, std::size_t new_size,
                                        std::uint64_t seed) {
  draw_initial(v_, p_.v_init, old_size, new_size, seed, 0);
  if (p_.has_u_init) {
    draw_initial(u_, p_.u_init, old_size, new_size, seed, 1);
  } else {
    u_.resize(new_size);
    for (std::size_t i = old_size; i < new_size; ++i) u_[i] = static_cast<float>(p_.b) * v_[i];
  }
  for (auto& g : g_) g.resize(new_size, 0.0f);
}

}  // namespace volley
