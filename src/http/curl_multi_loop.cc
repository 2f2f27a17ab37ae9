#include "http/curl_multi_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <utility>

#include "common/thread_name.h"
#include "http/curl_error.h"
#include "http/header_line.h"

namespace llmpool::http {
namespace {

// curl_multi_assign marker: a socket that carries it is already in our epoll set.
char kRegistered = 0;

// The loop whose work this thread is running (see CurlMultiLoop::current()).
thread_local const CurlMultiLoop* t_current_loop = nullptr;

MonotonicTime now() { return MonotonicClock::now(); }

// Headers of a usual provider response (content type, length, date, request id, rate limits).
constexpr size_t kExpectedResponseHeaders = 16;

std::string millis(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

Error systemError(const char* call) {
  return Error(ErrorCode::Internal, std::string(call) + " failed: " + std::strerror(errno));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Construction and shutdown
// ---------------------------------------------------------------------------------------------

CurlMultiLoop::CurlMultiLoop(const CurlTransportOptions& options, TransportCounters& counters,
                             size_t shard_index, size_t shard_count, LoopHost* host)
    : options_(options),
      counters_(counters),
      timer_id_stride_(std::max<size_t>(shard_count, 1)),
      timer_id_offset_(shard_index),
      host_(host) {}

Result<std::unique_ptr<CurlMultiLoop>> CurlMultiLoop::create(const CurlTransportOptions& options,
                                                             TransportCounters& counters,
                                                             size_t shard_index, size_t shard_count,
                                                             LoopHost* host) {
  std::unique_ptr<CurlMultiLoop> loop(
      new CurlMultiLoop(options, counters, shard_index, shard_count, host));
  if (auto r = loop->init(); !r) return std::unexpected(std::move(r.error()));
  if (host != nullptr) {
    loop->attachment_ = host->attach(*loop);
    return loop;
  }
  CurlMultiLoop* raw = loop.get();
  loop->thread_ = std::jthread([raw](std::stop_token stop) { raw->run(std::move(stop)); });
  return loop;
}

Result<void> CurlMultiLoop::init() {
  epoll_fd_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd_.valid()) return std::unexpected(systemError("epoll_create1"));
  wake_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_fd_.valid()) return std::unexpected(systemError("eventfd"));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint32_t>(wake_fd_.get());
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev) != 0) {
    return std::unexpected(systemError("epoll_ctl(eventfd)"));
  }

  native_ = std::make_unique<Http1Client>(options_, counters_, epoll_fd_.get(),
                                          static_cast<Http1Client::Loop&>(*this));
  multi_.reset(curl_multi_init());
  if (!multi_) return fail(ErrorCode::Internal, "curl_multi_init failed");
  const long per_host = options_.max_connections_per_host;
  const long total = std::max<long>(options_.max_total_connections, per_host);
  struct {
    CURLMoption option;
    const char* name;
    CURLMcode code;
  } results[] = {
      {CURLMOPT_SOCKETFUNCTION, "CURLMOPT_SOCKETFUNCTION",
       curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETFUNCTION, &CurlMultiLoop::onSocket)},
      {CURLMOPT_SOCKETDATA, "CURLMOPT_SOCKETDATA",
       curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETDATA, static_cast<void*>(this))},
      {CURLMOPT_TIMERFUNCTION, "CURLMOPT_TIMERFUNCTION",
       curl_multi_setopt(multi_.get(), CURLMOPT_TIMERFUNCTION, &CurlMultiLoop::onTimer)},
      {CURLMOPT_TIMERDATA, "CURLMOPT_TIMERDATA",
       curl_multi_setopt(multi_.get(), CURLMOPT_TIMERDATA, static_cast<void*>(this))},
      {CURLMOPT_MAX_HOST_CONNECTIONS, "CURLMOPT_MAX_HOST_CONNECTIONS",
       curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS, per_host)},
      {CURLMOPT_MAX_TOTAL_CONNECTIONS, "CURLMOPT_MAX_TOTAL_CONNECTIONS",
       curl_multi_setopt(multi_.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS, total)},
      // The idle cache must hold every connection the limits allow; libcurl's default (4 x the
      // handles currently added) would close keep-alive connections whenever traffic dips.
      {CURLMOPT_MAXCONNECTS, "CURLMOPT_MAXCONNECTS",
       curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, total)},
      {CURLMOPT_PIPELINING, "CURLMOPT_PIPELINING",
       curl_multi_setopt(multi_.get(), CURLMOPT_PIPELINING,
                         options_.http2 ? static_cast<long>(CURLPIPE_MULTIPLEX)
                                        : static_cast<long>(CURLPIPE_NOTHING))},
  };
  for (const auto& r : results) {
    if (r.code != CURLM_OK) return std::unexpected(curlMultiError(r.code, r.name));
  }
  return {};
}

