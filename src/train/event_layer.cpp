// Event-driven lif layers (BackwardMode::event): the forward and backward passes of net.cpp with
// neuron work that follows events instead of visiting every (neuron, step) pair.
//
// The neurons are taken in blocks of 16 (one vector). Between its input events a lif neuron is
// linear (net.hpp's equations with I = 0 and no spike): after k quiet steps
//   syn ← α^k·syn,   mem ← β^k·mem + c_k·syn,   c_k = Σ_{m<k} β^(k−1−m)·α^m   (c_0 = 0),
// and for every k, mem ≤ max(mem, 0) + max(syn, 0)·max_k c_k. A block is left alone at a step
// where none of its neurons gets input and every one of them was, at its last update, bounded
// below θ − window (so it can neither spike nor enter the active set |u| < window); when input
// reaches it, or it wakes up, it is brought to the step analytically and stepped as in net.cpp.
// The record (spikes, active set) has the sparse mode's format, so the layer above and the
// statistics do not know the difference.
//
// Backward, the adjoints are linear in the same way: k steps back without δ, reset or needed
// output take  gm ← β^k·gm,  gs ← α^k·gs + c_k·gm  (c_k is symmetric in α and β). A block is
// visited at a step where it has an active pair, a spike (multiplicative reset) with a non-zero
// adjoint, or input whose weight gradients need dL/dI; blocks whose adjoint is still zero (no
// active pair after the step) are never touched. The numbers are the sparse mode's up to the
// rounding of the analytic jumps (the tests compare both with the double reference).
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "train/net_kernels.hpp"

