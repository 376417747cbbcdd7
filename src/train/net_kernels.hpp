#pragma once
// Kernels shared by the training network's time-major pass (net.cpp) and its event-driven
// layers (event_layer.cpp): the view of a layer's input events, the row kernels over dense or
// CSR weights, and the compaction of spikes and active sets.
#include <cmath>
#include <cstddef>
#include <cstdint>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "volley/train/net.hpp"

namespace volley::train {

// A view of one layer's input events (the data for layer 0, the spikes of the layer below
// otherwise).
struct Net::Events {
  const std::uint32_t* off;
  const std::uint32_t* idx;
  const float* val;
};

namespace detail {

#if defined(__AVX512F__)
// The sum of a vector's 16 lanes, in a fixed order (halves added pairwise). Written out because
// GCC 12's _mm512_reduce_add_ps and _mm512_castps512_ps256 start from an undefined vector, which
// -Wmaybe-uninitialized reports at link time (LTO).
inline float hsum(__m512 v) {
  const __m512 h8 = _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, 0x4E);  // swap 256-bit halves
  const __m256 s8 = _mm256_castpd_ps(
      _mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(_mm512_add_ps(v, h8)), 0));
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}
#endif

// ---- row kernels over dense or CSR weights ----

inline void add_row(const WeightLayout& L, const float* w, std::uint32_t i, float v, float* out) {
  if (L.dense) {
    const float* row = w + static_cast<std::size_t>(i) * L.n_post;
    const std::size_t n = L.n_post;
#pragma GCC ivdep
    for (std::size_t j = 0; j < n; ++j) out[j] += v * row[j];
  } else {
    const std::uint32_t b = L.row_ptr[i], e = L.row_ptr[i + 1];
    const std::uint32_t* cols = L.cols.data();
    // The columns of a row are distinct, so the scatter has no conflicts.
#pragma GCC ivdep
    for (std::uint32_t k = b; k < e; ++k) out[cols[k]] += v * w[k];
  }
}

inline void acc_row(const WeightLayout& L, float* gw, std::uint32_t i, float v, const float* g) {
  if (L.dense) {
    float* row = gw + static_cast<std::size_t>(i) * L.n_post;
    const std::size_t n = L.n_post;
#pragma GCC ivdep
    for (std::size_t j = 0; j < n; ++j) row[j] += v * g[j];
  } else {
    const std::uint32_t b = L.row_ptr[i], e = L.row_ptr[i + 1];
    const std::uint32_t* cols = L.cols.data();
#if defined(__AVX512F__)
    // Hardware gathers: GCC's own vectorisation of this loop builds each vector from 16 scalar
    // loads and inserts.
    const __m512 vv = _mm512_set1_ps(v);
    std::uint32_t k = b;
    for (; k + 16 <= e; k += 16) {
      const __m512 gk = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xFFFF, _mm512_loadu_si512(cols + k), g, 4);
      _mm512_storeu_ps(gw + k, _mm512_fmadd_ps(vv, gk, _mm512_loadu_ps(gw + k)));
    }
    if (k < e) {
      const auto m = static_cast<__mmask16>((1u << (e - k)) - 1u);
      const __m512 gk = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m,
                                                 _mm512_maskz_loadu_epi32(m, cols + k), g, 4);
      _mm512_mask_storeu_ps(gw + k, m, _mm512_fmadd_ps(vv, gk, _mm512_maskz_loadu_ps(m, gw + k)));
    }
#else
#pragma GCC ivdep
    for (std::uint32_t k = b; k < e; ++k) gw[k] += v * g[cols[k]];
#endif
  }
}

inline float dot_row(const WeightLayout& L, const float* w, std::uint32_t i, const float* g) {
  float s = 0.0f;
  if (L.dense) {
    const float* row = w + static_cast<std::size_t>(i) * L.n_post;
    const std::size_t n = L.n_post;
    // Long rows: a vectorised (lane-wise) sum, a fixed order for a given build, so still
    // deterministic. Short rows (a readout's 10 or 20 weights): masked vectors with AVX-512,
    // a plain loop otherwise (which beats the vectorised loop's epilogue there).
    if (n >= 32) {
#pragma omp simd reduction(+ : s)
      for (std::size_t j = 0; j < n; ++j) s += row[j] * g[j];
    } else {
#if defined(__AVX512F__)
      // One or two masked vectors and one reduction: the plain loop below is a chain of n
      // dependent FMAs (about 4n cycles), paid once per active pair of the layer below.
      __m512 acc = _mm512_setzero_ps();
      for (std::size_t j = 0; j < n; j += 16) {
        const __mmask16 m = n - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - j)) - 1u);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, row + j), _mm512_maskz_loadu_ps(m, g + j), acc);
      }
      s = hsum(acc);
