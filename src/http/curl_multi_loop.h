#pragma once
// One shard of CurlTransport: an epoll loop around one curl multi handle
// (curl_multi_socket_action), an eventfd that wakes it for work from other threads, and a timer
// heap for executor timers and per-request timeouts. All curl calls happen on the loop's thread:
// a thread of its own, or a LoopHost's (common/loop_host.h) that runs it next to its own work.

#include <curl/curl.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/executor.h"
#include "common/loop_host.h"
#include "common/node_cache.h"
#include "http/curl_handles.h"
#include "http/curl_transfer.h"
#include "http/curl_transport_options.h"
#include "http/http1_client.h"
#include "http/timer_heap.h"
#include "http/transport.h"
#include "http/transport_counters.h"
#include "http/unique_fd.h"
#include "llmpool/error.h"

namespace llmpool::http {

class CurlMultiLoop : private Http1Client::Loop, private HostedLoop {
 public:
  /** Creates the epoll instance, eventfd and multi handle, then starts the thread, or with a
   *  `host` attaches to it instead (the host must outlive the loop's shutdown()). `counters`
   *  must outlive the loop. Shard `shard_index` of `shard_count`: every timer id this loop hands
   *  out is congruent to `shard_index` modulo `shard_count`, so a transport can route a
   *  cancelTimer() to the loop that owns the timer without a shared table. */
  static Result<std::unique_ptr<CurlMultiLoop>> create(const CurlTransportOptions& options,
                                                       TransportCounters& counters,
                                                       size_t shard_index = 0,
                                                       size_t shard_count = 1,
                                                       LoopHost* host = nullptr);
  /** The loop whose thread is calling, or null on any other thread. */
  static const CurlMultiLoop* current();
  /** Same as shutdown(). */
  ~CurlMultiLoop() override;
  CurlMultiLoop(const CurlMultiLoop&) = delete;
  CurlMultiLoop& operator=(const CurlMultiLoop&) = delete;

  /** Queues a request (thread-safe); it starts on the next loop iteration. */
  void submit(RequestId id, HttpRequest request, ResponseCallbacks callbacks);
  /** Queues the cancellation of `id` (thread-safe); a no-op once it completed. */
  void cancel(RequestId id);
  /** Runs `fn` on the loop thread (thread-safe). */
  void post(std::function<void()> fn);
  /** Schedules `fn` at `when` on the loop thread (thread-safe); returns a nonzero id. */
  TimerId runAt(MonotonicTime when, std::function<void()> fn);
  /** Cancels a timer (thread-safe); a no-op when it already ran. */
  void cancelTimer(TimerId id);
  bool inLoopThread() const {
    return host_ != nullptr ? host_->inHostThread()
                            : std::this_thread::get_id() == thread_.get_id();
  }
  /** Runs on a LoopHost's thread rather than a thread of its own. */
  bool hosted() const { return host_ != nullptr; }
  /** Requests submitted and not completed yet (read from any thread, for load balancing). */
  int64_t load() const { return load_.load(std::memory_order_relaxed); }
  /** This loop's share of each host's connections (its CURLMOPT_MAX_HOST_CONNECTIONS). */
  int64_t hostShare() const { return options_.max_connections_per_host; }

  /** Stops the loop: in-flight and queued requests complete with Cancelled, pending timers are
   *  dropped, the thread is joined (a hosted loop is detached from its host). Idempotent; must
   *  not be called from the loop thread. */
  void shutdown();

 private:
  CurlMultiLoop(const CurlTransportOptions& options, TransportCounters& counters,
                size_t shard_index, size_t shard_count, LoopHost* host);
  Result<void> init();
  TimerId nextTimerId() { return ++next_timer_id_ * timer_id_stride_ + timer_id_offset_; }

  void run(std::stop_token stop);
  /** One pass: waits up to `timeout_ms` for events, handles them, then runs posted work, due
   *  timers and completions. Returns the number of events, or an Error when epoll fails. */
  Result<int> iterate(int timeout_ms);
  /** The part of a pass after the events: posted work, due timers, completions, round after
   *  round while work keeps coming (bounded). Returns 0, the events it handled. */
  int runQueued();
  // HostedLoop
  int readyFd() const override { return epoll_fd_.get(); }
  int pump(bool poll) override;
  /** Queues work for the loop; false (and `fn` untouched) once the loop has exited. */
  bool enqueue(std::function<void()>&& fn);
  void wake();
  /** Work was queued or a timer added from the loop's own thread: a thread of its own sees it
   *  before blocking again, but a host thread outside pump() must be told. */
  void pumpSoonIfHosted();
  bool runPosted();
  /** Work is queued for the loop (posts or submissions). Caller holds mu_. */
  bool workQueued() const { return !posted_.empty() || !submitted_.empty(); }
  int epollTimeoutMs();
  void socketAction(curl_socket_t fd, int flags);
  void runDueTimers();
  void processCompletions();
  void drainOnExit(const Error& reason);
  void failAll(const Error& error);

