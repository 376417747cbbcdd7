#include "train/delay_gather.hpp"

#include <algorithm>

#include "train/net_kernels.hpp"

namespace volley::train::detail {

namespace {

// Rows per pass: their raster (kChunk × stride floats, 24 KB for 100 steps) stays in L1 while
// every neuron reads it; a neuron's sums are kept in `scratch` between passes.
constexpr std::size_t kChunk = 48;
// Steps per time tile: up to 8 vectors of 16 (the register budget of the kernels).
constexpr std::size_t kTile = 128;

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
// raster added to what `out` (n_post × TV) holds (or to zero for the first pass).
template <int V>
void currents_tile(const DelayTaps& D, std::size_t n_pre, std::size_t n_post, const DelayRaster& r,
                   std::size_t q0, std::size_t q1, std::size_t t0, std::size_t TV, float* out) {
  const float* x = r.x.data() + t0;
  const std::uint32_t* rows = r.rows.data();
  for (std::size_t j = 0; j < n_post; ++j) {
    float* o_j = out + j * TV + t0;
    __m512 a[V];
    for (int v = 0; v < V; ++v) a[v] = q0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(o_j + 16 * v);
    for (std::size_t o = 0; o < D.width; ++o) {
      const TapRun run = tap_run(D, n_pre, n_post, o, j);
      for (std::size_t q = q0; q < q1; ++q) {
        const std::uint32_t i = rows[q];
        const float* p = x + run.at[i];
        const __m512 w = _mm512_set1_ps(run.w[i]);
        for (int v = 0; v < V; ++v) a[v] = _mm512_fmadd_ps(w, _mm512_loadu_ps(p + 16 * v), a[v]);
      }
    }
    for (int v = 0; v < V; ++v) _mm512_storeu_ps(o_j + 16 * v, a[v]);
  }
}

// Correlations of one time tile: c_ij(o) += Σ_t g_j(t)·x_i(t − shift) over the tile, rows
// [q0, q1), with g neuron-major (n_post × TV).
template <int V>
void correlation_tile(const DelayTaps& D, std::size_t n_pre, std::size_t n_post,
                      const DelayRaster& r, std::size_t q0, std::size_t q1, std::size_t t0,
                      std::size_t TV, const float* g, float* c) {
  const float* x = r.x.data() + t0;
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
        const float* p = x + run.at[i];
        __m512 s = _mm512_mul_ps(gv[0], _mm512_loadu_ps(p));
        for (int v = 1; v < V; ++v) s = _mm512_fmadd_ps(gv[v], _mm512_loadu_ps(p + 16 * v), s);
        return s;
      };
      std::size_t q = q0;
      for (; q + 16 <= q1; q += 16) {
        __m512 a[16];
        for (std::size_t L = 0; L < 16; ++L) a[(L >> 2) + 4 * (L & 3)] = dot(rows[q + L]);
        _mm512_store_ps(sums, sum16(a));
        for (std::size_t L = 0; L < 16; ++L) c_oj[rows[q + L] * n_post] += sums[L];
      }
      for (; q < q1; ++q) c_oj[rows[q] * n_post] += hsum(dot(rows[q]));
    }
  }
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

void build_time_major_taps(DelayTaps& D, const float* w, std::size_t n_pre, std::size_t n_post,
                           std::size_t T) {
  const std::size_t K = D.window, Wd = D.width;
  D.stride = delay_raster_stride(K, T);
  D.gather_w.resize(n_pre * n_post * Wd);
  D.gather_at.resize(n_pre * n_post * Wd);
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
}

bool gather_pays(const DelayTaps& D, std::size_t events, std::size_t rows, std::size_t T) {
  if (!D.gather) return false;
  if (D.gather_always) return true;
  // A vectorised multiply-add per 16 steps of every row with events against a scattered one per
  // event.
  return 2 * events >= rows * (padded_steps(T) / 16);
}

void gather_delayed_currents(const DelayTaps& D, std::size_t n_post, std::size_t T,
                             const DelayRaster& r, std::vector<float>& scratch, float* cur) {
  const std::size_t n_pre = r.seen.size(), TV = padded_steps(T), nr = r.rows.size();
  scratch.assign(n_post * TV, 0.0f);
  float* out = scratch.data();
#if defined(__AVX512F__)
  for (std::size_t t0 = 0; t0 < TV; t0 += kTile)
    for (std::size_t q0 = 0; q0 < nr; q0 += kChunk) {
      const std::size_t q1 = std::min(nr, q0 + kChunk);
      with_vectors((std::min(TV - t0, kTile)) / 16, [&]<int V>() {
        currents_tile<V>(D, n_pre, n_post, r, q0, q1, t0, TV, out);
      });
    }
#else
  for (std::size_t j = 0; j < n_post; ++j)
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
                                const DelayRaster& r, const float* g, std::vector<float>& scratch,
                                float* c) {
  const std::size_t n_pre = r.seen.size(), TV = padded_steps(T), nr = r.rows.size();
  // dL/dI neuron-major, zero past the last step.
  scratch.assign(n_post * TV, 0.0f);
  float* gj = scratch.data();
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t j = 0; j < n_post; ++j) gj[j * TV + t] = g[t * n_post + j];
#if defined(__AVX512F__)
  for (std::size_t t0 = 0; t0 < TV; t0 += kTile)
    for (std::size_t q0 = 0; q0 < nr; q0 += kChunk) {
      const std::size_t q1 = std::min(nr, q0 + kChunk);
      with_vectors((std::min(TV - t0, kTile)) / 16, [&]<int V>() {
        correlation_tile<V>(D, n_pre, n_post, r, q0, q1, t0, TV, gj, c);
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
