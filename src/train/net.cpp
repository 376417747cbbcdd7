// Training network: parameters, event-driven forward pass and BPTT (dense or active-set).
// The equations are in net.hpp; the backward pass differentiates them step by step, from the
// last step to the first, with these adjoints per neuron (all 0 after the last step):
//   gm = dL/dmem_{t+1}, gs = dL/dsyn_{t+1}, ga = dL/da_{t+1}, gi_next = dL/dI_{t+1}.
// At step t:
//   ds_t  = e_t + Σ_k V[j,k]·gi_next[k] + (reset term, unless detached) + ga
//   δ_t   = ds_t · σ'(u_t)                   (only at active pairs in the sparse mode)
//   dm̃   = gm·(1 − s_t)  (multiply) | gm      (dL/dm̃_{t+1})
//   dL/dI_t = gs (with a synapse) | dm̃,   gs ← α·gs + dm̃,   gm ← β·dm̃ + δ_t,   ga ← ρ·ga − b·δ_t
// and the weight gradients add dL/dI_t into the rows of the inputs that spiked at t.
#include "volley/train/net.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "train/delay_kernels.hpp"
#include "train/net_kernels.hpp"
#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::train {

using namespace detail;

namespace {

constexpr std::uint32_t kStreamConnect = 0x7000;
constexpr std::uint32_t kStreamWeights = 0x7100;
constexpr std::uint32_t kStreamTau = 0x7800;
constexpr std::uint32_t kStreamDelay = 0x7900;

// ---- delayed rows (delays.hpp): synapse k of row i spreads over `width` taps from start[k] ----

// Post-synaptic index of synapse k of row i.
inline std::size_t post_of(const WeightLayout& L, std::uint32_t i, std::size_t k) {
  return L.dense ? k - static_cast<std::size_t>(i) * L.n_post : L.cols[k];
}
inline std::size_t row_begin(const WeightLayout& L, std::uint32_t i) {
  return L.dense ? static_cast<std::size_t>(i) * L.n_post : L.row_ptr[i];
}
inline std::size_t row_end(const WeightLayout& L, std::uint32_t i) {
  return L.dense ? static_cast<std::size_t>(i + 1) * L.n_post : L.row_ptr[i + 1];
}

// An event of row i with value x: the rows lo..hi of its dense block (delays.hpp) into the
// time-major currents from `at` (the step of the event) on.
inline void add_delayed_block(const DelayTaps& D, std::size_t n_post, std::uint32_t i, float x,
                              float* at) {
  const std::size_t lo = D.lo[i] * n_post, n = (D.hi[i] + 1) * n_post - lo;
  const float* __restrict kw = D.kernel.data() + i * D.window * n_post + lo;
  float* __restrict out = at + lo;
#pragma omp simd
  for (std::size_t m = 0; m < n; ++m) out[m] += x * kw[m];
}

// An event of row i with value x at `at` (the currents of its step) with per-synapse taps:
// each synapse of row i adds x·w·φ to its `width` steps.
inline void add_delayed_synapses(const DelayTaps& D, const WeightLayout& L, std::size_t n_post,
                                 std::uint32_t i, float x, float* at) {
  // Tap by tap: the synapses of a row land on distinct neurons, so the scatter vectorises.
  const std::size_t S = D.offset.size(), b = row_begin(L, i), e = row_end(L, i);
  const std::uint32_t* __restrict off = D.offset.data();
  for (std::size_t o = 0; o < D.width; ++o) {
    float* __restrict out = at + o * n_post;
    const float* __restrict ks = D.kernel_syn.data() + o * S;
#pragma omp simd
    for (std::size_t k = b; k < e; ++k) out[off[k]] += x * ks[k];
  }
}

// The smooth-forward "surrogate": the exact derivative of sigmoid(k·u).
struct SmoothDerivative {
  float k;
  float derivative(float u) const {
    const float s = 1.0f / (1.0f + std::exp(-k * u));
    return k * s * (1.0f - s);
  }
};

// One step back in time of a layer's adjoints (see the top of this file), compiled per reset,
// synapse and learned-τ case so that the loop vectorises. Returns whether dL/dI_t is non-zero
// anywhere (if not, the weight gradients of the step are skipped).
struct AdjointStep {
  std::size_t n;
  float rho, b;
  const float* __restrict alpha;
  const float* __restrict beta;
  const float* __restrict keep;   // 1 − s_t (multiplicative reset)
  const float* __restrict delta;  // δ_t (0 for readouts)
  const float* __restrict mem_t;  // learned τ only
  const float* __restrict syn_t;
  float* __restrict gm;
  float* __restrict gs;
  float* __restrict ga;
  float* __restrict gi;
  float* __restrict gbeta;
  float* __restrict galpha;
};

template <bool Mult, bool Syn, bool LearnTau, bool Alif>
bool adjoint_step(const AdjointStep& p) {
  const std::size_t n = p.n;
  const float* __restrict alpha = p.alpha;
  const float* __restrict beta = p.beta;
  const float* __restrict keep = p.keep;
  const float* __restrict delta = p.delta;
  const float* __restrict mem_t = p.mem_t;
  const float* __restrict syn_t = p.syn_t;
  float* __restrict gm = p.gm;
  float* __restrict gs = p.gs;
  float* __restrict ga = p.ga;
  float* __restrict gi = p.gi;
  float* __restrict gbeta = p.gbeta;
  float* __restrict galpha = p.galpha;
  const float rho = p.rho, b = p.b;
  int nonzero = 0;
#pragma omp simd reduction(| : nonzero)
  for (std::size_t j = 0; j < n; ++j) {
    const float dm = Mult ? gm[j] * keep[j] : gm[j];
    const float g_in = Syn ? gs[j] : dm;
    if constexpr (LearnTau) {
      gbeta[j] += dm * mem_t[j];
      if constexpr (Syn) galpha[j] += gs[j] * syn_t[j];
    }
    if constexpr (Syn) gs[j] = alpha[j] * gs[j] + dm;
    gi[j] = g_in;
    nonzero |= g_in != 0.0f;
    gm[j] = beta[j] * dm + delta[j];
    if constexpr (Alif) ga[j] = rho * ga[j] - b * delta[j];
  }
  return nonzero != 0;
}

template <bool Alif>
bool dispatch_adjoint_a(const AdjointStep& p, bool mult, bool syn, bool learn_tau) {
  if (learn_tau) {
    if (mult)
      return syn ? adjoint_step<true, true, true, Alif>(p) : adjoint_step<true, false, true, Alif>(p);
    return syn ? adjoint_step<false, true, true, Alif>(p) : adjoint_step<false, false, true, Alif>(p);
  }
  if (mult)
    return syn ? adjoint_step<true, true, false, Alif>(p) : adjoint_step<true, false, false, Alif>(p);
  return syn ? adjoint_step<false, true, false, Alif>(p) : adjoint_step<false, false, false, Alif>(p);
}

bool dispatch_adjoint(const AdjointStep& p, bool mult, bool syn, bool learn_tau, bool alif) {
  return alif ? dispatch_adjoint_a<true>(p, mult, syn, learn_tau)
              : dispatch_adjoint_a<false>(p, mult, syn, learn_tau);
}

// The adjoint step of an adlif layer (G = dL/dmem_{t+1} through both of its uses):
//   G = gm + (1 − ρ)·a·gw,  dm̃ = G·(1 − s_t) | G,  gm ← β·dm̃ + δ_t,  gw ← ρ·gw − (1 − β)·dm̃
// and, when the dynamics are learned, dL/dβ += dm̃·(mem_t + w_t), dL/dρ += gw·(w_t − a·mem_{t+1}),
// dL/da += gw·(1 − ρ)·mem_{t+1}, dL/db += gw·s_t (gw = dL/dw_{t+1} before the update).
struct AdlifAdjoint {
  std::size_t n;
  const float* __restrict alpha;
  const float* __restrict beta;
  const float* __restrict rho;
  const float* __restrict a;
  const float* __restrict keep;    // 1 − s_t
  const float* __restrict delta;
  const float* __restrict mem_t;   // learned dynamics only
  const float* __restrict mem_next;  // mem_{t+1} (t < T − 1; unused when gw = 0)
  const float* __restrict syn_t;
  const float* __restrict w_t;
  float* __restrict gm;
  float* __restrict gs;
  float* __restrict gw;
  float* __restrict gi;
  float* __restrict galpha;
  float* __restrict gbeta;
  float* __restrict grho;
  float* __restrict ga;
  float* __restrict gb;
};

template <bool Mult, bool Syn, bool Learn>
bool adlif_adjoint(const AdlifAdjoint& p) {
  const std::size_t n = p.n;
  int nonzero = 0;
#pragma omp simd reduction(| : nonzero)
  for (std::size_t j = 0; j < n; ++j) {
    const float rho = p.rho[j], gw = p.gw[j];
    const float G = p.gm[j] + (1.0f - rho) * p.a[j] * gw;
    const float dm = Mult ? G * p.keep[j] : G;
    const float g_in = Syn ? p.gs[j] : dm;
    if constexpr (Learn) {
      if (p.gbeta) p.gbeta[j] += dm * (p.mem_t[j] + p.w_t[j]);
      if constexpr (Syn) {
        if (p.galpha) p.galpha[j] += p.gs[j] * p.syn_t[j];
      }
      if (p.grho) p.grho[j] += gw * (p.w_t[j] - p.a[j] * p.mem_next[j]);
      if (p.ga) p.ga[j] += gw * (1.0f - rho) * p.mem_next[j];
      if (p.gb) p.gb[j] += gw * (1.0f - p.keep[j]);
    }
    if constexpr (Syn) p.gs[j] = p.alpha[j] * p.gs[j] + dm;
    p.gi[j] = g_in;
    nonzero |= g_in != 0.0f;
    p.gm[j] = p.beta[j] * dm + p.delta[j];
    p.gw[j] = rho * gw - (1.0f - p.beta[j]) * dm;
  }
  return nonzero != 0;
}

bool dispatch_adlif_adjoint(const AdlifAdjoint& p, bool mult, bool syn, bool learn) {
  if (learn) {
    if (mult) return syn ? adlif_adjoint<true, true, true>(p) : adlif_adjoint<true, false, true>(p);
    return syn ? adlif_adjoint<false, true, true>(p) : adlif_adjoint<false, false, true>(p);
  }
  if (mult) return syn ? adlif_adjoint<true, true, false>(p) : adlif_adjoint<true, false, false>(p);
  return syn ? adlif_adjoint<false, true, false>(p) : adlif_adjoint<false, false, false>(p);
}

// One step of n relu units: h_t = λ·h_{t−1} + I_t (mem holds h), u = h_t, a_t = max(h_t, 0).
inline void relu_step(std::size_t n, const float* __restrict lambda, const float* __restrict cur,
                      float* __restrict mem, float* __restrict u, float* __restrict a) {
#pragma omp simd
  for (std::size_t j = 0; j < n; ++j) {
    const float h = lambda[j] * mem[j] + cur[j];
    mem[j] = h;
    u[j] = h;
    a[j] = h > 0.0f ? h : 0.0f;
  }
}

[[noreturn]] void bad(std::size_t layer, std::string_view field, const std::string& what) {
  throw ParameterError(fmt::format("layer {}: {}: {}", layer, field, what));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Configuration and parameters

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr Range kPositive{0.0, kInf, true, true};     // > 0, finite
constexpr Range kNonNegative{0.0, kInf, false, true};  // >= 0, finite
constexpr Range kFraction{0.0, 1.0, true, false};      // (0, 1]
constexpr double kMaxCount = std::numeric_limits<std::uint32_t>::max();

// Empty when every parameter of `params` in p is allowed, else "KEY: what is wrong".
template <class P>
std::string first_bad(std::span<const volley::Param<P>> params, const P& p) {
  for (const auto& spec : params)
    if (std::string bad = spec.check(spec.get(p)); !bad.empty())
      return fmt::format("{}: {}", spec.key, bad);
  return {};
}

}  // namespace

const Registry<Choice<ForwardMode>>& forward_modes() {
  static const Registry<Choice<ForwardMode>> r(
      "forward mode",
      {{"heaviside", ForwardMode::heaviside,
        "binary spikes H(u) forward, the surrogate derivative backward"},
       {"smooth", ForwardMode::smooth,
        "sigmoid(smooth_scale·u) forward and its exact derivative backward (no surrogate; "
        "outputs are not binary; the backward is always dense)"}});
  return r;
}

const Registry<Choice<BackwardMode>>& backward_modes() {
  static const Registry<Choice<BackwardMode>> r(
      "backward mode",
      {{"sparse", BackwardMode::sparse,
        "only (neuron, step) pairs with \\|u\\| < window enter the backward pass (Perez-Nieves "
        "& Goodman 2021): the surrogate is 0 outside the window"},
       {"dense", BackwardMode::dense, "every (neuron, step) pair"},
       {"event", BackwardMode::event,
        "the sparse mode's active set and gradients, with neuron work that follows events: in "
        "lif layers without recurrence, delays or learned dynamics, blocks of 16 neurons that get "
        "no input and stay below θ − window are advanced analytically, forward and backward "
        "(for sparse connectivity; needs a window > 0)"}});
  return r;
}

const Registry<Choice<TauInit>>& tau_inits() {
  static const Registry<Choice<TauInit>> r(
      "tau_init",
      {{"constant", TauInit::constant, "every neuron has tau_mem and tau_syn"},
       {"uniform", TauInit::uniform,
        "uniform with mean tau and coefficient of variation tau_cv (< 1/√3, so τ > 0)"},
       {"gamma", TauInit::gamma,
        "gamma with mean tau and coefficient of variation tau_cv (shape 1/tau_cv²; Perez-Nieves "
        "et al. 2021 use shape 3)"},
       {"lognormal", TauInit::lognormal,
        "lognormal with mean tau and coefficient of variation tau_cv"}});
  return r;
}

std::span<const volley::Param<NetConfig>> network_params() {
  static const volley::Param<NetConfig> p[] = {
      {"dt", &NetConfig::dt, Dimension::seconds(), kPositive, "time step"},
      {"steps", &NetConfig::n_steps, Dimension::none(), Range::at_least(1),
       "steps per sample"},
      {"seed", &NetConfig::seed, Dimension::none(), Range::closed(0, kMaxCount),
       "weight initialisation and connectivity (--seed sets it)"},
  };
  return p;
}

std::span<const volley::Param<NetConfig>> smooth_forward_params() {
  static const volley::Param<NetConfig> p[] = {
      {"smooth_scale", &NetConfig::smooth_scale, Dimension::none(), kPositive,
       "k of the smooth forward's sigmoid(k·u)"},
  };
  return p;
}

std::span<const volley::Param<NetConfig>> backward_params() {
  static const volley::Param<NetConfig> p[] = {
      {"window", &NetConfig::window, Dimension::none(), kNonNegative,
       "sparse mode: the active set is \\|u\\| < window; 0 = unbounded (then sparse equals "
       "dense exactly)"},
  };
  return p;
}

std::span<const volley::Param<LayerConfig>> layer_params() {
  static const volley::Param<LayerConfig> p[] = {
      {"size", &LayerConfig::size, Dimension::none(), Range::at_least(1), "neurons"},
      {"tau_mem", &LayerConfig::tau_mem, Dimension::seconds(), kPositive,
       "membrane time constant: β = exp(−dt/tau_mem)"},
      {"tau_syn", &LayerConfig::tau_syn, Dimension::seconds(), kNonNegative,
       "synaptic time constant: α = exp(−dt/tau_syn); 0 = no synaptic current (input goes "
       "straight into V)"},
      {"density", &LayerConfig::density, Dimension::none(), kFraction,
       "connection probability of the input weights; < 1 stores a fixed random pattern (CSR) and "
       "trains only existing synapses"},
      {"weight_scale", &LayerConfig::weight_scale, Dimension::none(), kNonNegative,
       "initial input weights N(0, (weight_scale·(1 − β))²/fan_in) (SpyTorch uses 7)"},
      {"tau_cv", &LayerConfig::tau_cv, Dimension::none(), kNonNegative,
       "coefficient of variation of the per-neuron τ_mem and τ_syn drawn by tau_init"},
      {"tau_lr_scale", &LayerConfig::tau_lr_scale, Dimension::none(), kPositive,
       "learn_tau: the learning rate of α and β is the optimiser's times this"},
      {"tau_max", &LayerConfig::tau_max, Dimension::seconds(), kNonNegative,
       "the largest τ_mem and τ_syn that tau_init draws and learn_tau reaches (α, β ≤ "
       "exp(−dt/tau_max)); 0 = only the decay factors' bound 0.9999 (τ up to 10⁴ dt)"},
      {"max_delay", &LayerConfig::max_delay, Dimension::seconds(), kNonNegative,
       "synaptic delays of the input weights, one per synapse drawn uniformly in [0, max_delay] "
       "(rounded to steps at inference); 0 = none"},
      {"delay_sigma", &LayerConfig::delay_sigma, Dimension::seconds(), kNonNegative,
       "initial σ of the Gaussian taps that spread each delayed weight (DCLS); 0 = rounded "
       "delays from the start; learn_delay needs at least a quarter step"},
      {"delay_anneal", &LayerConfig::delay_anneal, Dimension::none(), kFraction,
       "σ falls linearly to 0 over this fraction of the epochs; the rest train the weights with "
       "rounded delays"},
      {"delay_lr_scale", &LayerConfig::delay_lr_scale, Dimension::none(), kPositive,
       "learn_delay: the learning rate of the delays (in steps) is the optimiser's times this "
       "(DCLS uses 100)"},
  };
  return p;
}

std::span<const volley::Param<LayerConfig>> spiking_layer_params() {
  static const volley::Param<LayerConfig> p[] = {
      {"threshold", &LayerConfig::threshold, Dimension::none(), kPositive, "θ"},
      {"recurrent_density", &LayerConfig::recurrent_density, Dimension::none(), kFraction,
       "connection probability of the recurrent weights"},
      {"recurrent_scale", &LayerConfig::recurrent_scale, Dimension::none(), kNonNegative,
       "initial recurrent weights as weight_scale; default: the layer's weight_scale"},
  };
  return p;
}

std::span<const volley::Param<LayerConfig>> relu_layer_params() {
  static const volley::Param<LayerConfig> p[] = {
      {"recurrent_density", &LayerConfig::recurrent_density, Dimension::none(), kFraction,
       "connection probability of the recurrent weights"},
      {"recurrent_scale", &LayerConfig::recurrent_scale, Dimension::none(), kNonNegative,
       "initial recurrent weights as weight_scale; default: the layer's weight_scale"},
  };
  return p;
}

std::span<const volley::Param<LayerConfig>> alif_params() {
  static const volley::Param<LayerConfig> p[] = {
      {"tau_adapt", &LayerConfig::tau_adapt, Dimension::seconds(), kPositive,
       "adaptation time constant: ρ = exp(−dt/tau_adapt)"},
      {"adapt_strength", &LayerConfig::adapt_strength, Dimension::none(), kNonNegative,
       "b: threshold increase per unit of adaptation (alif, Bellec et al. 2018); jump of the "
       "adaptation current per spike (adlif)"},
  };
  return p;
}

std::span<const volley::Param<LayerConfig>> adlif_params() {
  static const volley::Param<LayerConfig> p[] = {
      {"adapt_coupling", &LayerConfig::adapt_coupling, Dimension::none(), kNonNegative,
       "a: sub-threshold coupling of the adaptation current to the membrane (adlif)"},
  };
  return p;
}

std::span<const volley::Param<SurrogateConfig>> surrogate_params() {
  static const volley::Param<SurrogateConfig> p[] = {
      {"scale", &SurrogateConfig::scale, Dimension::none(), kPositive,
       "steepness of the surrogate (see its formula); default: the surrogate's own (table "
       "below)"},
  };
  return p;
}

const Registry<SurrogateInfo>& surrogates() {
  static const Registry<SurrogateInfo> r = [] {
    std::vector<SurrogateInfo> entries;
    for_each_surrogate([&](const auto& sg) {
      using S = std::decay_t<decltype(sg)>;
      entries.push_back({S::name, entries.size(), S::meaning, S::default_scale});
    });
    return Registry<SurrogateInfo>("surrogate", std::move(entries));
  }();
  return r;
}

std::string_view surrogate_name(std::size_t kind) {
  return kind < surrogates().size() ? surrogates().entries()[kind].name : "?";
}

void NetConfig::validate() const {
  if (n_inputs == 0) throw ParameterError("network: n_inputs must be > 0");
  if (const std::string bad = first_bad(network_params(), *this); !bad.empty())
    throw ParameterError(fmt::format("network: {}", bad));
  if (n_steps > kMaxCount) throw ParameterError("network: steps: too large");
  if (layers.empty()) throw ParameterError("network: needs at least one layer");
  if (surrogate.kind >= surrogates().size())
    throw ParameterError(fmt::format("surrogate: kind {} is not registered ({} surrogates)",
                                     surrogate.kind, surrogates().size()));
  if (const std::string bad = first_bad(surrogate_params(), surrogate); !bad.empty())
    throw ParameterError(fmt::format("surrogate: {}", bad));
  if (const std::string bad = first_bad(smooth_forward_params(), *this); !bad.empty())
    throw ParameterError(fmt::format("surrogate: {}", bad));
  if (const std::string bad = first_bad(backward_params(), *this); !bad.empty())
    throw ParameterError(fmt::format("backward: {}", bad));
  if (backward == BackwardMode::event && !(window > 0.0 && std::isfinite(window)))
    throw ParameterError(
        "backward: window: the event mode needs a window > 0 (neurons below θ − window are "
        "skipped; 0 = unbounded would skip none)");
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const LayerConfig& c = layers[l];
    auto check = [&](std::span<const volley::Param<LayerConfig>> params) {
      if (const std::string bad = first_bad(params, c); !bad.empty())
        throw ParameterError(fmt::format("layer {}: {}", l, bad));
    };
    check(layer_params());
    if (c.size > kMaxCount) bad(l, "size", "too large");
    const bool spiking = Net::is_spiking(c.kind);
    if (spiking) check(spiking_layer_params());
    if (c.kind == LayerKind::relu) {
      check(relu_layer_params());
      if (l + 1 == layers.size())
        bad(l, "type", "a relu layer cannot be the output; add a readout layer after it");
      if (c.learn_tau && !c.leaky) bad(l, "learn_tau", "a relu layer learns λ only when leaky");
    }
    if (c.kind == LayerKind::alif || c.kind == LayerKind::adlif) check(alif_params());
    if (c.kind == LayerKind::adlif) check(adlif_params());
    if (c.learn_threshold && !spiking)
      bad(l, "learn_threshold", "only spiking layers (lif, alif, adlif) have a threshold");
    if (c.learn_adapt && c.kind != LayerKind::adlif)
      bad(l, "learn_adapt", "only adlif layers have a learnable adaptation (a, b)");
    if (c.learn_adapt && c.adapt_coupling > kMaxCoupling)
      bad(l, "adapt_coupling",
          fmt::format("must be at most {} with learn_adapt (the range learning keeps a in), got {}",
                      kMaxCoupling, c.adapt_coupling));
    if (c.learn_adapt && c.adapt_strength > kMaxJump)
      bad(l, "adapt_strength",
          fmt::format("must be at most {} with learn_adapt (the range learning keeps b in), got {}",
                      kMaxJump, c.adapt_strength));
    if (c.learn_threshold && c.threshold < kMinThreshold)
      bad(l, "threshold",
          fmt::format("must be at least {} with learn_threshold (the bound learning keeps θ above), "
                      "got {}",
                      kMinThreshold, c.threshold));
    if (c.tau_init == TauInit::constant && c.tau_cv > 0.0)
      bad(l, "tau_cv", "is used only with tau_init uniform, gamma or lognormal");
    if (c.tau_init != TauInit::constant && !(c.tau_cv > 0.0))
      bad(l, "tau_cv", fmt::format("must be > 0 with tau_init = \"{}\"",
                                   tau_inits().name_of(c.tau_init)));
    if (c.tau_init == TauInit::uniform && !(c.tau_cv < 1.0 / std::sqrt(3.0)))
      bad(l, "tau_cv", fmt::format("must be < 1/√3 = 0.577 with tau_init = \"uniform\" (else τ "
                                   "can be ≤ 0), got {}",
                                   c.tau_cv));
    if (c.tau_max > 0.0 && (c.tau_max < c.tau_mem || c.tau_max < c.tau_syn))
      bad(l, "tau_max", fmt::format("{} s is below the layer's tau_mem ({} s) or tau_syn ({} s)",
                                    c.tau_max, c.tau_mem, c.tau_syn));
    if (c.learn_delay && !(c.max_delay > 0.0))
      bad(l, "learn_delay", "needs max_delay > 0 (the window the delays are learned in)");
    if (c.max_delay > 0.0) {
      const double K = std::round(c.max_delay / dt);
      if (K < 1.0)
        bad(l, "max_delay", fmt::format("{} s is less than one step of dt = {} s", c.max_delay, dt));
      if (K >= static_cast<double>(n_steps))
        bad(l, "max_delay", fmt::format("{} s is {} steps, beyond the {} steps of a sample",
                                        c.max_delay, K, n_steps));
      if (c.learn_delay && c.delay_sigma / dt < kHardDelaySigma)
        bad(l, "delay_sigma", fmt::format("must be at least {} of a step with learn_delay (else "
                                          "the delays have no gradient), got {} s",
                                          kHardDelaySigma, c.delay_sigma));
    }
    if (c.kind == LayerKind::readout) {
      if (c.recurrent) bad(l, "recurrent", "a readout layer cannot be recurrent");
      if (l + 1 != layers.size()) bad(l, "type", "a readout layer must be the last layer");
    }
  }
}