  void start(RequestId id, HttpRequest request, ResponseCallbacks callbacks);
  void cancelNow(RequestId id, Error error);
  void finish(Transfer& t, std::optional<Error> error);
  void completeFromCurl(Transfer& t, CURLcode code);
  /** The failed transfer's cause when it is a local resource shortage (out of descriptors or
   *  kernel memory) rather than the provider: Overloaded. See localResourceError(). */
  std::optional<Error> localFailure(Transfer& t, CURLcode code);
  /** errno of socket() when none can be opened now, 0 when one can. */
  static int probeSocketShortage();
  std::unique_ptr<Transfer> acquireTransfer(Error& error);
  void recycle(std::unique_ptr<Transfer> t);
  // Http1Client::Loop
  TimerId addLoopTimer(MonotonicTime when, std::function<void()> fn) override;
  void cancelLoopTimer(TimerId id) override { timers_.cancel(id); }
  void deliver(ResponseCallbacks& callbacks, Result<HttpResponse> result) override {
    deliverCompletion(callbacks, std::move(result));
  }
  void onFirstByte(Transfer& t);
  bool onHeadersComplete(Transfer& t);
  void armIdleTimer(Transfer& t, MonotonicTime when);
  void deliverCompletion(ResponseCallbacks& callbacks, Result<HttpResponse> result);

  // libcurl callbacks (C linkage-compatible static functions).
  static int onSocket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp);
  static int onTimer(CURLM* multi, long timeout_ms, void* userp);
  static size_t onWrite(char* data, size_t size, size_t count, void* userp);
  static size_t onHeader(char* data, size_t size, size_t count, void* userp);

  const CurlTransportOptions options_;
  TransportCounters& counters_;
  std::atomic<int64_t> load_{0};

  // Declaration order is destruction order reversed: the fds outlive the multi handle (libcurl
  // calls the socket callback while cleaning up), and the transfers are destroyed before the
  // multi handle, so no easy handle outlives the multi it may still be attached to.
  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;
  MultiHandle multi_;
  using TransferMap = std::unordered_map<RequestId, std::unique_ptr<Transfer>>;
  TransferMap in_flight_;                                  // loop thread only
  NodeCache<TransferMap> in_flight_nodes_{1024};           // loop thread only
  std::vector<std::unique_ptr<Transfer>> idle_transfers_;  // loop thread only
  TimerHeap timers_;                                       // loop thread only
  std::optional<MonotonicTime> curl_deadline_;             // loop thread only
  std::vector<std::function<void()>> running_posts_;       // loop thread only
  // Plain-http requests (see http1_client.h); destroyed before the transfers and the epoll set.
  std::unique_ptr<Http1Client> native_;  // loop thread only

  // A request on its way to the loop thread. Submissions get their own queue rather than a
  // posted closure: the closure would not fit std::function's inline storage (one allocation
  // per request), and the queue's capacity is reused.
  struct PendingStart {
    RequestId id;
    HttpRequest request;
    ResponseCallbacks callbacks;
  };
  std::vector<PendingStart> running_starts_;  // loop thread only
  bool stopping_ = false;                     // loop thread only

  std::atomic<TimerId> next_timer_id_{0};
  const TimerId timer_id_stride_;  // the shard count
  const TimerId timer_id_offset_;  // the shard index

  std::mutex mu_;
  std::vector<std::function<void()>> posted_;  // guarded by mu_
  std::vector<PendingStart> submitted_;        // guarded by mu_; started before posted_ runs
  bool wake_pending_ = false;                  // guarded by mu_
  bool exited_ = false;                        // guarded by mu_: the loop no longer runs posts

  std::once_flag shutdown_once_;
  LoopHost* const host_;                              // null: the loop has a thread of its own
  bool pumping_ = false;                              // loop thread only: inside pump()
  std::unique_ptr<LoopHost::Attachment> attachment_;  // set when hosted, until shutdown
  // Last member: the thread is joined before anything it uses is destroyed.
  std::jthread thread_;
};

}  // namespace llmpool::http