namespace volley::train {

using namespace detail;

namespace {

constexpr std::size_t kBlock = 16;  // neurons per block
constexpr std::size_t kWord = 64;   // blocks per mask word

std::size_t words_of(std::size_t nb) { return (nb + kWord - 1) / kWord; }
// ORs into mask the blocks of the neurons idx[0..n). The word is kept in a register while
// consecutive neurons share it (a step's lists are sorted): OR-ing into memory per neuron made
// every update wait for the previous one's store.
void mark_blocks(const std::uint32_t* idx, std::size_t n, std::uint64_t* mask) {
  std::size_t word = 0;
  std::uint64_t bits = 0;
  for (std::size_t a = 0; a < n; ++a) {
    const std::size_t b = idx[a] / kBlock;
    if (b / kWord != word) {
      mask[word] |= bits;
      word = b / kWord;
      bits = 0;
    }
    bits |= std::uint64_t{1} << (b % kWord);
  }
  if (bits) mask[word] |= bits;
}

// α^k, β^k and c_k for k = 0..T, computed in double; cmax = max_k c_k. Kept while α, β and T
// stay the same (every sample of a training run).
void decay_tables(float alpha, float beta, std::size_t T, EventScratch& s) {
  if (s.pa.size() == T + 1 && s.table_alpha == alpha && s.table_beta == beta) return;
  s.pa.resize(T + 1);
  s.pb.resize(T + 1);
  s.pc.resize(T + 1);
  double a = 1.0, b = 1.0, c = 0.0, cmax = 0.0;
  for (std::size_t k = 0; k <= T; ++k) {
    s.pa[k] = static_cast<float>(a);
    s.pb[k] = static_cast<float>(b);
    s.pc[k] = static_cast<float>(c);
    cmax = std::max(cmax, c);
    c = beta * c + a;
    a *= alpha;
    b *= beta;
  }
  s.cmax = static_cast<float>(cmax);
  s.table_alpha = alpha;
  s.table_beta = beta;
}

// Checked for every sample: one pass without an early exit, so that it vectorises.
bool uniform(const std::vector<float>& v) {
  if (v.empty()) return true;
  const float first = v.front();
  int differ = 0;
#pragma omp simd reduction(| : differ)
  for (std::size_t i = 0; i < v.size(); ++i) differ |= static_cast<int>(v[i] != first);
  return differ == 0;
}

// Raw pointers into the scratch, taken once per pass: the block loops then keep them in
// registers instead of reloading them from the vectors after every store.
struct Lanes {
  float *syn, *mem, *cur, *gm, *gs, *gi, *delta, *keep;
  const float *thr, *wake, *pa, *pb, *pc;
  std::uint32_t* at;
  float cmax;
  explicit Lanes(EventScratch& s)
      : syn(s.syn.data()), mem(s.mem.data()), cur(s.cur.data()), gm(s.gm.data()),
        gs(s.gs.data()), gi(s.gi.data()), delta(s.delta.data()), keep(s.keep.data()),
        thr(s.thr.data()), wake(s.wake.data()), pa(s.pa.data()), pb(s.pb.data()),
        pc(s.pc.data()), at(s.at.data()), cmax(s.cmax) {}
};

// ---- forward ----

struct Forward {
  std::size_t N, T, nb;
  float alpha, beta, window;
  const Net::Events* in;
  const WeightLayout* W;
  const float* w;
  LayerRecord* r;
};

// Brings a block from step `at` to step t (k = t − at quiet steps; k = 0 is the identity),
// steps it, and returns whether any of its neurons may reach θ − window before its next input.
template <ResetMode R, bool Syn>
bool step_block(const Lanes& s, std::size_t b, std::size_t t, float alpha, float beta,
                float* __restrict u, float* __restrict spike) {
  const std::size_t j0 = b * kBlock, k = t - s.at[b];
  float* __restrict syn = s.syn + j0;
  float* __restrict mem = s.mem + j0;
  float* __restrict cur = s.cur + j0;
  const float* __restrict thr = s.thr + j0;
  const float* __restrict wake = s.wake + j0;
  const float ka = s.pa[k], kb = s.pb[k], kc = s.pc[k], cmax = s.cmax;
  int awake = 0;
#pragma omp simd reduction(| : awake)
  for (std::size_t q = 0; q < kBlock; ++q) {
    // Without a synapse syn stays 0, and so does its term.
    const float m0 = kb * mem[q] + kc * syn[q];
    const float s0 = ka * syn[q];
    const float uq = m0 - thr[q];
    const float sq = uq > 0.0f ? 1.0f : 0.0f;
    const float mt = beta * m0 + (Syn ? s0 : cur[q]);
    const float s1 = Syn ? alpha * s0 + cur[q] : 0.0f;
    float m1;
    if constexpr (R == ResetMode::multiply) {
      m1 = mt * (1.0f - sq);
    } else if constexpr (R == ResetMode::subtract) {
      m1 = mt - thr[q] * sq;
    } else {
      m1 = mt;
    }
    syn[q] = s1;
    mem[q] = m1;
    cur[q] = 0.0f;
    u[q] = uq;
    spike[q] = sq;
    const float bound = std::max(m1, 0.0f) + (Syn ? std::max(s1, 0.0f) * cmax : 0.0f);
    awake |= static_cast<int>(bound >= wake[q]);
  }
  s.at[b] = static_cast<std::uint32_t>(t + 1);
  return awake != 0;
}

#if defined(__AVX512F__)
// step_block with the block in one vector, and the compaction of its spikes and (KeepActive)
// active pairs from the registers. Same arithmetic as step_block; returns whether the block
// stays awake.
template <ResetMode R, bool Syn, bool KeepActive>
bool step_block_v(const Lanes& s, std::size_t b, std::size_t t, __m512 alpha, __m512 beta,
                  __m512 window, std::uint32_t* sidx, float* sval, std::size_t& ns,
                  std::uint32_t* aidx, float* au, std::size_t& na) {
  const std::size_t j0 = b * kBlock, k = t - s.at[b];
  float* syn_p = s.syn + j0;
  float* mem_p = s.mem + j0;
  float* cur_p = s.cur + j0;
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
  const __m512 ka = _mm512_set1_ps(s.pa[k]), kb = _mm512_set1_ps(s.pb[k]),
               kc = _mm512_set1_ps(s.pc[k]);
  const __m512 syn = _mm512_loadu_ps(syn_p), mem = _mm512_loadu_ps(mem_p),
               cur = _mm512_loadu_ps(cur_p), thr = _mm512_loadu_ps(s.thr + j0);
  const __m512 m0 = _mm512_fmadd_ps(kb, mem, _mm512_mul_ps(kc, syn));
  const __m512 s0 = _mm512_mul_ps(ka, syn);
  const __m512 u = _mm512_sub_ps(m0, thr);
  const __mmask16 spk = _mm512_cmp_ps_mask(u, zero, _CMP_GT_OQ);
  const __m512 mt = _mm512_fmadd_ps(beta, m0, Syn ? s0 : cur);
  __m512 m1 = mt;
  if constexpr (R == ResetMode::multiply) {
    m1 = _mm512_mul_ps(mt, _mm512_sub_ps(one, _mm512_maskz_mov_ps(spk, one)));
  } else if constexpr (R == ResetMode::subtract) {
    m1 = _mm512_mask_sub_ps(mt, spk, mt, thr);
  }
  __m512 bound = _mm512_maskz_max_ps(0xFFFF, m1, zero);
  if constexpr (Syn) {
    const __m512 s1 = _mm512_fmadd_ps(alpha, s0, cur);
    _mm512_storeu_ps(syn_p, s1);
    bound = _mm512_fmadd_ps(_mm512_maskz_max_ps(0xFFFF, s1, zero), _mm512_set1_ps(s.cmax), bound);
  }
  _mm512_storeu_ps(mem_p, m1);
  _mm512_storeu_ps(cur_p, zero);
  s.at[b] = static_cast<std::uint32_t>(t + 1);
  const __m512i lane = _mm512_add_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(static_cast<int>(j0)));
  // Unconditional stores (the outputs have 16 entries of slack): whether a block has a spike
  // or an active pair is not predictable, and a mispredicted branch costs more than the stores.
  _mm512_storeu_si512(sidx + ns, _mm512_maskz_compress_epi32(spk, lane));
  _mm512_storeu_ps(sval + ns, one);
  ns += static_cast<std::size_t>(__builtin_popcount(spk));
  if constexpr (KeepActive) {
    const __mmask16 act = _mm512_cmp_ps_mask(_mm512_abs_ps(u), window, _CMP_LT_OQ);
    _mm512_storeu_si512(aidx + na, _mm512_maskz_compress_epi32(act, lane));
    _mm512_storeu_ps(au + na, _mm512_maskz_compress_ps(act, u));
    na += static_cast<std::size_t>(__builtin_popcount(act));
  }
  return _mm512_cmp_ps_mask(bound, _mm512_loadu_ps(s.wake + j0), _CMP_GE_OQ) != 0;
}
#endif

// Marks all nb blocks in mask.
void mark_all(std::size_t nb, std::uint64_t* mask) {
  for (std::size_t wi = 0; wi < words_of(nb); ++wi)
    mask[wi] = (wi + 1) * kWord <= nb ? ~std::uint64_t{0}
                                      : (std::uint64_t{1} << (nb % kWord)) - 1;
}

// Adds the step's input events into cur and marks the blocks they reach in live. A layer of at
// most 64 blocks keeps its mark in a register (no second store per synapse).
void scatter_events(const Forward& f, EventScratch& s, std::size_t t) {
  const Net::Events& in = *f.in;
  const WeightLayout& W = *f.W;
  const std::size_t nb = f.nb, nw = words_of(nb);
  float* cur = s.cur.data();
  std::uint64_t* live = s.live.data();
  // Dense weights reach every block. CSR rows that hold at least N/2 synapses together miss a
  // block of 16 with probability about e^-8: every block is marked then too (a block stepped
  // without input is stepped exactly as the time-major pass steps it), and the scatter skips the
  // per-synapse block marks.
  std::size_t reach = W.dense ? f.N : 0;
  for (std::uint32_t e = in.off[t]; !W.dense && e < in.off[t + 1]; ++e)
    reach += W.row_ptr[in.idx[e] + 1] - W.row_ptr[in.idx[e]];
  if (2 * reach >= f.N) {
    for (std::uint32_t e = in.off[t]; e < in.off[t + 1]; ++e)
      add_row(W, f.w, in.idx[e], in.val[e], cur);
    mark_all(nb, live);
    return;
  }
  const std::uint32_t* cols = W.cols.data();
  if (nw == 1) {
    std::uint64_t m = 0;
    for (std::uint32_t e = in.off[t]; e < in.off[t + 1]; ++e) {
      const float x = in.val[e];
      const std::uint32_t i = in.idx[e];
      for (std::uint32_t k = W.row_ptr[i]; k < W.row_ptr[i + 1]; ++k) {
        cur[cols[k]] += x * f.w[k];
        m |= std::uint64_t{1} << (cols[k] / kBlock);
      }
    }
    live[0] = m;
    return;
  }
  std::uint8_t* hit = s.hit.data();  // per block (bytes: independent stores)
  for (std::uint32_t e = in.off[t]; e < in.off[t + 1]; ++e) {
    const float x = in.val[e];
    const std::uint32_t i = in.idx[e];
    for (std::uint32_t k = W.row_ptr[i]; k < W.row_ptr[i + 1]; ++k) {
      cur[cols[k]] += x * f.w[k];
      hit[cols[k] / kBlock] = 1;
    }
  }
  for (std::size_t wi = 0; wi < nw; ++wi) {
    std::uint64_t m = 0;
    const std::size_t n = std::min(kWord, nb - wi * kWord);
    for (std::size_t q = 0; q < n; ++q) m |= std::uint64_t{hit[wi * kWord + q]} << q;
    live[wi] = m;
  }
  std::fill_n(hit, nb, std::uint8_t{0});
}

template <ResetMode R, bool Syn, bool KeepActive>
void forward_event(const Forward& f, EventScratch& s) {
  const std::size_t N = f.N, T = f.T, nw = words_of(f.nb);
  const Net::Events& in = *f.in;
  LayerRecord& r = *f.r;
  const Lanes v(s);
  std::size_t updates = 0;
  std::uint64_t* live = s.live.data();
  std::uint64_t* awake = s.awake.data();
#if defined(__AVX512F__)
  const __m512 alpha = _mm512_set1_ps(f.alpha), beta = _mm512_set1_ps(f.beta),
               window = _mm512_set1_ps(f.window);
#endif
  for (std::size_t t = 0; t < T; ++t) {
    if (in.off[t + 1] > in.off[t]) scatter_events(f, s, t);
    if (KeepActive) std::copy_n(live, nw, r.touched.data() + t * nw);
    const std::size_t sbase = r.idx.size();
    r.idx.resize(sbase + N + kBlock);
    r.val.resize(sbase + N + kBlock);
    std::size_t ns = 0, na = 0, abase = 0;
    if (KeepActive) {
      abase = r.aidx.size();
      r.aidx.resize(abase + N + kBlock);
      r.au.resize(abase + N + kBlock);
    }
    std::uint32_t* sidx = r.idx.data() + sbase;
    float* sval = r.val.data() + sbase;
    std::uint32_t* aidx = KeepActive ? r.aidx.data() + abase : nullptr;
    float* au = KeepActive ? r.au.data() + abase : nullptr;
    for (std::size_t wi = 0; wi < nw; ++wi) {
      std::uint64_t m = live[wi] | awake[wi], now_awake = 0;
      live[wi] = 0;
      updates += static_cast<std::size_t>(std::popcount(m));
      while (m) {
        const unsigned bit_index = static_cast<unsigned>(std::countr_zero(m));
        m &= m - 1;
        const std::size_t b = wi * kWord + bit_index;
#if defined(__AVX512F__)
        const bool stays = step_block_v<R, Syn, KeepActive>(v, b, t, alpha, beta, window, sidx, sval,
                                                      ns, aidx, au, na);
#else
        alignas(64) float u[kBlock], sp[kBlock];
        const bool stays = step_block<R, Syn>(v, b, t, f.alpha, f.beta, u, sp);
        const auto first = static_cast<std::uint32_t>(b * kBlock);
        ns += compact<Keep::nonzero>(sp, nullptr, kBlock, 0.0f, sidx + ns, sval + ns, nullptr,
                                     first);
        if (KeepActive)
          na += compact<Keep::inside>(u, nullptr, kBlock, f.window, aidx + na, au + na, nullptr,
                                      first);
#endif
        if (stays) now_awake |= std::uint64_t{1} << bit_index;
      }
      awake[wi] = now_awake;  // every awake block was stepped
    }
    r.idx.resize(sbase + ns);
    r.val.resize(sbase + ns);
    r.off[t + 1] = static_cast<std::uint32_t>(r.idx.size());
    if (KeepActive) {
      r.aidx.resize(abase + na);
      r.au.resize(abase + na);
      r.aoff[t + 1] = static_cast<std::uint32_t>(r.aidx.size());
    }
  }
  s.updates += updates;
}

// ---- backward ----

struct Backward {
  std::size_t T, nb;
  float alpha, beta;
  const Net::Events* in;
  const WeightLayout* W;
  const float* w;
  float* gw;
  const LayerRecord* r;
  LayerRecord* below;  // the layer below when it emits spikes (its dL/ds at its active pairs)
};

// Brings a block's adjoints from dL/d·_{at} to dL/d·_{t+1} (k = at − t − 1 quiet steps back),
// takes step t back (net.cpp's adjoint_step for lif) and clears its δ and keep. Returns bit 0:
// dL/dI_t is non-zero somewhere in the block, bit 1: the adjoints are.
template <bool Mult, bool Syn>
unsigned adjoint_block(const Lanes& s, std::size_t b, std::size_t t, float alpha, float beta) {
  const std::size_t j0 = b * kBlock, k = s.at[b] - (t + 1);
  float* __restrict gm = s.gm + j0;
  float* __restrict gs = s.gs + j0;
  float* __restrict gi = s.gi + j0;
  float* __restrict delta = s.delta + j0;
  float* __restrict keep = s.keep + j0;
  const float ka = s.pa[k], kb = s.pb[k], kc = s.pc[k];
  int any = 0, nonzero = 0;
#pragma omp simd reduction(| : any, nonzero)
  for (std::size_t q = 0; q < kBlock; ++q) {
    const float g0 = Syn ? ka * gs[q] + kc * gm[q] : 0.0f;
    const float m0 = kb * gm[q];
    const float dm = Mult ? m0 * keep[q] : m0;
    const float g_in = Syn ? g0 : dm;
    gi[q] = g_in;
    any |= static_cast<int>(g_in != 0.0f);
    if constexpr (Syn) {
      const float g1 = alpha * g0 + dm;
      gs[q] = g1;
      nonzero |= static_cast<int>(g1 != 0.0f);
    }
    const float m1 = beta * dm + delta[q];
    gm[q] = m1;
    nonzero |= static_cast<int>(m1 != 0.0f);
    delta[q] = 0.0f;
    keep[q] = 1.0f;
  }
  s.at[b] = static_cast<std::uint32_t>(t);
  return (any ? 1u : 0u) | (nonzero ? 2u : 0u);
}

#if defined(__AVX512F__)
// adjoint_block with the block in one vector: the same arithmetic, its flags from masks.
template <bool Mult, bool Syn>
unsigned adjoint_block_v(const Lanes& s, std::size_t b, std::size_t t, __m512 alpha,
                         __m512 beta) {
  const std::size_t j0 = b * kBlock, k = s.at[b] - (t + 1);
  float* gm_p = s.gm + j0;
  float* gs_p = s.gs + j0;
  float* delta_p = s.delta + j0;
  float* keep_p = s.keep + j0;
  const __m512 zero = _mm512_setzero_ps();
  const __m512 gm = _mm512_loadu_ps(gm_p);
  const __m512 m0 = _mm512_mul_ps(_mm512_set1_ps(s.pb[k]), gm);
  const __m512 dm = Mult ? _mm512_mul_ps(m0, _mm512_loadu_ps(keep_p)) : m0;
  __m512 g_in = dm;
  __mmask16 nonzero = 0;
  if constexpr (Syn) {
    g_in = _mm512_fmadd_ps(_mm512_set1_ps(s.pa[k]), _mm512_loadu_ps(gs_p),
                           _mm512_mul_ps(_mm512_set1_ps(s.pc[k]), gm));
    const __m512 g1 = _mm512_fmadd_ps(alpha, g_in, dm);
    _mm512_storeu_ps(gs_p, g1);
    nonzero = _mm512_cmp_ps_mask(g1, zero, _CMP_NEQ_UQ);
  }
  _mm512_storeu_ps(s.gi + j0, g_in);
  const __m512 m1 = _mm512_fmadd_ps(beta, dm, _mm512_loadu_ps(delta_p));
  _mm512_storeu_ps(gm_p, m1);
  nonzero |= _mm512_cmp_ps_mask(m1, zero, _CMP_NEQ_UQ);
  _mm512_storeu_ps(delta_p, zero);
  if constexpr (Mult) _mm512_storeu_ps(keep_p, _mm512_set1_ps(1.0f));
  s.at[b] = static_cast<std::uint32_t>(t);
  const bool any = _mm512_cmp_ps_mask(g_in, zero, _CMP_NEQ_UQ) != 0;
  return (any ? 1u : 0u) | (nonzero ? 2u : 0u);
}
#endif

template <bool Mult, bool Syn>
void backward_event(const Backward& g, EventScratch& s) {
  const std::size_t T = g.T, nb = g.nb, nw = words_of(nb);
  const Net::Events& in = *g.in;
  const LayerRecord& r = *g.r;
  const Lanes v(s);
  std::size_t updates = 0;
  float* gi = v.gi;
  const float* dact = s.dact.data();
  std::uint64_t* proc = s.live.data();  // blocks to visit at this step
  std::uint64_t* nz = s.awake.data();   // blocks with a non-zero adjoint
  std::fill_n(nz, nw, std::uint64_t{0});
#if defined(__AVX512F__)
  const __m512 alpha = _mm512_set1_ps(g.alpha), beta = _mm512_set1_ps(g.beta);
#endif
  for (std::size_t t = T; t-- > 0;) {
    // The blocks to bring to step t: active pairs (δ), spikes of a live adjoint (the reset),
    // and, where dL/dI_t is needed, every live block the forward marked as reached by the
    // step's input (all live ones when the layer below has active pairs at t: their dL/ds
    // reads whole rows).
    for (std::size_t wi = 0; wi < nw; ++wi) proc[wi] = 0;
    for (std::uint32_t a = r.aoff[t]; a < r.aoff[t + 1]; ++a) v.delta[r.aidx[a]] = dact[a];
    mark_blocks(r.aidx.data() + r.aoff[t], r.aoff[t + 1] - r.aoff[t], proc);
    // Spikes set keep to 0 and mark their blocks (a spike of a block whose adjoint is zero
    // changes nothing: keep multiplies zeros).
    std::uint64_t* spiked = s.hit64.data();
    if (Mult) {
      std::fill_n(spiked, nw, std::uint64_t{0});
      for (std::uint32_t e = r.off[t]; e < r.off[t + 1]; ++e) v.keep[r.idx[e]] = 0.0f;
      mark_blocks(r.idx.data() + r.off[t], r.off[t + 1] - r.off[t], spiked);
    }
    const bool all = g.below && g.below->aoff[t + 1] > g.below->aoff[t];
    const bool has_in = in.off[t + 1] > in.off[t];
    const std::uint64_t* touched = r.touched.data() + t * nw;
    int any = 0;
    for (std::size_t wi = 0; wi < nw; ++wi) {
      std::uint64_t m = proc[wi] | (all ? nz[wi] : has_in ? touched[wi] & nz[wi] : 0);
      if (Mult) m |= spiked[wi] & nz[wi];
      proc[wi] = m;
      updates += static_cast<std::size_t>(std::popcount(m));
      std::uint64_t now_nz = nz[wi] & ~m;
      while (m) {
        const unsigned bit_index = static_cast<unsigned>(std::countr_zero(m));
        m &= m - 1;
#if defined(__AVX512F__)
        const unsigned flags =
            adjoint_block_v<Mult, Syn>(v, wi * kWord + bit_index, t, alpha, beta);
#else
        const unsigned flags =
            adjoint_block<Mult, Syn>(v, wi * kWord + bit_index, t, g.alpha, g.beta);
#endif
        any |= static_cast<int>(flags & 1u);
        if (flags & 2u) now_nz |= std::uint64_t{1} << bit_index;
      }
      nz[wi] = now_nz;
    }
    // Spikes of blocks that were not visited leave keep set: clear it.
    if (Mult)
      for (std::uint32_t e = r.off[t]; e < r.off[t + 1]; ++e) v.keep[r.idx[e]] = 1.0f;
    if (any) {
      for (std::uint32_t e = in.off[t]; e < in.off[t + 1]; ++e)
        acc_row(*g.W, g.gw, in.idx[e], in.val[e], gi);
      if (g.below)
        dot_rows(*g.W, g.w, g.below->aidx.data() + g.below->aoff[t],
                 g.below->aoff[t + 1] - g.below->aoff[t], gi, g.below->e.data() + g.below->aoff[t]);
    }
    // gi is 0 outside the visited blocks: clear theirs.
    for (std::size_t wi = 0; wi < nw; ++wi)
      for (std::uint64_t m = proc[wi]; m; m &= m - 1)
        std::fill_n(gi + (wi * kWord + static_cast<std::size_t>(std::countr_zero(m))) * kBlock,
                    kBlock, 0.0f);
  }
  s.updates += updates;
}

}  // namespace