Net::Net(NetConfig config) : config_(std::move(config)) {
  config_.validate();
  const std::size_t L = config_.layers.size();
  w_.resize(L);
  v_.resize(L);
  alpha_.resize(L);
  beta_.resize(L);
  rho_.assign(L, 0.0f);
  theta_.assign(L, kNone);
  adl_rho_.assign(L, kNone);
  adl_a_.assign(L, kNone);
  adl_b_.assign(L, kNone);
  thr_.resize(L);
  delay_.assign(L, kNone);
  delay_sigma_.assign(L, kNone);
  taps_.resize(L);
  const std::uint64_t seed = config_.seed;

  // Fixed-probability connectivity (rows drawn independently) and SpyTorch's initialisation.
  auto make = [&](WeightLayout& W, std::size_t n_pre, std::size_t n_post, double density,
                  double scale, double beta, std::uint32_t stream, const std::string& name) {
    W.n_pre = n_pre;
    W.n_post = n_post;
    W.dense = density >= 1.0;
    if (!W.dense) {
      W.row_ptr.assign(n_pre + 1, 0);
      for (std::size_t i = 0; i < n_pre; ++i) {
        CounterRng rng(seed, kStreamConnect + stream, static_cast<std::uint32_t>(i), 0);
        for (std::size_t j = 0; j < n_post; ++j)
          if (rng.uniform() < density) W.cols.push_back(static_cast<std::uint32_t>(j));
        W.row_ptr[i + 1] = static_cast<std::uint32_t>(W.cols.size());
      }
    }
    const double fan_in = std::max(1.0, density * static_cast<double>(n_pre));
    const double std = scale * (1.0 - beta) / std::sqrt(fan_in);
    Param p{name, std::vector<float>(W.size()), true};
    for (std::size_t i = 0; i < n_pre; ++i) {
      CounterRng rng(seed, kStreamWeights + stream, static_cast<std::uint32_t>(i), 0);
      const std::size_t b = W.dense ? i * n_post : W.row_ptr[i];
      const std::size_t e = W.dense ? (i + 1) * n_post : W.row_ptr[i + 1];
      for (std::size_t k = b; k < e; ++k) p.value[k] = static_cast<float>(std * rng.normal());
    }
    W.param = params_.size();
    params_.push_back(std::move(p));
  };

  std::size_t n_pre = config_.n_inputs;
  for (std::size_t l = 0; l < L; ++l) {
    const LayerConfig& c = config_.layers[l];
    const bool relu = c.kind == LayerKind::relu;
    has_relu_ = has_relu_ || relu;
    const double beta = relu && !c.leaky ? 0.0 : std::exp(-config_.dt / c.tau_mem);
    const double alpha = c.tau_syn > 0.0 && !relu ? std::exp(-config_.dt / c.tau_syn) : 0.0;
    const auto stream = static_cast<std::uint32_t>(2 * l);
    make(w_[l], n_pre, c.size, c.density, c.weight_scale, beta, stream, fmt::format("layer{}.w", l));
    if (c.max_delay > 0.0) {
      // Per-synapse delays in steps, uniform in [0, K − 1], one stream per presynaptic row.
      const double last = std::round(c.max_delay / config_.dt);
      const WeightLayout& W = w_[l];
      Param d{fmt::format("layer{}.delay", l), std::vector<float>(W.size()), c.learn_delay,
              c.delay_lr_scale};
      for (std::size_t i = 0; i < n_pre; ++i) {
        CounterRng rng(seed, kStreamDelay + static_cast<std::uint32_t>(l), static_cast<std::uint32_t>(i), 0);
        const std::size_t b = W.dense ? i * W.n_post : W.row_ptr[i];
        const std::size_t e = W.dense ? (i + 1) * W.n_post : W.row_ptr[i + 1];
        for (std::size_t k = b; k < e; ++k) d.value[k] = static_cast<float>(last * rng.uniform());
      }
      delay_[l] = params_.size();
      params_.push_back(std::move(d));
      delay_sigma_[l] = params_.size();
      params_.push_back({fmt::format("layer{}.delay_sigma", l),
                         {static_cast<float>(c.delay_sigma / config_.dt)}, false});
    }
    if (c.recurrent)
      make(v_[l], c.size, c.size, c.recurrent_density, c.recurrent_scale, beta, stream + 1,
           fmt::format("layer{}.v", l));
    alpha_[l] = params_.size();
    params_.push_back({fmt::format("layer{}.alpha", l),
                       std::vector<float>(c.size, static_cast<float>(alpha)),
                       c.learn_tau && alpha > 0.0, c.tau_lr_scale});
    beta_[l] = params_.size();
    params_.push_back({fmt::format("layer{}.beta", l),
                       std::vector<float>(c.size, static_cast<float>(beta)), c.learn_tau,
                       c.tau_lr_scale});
    if (is_spiking(c.kind)) {
      const std::vector<float> theta(c.size, static_cast<float>(c.threshold));
      if (c.learn_threshold) {
        theta_[l] = params_.size();
        params_.push_back({fmt::format("layer{}.theta", l), theta, true});
      } else {
        thr_[l] = theta;
      }
    }
    if (c.kind == LayerKind::adlif) {
      auto add = [&](std::size_t& index, const char* name, double value, bool trainable,
                     double lr_scale) {
        index = params_.size();
        params_.push_back({fmt::format("layer{}.{}", l, name),
                           std::vector<float>(c.size, static_cast<float>(value)), trainable,
                           lr_scale});
      };
      add(adl_rho_[l], "rho", decay_factor(config_.dt, c.tau_adapt), c.learn_tau, c.tau_lr_scale);
      add(adl_a_[l], "a", c.adapt_coupling, c.learn_adapt, 1.0);
      add(adl_b_[l], "b", c.adapt_strength, c.learn_adapt, 1.0);
    }
    if (c.tau_init != TauInit::constant) {
      // Heterogeneous time constants: one draw per neuron and constant, keyed by the seed.
      auto draw = [&](double mean, CounterRng& rng) {
        const double cv = c.tau_cv;
        switch (c.tau_init) {
          case TauInit::constant: return mean;
          case TauInit::uniform: return mean * (1.0 + std::sqrt(3.0) * cv * (2.0 * rng.uniform() - 1.0));
          case TauInit::gamma: {
            const double k = 1.0 / (cv * cv);
            return mean / k * rng.gamma(k);
          }
          case TauInit::lognormal: {
            const double s2 = std::log1p(cv * cv);
            return mean * std::exp(std::sqrt(s2) * rng.normal() - 0.5 * s2);
          }
        }
        return mean;
      };
      // Draws above tau_max are set to it (the range learning keeps them in).
      auto bounded = [&](double tau) { return c.tau_max > 0.0 ? std::min(tau, c.tau_max) : tau; };
      for (std::size_t j = 0; j < c.size; ++j) {
        CounterRng rng(seed, kStreamTau + static_cast<std::uint32_t>(l), static_cast<std::uint32_t>(j), 0);
        const double tm = bounded(draw(c.tau_mem, rng));
        params_[beta_[l]].value[j] = relu && !c.leaky ? 0.0f : decay_factor(config_.dt, tm);
        if (alpha > 0.0)
          params_[alpha_[l]].value[j] = decay_factor(config_.dt, bounded(draw(c.tau_syn, rng)));
        if (adl_rho_[l] != kNone)
          params_[adl_rho_[l]].value[j] = decay_factor(config_.dt, draw(c.tau_adapt, rng));
      }
    }
    if (c.kind == LayerKind::alif)
      rho_[l] = static_cast<float>(std::exp(-config_.dt / c.tau_adapt));
    max_size_ = std::max(max_size_, c.size);
    n_pre = c.size;
  }
  update_delays();
}

