#pragma once
// The one FFT in volley: Eigen's FFT module (kissfft backend, double precision), behind two
// functions, for the spectra in analysis (population-rate PSD) and the signals in ear (pink
// noise). Header-only and internal: a library that includes it needs Eigen's headers at build
// time only (nothing to link, nothing to ship).
//
// kissfft's butterflies are specialised for the factors 2, 3, 4 and 5; a larger prime factor p
// costs O(N p). Lengths with a prime factor above kBluesteinAbove are therefore transformed by
// Bluestein's chirp-z reduction to power-of-two transforms (also done by Eigen), so every N
// costs O(N log N).
#include <complex>
#include <cstdint>
#include <numbers>
#include <span>
#include <unsupported/Eigen/FFT>
#include <vector>

namespace volley::detail {

inline constexpr std::size_t kBluesteinAbove = 64;

// The largest prime factor of n >= 1 (1 for n = 1).
inline std::size_t largest_prime_factor(std::size_t n) {
  std::size_t largest = 1;
  for (std::size_t p = 2; p * p <= n; ++p)
    while (n % p == 0) {
      largest = p;
      n /= p;
    }
  return n > 1 ? n : largest;
}

// Unscaled transforms of any length: forward X_k = sum_n x_n exp(-2 pi i k n / N), inverse
// x_n = sum_k X_k exp(+2 pi i k n / N) (no division by N, as FFTW and kissfft define them).
inline std::vector<std::complex<double>> fft(std::span<const std::complex<double>> x, bool inverse = false) {
  using cd = std::complex<double>;
  const std::size_t n = x.size();
  if (n <= 1) return {x.begin(), x.end()};  // (kissfft's plan does not handle N = 1)
  std::vector<cd> out(n);
  Eigen::FFT<double> engine;
  engine.SetFlag(Eigen::FFT<double>::Unscaled);
  if (largest_prime_factor(n) <= kBluesteinAbove) {
    if (inverse)
      engine.inv(out.data(), x.data(), static_cast<Eigen::Index>(n));
    else
      engine.fwd(out.data(), x.data(), static_cast<Eigen::Index>(n));
    return out;
  }
  // Bluestein: with kn = (k^2 + n^2 - (k - n)^2) / 2 and the chirp w_m = exp(s i pi m^2 / N)
  // (s = -1 forward, +1 inverse), X_k = w_k sum_n (x_n w_n) conj(w_{k-n}), a convolution,
  // computed as a circular one of power-of-two length M >= 2N - 1.
  std::size_t m = 1;
  while (m < 2 * n - 1) m <<= 1;
  const double sign = inverse ? 1.0 : -1.0;
  std::vector<cd> chirp(n);
  for (std::size_t k = 0; k < n; ++k) {
    // k^2 mod 2N keeps the phase argument small and exact.
    const std::uint64_t k2 = (static_cast<std::uint64_t>(k) * k) % (2 * static_cast<std::uint64_t>(n));
    chirp[k] = std::polar(1.0, sign * std::numbers::pi * static_cast<double>(k2) / static_cast<double>(n));
  }
  std::vector<cd> a(m), b(m), fa(m), fb(m);
  for (std::size_t k = 0; k < n; ++k) a[k] = x[k] * chirp[k];
  b[0] = std::conj(chirp[0]);
  for (std::size_t k = 1; k < n; ++k) b[k] = b[m - k] = std::conj(chirp[k]);
  const auto mi = static_cast<Eigen::Index>(m);
  engine.fwd(fa.data(), a.data(), mi);
  engine.fwd(fb.data(), b.data(), mi);
  for (std::size_t k = 0; k < m; ++k) fa[k] *= fb[k];
  engine.inv(a.data(), fa.data(), mi);
  const double scale = 1.0 / static_cast<double>(m);
  for (std::size_t k = 0; k < n; ++k) out[k] = chirp[k] * a[k] * scale;
  return out;
}

}  // namespace volley::detail
