#include "train/delay_kernels.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "train/net_kernels.hpp"

namespace volley::train::detail {

namespace {

// Rows per pass: their raster (kChunk × stride floats, 24 KB for 100 steps) stays in L1 while
// every neuron reads it; a neuron's sums are kept in `scratch` between passes.
constexpr std::size_t kChunk = 48;
// Steps per time tile: up to 8 vectors of 16 (the register budget of the kernels).
constexpr std::size_t kTile = 128;
// Steps per time tile of the whole-step taps in arrival order: the sums of 256 neurons over 64
// steps (64 KB, L1 and L2) while every group of synapses adds to them. Measured with
// bench/bench_delays (700 → 256, 100 steps): 32 steps 1.00–1.38 ms per sample (four passes over
// the groups), 64 steps 0.84–0.85 ms, 128 steps 1.36 ms; the per-neuron loop this replaced
// 0.89–1.08 ms.
constexpr std::size_t kOrderTile = 64;
// Neurons per pass of the dense blocks' forward: 16 vectors of sums in registers; the currents
// they read and write, (T + K) × 256 floats (111 KB for 100 steps and 11 taps), stay in L2.
// (128 or 64 per pass: 22 % and 45 % slower, bench/bench_delays.)
constexpr std::size_t kNeurons = 256;
// Neurons per pass of the correlation: the dL/dI it reads for every event and tap, (T + K) × 128
// floats (56 KB), closer to L1. bench/bench_delays, interleaved: 256 per pass 1.05–1.06 ms per
// sample, 128 0.95–1.01 ms, 64 1.01–1.02 ms, 32 1.63–1.65 ms.
constexpr std::size_t kCorrNeurons = 128;
// Taps per pass over a row's events in the correlation (each with its kCorrNeurons sums in
// registers): the events' steps, values and skips read once for both. bench/bench_delays,
// interleaved: 1 tap 0.96–1.04 ms per sample, 2 taps 0.90–0.95 ms; 3 taps of 128 neurons or 4
// and 6 of 64 (24 registers of sums) 1.3–2.2 ms.
constexpr std::size_t kCorrTaps = 2;

// Asks for the pieces [at + o·stride, + n floats) for o in [0, count) ahead of their use (the
// next row's kernel block or correlations in a tile: apart in memory, so not prefetched by
// the hardware).
inline void prefetch_pieces(const float* at, std::size_t count, std::size_t stride, std::size_t n) {
  for (std::size_t o = 0; o < count; ++o)
    for (std::size_t m = 0; m < n; m += 16) __builtin_prefetch(at + o * stride + m);
}

// Sums over the (up to) P neurons of a pass kept in registers.
template <std::size_t P>
class TileSum {
  static constexpr std::size_t kNeurons = P, kVectors = P / 16;

 public:
  explicit TileSum(std::size_t n) : n_(n), full_(n == kNeurons) {
#if defined(__AVX512F__)
    for (std::size_t v = 0; v < kVectors; ++v) {
      const std::size_t lanes = n > 16 * v ? std::min<std::size_t>(16, n - 16 * v) : 0;
      mask_[v] = static_cast<__mmask16>((1u << lanes) - 1u);
    }
#endif
  }
  void zero() {
#if defined(__AVX512F__)
    for (auto& a : a_) a = _mm512_setzero_ps();
#else
    std::fill_n(a_, kNeurons, 0.0f);
#endif
  }
  // += x·k[0..n)
  void add(float x, const float* k) {
#if defined(__AVX512F__)
    const __m512 xv = _mm512_set1_ps(x);
    if (full_) {
      for (std::size_t v = 0; v < kVectors; ++v) a_[v] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(k + 16 * v), a_[v]);
      return;
    }
    for (std::size_t v = 0; v < kVectors; ++v)
      a_[v] = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(mask_[v], k + 16 * v), a_[v]);
#else
    for (std::size_t m = 0; m < n_; ++m) a_[m] += x * k[m];
#endif
  }
  // y[0..n) += the sums
  void add_into(float* y) const {
#if defined(__AVX512F__)
    if (full_) {
      for (std::size_t v = 0; v < kVectors; ++v)
        _mm512_storeu_ps(y + 16 * v, _mm512_add_ps(_mm512_loadu_ps(y + 16 * v), a_[v]));
      return;
    }
    for (std::size_t v = 0; v < kVectors; ++v)
      _mm512_mask_storeu_ps(y + 16 * v, mask_[v],
                            _mm512_add_ps(_mm512_maskz_loadu_ps(mask_[v], y + 16 * v), a_[v]));
#else
    for (std::size_t m = 0; m < n_; ++m) y[m] += a_[m];
#endif
  }