void Net::set_pattern(std::size_t layer, bool recurrent, std::vector<std::uint32_t> row_ptr,
                      std::vector<std::uint32_t> cols, std::vector<float> values) {
  if (layer >= w_.size())
    throw ParameterError(fmt::format("set_pattern: no layer {}", layer));
  WeightLayout& W = recurrent ? v_[layer] : w_[layer];
  const std::string name = fmt::format("layer{}.{}", layer, recurrent ? "v" : "w");
  if (W.dense || W.n_pre == 0)
    throw ParameterError(fmt::format("{}: not a sparse matrix", name));
  if (values.size() != cols.size())
    throw ParameterError(fmt::format("{}: {} values for {} synapses", name, values.size(),
                                     cols.size()));
  if (row_ptr.size() != W.n_pre + 1 || row_ptr.front() != 0 || row_ptr.back() != cols.size())
    throw ParameterError(fmt::format("{}: row pointers do not fit {} rows of {} synapses", name,
                                     W.n_pre, cols.size()));
  for (std::size_t i = 0; i < W.n_pre; ++i) {
    if (row_ptr[i] > row_ptr[i + 1])
      throw ParameterError(fmt::format("{}: row pointers descend at row {}", name, i));
    for (std::uint32_t k = row_ptr[i]; k < row_ptr[i + 1]; ++k)
      if (cols[k] >= W.n_post || (k > row_ptr[i] && cols[k] <= cols[k - 1]))
        throw ParameterError(
            fmt::format("{}: row {}: columns must ascend and be < {}", name, i, W.n_post));
  }
  W.row_ptr = std::move(row_ptr);
  W.cols = std::move(cols);
  params_[W.param].value = std::move(values);
}