CurlMultiLoop::~CurlMultiLoop() { shutdown(); }

void CurlMultiLoop::shutdown() {
  std::call_once(shutdown_once_, [this] {
    if (attachment_) {
      // The same ending as a thread of its own, run where the loop runs (or here when the host
      // thread is gone), after which the host lets go of the loop.
      attachment_->detach([this] {
        const CurlMultiLoop* previous = t_current_loop;
        t_current_loop = this;
        pumping_ = true;  // what the drain queues, it runs itself
        drainOnExit(Error(ErrorCode::Cancelled, "transport shut down"));
        pumping_ = false;
        t_current_loop = previous;
      });
      attachment_.reset();
      return;
    }
    if (!thread_.joinable()) return;
    thread_.request_stop();  // the stop callback inside run() wakes epoll_wait
    thread_.join();
  });
}

// ---------------------------------------------------------------------------------------------
// Cross-thread entry points
// ---------------------------------------------------------------------------------------------

bool CurlMultiLoop::enqueue(std::function<void()>&& fn) {
  bool must_wake = false;
  {
    std::lock_guard lock(mu_);
    if (exited_) return false;
    posted_.push_back(std::move(fn));
    // One eventfd write per batch: later posts see wake_pending_ and rely on the same wake-up.
    // The loop thread never needs the write: it checks posted_ before blocking.
    must_wake = !wake_pending_ && !inLoopThread();
    wake_pending_ = true;
  }
  if (must_wake) {
    wake();
  } else {
    pumpSoonIfHosted();
  }
  return true;
}

void CurlMultiLoop::pumpSoonIfHosted() {
  // Only the host thread needs this (another thread's work wrote the eventfd, which makes the
  // epoll descriptor the host watches readable), and inside pump() the work is seen before
  // pump() returns. The thread is checked first: pumping_ belongs to the loop's thread.
  if (attachment_ && inLoopThread() && !pumping_) attachment_->pumpSoon();
}

void CurlMultiLoop::wake() {
  const uint64_t one = 1;
  if (::write(wake_fd_.get(), &one, sizeof(one)) < 0) {
    // EAGAIN means the counter is saturated: the fd is readable already, the loop will wake.
  }
}

void CurlMultiLoop::submit(RequestId id, HttpRequest request, ResponseCallbacks callbacks) {
  load_.fetch_add(1, std::memory_order_relaxed);  // deliverCompletion takes it back, exactly once
  bool queued = false;
  bool must_wake = false;
  {
    std::lock_guard lock(mu_);
    if (!exited_) {
      submitted_.push_back(PendingStart{id, std::move(request), std::move(callbacks)});
      queued = true;
      // The same wake-up batching as enqueue().
      must_wake = !wake_pending_ && !inLoopThread();
      wake_pending_ = true;
    }
  }
  if (must_wake) {
    wake();
  } else if (queued) {
    pumpSoonIfHosted();
  }
  // After shutdown the request is started here, on the caller's thread: start() sees stopping_
  // and completes it with Cancelled, so no request is ever left without an answer.
  if (!queued) start(id, std::move(request), std::move(callbacks));
}

void CurlMultiLoop::cancel(RequestId id) {
  enqueue([this, id] { cancelNow(id, Error(ErrorCode::Cancelled, "request cancelled")); });
}

void CurlMultiLoop::post(std::function<void()> fn) { enqueue(std::move(fn)); }

TimerId CurlMultiLoop::runAt(MonotonicTime when, std::function<void()> fn) {
  const TimerId id = nextTimerId();
  if (inLoopThread()) {
    if (!stopping_) timers_.add(id, when, std::move(fn));
    pumpSoonIfHosted();  // the host may be waiting for a later deadline
  } else {
    enqueue([this, id, when, fn = std::move(fn)]() mutable {
      if (!stopping_) timers_.add(id, when, std::move(fn));
    });
  }
  return id;
}

