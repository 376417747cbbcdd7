#pragma once
// 64-byte aligned vector for structure-of-arrays state.
#include <cstddef>
#include <new>
#include <vector>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace volley {

template <class T, std::size_t Align = 64>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() noexcept = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U, Align>&) noexcept {}
  template <class U>
  struct rebind {
    using other = AlignedAllocator<U, Align>;
  };
  // Large arrays (synapse tables, state of big populations) are placed on 2 MiB boundaries and
  // offered to the kernel as transparent huge pages: random row access then misses the TLB
  // far less often.
  static constexpr std::size_t kHuge = std::size_t{2} << 20;
  static std::size_t alignment(std::size_t bytes) { return bytes >= 2 * kHuge ? kHuge : Align; }
  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    void* p = ::operator new(bytes, std::align_val_t(alignment(bytes)));
#if defined(__linux__) && !defined(VOLLEY_NO_HUGEPAGES)
    if (bytes >= 2 * kHuge) ::madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    ::operator delete(p, std::align_val_t(alignment(n * sizeof(T))));
  }
  friend bool operator==(const AlignedAllocator&, const AlignedAllocator&) { return true; }
};

template <class T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

}  // namespace volley
