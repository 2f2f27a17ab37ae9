#pragma once
// An allocator that keeps freed single-object blocks of one size for reuse, process-wide.
//
// For objects made once per request and larger than the general allocator's per-thread cache
// (glibc serves requests above 1,032 bytes from the arena's bins, and a request of 1 KiB or more
// first consolidates the arena's fast bins): with std::allocate_shared, the object and its
// control block come from here instead. The cache is a mutex-guarded stack of at most
// `kLimit` blocks per size; blocks beyond that go back to operator delete. It is never
// destroyed (blocks kept at exit stay reachable, so leak checkers do not report them), which
// also makes it safe for objects that outlive their creator.

#include <cstddef>
#include <mutex>
#include <new>
#include <vector>

namespace llmpool {

/** The shared stack of spare blocks of `Size` bytes (aligned for any fundamental type). */
template <size_t Size>
class BlockCache {
 public:
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Under sanitizers every block goes back to the allocator, so a use after free stays visible.
  static constexpr size_t kLimit = 0;
#else
  static constexpr size_t kLimit = 1024;
#endif

  static BlockCache& instance() {
    static auto* cache = new BlockCache();  // never destroyed: see the file comment
    return *cache;
  }

  void* take() {
    {
      std::lock_guard lock(mu_);
      if (!spares_.empty()) {
        void* block = spares_.back();
        spares_.pop_back();
        return block;
      }
    }
    return ::operator new(Size);
  }

  void give(void* block) noexcept {
    {
      std::lock_guard lock(mu_);
      if (spares_.size() < kLimit) {
        spares_.push_back(block);  // capacity reserved up front: never throws
        return;
      }
    }
    ::operator delete(block, Size);
  }

  size_t spareCount() {
    std::lock_guard lock(mu_);
    return spares_.size();
  }

 private:
  BlockCache() { spares_.reserve(kLimit); }

  std::mutex mu_;
  std::vector<void*> spares_;
};

/** Allocator for std::allocate_shared: single objects come from BlockCache, arrays from new. */
template <class T>
struct CachingAllocator {
  using value_type = T;

  CachingAllocator() = default;
  template <class U>
  CachingAllocator(const CachingAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    if (n == 1) return static_cast<T*>(BlockCache<sizeof(T)>::instance().take());
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }

  void deallocate(T* p, size_t n) noexcept {
    if (n == 1) {
      BlockCache<sizeof(T)>::instance().give(p);
    } else {
      ::operator delete(p, n * sizeof(T));
    }
  }

  template <class U>
  bool operator==(const CachingAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace llmpool