bool Net::event_driven(std::size_t l) const {
  const LayerConfig& c = config_.layers[l];
  return config_.backward == BackwardMode::event && backward_mode() == BackwardMode::event &&
         c.kind == LayerKind::lif && !c.recurrent && !c.learn_tau && !c.learn_threshold &&
         c.detach_reset && delay_[l] == kNone && uniform(params_[alpha_[l]].value) &&
         uniform(params_[beta_[l]].value);
}

void Net::forward_layer_event(std::size_t l, const Events& in, LayerRecord& r, Workspace& ws,
                              bool keep) const {
  const LayerConfig& c = config_.layers[l];
  const std::size_t N = c.size, T = config_.n_steps, nb = (N + kBlock - 1) / kBlock,
                    Np = nb * kBlock, nw = words_of(nb);
  const WeightLayout& W = w_[l];
  const Forward f{N,   T,  nb, params_[alpha_[l]].value[0], params_[beta_[l]].value[0],
                  static_cast<float>(config_.window), &in, &W, params_[W.param].value.data(),
                  &r};
  EventScratch& s = ws.event;
  decay_tables(f.alpha, f.beta, T, s);
  if (c.tau_syn <= 0.0) s.cmax = 0.0f;  // (the tables are not used for syn then)

  // Padding lanes never spike and are never active: θ = the largest float (finite, so that the
  // subtractive reset's θ·s stays 0) and no input.
  const float* thr = thresholds(l);
  s.thr.assign(Np, std::numeric_limits<float>::max());
  s.wake.assign(Np, std::numeric_limits<float>::infinity());
  for (std::size_t j = 0; j < N; ++j) {
    s.thr[j] = thr[j];
    // A margin for the rounding of the float recurrence against the analytic bound.
    s.wake[j] = thr[j] - f.window - 1e-4f * (std::fabs(thr[j]) + f.window);
  }
  s.syn.assign(Np, 0.0f);
  s.mem.assign(Np, 0.0f);
  s.cur.assign(Np, 0.0f);
  s.at.assign(nb, 0);
  s.live.assign(nw, 0);
  s.awake.assign(nw, 0);
  s.hit.assign(nb, 0);

  r.off.resize(T + 1);
  r.off[0] = 0;
  r.idx.clear();
  r.val.clear();
  if (keep) {
    r.aoff.resize(T + 1);
    r.aoff[0] = 0;
    r.aidx.clear();
    r.au.clear();
    r.amt.clear();
    r.touched.assign(T * nw, 0);
  }
  const bool syn = c.tau_syn > 0.0;
  auto run = [&]<ResetMode R>() {
    if (syn)
      keep ? forward_event<R, true, true>(f, s) : forward_event<R, true, false>(f, s);
    else
      keep ? forward_event<R, false, true>(f, s) : forward_event<R, false, false>(f, s);
  };
  switch (c.reset) {
    case ResetMode::multiply:
      return run.template operator()<ResetMode::multiply>();
    case ResetMode::subtract:
      return run.template operator()<ResetMode::subtract>();
    case ResetMode::none:
      return run.template operator()<ResetMode::none>();
  }
}

