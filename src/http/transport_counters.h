#pragma once
// Counters shared by the shards of one transport; updated from loop threads and from libcurl's
// socket callbacks, read by stats() from any thread.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "http/transport.h"

namespace llmpool::http {

struct TransportCounters;

/** One host's connections. Its address is stable for the transport's lifetime: libcurl keeps it
 *  as the close-socket callback's argument of every connection opened to the host. */
struct HostCounters {
  TransportCounters* total = nullptr;
  std::atomic<uint64_t> opened{0};
  std::atomic<uint64_t> closed{0};
  std::atomic<uint64_t> reused{0};
  std::atomic<uint64_t> active{0};  // requests added to curl and not finished
};

struct TransportCounters {
  std::atomic<uint64_t> requests_started{0};
  std::atomic<uint64_t> requests_completed{0};
  std::atomic<uint64_t> connections_opened{0};
  std::atomic<uint64_t> connections_closed{0};
  std::atomic<uint64_t> connections_reused{0};
  std::atomic<uint64_t> local_resource_failures{0};

  /** The counters of `host` (a hostKey), created on first use. */
  HostCounters& forHost(const std::string& host) {
    std::lock_guard lock(hosts_mu_);
    auto& slot = hosts_[host];
    if (!slot) {
      slot = std::make_unique<HostCounters>();
      slot->total = this;
    }
    return *slot;
  }

  TransportStats snapshot() const {
    TransportStats s;
    // Completed is read first (sequentially consistent loads): every request counted as completed
    // was counted as started before, so in_flight cannot underflow.
    s.requests_completed = requests_completed.load();
    s.requests_started = requests_started.load();
    s.connections_opened = connections_opened.load();
    s.connections_closed = connections_closed.load();
    s.connections_reused = connections_reused.load();
    s.local_resource_failures = local_resource_failures.load();
    s.in_flight =
        s.requests_started >= s.requests_completed ? s.requests_started - s.requests_completed : 0;
    std::lock_guard lock(hosts_mu_);
    for (const auto& [host, c] : hosts_) {
      HostConnectionStats h;
      h.host = host;
      const uint64_t closed = c->closed.load();
      h.opened = c->opened.load();
      h.open = h.opened >= closed ? h.opened - closed : 0;
      h.busy = std::min(h.open, c->active.load());
      h.idle = h.open - h.busy;
      h.reused = c->reused.load();
      s.hosts.push_back(std::move(h));
    }
    return s;
  }

 private:
  mutable std::mutex hosts_mu_;
  std::map<std::string, std::unique_ptr<HostCounters>> hosts_;  // guarded by hosts_mu_
};

}  // namespace llmpool::http
