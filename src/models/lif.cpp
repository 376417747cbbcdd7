#include "volley/models/lif.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <utility>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "volley/error.hpp"
#include "volley/models/spike_scan.hpp"

#include <bit>
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
  // Counters are at most the mark (ref_steps + 1, see lif_kernel); after t_ref or dt changed, a
  // larger one would count down through the new mark and read as a spike.
  for (auto& r : refrac_) r = std::min(r, ref_steps_ + 1);
}

namespace {

// The membrane kernel, fused with threshold and reset: one pass over the state. Exponential
// channels have already absorbed their ring rows. NExp/NDelta < 0 mean "known only at run time"
// (the generic fallback).
//
// Refractoriness and this step's spikes share one counter: a spike sets rf = mark
// (= ref_steps + 1); every later step holds v while rf > 1 and counts rf down to 0. So v is held
// for ref_steps steps after the spike step, and rf == mark right after the update marks exactly
// the neurons that spiked in it (collect_equal lists them). The kernel writes rf anyway; a
// separate flag array cost one store per neuron and, packed from the compare masks to bytes, a
// third of the kernel's time on CUBA (perf, bench/RESULTS.md).
struct LifConsts {
  float v_rest, leak, bias, v_th, v_reset;
  std::int32_t mark;
};

template <int NExp, int NDelta, bool HasDrive, bool HasExtra = false>
void lif_kernel(std::size_t lo, std::size_t hi, float* __restrict v, std::int32_t* __restrict rf,
                float* const* g, float* const* in_delta,
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
    const float vn = r > 1 ? v[i] : vi;  // held neurons sit at v_reset < v_th
    const bool spike = vn > c.v_th;
    v[i] = spike ? c.v_reset : vn;
    rf[i] = spike ? c.mark : (r > 0 ? r - 1 : 0);
  }
}