void CurlMultiLoop::cancelTimer(TimerId id) {
  if (inLoopThread()) {
    timers_.cancel(id);
  } else {
    enqueue([this, id] { timers_.cancel(id); });
  }
}

// ---------------------------------------------------------------------------------------------
// The loop
// ---------------------------------------------------------------------------------------------

namespace {
constexpr int kMaxRoundsPerWakeup = 16;
constexpr int kEventBatch = 128;  // events taken per epoll_wait
}  // namespace

const CurlMultiLoop* CurlMultiLoop::current() { return t_current_loop; }

void CurlMultiLoop::run(std::stop_token stop) {
  setCurrentThreadName("llmpool-io");
  t_current_loop = this;
  std::stop_callback wake_on_stop(stop, [this] { wake(); });
  std::optional<Error> failure;
  while (!stop.stop_requested()) {
    if (auto n = iterate(epollTimeoutMs()); !n) {
      failure = std::move(n.error());
      break;
    }
  }
  drainOnExit(failure.value_or(Error(ErrorCode::Cancelled, "transport shut down")));
  t_current_loop = nullptr;
}

int CurlMultiLoop::pump(bool poll) {
  // Several loops may share a host thread (one per transport of each pool generation).
  const CurlMultiLoop* previous = t_current_loop;
  t_current_loop = this;
  pumping_ = true;
  // Without `poll` the epoll set is not asked: the host waits for the descriptor and runs a
  // polling pass when it is readable. With it, one batch is taken, and another only while
  // batches come back full. Events left over (a level-triggered socket not read to its end) need
  // no further epoll_wait here: they keep the descriptor readable, and the host's wait checks
  // readiness when it is armed (HostedLoop::pump). Bounded, so a busy loop yields to the host's
  // other work now and then.
  constexpr int kMaxPolls = 8;
  int polls = 0;
  Result<int> n = 0;
  bool full = false;
  do {
    n = poll ? iterate(0) : runQueued();
    full = poll && n && *n == kEventBatch;
  } while (full && ++polls < kMaxPolls);
  pumping_ = false;
  t_current_loop = previous;
  if (!n) {
    // The epoll set itself failed (it does not, short of a kernel bug): fail what is in flight
    // rather than leave it hanging, and go on serving new requests.
    failAll(n.error());
    return 0;
  }
  if (full) return 0;  // still busy after kMaxPolls: poll again once the host had its turn
  return epollTimeoutMs();
}

Result<int> CurlMultiLoop::iterate(int timeout_ms) {
  std::array<epoll_event, kEventBatch> events;  // filled by epoll_wait, not worth zeroing
  int n = ::epoll_wait(epoll_fd_.get(), events.data(), static_cast<int>(events.size()), timeout_ms);
  if (n < 0) {
    if (errno != EINTR) return std::unexpected(systemError("epoll_wait"));
    n = 0;
  }
  for (int i = 0; i < n; ++i) {
    if (Http1Client::isOwnEvent(events[i].data.u64)) {
      native_->onEvent(events[i].data.u64, events[i].events);
      continue;
    }
    const int fd = static_cast<int>(static_cast<uint32_t>(events[i].data.u64));
    if (fd == wake_fd_.get()) {
      uint64_t count = 0;
      if (::read(fd, &count, sizeof(count)) < 0) {
        // EAGAIN: another read drained it already; nothing to do.
      }
      continue;
    }
    const uint32_t ev = events[i].events;
    int flags = 0;
    // A hang-up is reported as readable so curl reads the EOF and finishes or fails the
    // transfer itself.
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) flags |= CURL_CSELECT_IN;
    if (ev & EPOLLOUT) flags |= CURL_CSELECT_OUT;
    if (ev & EPOLLERR) flags |= CURL_CSELECT_ERR;
    socketAction(fd, flags);
  }
  runQueued();
  return n;
}

