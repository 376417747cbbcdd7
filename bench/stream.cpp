// The machine's memory bandwidth for one thread, STREAM-style (McCalpin): copy, scale, add and
// triad over arrays far larger than the caches, plus a read-only sum, each the best of 7 passes.
// Bytes counted as STREAM counts them (reads + writes, no write-allocate traffic).
// Usage: bench_stream [MiB per array, default 512]   Prints one "name GB/s" line per kernel.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

template <class Kernel>
double best_seconds(Kernel kernel) {
  double best = 1e30;
  for (int pass = 0; pass < 7; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    kernel();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 512;
  const std::size_t n = mib * 1024 * 1024 / sizeof(double);
  std::vector<double> a(n, 1.0), b(n, 2.0), c(n, 0.0);
  const double q = 3.0;
  double* __restrict pa = a.data();
  double* __restrict pb = b.data();
  double* __restrict pc = c.data();
  const double bytes = static_cast<double>(n * sizeof(double));
  auto report = [](const char* name, double moved, double seconds) {
    std::printf("%s %.2f GB/s\n", name, moved / seconds / 1e9);
  };
  report("copy", 2 * bytes, best_seconds([&] { for (std::size_t i = 0; i < n; ++i) pc[i] = pa[i]; }));
  report("scale", 2 * bytes, best_seconds([&] { for (std::size_t i = 0; i < n; ++i) pb[i] = q * pc[i]; }));
  report("add", 3 * bytes, best_seconds([&] { for (std::size_t i = 0; i < n; ++i) pc[i] = pa[i] + pb[i]; }));
  report("triad", 3 * bytes, best_seconds([&] { for (std::size_t i = 0; i < n; ++i) pa[i] = pb[i] + q * pc[i]; }));
  // Eight independent partial sums so the read is not bound by one addition chain.
  double sums[8] = {};
  report("read", bytes, best_seconds([&] {
    for (std::size_t i = 0; i + 8 <= n; i += 8)
      for (int k = 0; k < 8; ++k) sums[k] += pa[i + static_cast<std::size_t>(k)];
  }));
  double total = 0;
  for (double s : sums) total += s;
  std::fprintf(stderr, "checksum %g\n", total + pa[n / 2] + pb[n / 3] + pc[n / 5]);
  return 0;
}