#if defined(__AVX512F__)
// The same step as lif_kernel for the cases it specialises (up to 3 exponential channels and no
// delta channel, or up to 2 and one delta channel; no alpha channel), written with AVX-512 so that it can do what the
// auto-vectorised loop cannot: store the refractory counters only for the 16-neuron blocks where
// one is counting or a neuron spiked (almost never; the loop stored all of them), and append
// this step's spikes from the compare mask (no marks to scan afterwards). It performs the same
// float operations in the same order as lif_kernel compiled by gcc -O3 (which contracts x * p + s
// and v + t * leak into fused multiply-adds), so its results are bit-identical to the portable
// kernel's in release builds (spikes.h5 of CUBA byte for byte; tests/models/test_lif.cpp
// LifKernels, which allows the last ulps of v for sanitizer builds at -O1, where gcc contracts
// the portable loop differently).
// gcc 12 warns that _mm512_max_epi32's internal "undefined" operand may be uninitialised (a false
// positive of its own header).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
template <int NExp, int NDelta, bool HasDrive>
void lif_kernel_avx512(std::size_t lo, std::size_t hi, float* __restrict v,
                       std::int32_t* __restrict rf, float* const* g, float* const* in_delta,
                       const float* __restrict drive, const float* decay, const float* prop,
                       const LifConsts c, std::vector<std::uint32_t>& spikes) {
  static_assert(NExp >= 0 && NExp + NDelta <= 3 && (NDelta == 0 || NDelta == 1));
  constexpr int kE = NExp > 0 ? NExp : 1;
  float* gk[kE];
  __m512 dk[kE], pk[kE];
  for (int k = 0; k < NExp; ++k) {
    gk[k] = g[k];
    dk[k] = _mm512_set1_ps(decay[k]);
    pk[k] = _mm512_set1_ps(prop[k]);
  }
  float* dl = NDelta > 0 ? in_delta[0] : nullptr;
  const __m512 v_rest = _mm512_set1_ps(c.v_rest), leak = _mm512_set1_ps(c.leak),
               bias = _mm512_set1_ps(c.bias), v_th = _mm512_set1_ps(c.v_th),
               v_reset = _mm512_set1_ps(c.v_reset), zero = _mm512_setzero_ps();
  const __m512i one = _mm512_set1_epi32(1), none = _mm512_setzero_si512(),
                mark = _mm512_set1_epi32(c.mark);
  // Blocks with a spike, (first neuron, mask), appended to `spikes` after the loop: a call in the
  // loop would make the compiler keep the constants above in memory.
  thread_local std::vector<std::pair<std::uint32_t, std::uint32_t>> fired;
  fired.resize((hi - lo) / 16 + 1);
  std::size_t n_fired = 0;
  auto block = [&](std::size_t i, __mmask16 lane, auto full) {
    constexpr bool kFull = decltype(full)::value;
    auto load = [&](const float* p) {
      if constexpr (kFull) return _mm512_loadu_ps(p);
      else return _mm512_maskz_loadu_ps(lane, p);
    };
    auto store = [&](float* p, __m512 x) {
      if constexpr (kFull) _mm512_storeu_ps(p, x);
      else _mm512_mask_storeu_ps(p, lane, x);
    };
    __m512i r;
    if constexpr (kFull) r = _mm512_loadu_si512(rf + i);
    else r = _mm512_maskz_loadu_epi32(lane, rf + i);
    const __m512 vo = load(v + i);
    __m512 syn = zero;
    for (int k = 0; k < NExp; ++k) {
      const __m512 x = load(gk[k] + i);
      syn = _mm512_fmadd_ps(x, pk[k], syn);
      store(gk[k] + i, _mm512_mul_ps(x, dk[k]));
    }
    __m512 drv = bias;
    if constexpr (HasDrive) drv = _mm512_add_ps(drv, load(drive + i));
    const __m512 t = _mm512_sub_ps(_mm512_add_ps(v_rest, drv), vo);
    __m512 vi = _mm512_add_ps(_mm512_fmadd_ps(t, leak, vo), syn);
    if constexpr (NDelta > 0) {
      vi = _mm512_add_ps(vi, load(dl + i));
      store(dl + i, zero);
    }
    const __mmask16 held = _mm512_cmpgt_epi32_mask(r, one);
    const __m512 vn = _mm512_mask_blend_ps(held, vi, vo);
    const __mmask16 spike = _mm512_mask_cmp_ps_mask(lane, vn, v_th, _CMP_GT_OQ);
    store(v + i, _mm512_mask_blend_ps(spike, vn, v_reset));
    const __m512i down = _mm512_max_epi32(_mm512_sub_epi32(r, one), none);
    const __m512i r_new = _mm512_mask_blend_epi32(spike, down, mark);
    if constexpr (kFull) _mm512_storeu_si512(rf + i, r_new);
    else _mm512_mask_storeu_epi32(rf + i, lane, r_new);
    if (spike) fired[n_fired++] = {static_cast<std::uint32_t>(i), spike};
  };
  std::size_t i = lo;
  for (; i + 16 <= hi; i += 16) block(i, static_cast<__mmask16>(0xFFFF), std::true_type{});
  if (i < hi) block(i, static_cast<__mmask16>((1u << (hi - i)) - 1u), std::false_type{});
  for (std::size_t b = 0; b < n_fired; ++b)
    for (std::uint32_t m = fired[b].second; m != 0; m &= m - 1)
      spikes.push_back(fired[b].first + static_cast<std::uint32_t>(std::countr_zero(m)));
}
#pragma GCC diagnostic pop
#endif

bool g_portable_kernel = false;

}  // namespace

void LifPopulation::use_portable_kernel(bool on) { g_portable_kernel = on; }

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
  const LifConsts consts{v_rest_, leak_, bias_, v_th_, v_reset_, ref_steps_ + 1};
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
#if defined(__AVX512F__)
  if (!ex && ne + nd <= 3 && nd <= 1 && !g_portable_kernel) {
#define VOLLEY_LIF_AVX(E, D)                                                                    \
  if (ne == E && nd == D) {                                                                     \
    if (drv)                                                                                    \
      lif_kernel_avx512<E, D, true>(lo, hi, v_.data(), refrac_.data(), G, ID, drv,              \
                                    decay_.data(), prop_.data(), consts, spikes);               \
    else                                                                                        \
      lif_kernel_avx512<E, D, false>(lo, hi, v_.data(), refrac_.data(), G, ID, drv,             \
                                     decay_.data(), prop_.data(), consts, spikes);              \
    return;                                                                                     \
  }
    VOLLEY_LIF_AVX(0, 0)
    VOLLEY_LIF_AVX(1, 0)
    VOLLEY_LIF_AVX(2, 0)
    VOLLEY_LIF_AVX(3, 0)
    VOLLEY_LIF_AVX(0, 1)
    VOLLEY_LIF_AVX(1, 1)
    VOLLEY_LIF_AVX(2, 1)  // (3, 1) and the rest: the generic kernel, as in portable builds
#undef VOLLEY_LIF_AVX
  }
#endif
  auto args = [&](auto kernel) {
    kernel(lo, hi, v_.data(), refrac_.data(), G, ID, drv, decay_.data(),
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

  collect_equal(refrac_.data() + lo, consts.mark, lo, hi - lo, spikes);
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