int CurlMultiLoop::runQueued() {
  // Completions post follow-up work (a retry, the caller's next request, its transfer): run
  // it in this same wake-up, round after round, instead of paying an epoll_wait per hop. The
  // bound keeps a callback that always posts more from starving socket events.
  for (int round = 0; round < kMaxRoundsPerWakeup; ++round) {
    runPosted();
    if (curl_deadline_ && *curl_deadline_ <= now()) {
      curl_deadline_.reset();
      socketAction(CURL_SOCKET_TIMEOUT, 0);
    }
    runDueTimers();
    processCompletions();
    std::lock_guard lock(mu_);
    if (!workQueued()) break;
  }
  return 0;
}

int CurlMultiLoop::epollTimeoutMs() {
  {
    std::lock_guard lock(mu_);
    if (workQueued()) return 0;
  }
  std::optional<MonotonicTime> next = timers_.nextDeadline();
  if (curl_deadline_ && (!next || *curl_deadline_ < *next)) next = curl_deadline_;
  if (!next) return -1;
  const MonotonicTime t = now();
  if (*next <= t) return 0;
  // Rounded up: waking a little early would spin until the deadline instead of sleeping.
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - t).count();
  return static_cast<int>(std::min<int64_t>(wait, INT_MAX));
}

bool CurlMultiLoop::runPosted() {
  {
    std::lock_guard lock(mu_);
    running_starts_.swap(submitted_);
    running_posts_.swap(posted_);
    wake_pending_ = false;
  }
  if (running_starts_.empty() && running_posts_.empty()) return false;
  // Submissions first: a cancel() of a request is posted after its submit(), and must find it.
  for (auto& s : running_starts_) start(s.id, std::move(s.request), std::move(s.callbacks));
  running_starts_.clear();
  for (auto& fn : running_posts_) fn();
  running_posts_.clear();
  return true;
}

void CurlMultiLoop::socketAction(curl_socket_t fd, int flags) {
  int running = 0;
  const CURLMcode code = curl_multi_socket_action(multi_.get(), fd, flags, &running);
  // BAD_SOCKET: an event for a socket curl removed earlier in the same epoll batch; harmless.
  if (code == CURLM_OK || code == CURLM_BAD_SOCKET) return;
  // Anything else means the multi handle is unusable (out of memory, internal error): fail
  // every transfer with the reason instead of letting them hang.
  failAll(curlMultiError(code, "curl_multi_socket_action"));
}

void CurlMultiLoop::runDueTimers() {
  const MonotonicTime t = now();
  while (auto fn = timers_.popDue(t)) (*fn)();
}

void CurlMultiLoop::processCompletions() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    // Read everything from msg before finishing: removing the handle invalidates it.
    CURL* easy = msg->easy_handle;
    const CURLcode code = msg->data.result;
    char* owner = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &owner);
    completeFromCurl(*reinterpret_cast<Transfer*>(owner), code);
  }
}

void CurlMultiLoop::drainOnExit(const Error& reason) {
  stopping_ = true;
  failAll(reason);
  timers_.clear();
  // Work posted before the stop still runs: submissions complete with Cancelled (stopping_),
  // cancels find nothing. Completion callbacks may post more, so repeat a bounded number of times.
  for (int round = 0; round < 64 && runPosted(); ++round) {
  }
  {
    std::lock_guard lock(mu_);
    exited_ = true;
    running_starts_.swap(submitted_);
    running_posts_.swap(posted_);
  }
  for (auto& s : running_starts_) start(s.id, std::move(s.request), std::move(s.callbacks));
  running_starts_.clear();
  for (auto& fn : running_posts_) fn();
  running_posts_.clear();
  failAll(reason);
}

void CurlMultiLoop::failAll(const Error& error) {
  if (native_) native_->failAll(error);
  while (!in_flight_.empty()) finish(*in_flight_.begin()->second, error);
}

// ---------------------------------------------------------------------------------------------
// Transfers
// ---------------------------------------------------------------------------------------------

std::unique_ptr<Transfer> CurlMultiLoop::acquireTransfer(Error& error) {
  if (!idle_transfers_.empty()) {
    auto t = std::move(idle_transfers_.back());
    idle_transfers_.pop_back();
    return t;
  }
  auto made = makeTransfer(options_, {&CurlMultiLoop::onWrite, &CurlMultiLoop::onHeader}, this);
  if (!made) {
    error = std::move(made.error());
    return nullptr;
  }
  return std::move(*made);
}

