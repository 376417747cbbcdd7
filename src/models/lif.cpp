#include "volley/models/lif.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "volley/error.hpp"
#include "volley/models/spike_scan.hpp"
#include "volley/rng.hpp"

namespace volley {

void LifParams::validate(const std::string& where) const {
  auto fail = [&](const std::string& msg) { throw ParameterError(fmt::format("{}: {}", where, msg)); };
  check_params(params(), *this, where);
  if (!(v_th > v_reset)) fail(fmt::format("v_th ({} V) must be above v_reset ({} V)", v_th, v_reset));
  if (i_offset != 0.0 && R == 0.0) fail("i_offset needs a membrane resistance R");
  for (std::size_t i = 0; i < channels.size(); ++i) {
    if (!(channels[i].tau >= 0.0))
      fail(fmt::format("channel '{}': tau must be >= 0 (0 = delta synapse), got {} s",
                       channels[i].name, channels[i].tau));
    if (channels[i].alpha && !(channels[i].tau > 0.0))
      fail(fmt::format("channel '{}': an alpha-shaped channel needs tau > 0", channels[i].name));
    for (std::size_t j = 0; j < i; ++j)
      if (channels[j].name == channels[i].name)
        fail(fmt::format("channel '{}' is defined twice", channels[i].name));
  }
  v_init.validate(where + ".v_init");
}

LifPopulation::LifPopulation(std::string name, LifParams params)
    : Population(std::move(name)), p_(std::move(params)) {
  p_.validate(fmt::format("population '{}'", this->name()));
  for (std::size_t k = 0; k < p_.channels.size(); ++k) {
    channels_.push_back({p_.channels[k].name, Dimension::volts(), p_.channels[k].tau == 0.0});
    if (p_.channels[k].alpha)
      alpha_channels_.push_back(k);
    else
      (p_.channels[k].tau == 0.0 ? delta_channels_ : exp_channels_).push_back(k);
  }
  g_.resize(exp_channels_.size());
  ah_.resize(alpha_channels_.size());
  ag_.resize(alpha_channels_.size());
}

double LifPopulation::weight_factor(std::size_t channel, Dimension given) const {
  // An alpha channel's event enters h scaled by e, so that w is the current's peak.
  const double shape = p_.channels.at(channel).alpha ? std::exp(1.0) : 1.0;
  if (given == Dimension::amperes() && p_.R > 0.0) return p_.R * shape;
  if (given == Dimension::amperes())
    throw ParameterError(fmt::format(
        "weight into {}.{} is a current but the population has no membrane resistance R; give R "
        "or write the weight in volts",
        name(), channels_.at(channel).name));
  return Population::weight_factor(channel, given) * shape;
}

double LifPopulation::injection_factor(Dimension given) const {
  if (given == Dimension::volts()) return 1.0;
  if (given == Dimension::amperes() && p_.R > 0.0) return p_.R;
  if (given == Dimension::amperes())
    throw ParameterError(fmt::format(
        "current injected into '{}' needs the population's membrane resistance R", name()));
  return Population::injection_factor(given);
}

void LifPopulation::prepare(double dt) {
  p_.validate(fmt::format("population '{}'", name()));
  const double em = std::exp(-dt / p_.tau_m);
  leak_ = static_cast<float>(-std::expm1(-dt / p_.tau_m));
  v_rest_ = static_cast<float>(p_.v_rest);
  v_th_ = static_cast<float>(p_.v_th);
  v_reset_ = static_cast<float>(p_.v_reset);
  bias_ = static_cast<float>(p_.R * p_.i_offset);
  decay_.clear();
  prop_.clear();
  for (std::size_t k : exp_channels_) {
    const double ts = p_.channels[k].tau;
    const double es = std::exp(-dt / ts);
    const double prop = std::abs(ts - p_.tau_m) < 1e-12 * p_.tau_m
                            ? dt / p_.tau_m * em
                            : ts / (ts - p_.tau_m) * (es - em);
    decay_.push_back(static_cast<float>(es));
    prop_.push_back(static_cast<float>(prop));
  }
  a_decay_.clear();
  a_prop_g_.clear();
  a_prop_h_.clear();
  a_feed_.clear();
  for (std::size_t k : alpha_channels_) {
    const double ts = p_.channels[k].tau;
    const double es = std::exp(-dt / ts);
    const double a = 1.0 / ts - 1.0 / p_.tau_m;
    const double x = a * dt;
    // (1 - e^{-x}(1 + x)) / a^2, by its series where the difference would cancel.
    const double q = std::abs(x) < 1e-4 ? dt * dt * (0.5 - x / 3.0 + x * x / 8.0)
                                        : -(std::expm1(-x) + x * std::exp(-x)) / (a * a);
    const double prop_g = std::abs(ts - p_.tau_m) < 1e-12 * p_.tau_m
                              ? dt / p_.tau_m * em
                              : ts / (ts - p_.tau_m) * (es - em);
    a_decay_.push_back(static_cast<float>(es));
    a_prop_g_.push_back(static_cast<float>(prop_g));
    a_prop_h_.push_back(static_cast<float>(em * q / (p_.tau_m * ts)));
    a_feed_.push_back(static_cast<float>(dt / ts * es));
  }
  // Brian2's rule: integration resumes in the step where t - t_spike >= t_ref, so v is held
  // for round(t_ref/dt) - 1 steps after the spike step.
  ref_steps_ = static_cast<std::int32_t>(std::max(0LL, std::llround(p_.t_ref / dt) - 1));
}

namespace {

// The membrane kernel, fused with threshold and reset: one pass over the state, spikes marked
// in `fired` (one byte per neuron, relative to lo). Exponential channels have already absorbed
// their ring rows. NExp/NDelta < 0 mean "known only at run time" (the generic fallback).
struct LifConsts {
  float v_rest, leak, bias, v_th, v_reset;
  std::int32_t ref_steps;
};

template <int NExp, int NDelta, bool HasDrive, bool HasExtra = false>
void lif_kernel(std::size_t lo, std::size_t hi, float* __restrict v, std::int32_t* __restrict rf,
                std::uint8_t* __restrict fired, float* const* g, float* const* in_delta,
                const float* __restrict drive, const float* decay, const float* prop, int nexp,
                int ndelta, const float* __restrict extra, const LifConsts c) {
  constexpr int kE = NExp > 0 ? NExp : 1;
  float* __restrict gk[kE];
  float dk[kE], pk[kE];
  const int ne = NExp >= 0 ? NExp : nexp;
  const int nd = NDelta >= 0 ? NDelta : ndelta;
  if constexpr (NExp >= 0)
    for (int k = 0; k < NExp; ++k) gk[k] = g[k], dk[k] = decay[k], pk[k] = prop[k];
  float* __restrict dl = nd > 0 ? in_delta[0] : nullptr;
#pragma omp simd
  for (std::size_t i = lo; i < hi; ++i) {
    float syn = 0.0f;
    if constexpr (NExp >= 0) {
      for (int k = 0; k < NExp; ++k) {
        const float x = gk[k][i];
        syn += x * pk[k];
        gk[k][i] = x * dk[k];
      }
    } else {
      for (int k = 0; k < ne; ++k) {
        const float x = g[k][i];
        syn += x * prop[k];
        g[k][i] = x * decay[k];
      }
    }
    if constexpr (HasExtra) syn += extra[i - lo];  // alpha channels' share
    if constexpr (NExp < 0) syn += extra ? extra[i - lo] : 0.0f;
    float drv = c.bias;
    if constexpr (NExp >= 0 && HasDrive) drv += drive[i];
    if constexpr (NExp < 0) drv += drive ? drive[i] : 0.0f;  // the generic kernel checks
    float vi = v[i] + (c.v_rest + drv - v[i]) * c.leak + syn;
    if constexpr (NDelta > 0) {
      vi += dl[i];
      dl[i] = 0.0f;
    } else if constexpr (NDelta < 0) {
      for (int k = 0; k < nd; ++k) {
        vi += in_delta[k][i];
        in_delta[k][i] = 0.0f;
      }
    }
    const std::int32_t r = rf[i];
    const float vn = r > 0 ? v[i] : vi;  // held neurons sit at v_reset < v_th
    const bool spike = vn > c.v_th;
    v[i] = spike ? c.v_reset : vn;
    rf[i] = spike ? c.ref_steps : (r > 0 ? r - 1 : 0);
    fired[i - lo] = spike;
  }
}

}  // namespace

void LifPopulation::update(const StepContext& ctx, std::size_t lo, std::size_t hi,
                           std::vector<std::uint32_t>& spikes) {
  float* gp[8];
  float* id[8];
  const int ne = static_cast<int>(exp_channels_.size());
  const int nd = static_cast<int>(delta_channels_.size());
  std::vector<float*> gv, idv;  // only used beyond 8 channels
  float** G = gp;
  float** ID = id;
  if (ne > 8 || nd > 8) {
    gv.resize(ne);
    idv.resize(nd);
    G = gv.data();
    ID = idv.data();
  }
  for (int k = 0; k < ne; ++k) {
    G[k] = g_[k].data();
    absorb_ring(exp_channels_[k], G[k], ctx.step, lo, hi);
  }
  for (int k = 0; k < nd; ++k) ID[k] = ring(delta_channels_[k]).row(ctx.step);
  const float* drv = drive();
  thread_local AlignedVector<std::uint8_t> fired;
  fired.resize(hi - lo + 64);
  const LifConsts consts{v_rest_, leak_, bias_, v_th_, v_reset_, ref_steps_};
  // Alpha channels: their contribution to this step's v, summed per neuron before the kernel.
  thread_local AlignedVector<float> extra;
  const float* ex = nullptr;
  if (!alpha_channels_.empty()) {
    extra.assign(hi - lo, 0.0f);
    for (std::size_t k = 0; k < alpha_channels_.size(); ++k) {
      float* __restrict h = ah_[k].data();
      float* __restrict g = ag_[k].data();
      absorb_ring(alpha_channels_[k], h, ctx.step, lo, hi);
      const float e = a_decay_[k], pg = a_prop_g_[k], ph = a_prop_h_[k], f = a_feed_[k];
      float* __restrict x = extra.data();
      for (std::size_t i = lo; i < hi; ++i) {
        x[i - lo] += g[i] * pg + h[i] * ph;
        g[i] = g[i] * e + h[i] * f;
        h[i] *= e;
      }
    }
    ex = extra.data();
  }
  auto args = [&](auto kernel) {
    kernel(lo, hi, v_.data(), refrac_.data(), fired.data(), G, ID, drv, decay_.data(),
           prop_.data(), ne, nd, ex, consts);
  };
#define VOLLEY_LIF_CASE(E, D)                                  \
  if (ne == E && nd == D) {                                    \
    if (drv)                                                   \
      args(lif_kernel<E, D, true>);                            \
    else                                                       \
      args(lif_kernel<E, D, false>);                           \
  } else
  if (ex && ne == 0 && nd == 0) {  // alpha channels only (NEST's iaf_psc_alpha)
    if (drv)
      args(lif_kernel<0, 0, true, true>);
    else
      args(lif_kernel<0, 0, false, true>);
  } else if (ex) {
    args(lif_kernel<-1, -1, false>);
  } else
  VOLLEY_LIF_CASE(0, 0)
  VOLLEY_LIF_CASE(1, 0)
  VOLLEY_LIF_CASE(2, 0)
  VOLLEY_LIF_CASE(3, 0)
  VOLLEY_LIF_CASE(0, 1)
  VOLLEY_LIF_CASE(1, 1)
  VOLLEY_LIF_CASE(2, 1)
  args(lif_kernel<-1, -1, false>);
#undef VOLLEY_LIF_CASE

  collect_spikes(fired.data(), lo, hi - lo, spikes);
}

std::vector<std::string> LifPopulation::variable_names() const {
  std::vector<std::string> names{"v"};
  for (std::size_t k : exp_channels_) names.push_back(p_.channels[k].name);
  for (std::size_t k : alpha_channels_) names.push_back(p_.channels[k].name);
  return names;
}

float* LifPopulation::channel_state(std::size_t channel) {
  for (std::size_t e = 0; e < exp_channels_.size(); ++e)
    if (exp_channels_[e] == channel) return g_[e].data();
  for (std::size_t a = 0; a < alpha_channels_.size(); ++a)
    if (alpha_channels_[a] == channel) return ah_[a].data();
  return nullptr;
}

VariableView LifPopulation::find_variable(std::string_view name) {
  if (name == "v") return {v_.data(), true, 1.0, Dimension::volts()};
  for (std::size_t e = 0; e < exp_channels_.size(); ++e)
    if (p_.channels[exp_channels_[e]].name == name)
      return {g_[e].data(), true, 1.0, Dimension::volts()};
  for (std::size_t a = 0; a < alpha_channels_.size(); ++a)
    if (p_.channels[alpha_channels_[a]].name == name)
      return {ag_[a].data(), true, 1.0, Dimension::volts()};
  return {};
}

void LifPopulation::resize_state(std::size_t old_size, std::size_t new_size, std::uint64_t seed) {
  draw_initial(v_, p_.v_init, old_size, new_size, seed, 0);
  refrac_.resize(new_size, 0);
  for (auto& g : g_) g.resize(new_size, 0.0f);
  for (auto& h : ah_) h.resize(new_size, 0.0f);
  for (auto& g : ag_) g.resize(new_size, 0.0f);
}

}  // namespace volley