void Net::backward_layer_event(std::size_t l, const Events& in, LayerRecord* below,
                               LayerRecord& r, std::vector<std::vector<float>>& grads,
                               Workspace& ws) const {
  const LayerConfig& c = config_.layers[l];
  const std::size_t T = config_.n_steps, nb = (c.size + kBlock - 1) / kBlock,
                    Np = nb * kBlock, nw = words_of(nb);
  const WeightLayout& W = w_[l];
  const Backward g{T,
                   nb,
                   params_[alpha_[l]].value[0],
                   params_[beta_[l]].value[0],
                   &in,
                   &W,
                   params_[W.param].value.data(),
                   grads[W.param].data(),
                   &r,
                   below && emits_events(l - 1) ? below : nullptr};
  EventScratch& s = ws.event;
  decay_tables(g.alpha, g.beta, T, s);
  s.gm.assign(Np, 0.0f);
  s.gs.assign(Np, 0.0f);
  s.gi.assign(Np, 0.0f);
  s.delta.assign(Np, 0.0f);
  s.keep.assign(Np, 1.0f);
  s.at.assign(nb, static_cast<std::uint32_t>(T));  // the adjoints are dL/d·_{at}
  s.live.assign(nw, 0);
  s.awake.assign(nw, 0);
  s.hit64.assign(nw, 0);
  const bool mult = c.reset == ResetMode::multiply, syn = c.tau_syn > 0.0;
  if (mult)
    syn ? backward_event<true, true>(g, s) : backward_event<true, false>(g, s);
  else
    syn ? backward_event<false, true>(g, s) : backward_event<false, false>(g, s);
}

}  // namespace volley::train