void CurlMultiLoop::recycle(std::unique_ptr<Transfer> t) {
  t->clearRequest();
  if (idle_transfers_.size() < options_.max_cached_handles) idle_transfers_.push_back(std::move(t));
}

void CurlMultiLoop::deliverCompletion(ResponseCallbacks& callbacks, Result<HttpResponse> result) {
  counters_.requests_completed.fetch_add(1);
  load_.fetch_sub(1, std::memory_order_relaxed);
  if (callbacks.on_complete) callbacks.on_complete(std::move(result));
}

void CurlMultiLoop::start(RequestId id, HttpRequest request, ResponseCallbacks callbacks) {
  if (stopping_) {
    deliverCompletion(callbacks,
                      std::unexpected(Error(ErrorCode::Cancelled, "transport shut down")));
    return;
  }
  if (native_->tryStart(id, request, callbacks)) return;
  Error error;
  std::unique_ptr<Transfer> t = acquireTransfer(error);
  if (!t) {
    deliverCompletion(callbacks, std::unexpected(std::move(error)));
    return;
  }
  t->id = id;
  // Room for a typical response head at once, instead of growing the vector header by header.
  t->response.headers.reserve(kExpectedResponseHeaders);
  t->request = std::move(request);
  t->callbacks = std::move(callbacks);
  auto abandon = [this, &t](Error e) {
    ResponseCallbacks cbs = std::move(t->callbacks);
    recycle(std::move(t));
    deliverCompletion(cbs, std::unexpected(std::move(e)));
  };
  if (auto prepared = prepareTransfer(*t, options_, counters_); !prepared) {
    abandon(std::move(prepared.error()));
    return;
  }
  t->started_at = now();
  if (const CURLMcode code = curl_multi_add_handle(multi_.get(), t->easy.get()); code != CURLM_OK) {
    abandon(curlMultiError(code, "curl_multi_add_handle"));
    return;
  }
  t->host->active.fetch_add(1, std::memory_order_relaxed);
  Transfer& ref = *t;
  in_flight_nodes_.insert(in_flight_, id, std::move(t));

  // CURLOPT_TIMEOUT_MS covers a running transfer, but libcurl 7.88 does not expire a transfer
  // that is still queued for a connection slot (max_connections_per_host reached): it would
  // wait for the slot however long that takes. Our own timer bounds the whole attempt.
  // The timer callbacks capture only [this, id] (they read the timeouts from the transfer): that
  // fits std::function's inline storage, so arming a timer allocates nothing.
  const std::chrono::milliseconds total = ref.request.timeouts.total;
  if (total.count() > 0) {
    ref.total_timer = addLoopTimer(ref.started_at + total, [this, id] {
      auto it = in_flight_.find(id);
      if (it == in_flight_.end()) return;
      Transfer& tr = *it->second;
      tr.total_timer = 0;
      finish(tr,
             Error(ErrorCode::Timeout, "request did not complete within " +
                                           millis(tr.request.timeouts.total) + " (total timeout)"));
    });
  }
  const std::chrono::milliseconds first_byte = ref.request.timeouts.first_byte;
  if (first_byte.count() > 0) {
    ref.first_byte_timer = addLoopTimer(ref.started_at + first_byte, [this, id] {
      auto it = in_flight_.find(id);
      if (it == in_flight_.end() || it->second->saw_first_byte) return;
      Transfer& tr = *it->second;
      tr.first_byte_timer = 0;
      finish(tr, Error(ErrorCode::Timeout, "no response headers within " +
                                               millis(tr.request.timeouts.first_byte) +
                                               " (first-byte timeout)"));
    });
  }
}

void CurlMultiLoop::cancelNow(RequestId id, Error error) {
  if (native_->cancel(id, error)) return;
  auto it = in_flight_.find(id);
  if (it == in_flight_.end()) return;  // completed already: cancel is a no-op
  finish(*it->second, std::move(error));
}

