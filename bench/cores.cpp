// What two threads of one process can expect from this machine's two cores (issue 21, "Also"):
//   - divide: independent 32-bit integer divisions, as many as the divider takes (it is a
//     per-core unit), one thread alone against two threads at once on different CPUs. Two
//     separate cores run both as fast as one; two hardware threads of one core share the divider
//     and each gets half;
//   - rmw: random read-modify-writes over a private array per thread (0.5, 4 and 16 MiB): the
//     same comparison for work bound by the caches (shared between hardware threads of a core);
//   - ping-pong: the round trip of a cache line between the two threads (one atomic each way),
//     the least a step pays to hand spikes from one thread to the other;
//   - barrier: the simulator's spin barrier with no work between two waits.
// Each figure is the best of 5 passes; times per operation. Threads are pinned to CPUs 0 and 1
// where the system allows it.
// Usage: bench_cores [latency]   Prints one JSON object per measurement ("latency": only the
// ping-pong and the barrier, well under a second).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include "sim/spin_barrier.hpp"

namespace {

using Clock = std::chrono::steady_clock;

void pin(int cpu) {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
#else
  (void)cpu;
#endif
}

volatile std::uint32_t g_sink;

// ns per division; the dividends come from a cheap recurrence that does not wait for them, so
// the divider's throughput bounds the loop.
void divide(long n, std::uint32_t divisor) {
  std::uint32_t x = 123456789u, s = 0;
  for (long i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s += x / divisor;
  }
  g_sink = s;
}

void rmw(std::vector<float>& a, long n) {
  std::uint32_t x = 12345u;
  const std::size_t mask = a.size() - 1;  // a power of two
  float* d = a.data();
  for (long i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    d[(x >> 7) & mask] += 1.0f;
  }
}

// Best of 5 passes of f(thread) on `threads` threads (1 or 2), in ns per operation.
template <class F>
double best_ns(int threads, long ops, F f) {
  double best = 1e30;
  for (int pass = 0; pass < 5; ++pass) {
    const auto t0 = Clock::now();
    if (threads == 1) {
      f(0);
    } else {
      std::thread other([&] {
        pin(1);
        f(1);
      });
      f(0);
      other.join();
    }
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / ops;
    if (ns < best) best = ns;
  }
  return best;
}

void report(const char* what, const char* detail, double one, double two) {
  std::printf(
      "{\"measure\": \"%s\"%s, \"ns_one_thread\": %.3f, \"ns_two_threads\": %.3f, "
      "\"two_thread_slowdown\": %.2f}\n",
      what, detail, one, two, two / one);
}

}  // namespace

int main(int argc, char** argv) {
  pin(0);
  const bool all = argc < 2 || std::string_view(argv[1]) != "latency";
  if (all) {
    const long n = 50'000'000;
    const double one = best_ns(1, n, [&](int) { divide(n, 1000003u); });
    const double two = best_ns(2, n, [&](int) { divide(n, 1000003u); });
    report("divide", "", one, two);
  }
  for (const std::size_t kib : {512u, 4096u, 16384u}) {
    if (!all) break;
    const long n = 40'000'000;
    std::vector<float> a(kib * 256, 0.0f), b(kib * 256, 0.0f);
    rmw(a, n / 4);
    rmw(b, n / 4);
    const double one = best_ns(1, n, [&](int t) { rmw(t ? b : a, n); });
    const double two = best_ns(2, n, [&](int t) { rmw(t ? b : a, n); });
    char detail[64];
    std::snprintf(detail, sizeof detail, ", \"kib_per_thread\": %zu", kib);
    report("rmw", detail, one, two);
  }
  {
    const int n = 200'000;
    alignas(64) std::atomic<int> ping{0};
    alignas(64) std::atomic<int> pong{0};
    double best = 1e30;
    for (int pass = 0; pass < 5; ++pass) {
      ping = 0;
      pong = 0;
      std::thread other([&] {
        pin(1);
        for (int i = 1; i <= n; ++i) {
          while (ping.load(std::memory_order_acquire) != i) {
          }
          pong.store(i, std::memory_order_release);
        }
      });
      const auto t0 = Clock::now();
      for (int i = 1; i <= n; ++i) {
        ping.store(i, std::memory_order_release);
        while (pong.load(std::memory_order_acquire) != i) {
        }
      }
      const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n;
      other.join();
      if (ns < best) best = ns;
    }
    std::printf("{\"measure\": \"ping_pong\", \"ns_round_trip\": %.1f}\n", best);
  }
  {
    const int n = 200'000;
    double best = 1e30;
    for (int pass = 0; pass < 5; ++pass) {
      volley::detail::SpinBarrier barrier(2);
      std::thread other([&] {
        pin(1);
        for (int i = 0; i < n; ++i) barrier.wait();
      });
      const auto t0 = Clock::now();
      for (int i = 0; i < n; ++i) barrier.wait();
      const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n;
      other.join();
      if (ns < best) best = ns;
    }
    std::printf("{\"measure\": \"spin_barrier\", \"ns_per_wait\": %.1f}\n", best);
  }
  return 0;
}
