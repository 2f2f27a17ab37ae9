#pragma once
// The production HTTP transport: libcurl's multi interface driven by epoll event loops, one
// thread per shard, or run by the threads of LoopHosts (options.hosts: thread-per-core). It is
// also the Executor whose loop runs the pool's timers. See docs/transport.md for the threading
// contract, connection limits, timeouts and defaults.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/executor.h"
#include "http/curl_transport_options.h"
#include "http/transport.h"
#include "http/transport_counters.h"
#include "llmpool/error.h"

namespace llmpool::http {

class CurlMultiLoop;

/**
 * Thread contract:
 *  - send(), cancel(), stats() and every Executor method may be called from any thread.
 *  - A request's callbacks (on_head, on_data, on_complete) run on the loop thread of the shard
 *    that carries it, one at a time, never concurrently for one request. They may call send(),
 *    cancel() and the Executor methods; they must not block and must not destroy the transport.
 *  - Executor work (post, runAt) runs on a loop thread: the caller's own when it is one (so a
 *    completion's follow-ups never change threads), else shard 0's. Work posted from one thread
 *    runs in FIFO order; work posted from different loops may run at the same time, so it must
 *    not rely on being serialized with other executor work (the pool locks what it shares). A
 *    timer id names its loop, so cancelTimer() goes straight there. inExecutorThread() is true on
 *    every loop thread. With shards == 1 (the default) requests and timers share one thread.
 *  - Hosted loops (options.hosts): a host thread counts as its loop's thread everywhere above,
 *    also outside the loop's own work, and send() from it goes to that loop; so does executor
 *    work. Requests then never change threads unless they come from elsewhere.
 *  - cancel(id) ends a request that has not completed yet with ErrorCode::Cancelled (its
 *    connection is closed, and the slot goes to the next waiting request); it is a no-op after
 *    completion.
 *  - The destructor stops the loops: every in-flight or queued request completes with Cancelled
 *    (on its loop thread), pending timers are dropped, the threads are joined. It must not run
 *    on a loop thread, and no other thread may call into the transport while it runs.
 */
class CurlTransport final : public Transport, public Executor {
 public:
  /** Validates `options`, initialises libcurl once per process and starts the loop threads. */
  static Result<std::unique_ptr<CurlTransport>> create(CurlTransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  // Transport
  RequestId send(HttpRequest request, ResponseCallbacks callbacks) override;
  void cancel(RequestId id) override;
  TransportStats stats() const override;

  // Executor
  void post(std::function<void()> fn) override;
  TimerId runAt(MonotonicTime when, std::function<void()> fn) override;
  void cancelTimer(TimerId id) override;
  const Clock& clock() const override;
  bool inExecutorThread() const override;

  /** The shard the next request goes to: the least loaded for its share of connections. */
  size_t pickShard();
  /** Number of loops: `shards`, but never more than `max_connections_per_host` (each loop holds
   *  a share of every host's connections, and a share is at least one). */
  size_t shardCount() const { return loops_.size(); }
  /** Requests submitted to shard `i` and not completed yet. */
  int64_t shardLoad(size_t i) const;
  const CurlTransportOptions& options() const { return options_; }

 private:
  explicit CurlTransport(CurlTransportOptions options);
  static constexpr size_t kNoShard = static_cast<size_t>(-1);
  /** The index of the loop whose thread is calling, or kNoShard. */
  size_t callerShard() const;
  /** Where executor work goes: the calling loop, else loop 0. */
  size_t executorShard() const;

  CurlTransportOptions options_;
  // Before the loops: connections closed while the loops' multi handles are cleaned up are
  // still counted here.
  TransportCounters counters_;
  std::atomic<uint64_t> next_request_seq_{0};

  std::atomic<size_t> next_shard_{0};  // rotates the starting point so ties spread

  std::vector<std::unique_ptr<CurlMultiLoop>> loops_;
};

}  // namespace llmpool::http