 private:
  std::size_t n_;
  bool full_;
#if defined(__AVX512F__)
  __m512 a_[kVectors];
  __mmask16 mask_[kVectors];
#else
  float a_[kNeurons];
#endif
};

std::size_t padded_steps(std::size_t T) { return (T + 15) / 16 * 16; }

// The run of one synapse's tap o for neuron j: the raster rows' offsets and weights.
struct TapRun {
  const float* w;
  const std::uint32_t* at;
};
TapRun tap_run(const DelayTaps& D, std::size_t n_pre, std::size_t n_post, std::size_t o,
               std::size_t j) {
  const std::size_t base = (o * n_post + j) * n_pre;
  return {D.gather_w.data() + base, D.gather_at.data() + base};
}

#if defined(__AVX512F__)
// The lane sums of 16 vectors, one per lane: lane L of the result is the sum of a[(L >> 2) +
// 4·(L & 3)] (halves, then quarters, then pairs added in a fixed order). Callers place the
// vector of their row L there.
inline __m512 sum16(const __m512* a) {
  __m512 b[8], c[4], d[2];
  for (int p = 0; p < 8; ++p)
    b[p] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xFFFF, a[2 * p], a[2 * p + 1], 0x44),
                         _mm512_maskz_shuffle_f32x4(0xFFFF, a[2 * p], a[2 * p + 1], 0xEE));
  for (int q = 0; q < 4; ++q)
    c[q] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xFFFF, b[2 * q], b[2 * q + 1], 0x88),
                         _mm512_maskz_shuffle_f32x4(0xFFFF, b[2 * q], b[2 * q + 1], 0xDD));
  for (int r = 0; r < 2; ++r)
    d[r] = _mm512_add_ps(_mm512_maskz_shuffle_ps(0xFFFF, c[2 * r], c[2 * r + 1], 0x44),
                         _mm512_maskz_shuffle_ps(0xFFFF, c[2 * r], c[2 * r + 1], 0xEE));
  return _mm512_add_ps(_mm512_maskz_shuffle_ps(0xFFFF, d[0], d[1], 0x88),
                       _mm512_maskz_shuffle_ps(0xFFFF, d[0], d[1], 0xDD));
}

// Currents of one time tile (V vectors from step t0) for all neurons, the rows [q0, q1) of the
// raster added to what `out` (n_post × TV) holds (or to zero for the first pass). Two neurons
// at a time, so that two independent chains of multiply-adds hide each other's latency.
template <int V, int J>
void currents_neurons(const DelayTaps& D, std::size_t n_pre, std::size_t n_post,
                      const DelayRaster& r, std::size_t q0, std::size_t q1, std::size_t t0,
                      std::size_t TV, std::size_t j0, float* out) {
  const float* x = r.x.data() + t0;
  const std::uint32_t* rows = r.rows.data();
  __m512 a[J][V];
  for (int n = 0; n < J; ++n)
    for (int v = 0; v < V; ++v)
      a[n][v] = q0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(out + (j0 + n) * TV + t0 + 16 * v);
  for (std::size_t o = 0; o < D.width; ++o) {
    TapRun run[J];
    for (int n = 0; n < J; ++n) run[n] = tap_run(D, n_pre, n_post, o, j0 + n);
    for (std::size_t q = q0; q < q1; ++q) {
      const std::uint32_t i = rows[q];
      for (int n = 0; n < J; ++n) {
        const float* p = x + run[n].at[i];
        const __m512 w = _mm512_set1_ps(run[n].w[i]);
        for (int v = 0; v < V; ++v) a[n][v] = _mm512_fmadd_ps(w, _mm512_loadu_ps(p + 16 * v), a[n][v]);
      }
    }
  }
  for (int n = 0; n < J; ++n)
    for (int v = 0; v < V; ++v) _mm512_storeu_ps(out + (j0 + n) * TV + t0 + 16 * v, a[n][v]);
}

