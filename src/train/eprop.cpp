// e-prop gradient estimator: eligibility traces per synapse, learning signals from the output
// error through feedback matrices, the readout filter folded into per-step weights w_t. The
// equations, and when the result equals BPTT, are in eprop.hpp.
#include "volley/train/eprop.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "volley/error.hpp"
#include "volley/rng.hpp"

namespace volley::train {
namespace {

constexpr std::uint32_t kStreamFeedback = 0x7300;

// The derivative of the smooth forward's sigmoid(k·u) (what Net::backward uses in that mode).
struct SmoothDerivative {
  float k;
  float derivative(float u) const {
    const float s = 1.0f / (1.0f + std::exp(-k * u));
    return k * s * (1.0f - s);
  }
};

// ψ = σ'(u) for n neurons with the net's pseudo-derivative.
void pseudo_derivative(const NetConfig& c, const float* u, float* psi, std::size_t n) {
  auto fill = [&](const auto& sg) {
    for (std::size_t j = 0; j < n; ++j) psi[j] = sg.derivative(u[j]);
  };
  if (c.forward == ForwardMode::smooth) {
    fill(SmoothDerivative{static_cast<float>(c.smooth_scale)});
  } else {
    with_surrogate(c.surrogate, fill);
  }
}

// The presynaptic part of one step: ε^d_t of every presynaptic unit into d (ε^s_t with a
// synaptic current, then ε^s ← α·ε^s + x_t; x_t itself without one).
void presynaptic_step(bool has_syn, float alpha, std::size_t n, const std::uint32_t* idx,
                      const float* val, std::size_t n_events, float* es, float* d) {
  if (has_syn) {
    std::copy_n(es, n, d);
    for (std::size_t i = 0; i < n; ++i) es[i] = alpha * es[i];
    for (std::size_t e = 0; e < n_events; ++e) es[idx[e]] += val[e];
  } else {
    std::fill_n(d, n, 0.0f);
    for (std::size_t e = 0; e < n_events; ++e) d[idx[e]] += val[e];
  }
}

// The eligibility updates of one presynaptic row over a block of K steps (eprop.hpp):
//   e = ψ·(ε^m − b·ε^a);  A += w_t·e;  [R += e];  ε^m ← keep·(β·ε^m + ε^d) − r·e;  ε^a ← ρ·ε^a + e
// With SynT (neurons with their own α) d holds the presynaptic events x and ε^d = ε^s is kept
// per synapse: ε^d = ε^s, then ε^s ← α_j·ε^s + x.
struct Block {
  std::size_t K = 0;       // steps in the block
  std::size_t N = 0;       // neurons of the layer (stride of psi, keep, reset)
  std::size_t n_rows = 0;  // presynaptic units (stride of d)
  const float* psi = nullptr;
  const float* keep = nullptr;
  const float* reset = nullptr;
  const float* d = nullptr;
  const float* wt = nullptr;
  const float* beta = nullptr;
  const float* alpha = nullptr;  // SynT only
  float b = 0.0f, rho = 0.0f;
  // adlif: per-neuron ρ, a (coupling) and b (jump) of the adaptation current; ea holds ε^w.
  const float* arho = nullptr;
  const float* aa = nullptr;
  const float* ab = nullptr;
  // Delayed input weights (delays.hpp): each synapse's drive is its own, Σ_o φ_o·ε^d(t − τ_o)
  // over its taps (the weights' traces) or w·Σ_o dφ_o/dd·ε^d(t − τ_o) (`slope`: the delays'),
  // built per row into `drive` (K × row length) from the history of ε^d (T × n_rows).
  const DelayTaps* taps = nullptr;
  const float* hist = nullptr;
  std::size_t t0 = 0;
  bool slope = false;
  const float* w = nullptr;
  float* drive = nullptr;
  float* column = nullptr;  // window + 32 + T: one row's history
  float* taps_t = nullptr;  // width × row length: the row's taps, tap-major
};

// The drives of row i's n synapses (the first at `first` in the weights' layout) for the block:
// row i's ε^d history is copied behind `window` zeros (so a tap before step 0 reads 0) and its
// taps turned tap-major, then drive[tt·n + q] = scale_q·Σ_o f_qo·h[t − start_q − o], vectorised
// over the synapses (a broadcast of h where every synapse of the row starts at the same tap, as
// all do once σ spans the window).
void fill_drive(const Block& k, std::size_t i, std::size_t first, std::size_t n) {
  if (n == 0) return;  // a sparse row without synapses (live from its events all the same)
  const DelayTaps& D = *k.taps;
  // At least 32 zeros: the permute below reads 16 values ending at a tap's step. Only the
  // steps a tap of this block can reach are copied (from t0 − window on); the permute may load
  // older slots but never selects them.
  const std::size_t Wd = D.width, pad = D.window + 32, end = k.t0 + k.K;
  const std::size_t from = k.t0 > D.window ? k.t0 - D.window : 0;
  float* __restrict h = k.column;
  std::fill_n(h, pad, 0.0f);
  for (std::size_t t = from; t < end; ++t) h[pad + t] = k.hist[t * k.n_rows + i];
  const float* __restrict f = (k.slope ? D.dphi.data() : D.phi.data()) + first * Wd;
  float* __restrict ft = k.taps_t;  // Wd × n
  for (std::size_t o = 0; o < Wd; ++o) {
    float* __restrict to = ft + o * n;
#pragma omp simd
    for (std::size_t q = 0; q < n; ++q) to[q] = f[q * Wd + o];
  }
  const std::uint32_t* __restrict start = D.start.data() + first;
  const bool same = std::all_of(start, start + n, [&](std::uint32_t x) { return x == start[0]; });
  const float* __restrict w = k.slope ? k.w + first : nullptr;
  for (std::size_t tt = 0; tt < k.K; ++tt) {
    const std::size_t at = pad + k.t0 + tt;  // h index of this step with no delay
    float* __restrict out = k.drive + tt * n;
    if (same) {
      float x[64];  // the row's inputs at this step's taps (width <= window; wider is rare)
      const std::size_t nw = std::min<std::size_t>(Wd, 64);
      for (std::size_t o = 0; o < nw; ++o) x[o] = h[at - start[0] - o];
      std::size_t q0 = 0;
#if defined(__AVX512F__)
      // Four vectors at a time: independent sums hide the latency of the multiply-adds.
      for (; q0 + 64 <= n; q0 += 64) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (std::size_t o = 0; o < nw; ++o) {
          const __m512 xo = _mm512_set1_ps(x[o]);
          const float* fo = ft + o * n + q0;
          a0 = _mm512_fmadd_ps(_mm512_loadu_ps(fo), xo, a0);
          a1 = _mm512_fmadd_ps(_mm512_loadu_ps(fo + 16), xo, a1);
          a2 = _mm512_fmadd_ps(_mm512_loadu_ps(fo + 32), xo, a2);
          a3 = _mm512_fmadd_ps(_mm512_loadu_ps(fo + 48), xo, a3);
        }
        _mm512_storeu_ps(out + q0, a0);
        _mm512_storeu_ps(out + q0 + 16, a1);
        _mm512_storeu_ps(out + q0 + 32, a2);
        _mm512_storeu_ps(out + q0 + 48, a3);
      }
      for (; q0 + 16 <= n; q0 += 16) {
        __m512 acc = _mm512_setzero_ps();
        for (std::size_t o = 0; o < nw; ++o)
          acc = _mm512_fmadd_ps(_mm512_loadu_ps(ft + o * n + q0), _mm512_set1_ps(x[o]), acc);
        _mm512_storeu_ps(out + q0, acc);
      }
#endif
#pragma omp simd
      for (std::size_t q = q0; q < n; ++q) {
        float acc = 0.0f;
        for (std::size_t o = 0; o < nw; ++o) acc += ft[o * n + q] * x[o];
        out[q] = acc;
      }
      for (std::size_t o = nw; o < Wd; ++o) {
        const float xo = h[at - start[0] - o];
#pragma omp simd
        for (std::size_t q = 0; q < n; ++q) out[q] += ft[o * n + q] * xo;
      }
    } else {
      std::size_t q0 = 0;
#if defined(__AVX512F__)
      if (D.window <= 16) {
        // h[at − o − start_q] for 16 synapses: one permute of the 16 steps ending at at − o
        // (start_q < window <= 16) instead of a gather.
        const __m512i fifteen = _mm512_set1_epi32(15);
        for (; q0 + 16 <= n; q0 += 16) {
          const __m512i idx =
              _mm512_sub_epi32(fifteen, _mm512_loadu_si512(static_cast<const void*>(start + q0)));
          __m512 acc = _mm512_setzero_ps();
          for (std::size_t o = 0; o < Wd; ++o)
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(ft + o * n + q0),
                                  _mm512_maskz_permutexvar_ps(0xFFFF, idx, _mm512_loadu_ps(h + at - o - 15)), acc);
          _mm512_storeu_ps(out + q0, acc);
        }
      }
#endif
#pragma omp simd
      for (std::size_t q = q0; q < n; ++q) {
        float acc = 0.0f;
        for (std::size_t o = 0; o < Wd; ++o) acc += ft[o * n + q] * h[at - start[q] - o];
        out[q] = acc;
      }
    }
    if (w) {
#pragma omp simd
      for (std::size_t q = 0; q < n; ++q) out[q] *= w[q];
    }
  }
}