void CurlMultiLoop::finish(Transfer& t, std::optional<Error> error) {
  // Removing a transfer that is still running makes curl close its connection (it cannot be
  // reused mid-response) and hand the freed slot to the next request waiting for this host.
  // The call only fails for a handle that is not attached, which cannot happen here.
  curl_multi_remove_handle(multi_.get(), t.easy.get());
  t.host->active.fetch_sub(1, std::memory_order_relaxed);
  if (t.total_timer != 0) timers_.cancel(t.total_timer);
  if (t.first_byte_timer != 0) timers_.cancel(t.first_byte_timer);
  if (t.idle_timer != 0) timers_.cancel(t.idle_timer);
  ResponseCallbacks callbacks = std::move(t.callbacks);
  Result<HttpResponse> result = error ? Result<HttpResponse>(std::unexpected(std::move(*error)))
                                      : Result<HttpResponse>(std::move(t.response));
  if (auto owned = in_flight_nodes_.take(in_flight_, t.id)) recycle(std::move(*owned));
  deliverCompletion(callbacks, std::move(result));
}

void CurlMultiLoop::completeFromCurl(Transfer& t, CURLcode code) {
  if (t.local_error) {
    finish(t, std::move(t.local_error));
    return;
  }
  if (code != CURLE_OK) {
    if (auto local = localFailure(t, code)) {
      counters_.local_resource_failures.fetch_add(1);
      finish(t, std::move(*local));
      return;
    }
    finish(t, curlError(code, std::string_view(t.error_buffer.data())));
    return;
  }
  long status = 0;
  long new_connections = 0;
  curl_easy_getinfo(t.easy.get(), CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(t.easy.get(), CURLINFO_NUM_CONNECTS, &new_connections);
  t.response.status = static_cast<int>(status);
  t.response.reused_connection = new_connections == 0;
  if (t.response.reused_connection) {
    counters_.connections_reused.fetch_add(1);
    t.host->reused.fetch_add(1, std::memory_order_relaxed);
  }
  t.response.total_time =
      std::chrono::duration_cast<std::chrono::microseconds>(now() - t.started_at);
  finish(t, std::nullopt);
}

std::optional<Error> CurlMultiLoop::localFailure(Transfer& t, CURLcode code) {
  // Our socket() failed: the exact cause.
  if (auto e = localResourceError(t.socket_errno)) return e;
  long os_errno = 0;
  curl_easy_getinfo(t.easy.get(), CURLINFO_OS_ERRNO, &os_errno);
  if (auto e = localResourceError(static_cast<int>(os_errno))) return e;
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OUT_OF_MEMORY:
      // Descriptors curl opens elsewhere (the resolver's sockets and pipes) fail without an
      // errno we can see; the resolver then reports "could not resolve". Only on these failure
      // paths: does a socket open right now?
      return localResourceError(probeSocketShortage());
    default:
      return std::nullopt;
  }
}

int CurlMultiLoop::probeSocketShortage() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

TimerId CurlMultiLoop::addLoopTimer(MonotonicTime when, std::function<void()> fn) {
  const TimerId id = nextTimerId();
  timers_.add(id, when, std::move(fn));
  return id;
}

void CurlMultiLoop::onFirstByte(Transfer& t) {
  t.saw_first_byte = true;
  t.response.time_to_first_byte =
      std::chrono::duration_cast<std::chrono::microseconds>(now() - t.started_at);
  if (t.first_byte_timer != 0) {
    timers_.cancel(t.first_byte_timer);
    t.first_byte_timer = 0;
  }
}

bool CurlMultiLoop::onHeadersComplete(Transfer& t) {
  t.head_done = true;
  const std::chrono::milliseconds idle = t.request.timeouts.idle;
  if (idle.count() > 0 && t.idle_timer == 0) {
    t.last_data_at = now();
    armIdleTimer(t, t.last_data_at + idle);
  }
  if (!t.callbacks.on_head) return true;
  // The head is lent to the callback and taken back, so the headers are not copied.
  HttpResponseHead head{t.response.status, std::move(t.response.headers)};
  try {
    t.callbacks.on_head(head);
  } catch (...) {
    t.response.headers = std::move(head.headers);
    t.local_error = Error(ErrorCode::Internal, "the on_head callback threw an exception");
    return false;
  }
  t.response.headers = std::move(head.headers);
  return true;
}

