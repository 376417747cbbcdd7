#pragma once
// A sense-reversing barrier for the simulation threads. Steps are short (microseconds), so
// threads spin on an atomic instead of sleeping in the kernel as OpenMP's barrier may do; after
// a bounded spin they yield, so oversubscribed machines still make progress.
#include <atomic>
#include <cstdint>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace volley::detail {

class SpinBarrier {
 public:
  explicit SpinBarrier(int threads) : threads_(threads), waiting_(threads) {}

  void wait() {
    const bool sense = sense_.load(std::memory_order_relaxed);
    if (waiting_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      waiting_.store(threads_, std::memory_order_relaxed);
      sense_.store(!sense, std::memory_order_release);
      return;
    }
    for (std::uint32_t spins = 0; sense_.load(std::memory_order_acquire) == sense; ++spins) {
      if (spins < 4096) {
#if defined(__x86_64__) || defined(__i386__)
        _mm_pause();
#endif
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  const int threads_;
  alignas(64) std::atomic<int> waiting_;
  alignas(64) std::atomic<bool> sense_{false};
};

}  // namespace volley::detail