#else
      for (std::size_t j = 0; j < n; ++j) s += row[j] * g[j];
#endif
    }
  } else {
    const std::uint32_t b = L.row_ptr[i], e = L.row_ptr[i + 1];
    const std::uint32_t* cols = L.cols.data();
#pragma omp simd reduction(+ : s)
    for (std::uint32_t k = b; k < e; ++k) s += w[k] * g[cols[k]];
  }
  return s;
}
// out[a] = dot_row(L, w, idx ? idx[a] : a, g) for a < n, the same sums. Short dense rows (a
// readout's) with AVX-512: the mask and g's vector made once, and the loop inline.
inline void dot_rows(const WeightLayout& L, const float* w, const std::uint32_t* idx, std::size_t n,
                     const float* g, float* out) {
#if defined(__AVX512F__)
  if (L.dense && L.n_post <= 16) {
    const std::size_t m = L.n_post;
    const __mmask16 mask = static_cast<__mmask16>((1u << m) - 1u);
    const __m512 gv = _mm512_maskz_loadu_ps(mask, g), zero = _mm512_setzero_ps();
    for (std::size_t a = 0; a < n; ++a) {
      const float* row = w + static_cast<std::size_t>(idx ? idx[a] : a) * m;
      out[a] = hsum(_mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, row), gv, zero));
    }
    return;
  }
#endif
  for (std::size_t a = 0; a < n; ++a)
    out[a] = dot_row(L, w, idx ? idx[a] : static_cast<std::uint32_t>(a), g);
}

// Compaction: appends j (and x[j], and y[j] if y) for every j < n with keep(x[j]) to the
// outputs (as first + j), which must have room for n + 16 entries; returns how many were kept. With AVX-512 a
// block of 16 neurons is one compare and one in-register compress (full-width stores, hence
// the slack); otherwise a branch-free scalar loop. Both give the same result.
enum class Keep { nonzero, inside };

template <Keep K>
std::size_t compact(const float* x, const float* y, std::size_t n, float window,
                    std::uint32_t* out_i, float* out_x, float* out_y, std::uint32_t first = 0) {
  std::size_t cnt = 0, j = 0;
#if defined(__AVX512F__)
  const __m512 w = _mm512_set1_ps(window);
  const __m512 zero = _mm512_setzero_ps();
  __m512i idx = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                 _mm512_set1_epi32(static_cast<int>(first)));
  const __m512i sixteen = _mm512_set1_epi32(16);
  for (; j < n; j += 16) {
    const __mmask16 tail = n - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - j)) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(tail, x + j);
    __mmask16 m;
    if constexpr (K == Keep::nonzero) {
      m = _mm512_mask_cmp_ps_mask(tail, v, zero, _CMP_NEQ_UQ);
    } else {
      m = _mm512_mask_cmp_ps_mask(tail, _mm512_abs_ps(v), w, _CMP_LT_OQ);
    }
    if (m) {
      _mm512_storeu_si512(out_i + cnt, _mm512_maskz_compress_epi32(m, idx));
      _mm512_storeu_ps(out_x + cnt, _mm512_maskz_compress_ps(m, v));
      if (y) _mm512_storeu_ps(out_y + cnt, _mm512_maskz_compress_ps(m, _mm512_maskz_loadu_ps(tail, y + j)));
      cnt += static_cast<std::size_t>(__builtin_popcount(m));
    }
    idx = _mm512_add_epi32(idx, sixteen);
  }
#else
  for (; j < n; ++j) {
    out_i[cnt] = first + static_cast<std::uint32_t>(j);
    out_x[cnt] = x[j];
    if (y) out_y[cnt] = y[j];
    if constexpr (K == Keep::nonzero) {
      cnt += x[j] != 0.0f;
    } else {
      cnt += std::fabs(x[j]) < window;
    }
  }
#endif
  return cnt;
}

}  // namespace detail
}  // namespace volley::train
