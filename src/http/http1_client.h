#pragma once
// The built-in HTTP/1.1 client of one transport shard. It carries the requests libcurl is not
// needed for (plain http:// to an IP literal; see http1_endpoint.h) on the shard's own epoll loop,
// with the same contract as the libcurl path (transport.h): the same callbacks, timeouts, limits
// and counters. What it saves per request is libcurl's own work: the connection-liveness poll()
// calls before each reuse, URL re-parsing and the linear reuse lookup (docs/transport.md).
//
// Connections: one request at a time each (no pipelining); per host at most the shard's share of
// max_connections_per_host, per shard at most max_total_connections. An idle connection stays in
// the epoll set, so a peer's close is seen when it happens instead of being probed before reuse.
// Requests beyond the limits wait per host, first come first served.
//
// Everything here runs on the loop thread; nothing is thread-safe.

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/executor.h"
#include "common/node_cache.h"
#include "http/curl_transport_options.h"
#include "http/http1_endpoint.h"
#include "http/http1_response_parser.h"
#include "http/transport.h"
#include "http/transport_counters.h"
#include "http/unique_fd.h"
#include "llmpool/clock.h"
#include "llmpool/error.h"

namespace llmpool::http {

class Http1Client {
 public:
  /** What the client needs from the loop that runs it. */
  class Loop {
   public:
    virtual ~Loop() = default;
    virtual TimerId addLoopTimer(MonotonicTime when, std::function<void()> fn) = 0;
    virtual void cancelLoopTimer(TimerId id) = 0;
    /** Counts the request as completed and runs its on_complete. */
    virtual void deliver(ResponseCallbacks& callbacks, Result<HttpResponse> result) = 0;
  };

  /** `epoll_fd` is the loop's epoll set; sockets are registered with
   *  `data.u64 = fd | generation << 32` (generation never 0), which tells them from libcurl's. */
  Http1Client(const CurlTransportOptions& options, TransportCounters& counters, int epoll_fd,
              Loop& loop);
  /** Closes every connection. Requests still in flight are dropped without a completion: call
   *  failAll() first. */
  ~Http1Client();
  Http1Client(const Http1Client&) = delete;
  Http1Client& operator=(const Http1Client&) = delete;

  /** Starts the request when this client carries it (then `request` and `callbacks` are moved
   *  from and true is returned); false leaves both untouched for libcurl. */
  bool tryStart(RequestId id, HttpRequest& request, ResponseCallbacks& callbacks);
  /** Ends request `id` with `error`; false when it is not one of this client's requests. */
  bool cancel(RequestId id, const Error& error);
  /** An epoll event for one of the client's sockets (`data` as registered). */
  void onEvent(uint64_t data, uint32_t events);
  /** Ends every request with `error` (shutdown). */
  void failAll(const Error& error);

  static bool isOwnEvent(uint64_t data) { return (data >> 32) != 0; }

 private:
  struct Host;
  struct Connection;
  struct Exchange;

  Host* hostFor(std::string_view authority);
  std::unique_ptr<Exchange> takeExchange();
  void dispatch(Exchange& ex);
  /** Opens a connection for `ex`; on failure completes `ex` and returns false. */
  bool openConnection(Host& host, Exchange& ex);
  /** A connect that failed at once: closes `conn` and ends its request with `error`. */
  void abandonConnect(Connection& conn, Error error);
  void assign(Connection& conn, Exchange& ex);
  void onConnected(Connection& conn);
  /** Sends what is left of the request; false when the connection was closed meanwhile. */
  bool sendSome(Connection& conn);
  void receive(Connection& conn);
  void setWantWrite(Connection& conn, bool want);
  void finishSuccess(Connection& conn, bool reusable);
  /** The connection broke (`error_number`, 0 for an orderly close) under its request: retried
   *  once on a new connection when the connection had been reused and no response byte came
   *  (the peer closed it just as it was reused), failed otherwise. */
  void connectionBroken(Connection& conn, int error_number, const char* during);
  /** Ends the request on `conn` with `error`, closing the connection (it is mid-exchange). */
  void failOnConnection(Connection& conn, Error error);
  /** Returns a connection after a complete exchange: to a waiting request or the idle list. */
  void release(Connection& conn);
  /** Closes `conn` (idle or detached); `serve_waiting` hands the freed slot to waiters. */
  void closeConnection(Connection& conn, bool serve_waiting = true);
  /** Starts waiting requests while the limits allow. */
  void serveWaiting(Host& host);
  void serveWaitingElsewhere();
  /** The host's first request still waiting (no longer marked waiting), or nullptr. */
  Exchange* popWaiting(Host& host);
  bool closeOneIdle();
  /** Another host has requests waiting that only the total connection limit holds back. */
  bool anotherHostWaitsForATotalSlot(const Host& except) const;
  void armIdleSweep(MonotonicTime when);
  void sweepIdle();
  void complete(Exchange& ex, Result<HttpResponse> result);
  void fail(Exchange& ex, Error error);
  void armTimers(Exchange& ex);
  void armIdleTimer(Exchange& ex, MonotonicTime when);
  Exchange* find(RequestId id);
  bool expired(const Connection& conn, MonotonicTime now) const;
  size_t perHostLimit() const { return static_cast<size_t>(options_.max_connections_per_host); }
  size_t totalLimit() const {
    return static_cast<size_t>(
        std::max(options_.max_total_connections, options_.max_connections_per_host));
  }

  const CurlTransportOptions options_;
  TransportCounters& counters_;
  const int epoll_fd_;
  Loop& loop_;
  /** False when a proxy applies to plain http:// (configured or from the environment). */
  bool enabled_ = true;
  bool failing_all_ = false;

  // Looked up by the URL's authority as a view: no key string is built per request.
  struct AuthorityHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::unique_ptr<Host>, AuthorityHash, std::equal_to<>> hosts_;
  std::vector<std::unique_ptr<Connection>> by_fd_;  // owns every connection, indexed by fd
  size_t open_connections_ = 0;                     // over all hosts (max_total_connections)
  size_t waiting_ = 0;                              // requests waiting over all hosts
  uint32_t next_generation_ = 0;

  using ExchangeMap = std::unordered_map<RequestId, std::unique_ptr<Exchange>>;
  ExchangeMap in_flight_;
  NodeCache<ExchangeMap>
      in_flight_nodes_;  // sized in the constructor (Exchange is incomplete here)
  std::vector<std::unique_ptr<Exchange>> spare_exchanges_;
  std::vector<char> read_buffer_;
  TimerId idle_sweep_timer_ = 0;
  MonotonicTime idle_sweep_at_{};
};

}  // namespace llmpool::http
