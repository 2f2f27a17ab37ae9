#pragma once
// The gateway's own Prometheus families (llmpool_gateway_*), appended after the pool's in
// /metrics. Declared in one table (gateway_metrics.cc) so names, types and help stay together.
// Labels are bounded: route is an enum, status a fixed set of slots, reason an enum.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/key_ring.h"
#include "llmpool/clock.h"
#include "metrics/histogram.h"
#include "server/server_options.h"

namespace llmpool::gateway {

enum class Route {
  ChatCompletions,
  Messages,
  Embeddings,
  Models,
  Metrics,
  Healthz,
  Readyz,
  CountTokens,  // /v1/messages/count_tokens, answered by the gateway itself
  Responses,    // /v1/responses (OpenAI's Responses API, served statelessly)
  Other,        // unknown paths, wrong methods
};
inline constexpr std::size_t kRouteCount = 10;
std::string_view routeName(Route route);

/** The model routes: each has a duration histogram (and counts as in flight while served); the
 *  streaming ones a time-to-first-chunk histogram and a stream counter too. */
inline constexpr std::array kTimedRoutes = {Route::ChatCompletions, Route::Messages,
                                            Route::Embeddings, Route::Responses};
inline constexpr std::array kStreamedRoutes = {Route::ChatCompletions, Route::Messages,
                                               Route::Responses};

/** The reply cache's size, for the gauges (zero without a cache). */
struct CacheGauges {
  size_t entries = 0;
  size_t bytes = 0;
};

/** Thread-safe; every update is a relaxed atomic (the hot path takes no lock). */
class GatewayMetrics {
 public:
  void requestStarted() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  /** A request finished (response complete, failed, or the client went away: status 499). */
  void requestFinished(Route route, unsigned status, Duration took, bool streamed);
  void timeToFirstChunk(Route route, Duration ttft);
  void authFailure(AuthFailure reason);
  void clientDisconnect() { disconnects_.fetch_add(1, std::memory_order_relaxed); }
  void reload(bool ok);
  void setConfigGeneration(uint64_t generation) { generation_.store(generation); }
  void oldPoolsRetiring(int delta) { retiring_.fetch_add(delta, std::memory_order_relaxed); }
  /** A reply cache lookup (hit or miss), and entries it evicted to make room. */
  void cacheLookup(bool hit) { (hit ? cache_hits_ : cache_misses_).fetch_add(1); }
  void cacheEvicted(size_t n) { cache_evictions_.fetch_add(n, std::memory_order_relaxed); }

  /** Appends the families; `server` gives the connection counters. */
  void write(std::string& out, const server::ServerStats& server, CacheGauges cache = {}) const;

  uint64_t requests(Route route, unsigned status) const;
  uint64_t authFailures(AuthFailure reason) const;
  int64_t inFlight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::array<unsigned, 16> kStatuses = {200, 400, 401, 403, 404, 405, 408, 413,
                                                         422, 429, 499, 500, 502, 503, 504, 529};
  static constexpr std::size_t kStatusSlots = kStatuses.size() + 1;  // + "other"
  static std::size_t slot(unsigned status);

  std::array<std::array<std::atomic<uint64_t>, kStatusSlots>, kRouteCount> requests_{};
  std::array<std::atomic<uint64_t>, kRouteCount> streams_{};
  std::array<metrics::Histogram, kTimedRoutes.size()> duration_;
  std::array<metrics::Histogram, kStreamedRoutes.size()> ttft_;
  std::array<std::atomic<uint64_t>, kAuthFailureCount> auth_failures_{};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> disconnects_{0};
  std::atomic<uint64_t> reloads_ok_{0};
  std::atomic<uint64_t> reloads_failed_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> retiring_{0};
  std::atomic<uint64_t> cache_hits_{0};
  std::atomic<uint64_t> cache_misses_{0};
  std::atomic<uint64_t> cache_evictions_{0};
};

}  // namespace llmpool::gateway
