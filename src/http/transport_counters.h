#pragma once
// Counters shared by the shards of one transport; updated from loop threads and from libcurl's
// socket callbacks, read by stats() from any thread.

#include <atomic>
#include <cstdint>

#include "http/transport.h"

namespace llmpool::http {

struct TransportCounters {
  std::atomic<uint64_t> requests_started{0};
  std::atomic<uint64_t> requests_completed{0};
  std::atomic<uint64_t> connections_opened{0};
  std::atomic<uint64_t> connections_closed{0};
  std::atomic<uint64_t> connections_reused{0};

  TransportStats snapshot() const {
    TransportStats s;
    // Completed is read first (sequentially consistent loads): every request counted as completed
    // was counted as started before, so in_flight cannot underflow.
    s.requests_completed = requests_completed.load();
    s.requests_started = requests_started.load();
    s.connections_opened = connections_opened.load();
    s.connections_closed = connections_closed.load();
    s.connections_reused = connections_reused.load();
    s.in_flight =
        s.requests_started >= s.requests_completed ? s.requests_started - s.requests_completed : 0;
    return s;
  }
};

}  // namespace llmpool::http
