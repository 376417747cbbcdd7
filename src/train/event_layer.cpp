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
void set_bit(std::uint64_t* m, std::size_t b) { m[b / kWord] |= std::uint64_t{1} << (b % kWord); }

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

bool uniform(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [&](float x) { return x == v.front(); });
}

// ---- forward ----

struct Forward {
  std::size_t N, T, nb;
  float alpha, beta, window;
  const Net::Events* in;
  const WeightLayout* W;
  const float* w;
  LayerRecord* r;
  bool keep;
};

// Brings a block from step `at` to step t (k = t − at quiet steps; k = 0 is the identity),
// steps it, and returns whether any of its neurons may reach θ − window before its next input.
template <ResetMode R, bool Syn>
bool step_block(EventScratch& s, std::size_t b, std::size_t t, float alpha, float beta,
                float* __restrict u, float* __restrict spike) {
  const std::size_t j0 = b * kBlock, k = t - s.at[b];
  float* __restrict syn = s.syn.data() + j0;
  float* __restrict mem = s.mem.data() + j0;
  float* __restrict cur = s.cur.data() + j0;
  const float* __restrict thr = s.thr.data() + j0;
  const float* __restrict wake = s.wake.data() + j0;
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

template <ResetMode R, bool Syn>
void forward_event(const Forward& f, EventScratch& s) {
  const std::size_t N = f.N, T = f.T, nb = f.nb, nw = words_of(nb);
  const WeightLayout& W = *f.W;
  const Net::Events& in = *f.in;
  LayerRecord& r = *f.r;
  float* cur = s.cur.data();
  std::uint8_t* hit = s.hit.data();  // per block: input this step (bytes: independent stores)
  std::uint64_t* live = s.live.data();
  std::uint64_t* awake = s.awake.data();
  for (std::size_t t = 0; t < T; ++t) {
    if (in.off[t + 1] > in.off[t]) {
      for (std::uint32_t e = in.off[t]; e < in.off[t + 1]; ++e) {
        const std::uint32_t i = in.idx[e];
        const float x = in.val[e];
        if (W.dense) {
          add_row(W, f.w, i, x, cur);
          std::fill_n(hit, nb, std::uint8_t{1});
        } else {
          const std::uint32_t* cols = W.cols.data();
          for (std::uint32_t k = W.row_ptr[i]; k < W.row_ptr[i + 1]; ++k) {
            cur[cols[k]] += x * f.w[k];
            hit[cols[k] / kBlock] = 1;
          }
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
    if (f.keep) std::copy_n(live, nw, r.touched.data() + t * nw);
    const std::size_t sbase = r.idx.size();
    r.idx.resize(sbase + N + kBlock);
    r.val.resize(sbase + N + kBlock);
    std::size_t ns = 0, na = 0, abase = 0;
    if (f.keep) {
      abase = r.aidx.size();
      r.aidx.resize(abase + N + kBlock);
      r.au.resize(abase + N + kBlock);
    }
    for (std::size_t wi = 0; wi < nw; ++wi) {
      std::uint64_t m = live[wi] | awake[wi], now_awake = 0;
      live[wi] = 0;
      s.updates += static_cast<std::size_t>(std::popcount(m));
      while (m) {
        const unsigned bit_index = static_cast<unsigned>(std::countr_zero(m));
        m &= m - 1;
        const std::size_t b = wi * kWord + bit_index;
        alignas(64) float u[kBlock], sp[kBlock];
        if (step_block<R, Syn>(s, b, t, f.alpha, f.beta, u, sp))
          now_awake |= std::uint64_t{1} << bit_index;
        const auto first = static_cast<std::uint32_t>(b * kBlock);
        ns += compact<Keep::nonzero>(sp, nullptr, kBlock, 0.0f, r.idx.data() + sbase + ns,
                                     r.val.data() + sbase + ns, nullptr, first);
        if (f.keep)
          na += compact<Keep::inside>(u, nullptr, kBlock, f.window, r.aidx.data() + abase + na,
                                      r.au.data() + abase + na, nullptr, first);
      }
      awake[wi] = now_awake;  // every awake block was stepped
    }
    r.idx.resize(sbase + ns);
    r.val.resize(sbase + ns);
    r.off[t + 1] = static_cast<std::uint32_t>(r.idx.size());
    if (f.keep) {
      r.aidx.resize(abase + na);
      r.au.resize(abase + na);
      r.aoff[t + 1] = static_cast<std::uint32_t>(r.aidx.size());
    }
  }
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
unsigned adjoint_block(EventScratch& s, std::size_t b, std::size_t t, float alpha, float beta) {
  const std::size_t j0 = b * kBlock, k = s.at[b] - (t + 1);
  float* __restrict gm = s.gm.data() + j0;
  float* __restrict gs = s.gs.data() + j0;
  float* __restrict gi = s.gi.data() + j0;
  float* __restrict delta = s.delta.data() + j0;
  float* __restrict keep = s.keep.data() + j0;
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

template <bool Mult, bool Syn>
void backward_event(const Backward& g, EventScratch& s) {
  const std::size_t T = g.T, nb = g.nb, nw = words_of(nb);
  const Net::Events& in = *g.in;
  const LayerRecord& r = *g.r;
  float* gi = s.gi.data();
  const float* dact = s.dact.data();
  std::uint64_t* proc = s.live.data();  // blocks to visit at this step
  std::uint64_t* nz = s.awake.data();   // blocks with a non-zero adjoint
  std::fill_n(nz, nw, std::uint64_t{0});
  for (std::size_t t = T; t-- > 0;) {
    // The blocks to bring to step t: active pairs (δ), spikes of a live adjoint (the reset),
    // and, where dL/dI_t is needed, every live block the step's input reaches (all live ones
    // when the layer below has active pairs at t: their dL/ds reads whole rows).
    for (std::size_t wi = 0; wi < nw; ++wi) proc[wi] = 0;
    for (std::uint32_t a = r.aoff[t]; a < r.aoff[t + 1]; ++a) {
      const std::uint32_t j = r.aidx[a];
      s.delta[j] = dact[a];
      set_bit(proc, j / kBlock);
    }
    // Spikes set keep to 0 and mark their blocks (a spike of a block whose adjoint is zero
    // changes nothing: keep multiplies zeros).
    std::uint64_t* spiked = s.hit64.data();
    if (Mult) {
      std::fill_n(spiked, nw, std::uint64_t{0});
      for (std::uint32_t e = r.off[t]; e < r.off[t + 1]; ++e) {
        s.keep[r.idx[e]] = 0.0f;
        set_bit(spiked, r.idx[e] / kBlock);
      }
    }
    const bool all = g.below && g.below->aoff[t + 1] > g.below->aoff[t];
    const bool has_in = in.off[t + 1] > in.off[t];
    const std::uint64_t* touched = r.touched.data() + t * nw;
    int any = 0;
    for (std::size_t wi = 0; wi < nw; ++wi) {
      std::uint64_t m = proc[wi] | (all ? nz[wi] : has_in ? touched[wi] & nz[wi] : 0);
      if (Mult) m |= spiked[wi] & nz[wi];
      proc[wi] = m;
      s.updates += static_cast<std::size_t>(std::popcount(m));
      std::uint64_t now_nz = nz[wi] & ~m;
      while (m) {
        const unsigned bit_index = static_cast<unsigned>(std::countr_zero(m));
        m &= m - 1;
        const unsigned flags =
            adjoint_block<Mult, Syn>(s, wi * kWord + bit_index, t, g.alpha, g.beta);
        any |= static_cast<int>(flags & 1u);
        if (flags & 2u) now_nz |= std::uint64_t{1} << bit_index;
      }
      nz[wi] = now_nz;
    }
    // Spikes of blocks that were not visited leave keep set: clear it.
    if (Mult)
      for (std::uint32_t e = r.off[t]; e < r.off[t + 1]; ++e) s.keep[r.idx[e]] = 1.0f;
    if (any) {
      for (std::uint32_t e = in.off[t]; e < in.off[t + 1]; ++e)
        acc_row(*g.W, g.gw, in.idx[e], in.val[e], gi);
      if (g.below)
        for (std::uint32_t a = g.below->aoff[t]; a < g.below->aoff[t + 1]; ++a)
          g.below->e[a] = dot_row(*g.W, g.w, g.below->aidx[a], gi);
    }
    // gi is 0 outside the visited blocks: clear theirs.
    for (std::size_t wi = 0; wi < nw; ++wi)
      for (std::uint64_t m = proc[wi]; m; m &= m - 1)
        std::fill_n(gi + (wi * kWord + static_cast<std::size_t>(std::countr_zero(m))) * kBlock,
                    kBlock, 0.0f);
  }
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
                  &r,  keep};
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
  switch (c.reset) {
    case ResetMode::multiply:
      return syn ? forward_event<ResetMode::multiply, true>(f, s)
                 : forward_event<ResetMode::multiply, false>(f, s);
    case ResetMode::subtract:
      return syn ? forward_event<ResetMode::subtract, true>(f, s)
                 : forward_event<ResetMode::subtract, false>(f, s);
    case ResetMode::none:
      return syn ? forward_event<ResetMode::none, true>(f, s)
                 : forward_event<ResetMode::none, false>(f, s);
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