template <int V>
void currents_tile(const DelayTaps& D, std::size_t n_pre, std::size_t n_post, const DelayRaster& r,
                   std::size_t q0, std::size_t q1, std::size_t t0, std::size_t TV, float* out) {
  std::size_t j = 0;
  for (; j + 2 <= n_post; j += 2) currents_neurons<V, 2>(D, n_pre, n_post, r, q0, q1, t0, TV, j, out);
  if (j < n_post) currents_neurons<V, 1>(D, n_pre, n_post, r, q0, q1, t0, TV, j, out);
}

// 16 steps of a row of the count raster (DelayRaster::counts) as floats. The maskz forms: GCC
// 12's plain ones start from an undefined vector, which -Wmaybe-uninitialized reports.
inline __m512 counts16(const std::uint8_t* p) {
  const __m512i n = _mm512_maskz_cvtepu8_epi32(0xFFFF, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm512_maskz_cvtepi32_ps(0xFFFF, n);
}

// Correlations of one time tile: c_ij(o) += Σ_t g_j(t)·x_i(t − shift) over the tile, rows
// [q0, q1), with g neuron-major (n_post × TV). x(at, v) is vector v of the raster's run that
// starts at `at` (DelayTaps::gather_at) in this tile: read from the floats or the counts.
template <int V, class X>
void correlation_tile(const DelayTaps& D, std::size_t n_pre, std::size_t n_post,
                      const DelayRaster& r, std::size_t q0, std::size_t q1, std::size_t t0,
                      std::size_t TV, const float* g, float* c, X x) {
  const std::uint32_t* rows = r.rows.data();
  const std::size_t S = n_pre * n_post;
  alignas(64) float sums[16];
  for (std::size_t j = 0; j < n_post; ++j) {
    __m512 gv[V];
    for (int v = 0; v < V; ++v) gv[v] = _mm512_loadu_ps(g + j * TV + t0 + 16 * v);
    for (std::size_t o = 0; o < D.width; ++o) {
      const TapRun run = tap_run(D, n_pre, n_post, o, j);
      float* c_oj = c + o * S + j;
      auto dot = [&](std::uint32_t i) {
        const std::uint32_t at = run.at[i];
        // Even and odd vectors in two chains, then added.
        __m512 s0 = _mm512_mul_ps(gv[0], x(at, 0));
        __m512 s1 = _mm512_setzero_ps();
#pragma GCC unroll 8
        for (int v = 1; v < V; ++v) {
          if (v % 2)
            s1 = _mm512_fmadd_ps(gv[v], x(at, v), s1);
          else
            s0 = _mm512_fmadd_ps(gv[v], x(at, v), s0);
        }
        return _mm512_add_ps(s0, s1);
      };
      std::size_t q = q0;
      for (; q + 16 <= q1; q += 16) {
        __m512 a[16];
#pragma GCC unroll 16
        for (std::size_t L = 0; L < 16; ++L) a[(L >> 2) + 4 * (L & 3)] = dot(rows[q + L]);
        _mm512_store_ps(sums, sum16(a));
        for (std::size_t L = 0; L < 16; ++L) c_oj[rows[q + L] * n_post] += sums[L];
      }
      for (; q < q1; ++q) c_oj[rows[q] * n_post] += hsum(dot(rows[q]));
    }
  }
}

// Whole-step taps, in arrival order, for one time tile (V vectors from step t0): the groups of
// synapses by delay (longest first) and row (DelayTaps::group_off), each group's stretch of the
// raster held in registers and added, times each synapse's weight, to the sums of its neurons
// in `out` (n_post × TV, zero on entry), whose tile (n_post × 16·V floats) stays in cache.
// Groups whose stretch holds no event are skipped: their terms are zeros, and a sum that starts
// at +0 never becomes −0, so skipping them keeps the bits.
template <int V>
void currents_in_order(const DelayTaps& D, std::size_t n_pre, const DelayRaster& r, std::size_t t0,
                       std::size_t TV, float* out) {
  const std::size_t K = D.window, P = D.stride;
  const float* x = r.x.data() + t0;
  const std::uint8_t* seen = r.seen.data();
  const std::uint32_t* off = D.group_off.data();
  const std::uint32_t* post = D.group_post.data();
  const float* gw = D.group_w.data();
  float* o = out + t0;
  for (std::size_t g = 0, G = K * n_pre; g < G; ++g) {
    const std::size_t i = g % n_pre;
    if (!seen[i] || off[g] == off[g + 1]) continue;
    // Delay K − 1 − g / n_pre reads the raster from K − 1 − delay = g / n_pre.
    const float* p = x + i * P + g / n_pre;
    __m512 xr[V];
    __m512i any = _mm512_setzero_si512();
    for (int v = 0; v < V; ++v) {
      xr[v] = _mm512_loadu_ps(p + 16 * v);
      any = _mm512_or_si512(any, _mm512_castps_si512(xr[v]));
    }
    if (_mm512_test_epi32_mask(any, any) == 0) continue;
    for (std::uint32_t e = off[g], end = off[g + 1]; e < end; ++e) {
      float* a = o + post[e] * TV;
      const __m512 w = _mm512_set1_ps(gw[e]);
      for (int v = 0; v < V; ++v)
        _mm512_storeu_ps(a + 16 * v, _mm512_fmadd_ps(w, xr[v], _mm512_loadu_ps(a + 16 * v)));
    }
  }
}


// Whole-step taps with counts (DelayRaster::counts), J neurons at a time, for the time tile of V
// vectors from step t0: each neuron's synapses in arrival order (DelayTaps::order_at), the
// weight times its row's counts read from where the delay shifts them, added to sums held in
// registers. These are currents_in_order's multiply-adds in its order, so the same bits,
// without its read-modify-write of the sums; the counts of 700 rows (90 KB) stay in L2 where
// their floats (360 KB) did not.
template <int V, int J>
void currents_counts(const DelayTaps& D, std::size_t n_pre, const std::uint8_t* x,
                     std::size_t j0, std::size_t t0, std::size_t TV, float* out) {
  __m512 a[J][V];
  const std::uint32_t* at[J];
  const float* w[J];
  for (int n = 0; n < J; ++n) {
    for (int v = 0; v < V; ++v) a[n][v] = _mm512_setzero_ps();
    at[n] = D.order_at.data() + (j0 + n) * n_pre;
    w[n] = D.order_w.data() + (j0 + n) * n_pre;
  }
  for (std::size_t e = 0; e < n_pre; ++e)
    for (int n = 0; n < J; ++n) {
      const std::uint8_t* p = x + at[n][e] + t0;
      const __m512 wb = _mm512_set1_ps(w[n][e]);
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v) a[n][v] = _mm512_fmadd_ps(wb, counts16(p + 16 * v), a[n][v]);
    }
  for (int n = 0; n < J; ++n)
    for (int v = 0; v < V; ++v) _mm512_storeu_ps(out + (j0 + n) * TV + t0 + 16 * v, a[n][v]);
}

