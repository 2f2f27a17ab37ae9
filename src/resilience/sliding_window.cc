#include "resilience/sliding_window.h"

#include <algorithm>

namespace llmpool::resilience {

SlidingWindow::SlidingWindow(Duration window, size_t buckets)
    : width_(std::max<Duration::rep>(
          window.count() / static_cast<Duration::rep>(std::max<size_t>(buckets, 1)), 1)),
      ring_(std::max<size_t>(buckets, 1)),
      head_epoch_(0) {}

void SlidingWindow::add(MonotonicTime now, uint64_t first, uint64_t second) {
  advance(now);
  WindowCounts& bucket = ring_[static_cast<size_t>(head_epoch_) % ring_.size()];
  bucket.first += first;
  bucket.second += second;
  sum_.first += first;
  sum_.second += second;
}

WindowCounts SlidingWindow::totals(MonotonicTime now) {
  advance(now);
  return sum_;
}

void SlidingWindow::clear() {
  std::fill(ring_.begin(), ring_.end(), WindowCounts{});
  sum_ = {};
}

void SlidingWindow::advance(MonotonicTime now) {
  // Steady-clock time is non-negative, so the epoch is too and `% size` is well defined.
  const int64_t epoch = now.time_since_epoch().count() / width_.count();
  if (!started_) {
    started_ = true;
    head_epoch_ = epoch;
    return;
  }
  if (epoch <= head_epoch_) return;  // same bucket, or time went backwards: keep the newest
  const auto steps = static_cast<uint64_t>(epoch - head_epoch_);
  if (steps >= ring_.size()) {
    clear();  // the whole window is older than `window`
  } else {
    // Subtract-on-evict: each bucket we move into held the oldest data; drop it from the sums.
    for (uint64_t i = 1; i <= steps; ++i) {
      WindowCounts& bucket =
          ring_[static_cast<size_t>(head_epoch_ + static_cast<int64_t>(i)) % ring_.size()];
      sum_.first -= bucket.first;
      sum_.second -= bucket.second;
      bucket = {};
    }
  }
  head_epoch_ = epoch;
}

}  // namespace llmpool::resilience
