#include "metrics/histogram.h"

#include <algorithm>
#include <cmath>

namespace llmpool::metrics {

namespace {

// The bounds in nanoseconds, computed once, for exact integer comparisons in observe().
const std::array<int64_t, Histogram::kBounds>& boundsNs() {
  static const std::array<int64_t, Histogram::kBounds> bounds = [] {
    std::array<int64_t, Histogram::kBounds> b{};
    for (size_t i = 0; i < Histogram::kBounds; ++i) {
      b[i] = std::llround(Histogram::kBoundsSeconds[i] * 1e9);
    }
    return b;
  }();
  return bounds;
}

}  // namespace

void Histogram::observe(Duration value) {
  const int64_t ns = std::max<int64_t>(value.count(), 0);
  const auto& bounds = boundsNs();
  const auto index = static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), ns) -
                                         bounds.begin());  // kBounds = overflow
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  int64_t seen = max_ns_.load(std::memory_order_relaxed);
  while (ns > seen && !max_ns_.compare_exchange_weak(seen, ns, std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  for (size_t i = 0; i <= kBounds; ++i) {
    s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    s.count += s.buckets[i];
  }
  s.sum = Duration(sum_ns_.load(std::memory_order_relaxed));
  s.max = Duration(max_ns_.load(std::memory_order_relaxed));
  return s;
}

uint64_t Histogram::Snapshot::cumulative(size_t i) const {
  uint64_t total = 0;
  for (size_t k = 0; k <= std::min(i, kBounds); ++k) total += buckets[k];
  return total;
}

Duration Histogram::Snapshot::percentile(double q) const {
  if (count == 0) return Duration::zero();
  q = std::clamp(q, 0.0, 1.0);
  const auto& bounds = boundsNs();
  // Rank of the wanted sample, 1-based, so that q = 0 means the first sample and q = 1 the last.
  const double rank = std::max(1.0, q * static_cast<double>(count));
  uint64_t before = 0;
  for (size_t i = 0; i <= kBounds; ++i) {
    if (buckets[i] == 0) continue;
    if (static_cast<double>(before + buckets[i]) >= rank) {
      const double lower = i == 0 ? 0.0 : static_cast<double>(bounds[i - 1]);
      // The overflow bucket has no upper bound: the largest sample seen is the best one.
      const double upper = i == kBounds ? std::max(lower, static_cast<double>(max.count()))
                                        : static_cast<double>(bounds[i]);
      const double fraction =
          (rank - static_cast<double>(before)) / static_cast<double>(buckets[i]);
      const auto estimate = static_cast<int64_t>(lower + (upper - lower) * fraction);
      return Duration(std::min<int64_t>(estimate, max.count()));
    }
    before += buckets[i];
  }
  return max;
}

}  // namespace llmpool::metrics