template <class F>
void with_vectors(std::size_t V, F&& f) {
  switch (V) {
    case 1: f.template operator()<1>(); break;
    case 2: f.template operator()<2>(); break;
    case 3: f.template operator()<3>(); break;
    case 4: f.template operator()<4>(); break;
    case 5: f.template operator()<5>(); break;
    case 6: f.template operator()<6>(); break;
    case 7: f.template operator()<7>(); break;
    default: f.template operator()<8>(); break;
  }
}
#endif

}  // namespace

void sort_events_by_row(std::size_t n_pre, std::size_t T, const std::uint32_t* off,
                        const std::uint32_t* idx, std::vector<std::uint32_t>& row_off,
                        std::vector<std::uint32_t>& step, std::vector<std::uint32_t>& event,
                        std::vector<std::uint32_t>& fill) {
  const std::uint32_t n_ev = off[T];
  row_off.assign(n_pre + 1, 0);
  for (std::uint32_t e = 0; e < n_ev; ++e) ++row_off[idx[e] + 1];
  for (std::size_t i = 0; i < n_pre; ++i) row_off[i + 1] += row_off[i];
  step.resize(n_ev);
  event.resize(n_ev);
  fill.assign(row_off.begin(), row_off.end() - 1);
  for (std::size_t t = 0; t < T; ++t)
    for (std::uint32_t e = off[t]; e < off[t + 1]; ++e) {
      const std::uint32_t q = fill[idx[e]]++;
      step[q] = static_cast<std::uint32_t>(t);
      event[q] = e;
    }
}