// The synapses of one row: n of them, neuron j of synapse q at cols[q] (dense rows: j = q).
// Adl (adlif): e = ψ·ε^m;  ε^m ← keep·(β·ε^m + ε^d − (1 − β)·ε^w) − r·e;
//              ε^w ← ρ·ε^w + (1 − ρ)·a·ε^m(new) + b·e   (ea holds ε^w).
template <bool Dense, bool Alif, bool Reset, bool Reg, bool SynT, bool Adl, bool PerSyn>
void row(const Block& k, std::size_t i, const std::uint32_t* __restrict cols, std::size_t n,
         float* __restrict em, float* __restrict ea, float* __restrict acc, float* __restrict reg,
         float* __restrict es) {
  const std::size_t N = k.N;
  const float* __restrict beta = k.beta;
  const float* __restrict alpha = k.alpha;
  const float b = k.b, rho = k.rho;
  const float* __restrict arho = k.arho;
  const float* __restrict aa = k.aa;
  const float* __restrict ab = k.ab;
  for (std::size_t t = 0; t < k.K; ++t) {
    const float x = PerSyn ? 0.0f : k.d[t * k.n_rows + i];
    const float* __restrict xs = PerSyn ? k.drive + t * n : nullptr;
    const float w = k.wt[t];
    const float* __restrict psi = k.psi + t * N;
    const float* __restrict keep = k.keep + t * N;
    const float* __restrict rs = k.reset + t * N;
#pragma GCC ivdep
    for (std::size_t q = 0; q < n; ++q) {
      const std::size_t j = Dense ? q : cols[q];
      const float e = Alif ? psi[j] * (em[q] - b * ea[q]) : psi[j] * em[q];
      acc[q] += w * e;
      if constexpr (Reg) reg[q] += e;
      const float xq = PerSyn ? xs[q] : x;
      float d = xq;
      if constexpr (SynT) {
        d = es[q];
        es[q] = alpha[j] * es[q] + xq;
      }
      float m;
      if constexpr (Adl) {
        m = keep[j] * (beta[j] * em[q] + d - (1.0f - beta[j]) * ea[q]);
      } else {
        m = keep[j] * (beta[j] * em[q] + d);
      }
      if constexpr (Reset) m -= rs[j] * e;
      em[q] = m;
      if constexpr (Alif) ea[q] = rho * ea[q] + e;
      if constexpr (Adl) ea[q] = arho[j] * ea[q] + (1.0f - arho[j]) * aa[j] * m + ab[j] * e;
    }
  }
}