void CurlMultiLoop::armIdleTimer(Transfer& t, MonotonicTime when) {
  const RequestId id = t.id;
  // One timer per transfer, re-armed lazily: each write only stamps last_data_at, and the timer,
  // when it fires early, moves itself to last_data_at + idle. That keeps writes O(1).
  t.idle_timer = addLoopTimer(when, [this, id] {
    auto it = in_flight_.find(id);
    if (it == in_flight_.end()) return;
    Transfer& tr = *it->second;
    tr.idle_timer = 0;
    const std::chrono::milliseconds idle = tr.request.timeouts.idle;
    const MonotonicTime deadline = tr.last_data_at + idle;
    if (deadline > now()) {
      armIdleTimer(tr, deadline);
      return;
    }
    finish(tr, Error(ErrorCode::Timeout,
                     "no data for " + millis(idle) + " (idle timeout between stream chunks)"));
  });
}

// ---------------------------------------------------------------------------------------------
// libcurl callbacks
// ---------------------------------------------------------------------------------------------

int CurlMultiLoop::onSocket(CURL* /*easy*/, curl_socket_t fd, int what, void* userp,
                            void* socketp) {
  auto* loop = static_cast<CurlMultiLoop*>(userp);
  const int epfd = loop->epoll_fd_.get();
  if (what == CURL_POLL_REMOVE) {
    // Errors are expected and harmless here: the socket may already be closed.
    ::epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
    return 0;
  }
  epoll_event ev{};
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  ev.data.u64 = static_cast<uint32_t>(fd);  // upper half 0: not Http1Client's
  const int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (::epoll_ctl(epfd, op, fd, &ev) != 0) {
    // Our view and the kernel's disagree (a reused fd number): try the other operation.
    const int retry = errno == EEXIST ? EPOLL_CTL_MOD : errno == ENOENT ? EPOLL_CTL_ADD : -1;
    if (retry < 0 || ::epoll_ctl(epfd, retry, fd, &ev) != 0) return -1;
  }
  if (!socketp) curl_multi_assign(loop->multi_.get(), fd, &kRegistered);
  return 0;
}

int CurlMultiLoop::onTimer(CURLM* /*multi*/, long timeout_ms, void* userp) {
  auto* loop = static_cast<CurlMultiLoop*>(userp);
  if (timeout_ms < 0) {
    loop->curl_deadline_.reset();
  } else {
    loop->curl_deadline_ = now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

size_t CurlMultiLoop::onHeader(char* data, size_t size, size_t count, void* userp) {
  auto& t = *static_cast<Transfer*>(userp);
  const size_t length = size * count;
  const std::string_view line(data, length);
  if (!t.saw_first_byte) t.loop->onFirstByte(t);
  if (auto status = parseStatusLine(line)) {
    // A new header block (after a 1xx interim response): start over.
    t.response.status = *status;
    t.response.headers.clear();
    t.head_done = false;
    return length;
  }
  if (isEndOfHeaders(line)) {
    if (t.response.status < 200 || t.head_done) return length;  // interim block, or trailers
    return t.loop->onHeadersComplete(t) ? length : 0;
  }
  if (auto header = parseHeaderLine(line)) t.response.headers.push_back(std::move(*header));
  return length;
}

size_t CurlMultiLoop::onWrite(char* data, size_t size, size_t count, void* userp) {
  auto& t = *static_cast<Transfer*>(userp);
  const size_t length = size * count;
  // Returning anything but `length` makes curl stop the transfer with CURLE_WRITE_ERROR;
  // local_error says why.
  if (!t.head_done && !t.loop->onHeadersComplete(t)) return 0;
  if (t.idle_timer != 0) t.last_data_at = now();
  if (!t.callbacks.on_data) {
    const size_t limit = t.request.max_response_bytes;
    if (limit != 0 && t.response.body.size() + length > limit) {
      t.local_error = responseTooLarge(limit);
      return 0;
    }
    t.response.body.append(data, length);
    return length;
  }
  bool keep_going = false;
  try {
    keep_going = t.callbacks.on_data(std::string_view(data, length));
  } catch (...) {
    t.local_error = Error(ErrorCode::Internal, "the on_data callback threw an exception");
    return 0;
  }
  if (!keep_going) {
    t.local_error = Error(ErrorCode::Cancelled, "the on_data callback stopped the stream");
    return 0;
  }
  return length;
}

}  // namespace llmpool::http