std::size_t Net::n_synapses() const {
  std::size_t n = 0;
  for (std::size_t l = 0; l < w_.size(); ++l) {
    n += w_[l].size();
    if (config_.layers[l].recurrent) n += v_[l].size();
  }
  return n;
}

std::size_t Net::n_trainable() const {
  std::size_t n = 0;
  for (const Param& p : params_)
    if (p.trainable) n += p.value.size();
  return n;
}

std::vector<std::vector<float>> Net::zero_grads() const {
  std::vector<std::vector<float>> g;
  g.reserve(params_.size());
  for (const Param& p : params_) g.emplace_back(p.value.size(), 0.0f);
  return g;
}

void Net::constrain() {
  auto clamp = [&](std::size_t idx, float lo, float hi) {
    if (idx == kNone) return;
    for (float& x : params_[idx].value) x = std::clamp(x, lo, hi);
  };
  for (std::size_t l = 0; l < config_.layers.size(); ++l) {
    const LayerConfig& c = config_.layers[l];
    if (c.learn_tau) {
      const float top = c.tau_max > 0.0
                            ? std::min(kMaxDecay, static_cast<float>(decay_factor(config_.dt, c.tau_max)))
                            : kMaxDecay;
      for (std::size_t idx : {alpha_[l], beta_[l]}) clamp(idx, 0.0f, top);
      clamp(adl_rho_[l], 0.0f, kMaxDecay);
    }
    if (c.learn_threshold) clamp(theta_[l], kMinThreshold, std::numeric_limits<float>::max());
    if (c.learn_adapt) {
      clamp(adl_a_[l], 0.0f, kMaxCoupling);
      clamp(adl_b_[l], 0.0f, kMaxJump);
    }
    if (c.learn_delay)
      clamp(delay_[l], 0.0f, static_cast<float>(std::round(c.max_delay / config_.dt)));
  }
  update_delays();
}

void Net::set_training_progress(double progress) {
  for (std::size_t l = 0; l < config_.layers.size(); ++l) {
    if (delay_sigma_[l] == kNone) continue;
    const LayerConfig& c = config_.layers[l];
    params_[delay_sigma_[l]].value[0] =
        static_cast<float>(delay_sigma_at(c.delay_sigma / config_.dt, c.delay_anneal, progress));
  }
  update_delays();
}

void Net::update_delays() {
  for (std::size_t l = 0; l < config_.layers.size(); ++l) {
    if (delay_[l] == kNone) continue;
    const std::vector<float>& d = params_[delay_[l]].value;
    const auto K = static_cast<std::size_t>(std::round(config_.layers[l].max_delay / config_.dt)) + 1;
    DelayTaps& D = taps_[l];
    compute_delay_taps(d.data(), d.size(), K, params_[delay_sigma_[l]].value[0], D, threads_);
    // The dense blocks or the per-synapse taps (delays.hpp) from the taps and the current
    // weights.
    const WeightLayout& W = w_[l];
    const float* w = params_[W.param].value.data();
    const std::size_t Np = W.n_post, block = K * Np, Wd = D.width;
    D.per_synapse = delay_layout_ == DelayLayout::automatic
                        ? use_per_synapse_taps(Wd, K)
                        : delay_layout_ == DelayLayout::per_synapse || delay_layout_ == DelayLayout::gather;
    D.gather = D.per_synapse && W.dense && delay_layout_ != DelayLayout::per_synapse;
    D.gather_always = D.gather && delay_layout_ == DelayLayout::gather;
    if (D.gather) {
      build_time_major_taps(D, w, W.n_pre, Np, config_.n_steps);
    } else {
      std::vector<float>().swap(D.gather_w);
      std::vector<std::uint32_t>().swap(D.gather_at);
      std::vector<std::uint32_t>().swap(D.group_off);
      std::vector<std::uint32_t>().swap(D.group_post);
      std::vector<float>().swap(D.group_w);
      std::vector<std::uint32_t>().swap(D.order_at);
      std::vector<float>().swap(D.order_w);
    }
    if (D.per_synapse) {
      for (auto* v : {&D.kernel, &D.phi_dense, &D.dphi_dense}) AlignedVector<float>().swap(*v);
      D.offset.resize(d.size());
      D.kernel_syn.resize(d.size() * Wd);
    } else {
      for (auto* v : {&D.kernel, &D.phi_dense, &D.dphi_dense}) v->assign(W.n_pre * block, 0.0f);
      std::vector<float>().swap(D.kernel_syn);
      std::vector<std::uint32_t>().swap(D.offset);
    }
    D.lo.assign(W.n_pre, 0);
    D.hi.assign(W.n_pre, 0);
    // Row by row (each writes its own block, taps and bounds), on the trainer's threads.
#pragma omp parallel for num_threads(threads_) schedule(static) if (d.size() * Wd >= 65536)
    for (std::size_t i = 0; i < W.n_pre; ++i) {
      const auto row = static_cast<std::uint32_t>(i);
      std::size_t lo = K, hi = 0;
      for (std::size_t k = row_begin(W, row), e = row_end(W, row); k < e; ++k) {
        const std::size_t j = post_of(W, row, k);
        if (D.per_synapse) {
          D.offset[k] = static_cast<std::uint32_t>(D.start[k] * Np + j);
          for (std::size_t o = 0; o < Wd; ++o) D.kernel_syn[o * d.size() + k] = w[k] * D.phi[k * Wd + o];
        }
        for (std::size_t o = 0; o < Wd; ++o) {
          const float phi = D.phi[k * Wd + o];
          if (phi == 0.0f && D.dphi[k * Wd + o] == 0.0f) continue;
          const std::size_t tap = D.start[k] + o;
          lo = std::min(lo, tap);
          hi = std::max(hi, tap);
          if (D.per_synapse) continue;
          const std::size_t at = i * block + tap * Np + j;
          D.kernel[at] = w[k] * phi;
          D.phi_dense[at] = phi;
          D.dphi_dense[at] = D.dphi[k * Wd + o];
        }
      }
      if (lo > hi) lo = hi = 0;  // a row without synapses: one row of zeros
      D.lo[i] = static_cast<std::uint32_t>(lo);
      D.hi[i] = static_cast<std::uint32_t>(hi);
    }
  }
}