template <bool Alif, bool Reset, bool Reg, bool SynT, bool Adl, bool PerSyn>
void rows(const Block& k, const WeightLayout& W, const std::uint8_t* live, float* em, float* ea,
          float* acc, float* reg, float* es) {
  for (std::size_t i = 0; i < W.n_pre; ++i) {
    if (!live[i]) continue;
    const std::size_t o = W.dense ? i * W.n_post : W.row_ptr[i];
    const std::size_t n = W.dense ? W.n_post : W.row_ptr[i + 1] - o;
    float* ea_o = Alif || Adl ? ea + o : nullptr;
    float* reg_o = Reg ? reg + o : nullptr;
    float* es_o = SynT ? es + o : nullptr;
    if constexpr (PerSyn) fill_drive(k, i, o, n);
    if (W.dense)
      row<true, Alif, Reset, Reg, SynT, Adl, PerSyn>(k, i, nullptr, n, em + o, ea_o, acc + o, reg_o,
                                                     es_o);
    else
      row<false, Alif, Reset, Reg, SynT, Adl, PerSyn>(k, i, W.cols.data() + o, n, em + o, ea_o,
                                                      acc + o, reg_o, es_o);
  }
}

template <class F>
void with_bool(bool b, F&& f) {
  if (b)
    f(std::true_type{});
  else
    f(std::false_type{});
}

// adlif layers (k.arho set) take SynT too (learned τ_syn: per-neuron α). Delayed rows (k.taps
// set) build each synapse's drive.
void dispatch_rows(bool alif, bool reset, bool reg, bool synt, const Block& k, const WeightLayout& W,
                   const std::uint8_t* live, float* em, float* ea, float* acc, float* r, float* es) {
  with_bool(k.taps != nullptr, [&](auto P) {
    constexpr bool per_syn = decltype(P)::value;
    if (k.arho) {
      with_bool(reset, [&](auto R) {
        with_bool(reg, [&](auto G) {
          with_bool(synt, [&](auto S) {
            rows<false, decltype(R)::value, decltype(G)::value, decltype(S)::value, true, per_syn>(
                k, W, live, em, ea, acc, r, es);
          });
        });
      });
      return;
    }
    with_bool(alif, [&](auto A) {
      with_bool(reset, [&](auto R) {
        with_bool(reg, [&](auto G) {
          with_bool(synt, [&](auto S) {
            rows<decltype(A)::value, decltype(R)::value, decltype(G)::value, decltype(S)::value,
                 false, per_syn>(k, W, live, em, ea, acc, r, es);
          });
        });
      });
    });
  });
}

// Rows that become live in this block: any non-zero ε^d.
void mark_live(std::size_t K, std::size_t n, const float* d, std::uint8_t* live) {
  for (std::size_t t = 0; t < K; ++t)
    for (std::size_t i = 0; i < n; ++i) live[i] |= d[t * n + i] != 0.0f;
}

// grad[synapse] += A·signal[j] (+ R·extra[j]) over live rows; then clears the row's traces.
void finish_rows(const WeightLayout& W, std::uint8_t* live, const float* signal,
                 const float* extra, float* grad, float* em, float* ea, float* acc, float* reg,
                 float* es) {
  for (std::size_t i = 0; i < W.n_pre; ++i) {
    if (!live[i]) continue;
    live[i] = 0;
    const std::size_t b = W.dense ? i * W.n_post : W.row_ptr[i];
    const std::size_t e = W.dense ? b + W.n_post : W.row_ptr[i + 1];
    for (std::size_t q = b; q < e; ++q) {
      const std::size_t j = W.dense ? q - b : W.cols[q];
      float g = acc[q] * signal[j];
      if (extra) g += reg[q] * extra[j];
      grad[q] += g;
    }
    std::fill(em + b, em + e, 0.0f);
    std::fill(acc + b, acc + e, 0.0f);
    if (ea) std::fill(ea + b, ea + e, 0.0f);
    if (reg) std::fill(reg + b, reg + e, 0.0f);
    if (es) std::fill(es + b, es + e, 0.0f);
  }
}

// The per-neuron traces of one learned parameter (eprop.hpp) over one step: c = ∂m̃/∂p held
// fixed (per neuron, or null for 0), cu = ∂u/∂p, sub: the spikes s_t to subtract (θ with the
// subtractive reset; null otherwise).
struct NeuronStepView {
  std::size_t N;
  float wt, b, rho;
  const float *psi, *keep, *reset, *beta, *sub;
  bool alif, reg;
};
void neuron_traces(const NeuronStepView& v, EpropLayerState::NeuronTrace& q, const float* c, float cu) {
  for (std::size_t j = 0; j < v.N; ++j) {
    const float e = v.psi[j] * (q.m[j] - (v.alif ? v.b * q.a[j] : 0.0f) + cu);
    q.acc[j] += v.wt * e;
    if (v.reg) q.reg[j] += e;
    float m = v.keep[j] * (v.beta[j] * q.m[j] + (c ? c[j] : 0.0f)) - v.reset[j] * e;
    if (v.sub) m -= v.sub[j];
    q.m[j] = m;
    if (v.alif) q.a[j] = v.rho * q.a[j] + e;
  }
}

// The same for an adlif layer (q.a holds ∂w/∂p): c_m = ∂m̃/∂p and c_w = ∂w/∂p held fixed (per
// neuron, or null for 0):
//   e = ψ·(∂mem/∂p + cu);  ∂m̃ = β·∂mem + c_m − (1 − β)·∂w;  ∂mem' = keep·∂m̃ − r·e [− s];
//   ∂w' = ρ·∂w + (1 − ρ)·a·∂mem' + b·e + c_w
void adlif_traces(const NeuronStepView& v, const float* rho, const float* a, const float* b,
                  EpropLayerState::NeuronTrace& q, const float* cm, const float* cw, float cu) {
  for (std::size_t j = 0; j < v.N; ++j) {
    const float e = v.psi[j] * (q.m[j] + cu);
    q.acc[j] += v.wt * e;
    if (v.reg) q.reg[j] += e;
    float m = v.keep[j] * (v.beta[j] * q.m[j] + (cm ? cm[j] : 0.0f) - (1.0f - v.beta[j]) * q.a[j]) -
              v.reset[j] * e;
    if (v.sub) m -= v.sub[j];
    q.m[j] = m;
    q.a[j] = rho[j] * q.a[j] + (1.0f - rho[j]) * a[j] * m + b[j] * e + (cw ? cw[j] : 0.0f);
  }
}