void block_delayed_currents(const DelayTaps& D, std::size_t n_pre, std::size_t n_post,
                            std::size_t T, const std::uint32_t* row_off,
                            const std::uint32_t* step, const std::uint32_t* event,
                            const float* val, AlignedVector<float>& tile, float* cur) {
  const std::size_t K = D.window, rows = T + K;
  for (std::size_t j0 = 0; j0 < n_post; j0 += kNeurons) {
    const std::size_t jt = std::min(kNeurons, n_post - j0);
    TileSum<kNeurons> acc(jt);
    tile.assign(rows * jt, 0.0f);
    for (std::size_t i = 0; i < n_pre; ++i) {
      const std::uint32_t e0 = row_off[i], e1 = row_off[i + 1];
      if (e0 == e1) continue;
      const std::size_t lo = D.lo[i], hi = D.hi[i];
      const float* kw = D.kernel.data() + i * K * n_post + j0;
      if (i + 1 < n_pre)
        prefetch_pieces(kw + (K + D.lo[i + 1]) * n_post, D.hi[i + 1] - D.lo[i + 1] + 1, n_post, jt);
      // Step by step over the steps the row's events reach: the terms of the events whose taps
      // cover step u (a window over the sorted events) in registers, then once into the tile.
      std::uint32_t first = e0, last = e0;  // the events with u − hi ≤ t ≤ u − lo
      for (std::size_t u = step[e0] + lo, end = step[e1 - 1] + hi; u <= end; ++u) {
        while (last < e1 && step[last] + lo <= u) ++last;
        while (first < last && step[first] + hi < u) ++first;
        if (first == last) {
          // A gap between events: jump to the next event's first step.
          if (last == e1) break;
          u = step[last] + lo - 1;
          continue;
        }
        acc.zero();
        for (std::uint32_t q = first; q < last; ++q) acc.add(val[event[q]], kw + (u - step[q]) * n_post);
        acc.add_into(tile.data() + u * jt);
      }
    }
    for (std::size_t t = 0; t < rows; ++t) std::copy_n(tile.data() + t * jt, jt, cur + t * n_post + j0);
  }
}