bool Net::keeps_state(std::size_t l) const {
  const LayerConfig& c = config_.layers[l];
  return c.learn_tau || (c.kind == LayerKind::adlif && c.learn_adapt);
}

std::size_t Net::hidden_pairs() const {
  std::size_t n = 0;
  for (std::size_t l = 0; l < config_.layers.size(); ++l)
    if (spiking(l)) n += config_.layers[l].size * config_.n_steps;
  return n;
}

std::size_t Net::active_pairs(const SampleRecord& rec) const {
  std::size_t n = 0;
  const bool dense = backward_mode() == BackwardMode::dense;
  const double w = config_.window > 0.0 ? config_.window : std::numeric_limits<double>::infinity();
  for (std::size_t l = 0; l < config_.layers.size(); ++l) {
    if (!spiking(l)) continue;
    const LayerRecord& r = rec.layers[l];
    if (!dense) {
      n += r.aidx.size();
    } else {
      for (float u : r.u) n += std::fabs(u) < w;
    }
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Forward

AdlifStep Net::adlif_kernel(std::size_t l, const float* cur, float* syn, float* mem, float* w,
                            float* spike, float* u, float* mt) const {
  return AdlifStep{config_.layers[l].size,
                   static_cast<float>(config_.smooth_scale),
                   thresholds(l),
                   params_[alpha_[l]].value.data(),
                   params_[beta_[l]].value.data(),
                   params_[adl_rho_[l]].value.data(),
                   params_[adl_a_[l]].value.data(),
                   params_[adl_b_[l]].value.data(),
                   cur,
                   syn,
                   mem,
                   w,
                   spike,
                   u,
                   mt};
}

void Net::forward(const SampleEvents& input, SampleRecord& rec, Workspace& ws,
                  bool keep_backward) const {
  const std::size_t L = config_.layers.size();
  rec.layers.resize(L);
  const std::size_t n = max_size_;
  for (auto* v : {&ws.cur, &ws.syn, &ws.mem, &ws.adapt, &ws.spike, &ws.u, &ws.mt})
    if (v->size() < n) v->resize(n);
  Events in{input.offsets.data(), input.units.data(), input.values.data()};
  for (std::size_t l = 0; l < L; ++l) {
    forward_layer(l, in, rec.layers[l], ws, keep_backward);
    const LayerRecord& r = rec.layers[l];
    in = Events{r.off.data(), r.idx.data(), r.val.data()};
  }
}

void Net::forward_layer(std::size_t l, const Events& in, LayerRecord& r, Workspace& ws,
                        bool keep) const {
  if (event_driven(l)) {
    forward_layer_event(l, in, r, ws, keep);
    return;
  }
  const LayerConfig& c = config_.layers[l];
  const std::size_t N = c.size, T = config_.n_steps;
  const bool readout = c.kind == LayerKind::readout;
  const bool relu = c.kind == LayerKind::relu;
  const bool has_syn = c.tau_syn > 0.0;
  const bool smooth = config_.forward == ForwardMode::smooth;
  const bool dense_bw = backward_mode() == BackwardMode::dense;
  const bool need_mt = !readout && !relu && !c.detach_reset && c.reset == ResetMode::multiply;
  const float* thr = thresholds(l);
  const float b = c.kind == LayerKind::alif ? static_cast<float>(c.adapt_strength) : 0.0f;
  const float rho = rho_[l];
  const bool adlif = c.kind == LayerKind::adlif;
  const float k = static_cast<float>(config_.smooth_scale);
  const float window = config_.window > 0.0 ? static_cast<float>(config_.window)
                                            : std::numeric_limits<float>::infinity();
  const float* alpha = params_[alpha_[l]].value.data();
  const float* beta = params_[beta_[l]].value.data();
  const WeightLayout& W = w_[l];
  const float* w = params_[W.param].value.data();
  const float* v = c.recurrent ? params_[v_[l].param].value.data() : nullptr;

  float* cur = ws.cur.data();
  float* syn = ws.syn.data();
  float* mem = ws.mem.data();
  float* adapt = ws.adapt.data();
  float* spike = ws.spike.data();
  float* uu = ws.u.data();
  float* mtt = ws.mt.data();
  std::fill_n(syn, N, 0.0f);
  std::fill_n(mem, N, 0.0f);
  std::fill_n(adapt, N, 0.0f);

  r.off.resize(T + 1);
  r.off[0] = 0;
  r.idx.clear();
  r.val.clear();
  const bool store_dense = keep && !readout && dense_bw;
  const bool store_sparse = keep && !readout && !dense_bw;
  const bool store_tau = keep && keeps_state(l);
  if (store_dense) r.u.resize(T * N);
  if (store_dense && need_mt) r.mt.resize(T * N);
  if (store_tau) {
    r.mem.resize(T * N);
    r.syn.resize(T * N);
    if (adlif) r.w.resize(T * N);
  }
  if (store_sparse) {
    r.aoff.resize(T + 1);
    r.aoff[0] = 0;
    r.aidx.clear();
    r.au.clear();
    r.amt.clear();
  }
  if (readout) r.y.resize(T * N);
  // Delays: the currents of all steps (time-major, T + K rows of N) before the first step
  // (delay_kernels.hpp): gathered time-major where that pays, wide dense blocks row by row, else
  // event by event.
  const DelayTaps* D = delay_taps(l);
  if (D) {
    ws.dbuf.assign((T + D->window) * N, 0.0f);
    bool gathered = false;
    if (D->gather) {
      fill_delay_raster(*D, W.n_pre, T, in.off, in.idx, in.val, ws.draster);
      gathered = gather_pays(*D, in.off[T], ws.draster.rows.size(), T);
      if (gathered) gather_delayed_currents(*D, N, T, ws.draster, ws.dscratch, ws.dbuf.data());
    }
    if (!gathered && !D->per_synapse && D->width > 1) {
      sort_events_by_row(W.n_pre, T, in.off, in.idx, ws.drow_off, ws.dorder, ws.dev, ws.dfill);
      block_delayed_currents(*D, W.n_pre, N, T, ws.drow_off.data(), ws.dorder.data(),
                             ws.dev.data(), in.val, ws.dscratch, ws.dbuf.data());
    } else if (!gathered) {
      // Event by event in time order: each current sums its terms in the order they arrive, as
      // the simulator's delay queue does, so that whole-step delays give its bits.
      for (std::size_t t = 0; t < T; ++t)
        for (std::uint32_t e = in.off[t]; e < in.off[t + 1]; ++e) {
          float* at = ws.dbuf.data() + t * N;
          if (D->per_synapse)
            add_delayed_synapses(*D, W, N, in.idx[e], in.val[e], at);
          else
            add_delayed_block(*D, N, in.idx[e], in.val[e], at);
        }
    }
  }

  for (std::size_t t = 0; t < T; ++t) {
    if (D) {
      float* buf = ws.dbuf.data();
      std::copy_n(buf + t * N, N, cur);
    } else {
      std::fill_n(cur, N, 0.0f);
      for (std::uint32_t e = in.off[t]; e < in.off[t + 1]; ++e) add_row(W, w, in.idx[e], in.val[e], cur);
    }
    if (v && t > 0)
      for (std::uint32_t e = r.off[t - 1]; e < r.off[t]; ++e) add_row(v_[l], v, r.idx[e], r.val[e], cur);
    if (store_tau) {
      std::copy_n(mem, N, r.mem.data() + t * N);
      std::copy_n(syn, N, r.syn.data() + t * N);
      if (adlif) std::copy_n(adapt, N, r.w.data() + t * N);
    }
    if (readout) {
      readout_step(N, has_syn, alpha, beta, cur, syn, mem);
      std::copy_n(mem, N, r.y.data() + t * N);
      r.off[t + 1] = 0;
      continue;
    }
    if (relu) {
      relu_step(N, beta, cur, mem, uu, spike);
    } else if (adlif) {
      adlif_step(adlif_kernel(l, cur, syn, mem, adapt, spike, uu, mtt), c.reset, has_syn, smooth);
    } else {
      const NeuronStep step{N, b, rho, k, thr, alpha, beta, cur, syn, mem, adapt, spike, uu, mtt};
      neuron_step(step, c.reset, has_syn, smooth, c.kind == LayerKind::alif);
    }
    // Branch-free compaction of the spikes (and below, of the active set): every neuron is
    // written, the count advances only for the ones kept.
    {
      const std::size_t base = r.idx.size();
      r.idx.resize(base + N + 16);
      r.val.resize(base + N + 16);
      const std::size_t n = compact<Keep::nonzero>(spike, nullptr, N, 0.0f, r.idx.data() + base,
                                                   r.val.data() + base, nullptr);
      r.idx.resize(base + n);
      r.val.resize(base + n);
    }
    r.off[t + 1] = static_cast<std::uint32_t>(r.idx.size());
    if (store_dense) {
      std::copy_n(uu, N, r.u.data() + t * N);
      if (need_mt) std::copy_n(mtt, N, r.mt.data() + t * N);
    }
    if (store_sparse) {
      const std::size_t base = r.aidx.size();
      r.aidx.resize(base + N + 16);
      r.au.resize(base + N + 16);
      if (need_mt) r.amt.resize(base + N + 16);
      const std::size_t n = compact<Keep::inside>(
          uu, need_mt ? mtt : nullptr, N, window, r.aidx.data() + base, r.au.data() + base,
          need_mt ? r.amt.data() + base : nullptr);
      r.aidx.resize(base + n);
      r.au.resize(base + n);
      if (need_mt) r.amt.resize(base + n);
      r.aoff[t + 1] = static_cast<std::uint32_t>(r.aidx.size());
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Step-by-step forward (online rules). The same kernels and the same order of operations as
// forward_layer, so the numbers are identical — except the delayed currents of wide dense
// blocks and of blurred time-major taps, which forward_layer sums in another order
// (delay_kernels.hpp) than this step's arrival order: equal up to rounding.

void Net::reset_state(std::size_t l, LayerState& s) const {
  const std::size_t N = config_.layers[l].size;
  for (auto* v : {&s.cur, &s.syn, &s.mem, &s.adapt, &s.spike, &s.u, &s.mt}) v->assign(N, 0.0f);
  const DelayTaps* D = delay_taps(l);
  s.dring.assign(D ? N * D->window : 0, 0.0f);
  s.step = 0;
  s.idx.clear();
  s.val.clear();
  s.prev_idx.clear();
  s.prev_val.clear();
}

void Net::step_layer(std::size_t l, std::span<const std::uint32_t> in_idx,
                     std::span<const float> in_val, LayerState& s) const {
  const LayerConfig& c = config_.layers[l];
  const std::size_t N = c.size;
  const bool readout = c.kind == LayerKind::readout;
  const bool has_syn = c.tau_syn > 0.0;
  const bool smooth = config_.forward == ForwardMode::smooth;
  const float* alpha = params_[alpha_[l]].value.data();
  const float* beta = params_[beta_[l]].value.data();
  const WeightLayout& W = w_[l];
  const float* w = params_[W.param].value.data();
  const float* v = c.recurrent ? params_[v_[l].param].value.data() : nullptr;
  if (s.mem.size() != N) reset_state(l, s);
  // The events of the previous step are the recurrent input of this one.
  std::swap(s.idx, s.prev_idx);
  std::swap(s.val, s.prev_val);
  float* cur = s.cur.data();
  float* syn = s.syn.data();
  float* mem = s.mem.data();
  if (const DelayTaps* D = delay_taps(l)) {
    // A ring of R steps per neuron: an event's taps land at (step + τ) mod R; the slot of this
    // step is read and cleared (the products are Net::forward's, summed in arrival order).
    const std::size_t R = D->window, t = s.step % R;
    float* ring = s.dring.data();
    for (std::size_t e = 0; e < in_idx.size(); ++e) {
      const std::uint32_t i = in_idx[e];
      const float x = in_val[e];
      if (D->per_synapse) {
        // Tap by tap (each cell gets one synapse's tap per event, so the same sums); a tap lands
        // at t + start + o < 2R (start + o < R), one subtraction from its slot.
        const std::size_t Wd = D->width, b = row_begin(W, i), e = row_end(W, i);
        const std::uint32_t* __restrict start = D->start.data();
        for (std::size_t o = 0; o < Wd; ++o) {
          const float* __restrict ks = D->kernel_syn.data() + o * D->offset.size();
          for (std::size_t k = b; k < e; ++k) {
            std::size_t slot = t + start[k] + o;
            slot -= slot >= R ? R : 0;
            ring[slot * N + post_of(W, i, k)] += x * ks[k];
          }
        }
        continue;
      }
      for (std::size_t o = D->lo[i]; o <= D->hi[i]; ++o) {
        float* slot = ring + ((t + o) % R) * N;
        const float* kw = D->kernel.data() + (i * R + o) * N;
        for (std::size_t j = 0; j < N; ++j) slot[j] += x * kw[j];
      }
    }
    std::copy_n(ring + t * N, N, cur);
    std::fill_n(ring + t * N, N, 0.0f);
  } else {
    std::fill_n(cur, N, 0.0f);
    for (std::size_t e = 0; e < in_idx.size(); ++e) add_row(W, w, in_idx[e], in_val[e], cur);
  }
  ++s.step;
  if (v)
    for (std::size_t e = 0; e < s.prev_idx.size(); ++e)
      add_row(v_[l], v, s.prev_idx[e], s.prev_val[e], cur);
  s.idx.clear();
  s.val.clear();
  if (readout) {
    readout_step(N, has_syn, alpha, beta, cur, syn, mem);
    return;
  }
  if (c.kind == LayerKind::relu) {
    relu_step(N, beta, cur, mem, s.u.data(), s.spike.data());
  } else if (c.kind == LayerKind::adlif) {
    adlif_step(adlif_kernel(l, cur, syn, mem, s.adapt.data(), s.spike.data(), s.u.data(),
                            s.mt.data()),
               c.reset, has_syn, smooth);
  } else {
    const float b = c.kind == LayerKind::alif ? static_cast<float>(c.adapt_strength) : 0.0f;
    const float k = static_cast<float>(config_.smooth_scale);
    const NeuronStep step{N,   b,   rho_[l], k,   thresholds(l),   alpha,       beta,
                          cur, syn, mem,     s.adapt.data(), s.spike.data(), s.u.data(), s.mt.data()};
    neuron_step(step, c.reset, has_syn, smooth, c.kind == LayerKind::alif);
  }
  s.idx.resize(N + 16);
  s.val.resize(N + 16);
  const std::size_t n = compact<Keep::nonzero>(s.spike.data(), nullptr, N, 0.0f, s.idx.data(),
                                               s.val.data(), nullptr);
  s.idx.resize(n);
  s.val.resize(n);
}

// ---------------------------------------------------------------------------------------------
// Backward

void Net::backward(const SampleEvents& input, SampleRecord& rec, std::span<const float> dy,
                   const std::vector<std::vector<float>>* extra_e,
                   std::vector<std::vector<float>>& grads, Workspace& ws,
                   InputGradients* input_grads) const {
  if (input_grads && delay_taps(0))
    throw ParameterError(
        "gradients with respect to the input events (attacks, saliency) are not available for a "
        "first layer with synaptic delays (max_delay)");
  if (input_grads) {
    input_grads->value.assign(input.units.size(), 0.0f);
    input_grads->time.assign(input.units.size(), 0.0f);
    if (input_grads->want_grid) input_grads->grid.assign(config_.n_steps * config_.n_inputs, 0.0f);
  }
  const std::size_t L = config_.layers.size();
  const std::size_t n = max_size_;
  for (auto* v : {&ws.gm, &ws.gs, &ws.ga, &ws.gi, &ws.gi_next, &ws.delta, &ws.keep, &ws.econst})
    if (v->size() < n) v->resize(n);
  auto run = [&](const auto& sg) {
    for (std::size_t l = L; l-- > 0;) {
      const LayerRecord* below = l > 0 ? &rec.layers[l - 1] : nullptr;
      const Events in = below ? Events{below->off.data(), below->idx.data(), below->val.data()}
                              : Events{input.offsets.data(), input.units.data(),
                                       input.values.data()};
      std::span<const float> extra;
      if (extra_e && l < extra_e->size()) extra = (*extra_e)[l];
      backward_layer(l, in, l > 0 ? &rec.layers[l - 1] : nullptr, rec.layers[l], dy, l + 1 == L,
                     extra, grads, ws, sg, l == 0 ? input_grads : nullptr);
    }
  };
  if (config_.forward == ForwardMode::smooth)
    run(SmoothDerivative{static_cast<float>(config_.smooth_scale)});
  else
    with_surrogate(config_.surrogate, run);
  if (!ws.defer_fold) fold_gradients(ws, grads);
}

void Net::fold_gradients(Workspace& ws, std::vector<std::vector<float>>& grads) const {
  for (std::size_t l = 0; l < ws.dcorr.size(); ++l) {
    const DelayTaps* D = delay_taps(l);
    DelayCorrelation& C = ws.dcorr[l];
    if (!D || C.c.empty()) continue;
    const WeightLayout& W = w_[l];
    const float* w = params_[W.param].value.data();
    float* gw = grads[W.param].data();
    float* gd = config_.layers[l].learn_delay ? grads[delay_[l]].data() : nullptr;
    const std::size_t Np = W.n_post, block = D->window * Np;
    // dL/dw = Σ_τ φ(τ)·c(τ), dL/dd = w·Σ_τ dφ/dd(τ)·c(τ) per synapse.
    for (std::size_t i = 0; i < W.n_pre; ++i) {
      if (!C.touched[i]) continue;
      C.touched[i] = 0;
      if (D->per_synapse) {
        // c holds one value per tap and synapse (tap-major).
        const std::size_t Wd = D->width;
        const auto row = static_cast<std::uint32_t>(i);
        const std::size_t b = row_begin(W, row), e = row_end(W, row);
        const std::size_t S = D->offset.size();
        for (std::size_t k = b; k < e; ++k) {
          const float* pk = D->phi.data() + k * Wd;
          const float* dk = D->dphi.data() + k * Wd;
          for (std::size_t o = 0; o < Wd; ++o) {
            const float ck = C.c[o * S + k];
            gw[k] += pk[o] * ck;
            if (gd) gd[k] += w[k] * dk[o] * ck;
          }
        }
        for (std::size_t o = 0; o < Wd; ++o) std::fill(C.c.data() + o * S + b, C.c.data() + o * S + e, 0.0f);
        continue;
      }
      float* c = C.c.data() + i * block;
      const float* phi = D->phi_dense.data() + i * block;
      const float* dphi = D->dphi_dense.data() + i * block;
      const auto row = static_cast<std::uint32_t>(i);
      for (std::size_t o = D->lo[i]; o <= D->hi[i]; ++o) {
        const float* co = c + o * Np;
        const float* po = phi + o * Np;
        const float* dpo = dphi + o * Np;
        if (W.dense) {
          float* __restrict gwr = gw + i * Np;
#pragma omp simd
          for (std::size_t j = 0; j < Np; ++j) gwr[j] += po[j] * co[j];
          if (gd) {
            float* __restrict gdr = gd + i * Np;
            const float* __restrict wr = w + i * Np;
#pragma omp simd
            for (std::size_t j = 0; j < Np; ++j) gdr[j] += wr[j] * dpo[j] * co[j];
          }
        } else {
          for (std::size_t k = row_begin(W, row), e = row_end(W, row); k < e; ++k) {
            const std::size_t j = W.cols[k];
            gw[k] += po[j] * co[j];
            if (gd) gd[k] += w[k] * dpo[j] * co[j];
          }
        }
      }
      std::fill(c + D->lo[i] * Np, c + (D->hi[i] + 1) * Np, 0.0f);
    }
  }
}

template <class S>
void Net::backward_layer(std::size_t l, const Events& in, LayerRecord* below, LayerRecord& r,
                         std::span<const float> dy, bool top, std::span<const float> extra_e,
                         std::vector<std::vector<float>>& grads, Workspace& ws,
                         const S& sg, InputGradients* input_grads) const {
  const LayerConfig& c = config_.layers[l];
  const std::size_t N = c.size, T = config_.n_steps;
  const bool readout = c.kind == LayerKind::readout;
  const bool has_syn = c.tau_syn > 0.0;
  const bool mult = c.reset == ResetMode::multiply;
  const bool diff_reset = !readout && !c.detach_reset && c.reset != ResetMode::none;
  const bool dense = backward_mode() == BackwardMode::dense;
  const float* thr = thresholds(l);
  const float b = c.kind == LayerKind::alif ? static_cast<float>(c.adapt_strength) : 0.0f;
  const float rho = rho_[l];
  const bool adlif = c.kind == LayerKind::adlif;
  const float* alpha = params_[alpha_[l]].value.data();
  const float* beta = params_[beta_[l]].value.data();
  const WeightLayout& W = w_[l];
  const float* w = params_[W.param].value.data();
  float* gw = grads[W.param].data();
  // adlif: per-neuron ρ, a, b and their gradients (when learned); θ's gradient (learned).
  const float* arho = adlif ? params_[adl_rho_[l]].value.data() : nullptr;
  const float* aa = adlif ? params_[adl_a_[l]].value.data() : nullptr;
  const float* ab = adlif ? params_[adl_b_[l]].value.data() : nullptr;
  const bool learn_dyn = keeps_state(l);
  float* gtheta = theta_[l] != kNone ? grads[theta_[l]].data() : nullptr;
  const WeightLayout* V = c.recurrent ? &v_[l] : nullptr;
  const float* v = V ? params_[V->param].value.data() : nullptr;
  float* gv = V ? grads[V->param].data() : nullptr;
  float* galpha = c.learn_tau ? grads[alpha_[l]].data() : nullptr;
  float* gbeta = c.learn_tau ? grads[beta_[l]].data() : nullptr;

  float* gm = ws.gm.data();
  float* gs = ws.gs.data();
  float* ga = ws.ga.data();
  float* gi = ws.gi.data();
  float* gi_next = ws.gi_next.data();
  float* delta = ws.delta.data();
  float* keep = ws.keep.data();
  float* econst = ws.econst.data();
  std::fill_n(gm, N, 0.0f);
  std::fill_n(gs, N, 0.0f);
  std::fill_n(ga, N, 0.0f);
  // Readouts have no δ; the sparse mode sets δ only at active pairs.
  if (readout || !dense) std::fill_n(delta, N, 0.0f);
  std::fill_n(keep, N, 1.0f);
  bool keep_dirty = false;
  std::fill_n(gi_next, N, 0.0f);
  // dL/ds that does not depend on t: dL/d(count) of a spiking last layer, regularisers.
  // Branches outside the loop: a vectorised select would issue masked loads from an empty
  // span's null pointer, and each such load costs a microcode assist (it was 6 % of a sparse
  // epoch).
  if (top && !readout)
    std::copy_n(dy.data(), N, econst);
  else
    std::fill_n(econst, N, 0.0f);
  if (!extra_e.empty())
    for (std::size_t j = 0; j < N; ++j) econst[j] += extra_e[j];

  // The layer below gets dL/ds at the points its own backward will use.
  const bool below_spiking = below && emits_events(l - 1);
  const std::size_t Nb = below ? config_.layers[l - 1].size : 0;
  if (below_spiking) below->e.assign(dense ? T * Nb : below->aidx.size(), 0.0f);
  const bool has_e = !top && !readout;

  if (event_driven(l) && !input_grads) {
    // δ at the active pairs does not depend on the layer's own adjoints here (no recurrence,
    // adaptation or differentiated reset): computed up front, the pass itself is
    // event_layer.cpp's.
    std::vector<float>& dact = ws.event.dact;
    const std::size_t A = r.aidx.size();
    dact.resize(A);
    // Local copies and restrict pointers so that the loop vectorises (the surrogate's scale was
    // reloaded after every store).
    const S local_sg = sg;
    const std::uint32_t* __restrict ai = r.aidx.data();
    const float* __restrict au = r.au.data();
    const float* __restrict ec = econst;
    float* __restrict d = dact.data();
    if (has_e) {
      const float* __restrict e = r.e.data();
#pragma omp simd
      for (std::size_t a = 0; a < A; ++a) d[a] = (e[a] + ec[ai[a]]) * local_sg.derivative(au[a]);
    } else {
#pragma omp simd
      for (std::size_t a = 0; a < A; ++a) d[a] = (0.0f + ec[ai[a]]) * local_sg.derivative(au[a]);
    }
    backward_layer_event(l, in, below, r, grads, ws);
    return;
  }

  // Delays: dL/dI of every step is kept (time-major, as the forward's currents) and, after the
  // pass through time, every input event of row i at step t adds x·dL/dI of steps t + lo..t + hi
  // to the row's correlations in the workspace (fold_gradients turns them into the weights' and
  // delays' gradients): the dense blocks and the per-synapse taps row by row, so that a row's
  // block stays in cache; or, where the time-major taps pay, neuron by neuron over the sample's
  // raster (delay_kernels.hpp).
  const DelayTaps* D = delay_taps(l);
  if (D) {
    ws.dbuf.assign((T + D->window) * N, 0.0f);
    ws.dany.assign(T + D->window, 0);
    if (ws.dcorr.size() <= l) ws.dcorr.resize(l + 1);
    DelayCorrelation& C = ws.dcorr[l];
    // (Re)sized when the layout changes (σ shrinks during training); all folded by then.
    const std::size_t need = D->per_synapse ? D->kernel_syn.size() : D->kernel.size();
    if (C.c.size() != need) {
      C.c.assign(need, 0.0f);
      C.touched.assign(W.n_pre, 0);
    }
  }
  auto correlate_delayed = [&] {
    const std::size_t K = D->window;
    const float* g = ws.dbuf.data();
    std::vector<std::uint32_t>& first_nz = ws.dnext;  // the first non-zero step at or after t
    first_nz.assign(T + K + 1, static_cast<std::uint32_t>(T + K));
    for (std::size_t t = T + K; t-- > 0;)
      first_nz[t] = ws.dany[t] ? static_cast<std::uint32_t>(t) : first_nz[t + 1];
    DelayCorrelation& C = ws.dcorr[l];
    bool gathered = false;
    if (D->gather) {
      fill_delay_raster(*D, W.n_pre, T, in.off, in.idx, in.val, ws.draster);
      gathered = gather_pays(*D, in.off[T], ws.draster.rows.size(), T);
      if (gathered) {
        gather_delayed_correlation(*D, N, T, ws.draster, g, ws.dscratch, C.c.data());
        for (const std::uint32_t i : ws.draster.rows) C.touched[i] = 1;
      }
    }
    if (!gathered) {
      sort_events_by_row(W.n_pre, T, in.off, in.idx, ws.drow_off, ws.dorder, ws.dev, ws.dfill);
      const std::uint32_t* row_off = ws.drow_off.data();
      const std::uint32_t* order = ws.dorder.data();  // the step of each event, row by row
      const std::uint32_t* events = ws.dev.data();    // the event index, in the same order
      if (!D->per_synapse)
        block_delayed_correlation(*D, W.n_pre, N, T, row_off, order, events, in.val,
                                  first_nz.data(), g, ws.dscratch, C.c.data(), C.touched.data());
      else
        for (std::size_t i = 0; i < W.n_pre; ++i) {
          if (row_off[i] == row_off[i + 1]) continue;
          // Per synapse and tap: c += x·dL/dI at the synapse's place in the steps of its taps.
          const std::size_t lo = D->lo[i], hi = D->hi[i], Wd = D->width;
          const auto row = static_cast<std::uint32_t>(i);
          const std::size_t b = row_begin(W, row), e = row_end(W, row);
          bool any = false;
          for (std::uint32_t q = row_off[i]; q < row_off[i + 1]; ++q) {
            const std::size_t t = order[q];
            if (first_nz[t + lo] > t + hi) continue;  // no gradient within this event's taps
            const float x = in.val[events[q]];
            const float* gg = g + t * N;
            const std::size_t nsyn = D->offset.size();
            const std::uint32_t* __restrict off = D->offset.data();
            for (std::size_t o = 0; o < Wd; ++o) {
              float* __restrict cc = C.c.data() + o * nsyn;
              const float* __restrict go = gg + o * N;
#pragma omp simd
              for (std::size_t k = b; k < e; ++k) cc[k] += x * go[off[k]];
            }
            any = true;
          }
          if (any) C.touched[i] = 1;
        }
    }
    if (!below_spiking) return;
    auto from_row = [&](std::size_t t, std::uint32_t i) {
      if (D->per_synapse) {
        const std::size_t Wd = D->width;
        const float* gg = g + t * N;
        float acc = 0.0f;
        const std::size_t nsyn = D->offset.size(), b = row_begin(W, i), e = row_end(W, i);
        const std::uint32_t* __restrict off = D->offset.data();
        for (std::size_t o = 0; o < Wd; ++o) {
          const float* __restrict ks = D->kernel_syn.data() + o * nsyn;
          const float* __restrict go = gg + o * N;
#pragma omp simd reduction(+ : acc)
          for (std::size_t k = b; k < e; ++k) acc += ks[k] * go[off[k]];
        }
        return acc;
      }
      const std::size_t lo = D->lo[i] * N, n = (D->hi[i] + 1) * N - lo;
      const float* __restrict kw = D->kernel.data() + i * K * N + lo;
      const float* __restrict gg = g + t * N + lo;
      float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
      for (std::size_t m = 0; m < n; ++m) acc += kw[m] * gg[m];
      return acc;
    };
    for (std::size_t t = 0; t < T; ++t) {
      if (first_nz[t] >= t + K) continue;
      if (dense) {
        float* eb = below->e.data() + t * Nb;
        for (std::size_t i = 0; i < Nb; ++i) eb[i] = from_row(t, static_cast<std::uint32_t>(i));
      } else {
        for (std::uint32_t a = below->aoff[t]; a < below->aoff[t + 1]; ++a)
          below->e[a] = from_row(t, below->aidx[a]);
      }
    }
  };

  // dL/dI_t (in gi) into the weight gradients, the layer below's dL/ds_t and the input events'
  // gradients; `any`: whether gi is non-zero anywhere.
  auto deliver = [&](std::size_t t, bool any) {
    if (D) {
      if (any) {
        std::copy_n(gi, N, ws.dbuf.data() + t * N);
        ws.dany[t] = 1;
      }
      if (any && V && t > 0)
        for (std::uint32_t e = r.off[t - 1]; e < r.off[t]; ++e) acc_row(*V, gv, r.idx[e], r.val[e], gi);
      return;
    }
    if (input_grads) {
      // gi_next is dL/dI_{t+1} (0 after the last step).
      for (std::uint32_t e = in.off[t]; e < in.off[t + 1]; ++e) {
        const float a = any ? dot_row(W, w, in.idx[e], gi) : 0.0f;
        input_grads->value[e] = a;
        input_grads->time[e] = in.val[e] * (dot_row(W, w, in.idx[e], gi_next) - a);
      }
      if (input_grads->want_grid && any) {
        float* row = input_grads->grid.data() + t * W.n_pre;
        for (std::size_t i = 0; i < W.n_pre; ++i) row[i] = dot_row(W, w, static_cast<std::uint32_t>(i), gi);
      }
    }
    if (!any) return;
    for (std::uint32_t e = in.off[t]; e < in.off[t + 1]; ++e) acc_row(W, gw, in.idx[e], in.val[e], gi);
    if (V && t > 0)
      for (std::uint32_t e = r.off[t - 1]; e < r.off[t]; ++e) acc_row(*V, gv, r.idx[e], r.val[e], gi);
    if (below_spiking) {
      if (dense)
        dot_rows(W, w, nullptr, Nb, gi, below->e.data() + t * Nb);
      else
        dot_rows(W, w, below->aidx.data() + below->aoff[t], below->aoff[t + 1] - below->aoff[t],
                 gi, below->e.data() + below->aoff[t]);
    }
  };

  if (c.kind == LayerKind::relu) {
    // dL/dh_t = 1[h_t > 0]·dL/da_t + λ·dL/dh_{t+1} (gm holds dL/dh_{t+1}); dL/dI_t = dL/dh_t;
    // dL/dλ += dL/dh_t·h_{t−1}.
    for (std::size_t t = T; t-- > 0;) {
      const float* u = r.u.data() + t * N;
      const float* e = has_e ? r.e.data() + t * N : nullptr;
      const float* h_prev = c.learn_tau ? r.mem.data() + t * N : nullptr;
      int nonzero = 0;
      for (std::size_t j = 0; j < N; ++j) {
        float ds = (e ? e[j] : 0.0f) + econst[j];
        if (V) ds += dot_row(*V, v, static_cast<std::uint32_t>(j), gi_next);
        const float dh = (u[j] > 0.0f ? ds : 0.0f) + beta[j] * gm[j];
        if (gbeta) gbeta[j] += dh * h_prev[j];
        gm[j] = dh;
        gi[j] = dh;
        nonzero |= dh != 0.0f;
      }
      deliver(t, nonzero != 0);
      std::swap(gi, gi_next);
    }
    if (D) correlate_delayed();
    return;
  }

  for (std::size_t t = T; t-- > 0;) {
    if (readout) {
      const float* d = dy.data() + t * N;
      for (std::size_t j = 0; j < N; ++j) gm[j] += d[j];
    } else {
      // δ_t at the points of the backward mode, from the adjoints of step t + 1.
      // ga holds dL/da_{t+1} (alif, da/ds = 1) or dL/dw_{t+1} (adlif, dw/ds = b); dL/dmem_{t+1}
      // reaches mem through w too in an adlif layer.
      auto point = [&](std::size_t j, float u, float e, float mt) {
        float ds = e + econst[j] + (adlif ? ab[j] * ga[j] : ga[j]);
        if (V) ds += dot_row(*V, v, static_cast<std::uint32_t>(j), gi_next);
        if (diff_reset) {
          const float G = adlif ? gm[j] + (1.0f - arho[j]) * aa[j] * ga[j] : gm[j];
          ds -= (mult ? mt : thr[j]) * G;
        }
        return ds * sg.derivative(u);
      };
      if (dense) {
        const float* u = r.u.data() + t * N;
        const float* e = has_e ? r.e.data() + t * N : nullptr;
        const float* mt = diff_reset && mult ? r.mt.data() + t * N : nullptr;
        for (std::size_t j = 0; j < N; ++j)
          delta[j] = point(j, u[j], e ? e[j] : 0.0f, mt ? mt[j] : 0.0f);
      } else {
        // delta is all zero between steps; only the active entries are set (and cleared below).
        for (std::uint32_t a = r.aoff[t]; a < r.aoff[t + 1]; ++a) {
          const std::uint32_t j = r.aidx[a];
          delta[j] = point(j, r.au[a], has_e ? r.e[a] : 0.0f,
                           diff_reset && mult ? r.amt[a] : 0.0f);
        }
      }
      // keep = 1 − s_t: reset to all ones after a step with spikes, then the spikes of step t.
      if (mult || gtheta || (adlif && learn_dyn)) {
        if (keep_dirty) std::fill_n(keep, N, 1.0f);
        keep_dirty = r.off[t + 1] > r.off[t];
        for (std::uint32_t e = r.off[t]; e < r.off[t + 1]; ++e) keep[r.idx[e]] = 1.0f - r.val[e];
      }
    }
    // dL/dθ: u_t = mem_t − θ − …, and mem_{t+1} = m̃ − θ·s_t with the subtractive reset.
    if (gtheta) {
      const bool sub = c.reset == ResetMode::subtract;
      for (std::size_t j = 0; j < N; ++j) {
        float g = delta[j];
        if (sub) g += (adlif ? gm[j] + (1.0f - arho[j]) * aa[j] * ga[j] : gm[j]) * (1.0f - keep[j]);
        gtheta[j] -= g;
      }
    }
    // Through time.
    const float* mem_t = learn_dyn ? r.mem.data() + t * N : nullptr;
    const float* syn_t = learn_dyn ? r.syn.data() + t * N : nullptr;
    bool any;
    if (adlif) {
      auto grad = [&](std::size_t idx, bool on) { return on ? grads[idx].data() : nullptr; };
      const AdlifAdjoint step{N,
                              alpha,
                              beta,
                              arho,
                              aa,
                              keep,
                              delta,
                              mem_t,
                              learn_dyn && t + 1 < T ? r.mem.data() + (t + 1) * N : mem_t,
                              syn_t,
                              learn_dyn ? r.w.data() + t * N : nullptr,
                              gm,
                              gs,
                              ga,
                              gi,
                              has_syn && c.learn_tau ? galpha : nullptr,
                              c.learn_tau ? gbeta : nullptr,
                              grad(adl_rho_[l], c.learn_tau),
                              grad(adl_a_[l], c.learn_adapt),
                              grad(adl_b_[l], c.learn_adapt)};
      any = dispatch_adlif_adjoint(step, mult, has_syn, learn_dyn);
    } else {
      const AdjointStep step{N, rho, b, alpha, beta, keep, delta, mem_t, syn_t, gm, gs, ga, gi,
                             gbeta, has_syn ? galpha : nullptr};
      any = dispatch_adjoint(step, !readout && mult, has_syn, c.learn_tau,
                             c.kind == LayerKind::alif);
    }
    if (!readout && !dense)
      for (std::uint32_t a = r.aoff[t]; a < r.aoff[t + 1]; ++a) delta[r.aidx[a]] = 0.0f;
    deliver(t, any);
    std::swap(gi, gi_next);
  }
  if (D) correlate_delayed();
}

}  // namespace volley::train