// One step of every learned adlif parameter's trace: the explicit ∂m̃/∂p and ∂w/∂p of
// m̃ = β·mem + d − (1 − β)·w and w' = ρ·w + (1 − ρ)·a·mem' + b·s:  β: c_m = mem + w;  α: c_m =
// ∂syn/∂α;  ρ: c_w = w − a·mem';  a: c_w = (1 − ρ)·mem';  b: c_w = s;  θ: cu = −1 (and −s with
// the subtractive reset). `st` holds the state after the step, s.mem0/s.w0 before it.
void adlif_dynamics(const NeuronStepView& v, const LayerConfig& c, const float* rho,
                    const float* a, const float* b, const float* alpha, const LayerState& st,
                    EpropLayerState& s) {
  const std::size_t N = v.N;
  s.cbuf.resize(N);
  float* tmp = s.cbuf.data();
  if (!s.tr_beta.m.empty()) {
    for (std::size_t j = 0; j < N; ++j) tmp[j] = s.mem0[j] + s.w0[j];
    adlif_traces(v, rho, a, b, s.tr_beta, tmp, nullptr, 0.0f);
  }
  if (!s.tr_alpha.m.empty()) {
    adlif_traces(v, rho, a, b, s.tr_alpha, s.tr_alpha.s.data(), nullptr, 0.0f);
    for (std::size_t j = 0; j < N; ++j) s.tr_alpha.s[j] = alpha[j] * s.tr_alpha.s[j] + s.syn0[j];
  }
  if (!s.tr_rho.m.empty()) {
    for (std::size_t j = 0; j < N; ++j) tmp[j] = s.w0[j] - a[j] * st.mem[j];
    adlif_traces(v, rho, a, b, s.tr_rho, nullptr, tmp, 0.0f);
  }
  if (!s.tr_a.m.empty()) {
    for (std::size_t j = 0; j < N; ++j) tmp[j] = (1.0f - rho[j]) * st.mem[j];
    adlif_traces(v, rho, a, b, s.tr_a, nullptr, tmp, 0.0f);
    adlif_traces(v, rho, a, b, s.tr_b, nullptr, st.spike.data(), 0.0f);
  }
  if (!s.tr_theta.m.empty()) {
    NeuronStepView vt = v;
    if (c.reset == ResetMode::subtract) vt.sub = st.spike.data();
    adlif_traces(vt, rho, a, b, s.tr_theta, nullptr, nullptr, -1.0f);
  }
}

// grad += acc·signal (+ reg·extra), then the traces back to 0.
void finish_neurons(EpropLayerState::NeuronTrace& q, const float* signal, const float* extra,
                    float* grad) {
  for (std::size_t j = 0; j < q.acc.size(); ++j) {
    float g = q.acc[j] * signal[j];
    if (extra) g += q.reg[j] * extra[j];
    grad[j] += g;
  }
  for (auto* v : {&q.m, &q.a, &q.acc, &q.reg, &q.s}) std::fill(v->begin(), v->end(), 0.0f);
}

bool uniform(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [&](float x) { return x == v.front(); });
}

template <class V>
std::size_t cap(const V& v) {
  return v.capacity() * sizeof(typename V::value_type);
}

}  // namespace

const Registry<Choice<GradientKind>>& gradient_methods() {
  static const Registry<Choice<GradientKind>> r(
      "gradient method",
      {{"bptt", GradientKind::bptt, "backpropagation through time (the [backward] table applies)"},
       {"eprop", GradientKind::eprop,
        "the online e-prop estimate (Bellec et al. 2020): eligibility traces per synapse, memory "
        "independent of the number of steps"}});
  return r;
}

const Registry<Choice<FeedbackKind>>& feedback_kinds() {
  static const Registry<Choice<FeedbackKind>> r(
      "feedback",
      {{"symmetric", FeedbackKind::symmetric,
        "e-prop: the top spiking layer's learning signal goes through the readout weights, lower "
        "layers through fixed random matrices"},
       {"random", FeedbackKind::random,
        "e-prop: every spiking layer through a fixed random matrix N(0, σ²), σ the readout's "
        "initial weight scale, drawn from the network seed"}});
  return r;
}

std::string_view gradient_name(GradientKind kind) { return gradient_methods().name_of(kind); }

std::string_view feedback_name(FeedbackKind kind) { return feedback_kinds().name_of(kind); }

std::size_t EpropWorkspace::bytes() const {
  std::size_t n = cap(readout_acc) + cap(score) + cap(w) + cap(wblock) + cap(spikes);
  for (const LayerState& s : state)
    n += cap(s.cur) + cap(s.syn) + cap(s.mem) + cap(s.adapt) + cap(s.spike) + cap(s.u) +
         cap(s.mt) + cap(s.idx) + cap(s.prev_idx) + cap(s.val) + cap(s.prev_val);
  for (const EpropLayerState& s : layer)
    n += cap(s.em_w) + cap(s.ea_w) + cap(s.acc_w) + cap(s.reg_w) + cap(s.em_v) + cap(s.ea_v) +
         cap(s.acc_v) + cap(s.reg_v) + cap(s.es_w) + cap(s.es_v) + cap(s.live_w) +
         cap(s.live_v) + cap(s.psi) + cap(s.keep) + cap(s.reset) + cap(s.d_w) + cap(s.d_v) +
         cap(s.signal) + cap(s.ess_w) + cap(s.ess_v) + cap(s.mem0) + cap(s.syn0) +
         cap(s.em_dl) + cap(s.ea_dl) + cap(s.acc_dl) + cap(s.reg_dl) + cap(s.ess_dl) +
         cap(s.live_dl) + cap(s.drive) + cap(s.column) + cap(s.taps_t) + cap(s.w0) + cap(s.cbuf);
  for (const EpropLayerState& s : layer)
    for (const auto* q : {&s.tr_alpha, &s.tr_beta, &s.tr_theta, &s.tr_rho, &s.tr_a, &s.tr_b})
      n += cap(q->m) + cap(q->a) + cap(q->acc) + cap(q->reg) + cap(q->s);
  return n;
}