void block_delayed_correlation(const DelayTaps& D, std::size_t n_pre, std::size_t n_post,
                               std::size_t T, const std::uint32_t* row_off,
                               const std::uint32_t* step, const std::uint32_t* event,
                               const float* val, const std::uint32_t* first_nz, const float* g,
                               AlignedVector<float>& tile, float* c, std::uint8_t* touched) {
  const std::size_t K = D.window, rows = T + K;
  for (std::size_t j0 = 0; j0 < n_post; j0 += kCorrNeurons) {
    const std::size_t jt = std::min(kCorrNeurons, n_post - j0);
    auto acc = [jt]<std::size_t... G>(std::index_sequence<G...>) {
      return std::array<TileSum<kCorrNeurons>, kCorrTaps>{(static_cast<void>(G), TileSum<kCorrNeurons>(jt))...};
    }(std::make_index_sequence<kCorrTaps>());
    tile.resize(rows * jt);
    for (std::size_t t = 0; t < rows; ++t) std::copy_n(g + t * n_post + j0, jt, tile.data() + t * jt);
    for (std::size_t i = 0; i < n_pre; ++i) {
      const std::uint32_t e0 = row_off[i], e1 = row_off[i + 1];
      if (e0 == e1) continue;
      const std::size_t lo = D.lo[i], hi = D.hi[i];
      float* ci = c + i * K * n_post + j0;
      if (i + 1 < n_pre)
        prefetch_pieces(ci + (K + D.lo[i + 1]) * n_post, D.hi[i + 1] - D.lo[i + 1] + 1, n_post, jt);
      // kCorrTaps taps at a time: the row's events' x·dL/dI in registers, then once into c.
      bool any = false;
      std::size_t o = lo;
      auto taps = [&]<std::size_t G>() {
        for (std::size_t g = 0; g < G; ++g) acc[g].zero();
        for (std::uint32_t q = e0; q < e1; ++q) {
          const std::size_t t = step[q];
          if (first_nz[t + lo] > t + hi) continue;  // no gradient within this event's taps
          const float x = val[event[q]];
          const float* gt = tile.data() + (t + o) * jt;
          for (std::size_t g = 0; g < G; ++g) acc[g].add(x, gt + g * jt);
          any = true;
        }
        for (std::size_t g = 0; g < G; ++g) acc[g].add_into(ci + (o + g) * n_post);
        o += G;
      };
      while (o + kCorrTaps <= hi + 1) taps.template operator()<kCorrTaps>();
      while (o <= hi) taps.template operator()<1>();
      if (any) touched[i] = 1;
    }
  }
}

void build_time_major_taps(DelayTaps& D, const float* w, std::size_t n_pre, std::size_t n_post,
                           std::size_t T) {
  const std::size_t K = D.window, Wd = D.width;
  D.stride = delay_raster_stride(K, T);
  D.gather_w.resize(n_pre * n_post * Wd);
  D.gather_at.resize(n_pre * n_post * Wd);
  D.group_off.clear();
  D.group_post.clear();
  D.group_w.clear();
  if (Wd == 1) {
    // Counting sort of the synapses into the groups (K − 1 − start)·n_pre + i.
    const std::size_t G = K * n_pre;
    D.group_off.assign(G + 1, 0);
    for (std::size_t k = 0; k < n_pre * n_post; ++k)
      ++D.group_off[(K - 1 - D.start[k]) * n_pre + k / n_post + 1];
    for (std::size_t g = 0; g < G; ++g) D.group_off[g + 1] += D.group_off[g];
    D.group_post.resize(n_pre * n_post);
    D.group_w.resize(n_pre * n_post);
    std::vector<std::uint32_t> fill(D.group_off.begin(), D.group_off.end() - 1);
    for (std::size_t k = 0; k < n_pre * n_post; ++k) {
      const std::uint32_t q = fill[(K - 1 - D.start[k]) * n_pre + k / n_post]++;
      D.group_post[q] = static_cast<std::uint32_t>(k % n_post);
      D.group_w[q] = w[k] * D.phi[k];
    }
    D.order_at.resize(n_pre * n_post);
    D.order_w.resize(n_pre * n_post);
    fill.assign(n_post, 0);
    for (std::size_t g = 0; g < G; ++g)
      for (std::uint32_t q = D.group_off[g]; q < D.group_off[g + 1]; ++q) {
        const std::uint32_t j = D.group_post[q];
        const std::size_t at = j * n_pre + fill[j]++;
        D.order_at[at] = static_cast<std::uint32_t>((g % n_pre) * D.stride + g / n_pre);
        D.order_w[at] = D.group_w[q];
      }
  } else {
    D.order_at.clear();
    D.order_w.clear();
  }
  for (std::size_t i = 0; i < n_pre; ++i)
    for (std::size_t j = 0; j < n_post; ++j) {
      const std::size_t k = i * n_post + j;
      for (std::size_t o = 0; o < Wd; ++o) {
        const std::size_t at = (o * n_post + j) * n_pre + i;
        D.gather_w[at] = w[k] * D.phi[k * Wd + o];
        D.gather_at[at] = static_cast<std::uint32_t>(i * D.stride + K - 1 - D.start[k] - o);
      }
    }
}

void fill_delay_raster(const DelayTaps& D, std::size_t n_pre, std::size_t T,
                       const std::uint32_t* off, const std::uint32_t* idx, const float* val,
                       DelayRaster& r) {
  const std::size_t P = D.stride, pad = D.window - 1;
  r.x.assign(n_pre * P, 0.0f);
  r.seen.assign(n_pre, 0);
  for (std::size_t t = 0; t < T; ++t)
    for (std::uint32_t e = off[t]; e < off[t + 1]; ++e) {
      r.x[idx[e] * P + pad + t] += val[e];
      r.seen[idx[e]] = 1;
    }
  r.rows.clear();
  for (std::size_t i = 0; i < n_pre; ++i)
    if (r.seen[i]) r.rows.push_back(static_cast<std::uint32_t>(i));
  r.counts.clear();
#if defined(__AVX512F__)
  if (D.order_at.empty()) return;
  r.counts.assign(n_pre * P, 0);
  for (std::size_t t = 0; t < T; ++t)
    for (std::uint32_t e = off[t]; e < off[t + 1]; ++e) {
      const float v = val[e];
      std::uint8_t& n = r.counts[idx[e] * P + pad + t];
      if (!(v >= 0.0f && v + n <= 255.0f && v == static_cast<float>(static_cast<int>(v)))) {
        r.counts.clear();  // not counts: the float raster's kernels
        return;
      }
      n = static_cast<std::uint8_t>(n + static_cast<int>(v));
    }
#endif
}

bool gather_pays(const DelayTaps& D, std::size_t events, std::size_t rows, std::size_t T) {
  if (!D.gather) return false;
  if (D.gather_always) return true;
  // A vectorised multiply-add per 16 steps of every row with events against a scattered one per
  // event.
  return 2 * events >= rows * (padded_steps(T) / 16);
}

void gather_delayed_currents(const DelayTaps& D, std::size_t n_post, std::size_t T,
                             const DelayRaster& r, AlignedVector<float>& scratch, float* cur) {
  const std::size_t n_pre = r.seen.size(), TV = padded_steps(T), nr = r.rows.size();
  scratch.assign(n_post * TV, 0.0f);
  float* out = scratch.data();
  const bool in_order = !D.group_off.empty();
#if defined(__AVX512F__)
  if (in_order && !r.counts.empty()) {
    for (std::size_t t0 = 0; t0 < TV; t0 += kTile)
      with_vectors(std::min(TV - t0, kTile) / 16, [&]<int V>() {
        std::size_t j = 0;
        for (; j + 2 <= n_post; j += 2)
          currents_counts<V, 2>(D, n_pre, r.counts.data(), j, t0, TV, out);
        if (j < n_post) currents_counts<V, 1>(D, n_pre, r.counts.data(), j, t0, TV, out);
      });
  } else if (in_order) {
    for (std::size_t t0 = 0; t0 < TV; t0 += kOrderTile) {
      const std::size_t V = std::min(TV - t0, kOrderTile) / 16;
      with_vectors(V, [&]<int Vc>() { currents_in_order<Vc>(D, n_pre, r, t0, TV, out); });
    }
  }
  for (std::size_t t0 = 0; t0 < TV && !in_order; t0 += kTile) {
    const std::size_t V = std::min(TV - t0, kTile) / 16;
    for (std::size_t q0 = 0; q0 < nr; q0 += kChunk) {
      const std::size_t q1 = std::min(nr, q0 + kChunk);
      with_vectors(V, [&]<int Vc>() { currents_tile<Vc>(D, n_pre, n_post, r, q0, q1, t0, TV, out); });
    }
  }
#else
  if (in_order) {
    for (std::size_t g = 0, G = D.window * n_pre; g < G; ++g) {
      const std::size_t i = g % n_pre;
      if (!r.seen[i]) continue;
      const float* __restrict p = r.x.data() + i * D.stride + g / n_pre;
      for (std::uint32_t e = D.group_off[g]; e < D.group_off[g + 1]; ++e) {
        float* __restrict o_j = out + D.group_post[e] * TV;
        const float w = D.group_w[e];
#pragma omp simd
        for (std::size_t t = 0; t < TV; ++t) o_j[t] += w * p[t];
      }
    }
  }
  for (std::size_t j = 0; j < n_post && !in_order; ++j)
    for (std::size_t o = 0; o < D.width; ++o) {
      const TapRun run = tap_run(D, n_pre, n_post, o, j);
      float* __restrict o_j = out + j * TV;
      for (std::size_t q = 0; q < nr; ++q) {
        const std::uint32_t i = r.rows[q];
        const float* __restrict p = r.x.data() + run.at[i];
        const float w = run.w[i];
#pragma omp simd
        for (std::size_t t = 0; t < TV; ++t) o_j[t] += w * p[t];
      }
    }
#endif
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t j = 0; j < n_post; ++j) cur[t * n_post + j] = out[j * TV + t];
}