void Eprop::check(const NetConfig& net, const LossConfig& loss) {
  const std::size_t L = net.layers.size();
  if (L == 0) throw ParameterError("e-prop: the network has no layers");
  for (std::size_t l = 0; l < L; ++l)
    if (net.layers[l].kind == LayerKind::relu)
      throw ParameterError(fmt::format(
          "e-prop: layer {} is relu (non-spiking); e-prop needs spiking layers (use BPTT)", l));
  if (net.layers.back().kind != LayerKind::readout)
    throw ParameterError(fmt::format(
        "e-prop: loss '{}' on a spiking last layer is not supported; e-prop needs a readout last "
        "layer (type \"readout\") and loss mean_ce or last_ce",
        loss_name(loss.kind)));
  switch (loss.kind) {
    case LossKind::mean_ce:
    case LossKind::last_ce:
      break;
    case LossKind::max_ce:
      throw ParameterError(
          "e-prop: loss 'max_ce' is not supported: its dL/dy_t is non-zero only at the step of "
          "the maximum, which is known only after the last step; use mean_ce or last_ce");
    default:
      throw ParameterError(fmt::format(
          "e-prop: loss '{}' is not supported; use mean_ce or last_ce with a readout",
          loss_name(loss.kind)));
  }
  for (std::size_t l = 0; l < L; ++l) {
    const LayerConfig& c = net.layers[l];
    if (c.kind == LayerKind::readout && c.learn_tau)
      throw ParameterError(fmt::format(
          "e-prop: layer {} (readout): learn_tau is not supported (e-prop folds one fixed readout "
          "filter into its traces; learn the readout's time constants by BPTT)",
          l));
    if (c.kind == LayerKind::readout && c.max_delay > 0.0)
      throw ParameterError(fmt::format(
          "e-prop: layer {} (readout): max_delay is not supported (e-prop folds one readout "
          "filter over undelayed inputs; put the delays on a spiking layer's input weights)",
          l));
  }
}

Eprop::Eprop(const Net& net, const LossConfig& loss, EpropConfig config)
    : net_(net), loss_(loss), config_(config) {
  check(net.config(), loss);
  if (config_.block == 0) throw ParameterError("e-prop: block must be > 0");
  const NetConfig& nc = net.config();
  const std::size_t L = nc.layers.size(), C = net.n_outputs();
  const LayerConfig& out = nc.layers.back();
  const double beta_o = std::exp(-nc.dt / out.tau_mem);
  random_.resize(L);
  for (std::size_t l = 0; l + 1 < L; ++l) {
    if (config_.feedback == FeedbackKind::symmetric && l + 2 == L) continue;
    const std::size_t N = nc.layers[l].size;
    const double sd = out.weight_scale * (1.0 - beta_o) / std::sqrt(static_cast<double>(N));
    auto& B = random_[l];
    B.resize(N * C);
    for (std::size_t j = 0; j < N; ++j) {
      CounterRng rng(config_.seed, kStreamFeedback + static_cast<std::uint32_t>(l),
                     static_cast<std::uint32_t>(j), 0);
      for (std::size_t k = 0; k < C; ++k) B[j * C + k] = static_cast<float>(sd * rng.normal());
    }
  }
}

std::vector<float> Eprop::feedback(std::size_t layer) const {
  const std::size_t L = net_.config().layers.size(), C = net_.n_outputs();
  if (layer + 1 >= L)
    throw ParameterError(fmt::format("e-prop: layer {} is not a spiking layer", layer));
  if (!random_[layer].empty()) return random_[layer];
  // The readout weights, dense N × C.
  const WeightLayout& W = net_.input_weights(L - 1);
  const std::vector<float>& w = net_.params()[W.param].value;
  std::vector<float> B(W.n_pre * C, 0.0f);
  for (std::size_t j = 0; j < W.n_pre; ++j) {
    if (W.dense) {
      std::copy_n(w.data() + j * C, C, B.data() + j * C);
    } else {
      for (std::uint32_t q = W.row_ptr[j]; q < W.row_ptr[j + 1]; ++q) B[j * C + W.cols[q]] = w[q];
    }
  }
  return B;
}

SampleLoss Eprop::sample(const SampleEvents& input, int label, float scale,
                         const std::vector<std::vector<float>>* extra_e,
                         std::vector<std::vector<float>>& grads, EpropWorkspace& ws) const {
  const NetConfig& nc = net_.config();
  const auto& params = net_.params();
  const std::size_t L = nc.layers.size(), T = nc.n_steps, C = net_.n_outputs();
  const std::size_t K = std::min(config_.block, T);
  if (input.n_steps() != T)
    throw ParameterError(fmt::format("e-prop: the sample has {} steps, the network {}",
                                     input.n_steps(), T));

  // The readout filter: impulse response h(m) of y_{t+m} to I_t, and the weights w_t.
  const std::size_t o = L - 1;
  const LayerConfig& oc = nc.layers[o];
  const bool out_syn = oc.tau_syn > 0.0;
  const auto& alpha_o = params[net_.alpha_param(o)].value;
  const auto& beta_o = params[net_.beta_param(o)].value;
  if (!uniform(beta_o) || (out_syn && !uniform(alpha_o)))
    throw ParameterError(fmt::format(
        "e-prop: layer {} (readout): the readout neurons have different time constants; e-prop "
        "needs one readout filter",
        o));
  // mean_ce: w_t = H(T − 1 − t)/T with H(n) = Σ_{m≤n} h(m); last_ce: w_t = h(T − 1 − t).
  // Computed in double, kept in float: T scalars, as many as the input's step offsets.
  ws.w.resize(T);
  {
    double q = 0.0, f = 0.0, H = 0.0;
    const double a = out_syn ? alpha_o[0] : 0.0, b = beta_o[0];
    const bool mean = loss_.kind == LossKind::mean_ce;
    for (std::size_t m = 0; m < T; ++m) {
      const double cur = m == 0 ? 1.0 : 0.0;
      const double d = out_syn ? q : cur;
      f = b * f + d;
      q = out_syn ? a * q + cur : 0.0;
      H += f;
      ws.w[T - 1 - m] = static_cast<float>(mean ? H / static_cast<double>(T) : f);
    }
  }

  // Per-layer state.
  ws.state.resize(L);
  ws.layer.resize(L);
  ws.spikes.assign(L, 0.0);
  ws.wblock.resize(K);
  for (std::size_t l = 0; l < L; ++l) {
    net_.reset_state(l, ws.state[l]);
    if (!net_.spiking(l)) continue;
    const LayerConfig& c = nc.layers[l];
    EpropLayerState& s = ws.layer[l];
    const std::size_t N = c.size;
    const WeightLayout& W = net_.input_weights(l);
    const bool alif = c.kind == LayerKind::alif;
    const bool reg = extra_e && l < extra_e->size() && !(*extra_e)[l].empty();
    const bool own_alpha = c.learn_tau && c.tau_syn > 0.0;  // ε^s per synapse (eprop.hpp)
    if (c.tau_syn > 0.0 && !own_alpha && !uniform(params[net_.alpha_param(l)].value))
      throw ParameterError(fmt::format(
          "e-prop: layer {}: the neurons have different synaptic time constants; e-prop keeps "
          "one presynaptic current trace per input and needs one α per layer",
          l));
    // Traces are all zero between samples (finish_rows clears what a sample touched).
    auto size = [](std::vector<float>& v, std::size_t n, bool on) {
      if (on && v.size() != n) v.assign(n, 0.0f);
    };
    size(s.em_w, W.size(), true);
    size(s.acc_w, W.size(), true);
    const bool adapt_trace = alif || c.kind == LayerKind::adlif;  // ε^a, or adlif's ε^w
    size(s.ea_w, W.size(), adapt_trace);
    size(s.reg_w, W.size(), reg);
    size(s.ess_w, W.size(), own_alpha);
    if (!own_alpha) s.ess_w.clear();
    if (s.live_w.size() != W.n_pre) s.live_w.assign(W.n_pre, 0);
    s.es_w.assign(W.n_pre, 0.0f);
    // Delayed input weights keep ε^d of every step (their drives reach back over the window),
    // and with learned delays (σ wide enough to have a gradient) a second set of traces.
    const DelayTaps* D = net_.delay_taps(l);
    s.d_w.resize((D ? T : K) * W.n_pre);
    const bool delay_traces = D && c.learn_delay && D->width > 1;
    size(s.em_dl, W.size(), delay_traces);
    size(s.acc_dl, W.size(), delay_traces);
    size(s.ea_dl, W.size(), delay_traces && adapt_trace);
    size(s.reg_dl, W.size(), delay_traces && reg);
    size(s.ess_dl, W.size(), delay_traces && own_alpha);
    if (!delay_traces) s.em_dl.clear();
    if (D) {
      s.drive.resize(K * W.n_post);
      s.column.resize(D->window + 32 + T);
      s.taps_t.resize(D->width * W.n_post);
    }
    if (c.recurrent) {
      const WeightLayout& V = net_.recurrent_weights(l);
      size(s.em_v, V.size(), true);
      size(s.acc_v, V.size(), true);
      size(s.ea_v, V.size(), adapt_trace);
      size(s.reg_v, V.size(), reg);
      size(s.ess_v, V.size(), own_alpha);
      if (!own_alpha) s.ess_v.clear();
      if (s.live_v.size() != N) s.live_v.assign(N, 0);
      s.es_v.assign(N, 0.0f);
      s.d_v.resize(K * N);
    }
    auto traces = [&](EpropLayerState::NeuronTrace& q, bool on, bool with_s) {
      for (auto* v : {&q.m, &q.a, &q.acc, &q.reg, &q.s}) v->clear();
      if (!on) return;
      q.m.assign(N, 0.0f);
      q.acc.assign(N, 0.0f);
      if (adapt_trace) q.a.assign(N, 0.0f);  // ∂a/∂p (alif), ∂w/∂p (adlif)
      if (reg) q.reg.assign(N, 0.0f);
      if (with_s) q.s.assign(N, 0.0f);
    };
    traces(s.tr_alpha, own_alpha, true);
    traces(s.tr_beta, c.learn_tau, false);
    traces(s.tr_theta, c.learn_threshold, false);
    const bool adl = c.kind == LayerKind::adlif;
    traces(s.tr_rho, adl && c.learn_tau, false);
    traces(s.tr_a, adl && c.learn_adapt, false);
    traces(s.tr_b, adl && c.learn_adapt, false);
    s.psi.resize(K * N);
    s.keep.assign(K * N, 1.0f);
    s.reset.assign(K * N, 0.0f);
  }
  const std::size_t n_in_o = net_.input_weights(o).n_pre;
  ws.readout_acc.assign(n_in_o, 0.0f);
  ws.score.assign(C, 0.0);

  // Forward, K steps at a time; then the eligibility updates of the block.
  for (std::size_t t0 = 0; t0 < T; t0 += K) {
    const std::size_t kb = std::min(K, T - t0);
    for (std::size_t tt = 0; tt < kb; ++tt) {
      const std::size_t t = t0 + tt;
      const float wt = ws.w[t];
      ws.wblock[tt] = wt;
      const std::uint32_t b0 = input.offsets[t], b1 = input.offsets[t + 1];
      std::span<const std::uint32_t> in_idx(input.units.data() + b0, b1 - b0);
      std::span<const float> in_val(input.values.data() + b0, b1 - b0);
      for (std::size_t l = 0; l < L; ++l) {
        const LayerConfig& c = nc.layers[l];
        LayerState& st = ws.state[l];
        if (!net_.spiking(l)) {
          net_.step_layer(l, in_idx, in_val, st);
          for (std::size_t e = 0; e < in_idx.size(); ++e) ws.readout_acc[in_idx[e]] += in_val[e] * wt;
          if (loss_.kind == LossKind::mean_ce) {
            for (std::size_t k = 0; k < C; ++k) ws.score[k] += st.mem[k];
          } else if (t + 1 == T) {
            for (std::size_t k = 0; k < C; ++k) ws.score[k] = st.mem[k];
          }
          continue;
        }
        EpropLayerState& s = ws.layer[l];
        const std::size_t N = c.size;
        // With per-neuron α the per-synapse ε^s is kept in the rows (d = the events).
        const bool has_syn = c.tau_syn > 0.0 && s.ess_w.empty();
        const float alpha = has_syn ? params[net_.alpha_param(l)].value[0] : 0.0f;
        const std::size_t n_pre = net_.input_weights(l).n_pre;
        const std::size_t at = net_.delay_taps(l) ? t : tt;  // delayed: the whole history
        presynaptic_step(has_syn, alpha, n_pre, in_idx.data(), in_val.data(), in_idx.size(),
                         s.es_w.data(), s.d_w.data() + at * n_pre);
        // Recurrent input of step t: the layer's own output of step t − 1 (still in st.idx).
        if (c.recurrent)
          presynaptic_step(has_syn, alpha, N, st.idx.data(), st.val.data(), st.idx.size(),
                           s.es_v.data(), s.d_v.data() + tt * N);
        const bool adl = c.kind == LayerKind::adlif;
        const bool dyn = !s.tr_beta.m.empty() || !s.tr_alpha.m.empty() || !s.tr_theta.m.empty() ||
                         !s.tr_rho.m.empty() || !s.tr_a.m.empty();
        if (dyn) {
          s.mem0.assign(st.mem.begin(), st.mem.end());
          s.syn0.assign(st.syn.begin(), st.syn.end());
          if (adl) s.w0.assign(st.adapt.begin(), st.adapt.end());
        }
        net_.step_layer(l, in_idx, in_val, st);
        pseudo_derivative(nc, st.u.data(), s.psi.data() + tt * N, N);
        if (c.reset == ResetMode::multiply) {
          float* keep = s.keep.data() + tt * N;
          for (std::size_t j = 0; j < N; ++j) keep[j] = 1.0f - st.spike[j];
        }
        if (!c.detach_reset && c.reset != ResetMode::none) {
          float* r = s.reset.data() + tt * N;
          if (c.reset == ResetMode::multiply) {
            std::copy_n(st.mt.data(), N, r);
          } else if (c.learn_threshold) {
            std::copy_n(params[net_.threshold_param(l)].value.data(), N, r);
          } else {
            std::fill_n(r, N, static_cast<float>(c.threshold));
          }
        }
        if (dyn) {
          const bool alif = c.kind == LayerKind::alif;
          const bool reg = !s.tr_beta.reg.empty() || !s.tr_alpha.reg.empty() ||
                           !s.tr_theta.reg.empty() || !s.tr_rho.reg.empty() || !s.tr_a.reg.empty();
          const NeuronStepView v{N, wt, alif ? static_cast<float>(c.adapt_strength) : 0.0f,
                                 net_.adapt_decay(l), s.psi.data() + tt * N, s.keep.data() + tt * N,
                                 s.reset.data() + tt * N, params[net_.beta_param(l)].value.data(),
                                 nullptr, alif, reg};
          if (adl) {
            adlif_dynamics(v, c, params[net_.adlif_rho_param(l)].value.data(),
                           params[net_.adlif_a_param(l)].value.data(),
                           params[net_.adlif_b_param(l)].value.data(),
                           s.tr_alpha.m.empty() ? nullptr : params[net_.alpha_param(l)].value.data(), st,
                           s);
          } else {
            if (!s.tr_beta.m.empty()) neuron_traces(v, s.tr_beta, s.mem0.data(), 0.0f);
            if (!s.tr_alpha.m.empty()) {
              // c = S_t = ∂syn_t/∂α, then S_{t+1} = α·S_t + syn_t.
              neuron_traces(v, s.tr_alpha, s.tr_alpha.s.data(), 0.0f);
              const float* a = params[net_.alpha_param(l)].value.data();
              for (std::size_t j = 0; j < N; ++j) s.tr_alpha.s[j] = a[j] * s.tr_alpha.s[j] + s.syn0[j];
            }
            if (!s.tr_theta.m.empty()) {
              NeuronStepView vt = v;
              if (c.reset == ResetMode::subtract) vt.sub = st.spike.data();
              neuron_traces(vt, s.tr_theta, nullptr, -1.0f);
            }
          }
        }
        for (float v : st.val) ws.spikes[l] += v;
        in_idx = st.idx;
        in_val = st.val;
      }
    }
    for (std::size_t l = 0; l + 1 < L; ++l) {
      const LayerConfig& c = nc.layers[l];
      EpropLayerState& s = ws.layer[l];
      const bool alif = c.kind == LayerKind::alif;
      const bool reset = !c.detach_reset && c.reset != ResetMode::none;
      const bool reg = !s.reg_w.empty() && extra_e && l < extra_e->size() && !(*extra_e)[l].empty();
      Block k;
      k.K = kb;
      k.N = c.size;
      k.psi = s.psi.data();
      k.keep = s.keep.data();
      k.reset = s.reset.data();
      k.wt = ws.wblock.data();
      k.beta = params[net_.beta_param(l)].value.data();
      k.b = alif ? static_cast<float>(c.adapt_strength) : 0.0f;
      k.rho = net_.adapt_decay(l);
      if (c.kind == LayerKind::adlif) {
        k.arho = params[net_.adlif_rho_param(l)].value.data();
        k.aa = params[net_.adlif_a_param(l)].value.data();
        k.ab = params[net_.adlif_b_param(l)].value.data();
      }
      const bool synt = !s.ess_w.empty();
      if (synt) k.alpha = params[net_.alpha_param(l)].value.data();
      const WeightLayout& W = net_.input_weights(l);
      const DelayTaps* D = net_.delay_taps(l);
      k.n_rows = W.n_pre;
      k.d = s.d_w.data() + (D ? t0 * W.n_pre : 0);
      // A row stays live from its first event to the end of the sample, so its delayed drives
      // are followed in later blocks.
      mark_live(kb, W.n_pre, k.d, s.live_w.data());
      if (D) {
        k.taps = D;
        k.hist = s.d_w.data();
        k.t0 = t0;
        k.drive = s.drive.data();
        k.column = s.column.data();
        k.taps_t = s.taps_t.data();
      }
      dispatch_rows(alif, reset, reg, synt, k, W, s.live_w.data(), s.em_w.data(), s.ea_w.data(),
                    s.acc_w.data(), s.reg_w.data(), s.ess_w.data());
      if (!s.em_dl.empty()) {
        // The delays' traces: the same recursion driven by w·Σ dφ·ε^d.
        k.slope = true;
        k.w = params[W.param].value.data();
        dispatch_rows(alif, reset, reg, synt, k, W, s.live_w.data(), s.em_dl.data(),
                      s.ea_dl.data(), s.acc_dl.data(), s.reg_dl.data(), s.ess_dl.data());
        k.slope = false;
      }
      k.taps = nullptr;
      if (c.recurrent) {
        const WeightLayout& V = net_.recurrent_weights(l);
        k.n_rows = V.n_pre;
        k.d = s.d_v.data();
        mark_live(kb, V.n_pre, s.d_v.data(), s.live_v.data());
        dispatch_rows(alif, reset, reg, synt, k, V, s.live_v.data(), s.em_v.data(), s.ea_v.data(),
                      s.acc_v.data(), s.reg_v.data(), s.ess_v.data());
      }
    }
  }

  // The loss, and G = dL/dm·scale.
  std::vector<double> m(ws.score.begin(), ws.score.end()), g;
  if (loss_.kind == LossKind::mean_ce)
    for (double& x : m) x /= static_cast<double>(T);
  const SampleLoss result = cross_entropy(m, label, &g);
  std::vector<float> G(C);
  for (std::size_t k = 0; k < C; ++k) G[k] = static_cast<float>(g[k] * scale);

  // Readout weights: exact.
  {
    const WeightLayout& W = net_.input_weights(o);
    float* gw = grads[W.param].data();
    for (std::size_t j = 0; j < W.n_pre; ++j) {
      const float a = ws.readout_acc[j];
      if (a == 0.0f) continue;
      if (W.dense) {
        for (std::size_t k = 0; k < C; ++k) gw[j * C + k] += a * G[k];
      } else {
        for (std::uint32_t q = W.row_ptr[j]; q < W.row_ptr[j + 1]; ++q) gw[q] += a * G[W.cols[q]];
      }
    }
  }
  // Spiking layers: learning signal Σ_k B_jk·G_k times the accumulated eligibility.
  for (std::size_t l = 0; l + 1 < L; ++l) {
    const LayerConfig& c = nc.layers[l];
    EpropLayerState& s = ws.layer[l];
    const std::size_t N = c.size;
    s.signal.assign(N, 0.0f);
    if (random_[l].empty()) {
      const WeightLayout& W = net_.input_weights(o);
      const float* w = params[W.param].value.data();
      for (std::size_t j = 0; j < N; ++j) {
        float x = 0.0f;
        if (W.dense) {
          for (std::size_t k = 0; k < C; ++k) x += w[j * C + k] * G[k];
        } else {
          for (std::uint32_t q = W.row_ptr[j]; q < W.row_ptr[j + 1]; ++q) x += w[q] * G[W.cols[q]];
        }
        s.signal[j] = x;
      }
    } else {
      const float* B = random_[l].data();
      for (std::size_t j = 0; j < N; ++j) {
        float x = 0.0f;
        for (std::size_t k = 0; k < C; ++k) x += B[j * C + k] * G[k];
        s.signal[j] = x;
      }
    }
    const bool reg = !s.reg_w.empty() && extra_e && l < extra_e->size() && !(*extra_e)[l].empty();
    const float* extra = reg ? (*extra_e)[l].data() : nullptr;
    const WeightLayout& W = net_.input_weights(l);
    if (!s.em_dl.empty()) {
      s.live_dl = s.live_w;  // finish_rows clears the flags it reads
      finish_rows(W, s.live_dl.data(), s.signal.data(), extra, grads[net_.delay_param(l)].data(),
                  s.em_dl.data(), s.ea_dl.empty() ? nullptr : s.ea_dl.data(), s.acc_dl.data(),
                  reg ? s.reg_dl.data() : nullptr, s.ess_dl.empty() ? nullptr : s.ess_dl.data());
    }
    finish_rows(W, s.live_w.data(), s.signal.data(), extra, grads[W.param].data(),
                s.em_w.data(), s.ea_w.empty() ? nullptr : s.ea_w.data(), s.acc_w.data(),
                reg ? s.reg_w.data() : nullptr, s.ess_w.empty() ? nullptr : s.ess_w.data());
    if (c.recurrent) {
      const WeightLayout& V = net_.recurrent_weights(l);
      finish_rows(V, s.live_v.data(), s.signal.data(), extra, grads[V.param].data(),
                  s.em_v.data(), s.ea_v.empty() ? nullptr : s.ea_v.data(), s.acc_v.data(),
                  reg ? s.reg_v.data() : nullptr, s.ess_v.empty() ? nullptr : s.ess_v.data());
    }
    // Learned dynamics, per neuron.
    const float* dyn_extra = !s.tr_beta.reg.empty() || !s.tr_alpha.reg.empty() ||
                                     !s.tr_theta.reg.empty() || !s.tr_rho.reg.empty() ||
                                     !s.tr_a.reg.empty()
                                 ? extra
                                 : nullptr;
    if (!s.tr_beta.m.empty())
      finish_neurons(s.tr_beta, s.signal.data(), dyn_extra, grads[net_.beta_param(l)].data());
    if (!s.tr_alpha.m.empty())
      finish_neurons(s.tr_alpha, s.signal.data(), dyn_extra, grads[net_.alpha_param(l)].data());
    if (!s.tr_theta.m.empty())
      finish_neurons(s.tr_theta, s.signal.data(), dyn_extra, grads[net_.threshold_param(l)].data());
    if (!s.tr_rho.m.empty())
      finish_neurons(s.tr_rho, s.signal.data(), dyn_extra, grads[net_.adlif_rho_param(l)].data());
    if (!s.tr_a.m.empty()) {
      finish_neurons(s.tr_a, s.signal.data(), dyn_extra, grads[net_.adlif_a_param(l)].data());
      finish_neurons(s.tr_b, s.signal.data(), dyn_extra, grads[net_.adlif_b_param(l)].data());
    }
  }
  return result;
}

}  // namespace volley::train