void gather_delayed_correlation(const DelayTaps& D, std::size_t n_post, std::size_t T,
                                const DelayRaster& r, const float* g, AlignedVector<float>& scratch,
                                float* c) {
  const std::size_t n_pre = r.seen.size(), TV = padded_steps(T), nr = r.rows.size();
  // dL/dI neuron-major, zero past the last step.
  scratch.assign(n_post * TV, 0.0f);
  float* gj = scratch.data();
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t j = 0; j < n_post; ++j) gj[j * TV + t] = g[t * n_post + j];
#if defined(__AVX512F__)
  // Counts: all rows at once (their bytes stay in L2); floats: 48 rows at a time (in L1).
  const bool counts = !r.counts.empty() && D.width == 1;
  for (std::size_t t0 = 0; t0 < TV && counts; t0 += kTile) {
    const std::uint8_t* xb = r.counts.data() + t0;
    with_vectors(std::min(TV - t0, kTile) / 16, [&]<int V>() {
      correlation_tile<V>(D, n_pre, n_post, r, 0, nr, t0, TV, gj, c,
                          [xb](std::uint32_t at, int v) { return counts16(xb + at + 16 * v); });
    });
  }
  for (std::size_t t0 = 0; t0 < TV && !counts; t0 += kTile)
    for (std::size_t q0 = 0; q0 < nr; q0 += kChunk) {
      const std::size_t q1 = std::min(nr, q0 + kChunk);
      with_vectors((std::min(TV - t0, kTile)) / 16, [&]<int V>() {
        const float* xf = r.x.data() + t0;
        correlation_tile<V>(D, n_pre, n_post, r, q0, q1, t0, TV, gj, c, [xf](std::uint32_t at, int v) {
          return _mm512_loadu_ps(xf + at + 16 * v);
        });
      });
    }
#else
  const std::size_t S = n_pre * n_post;
  for (std::size_t j = 0; j < n_post; ++j)
    for (std::size_t o = 0; o < D.width; ++o) {
      const TapRun run = tap_run(D, n_pre, n_post, o, j);
      const float* __restrict g_j = gj + j * TV;
      for (std::size_t q = 0; q < nr; ++q) {
        const std::uint32_t i = r.rows[q];
        const float* __restrict p = r.x.data() + run.at[i];
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (std::size_t t = 0; t < TV; ++t) s += g_j[t] * p[t];
        c[o * S + i * n_post + j] += s;
      }
    }
#endif
}

}  // namespace volley::train::detail
