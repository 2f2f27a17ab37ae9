#include "http/http1_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "http/curl_error.h"
#include "http/http1_request_head.h"

namespace llmpool::http {
namespace {

MonotonicTime now() { return MonotonicClock::now(); }

std::string millis(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

// Big enough for a whole usual response in one recv(); streams arrive in smaller pieces anyway.
constexpr size_t kReadBufferBytes = 64 * 1024;
constexpr size_t kExpectedResponseHeaders = 16;
constexpr size_t kSpareExchanges = 256;

// A proxy applies to plain http:// when one is configured, or (libcurl's default, kept here)
// when the environment names one. Such requests stay with libcurl, which speaks to proxies.
bool proxyApplies(const CurlTransportOptions& options) {
  if (options.proxy) return !options.proxy->empty();
  for (const char* name : {"http_proxy", "all_proxy", "ALL_PROXY"}) {
    const char* value = std::getenv(name);
    if (value && *value) return true;
  }
  return false;
}

uint64_t epollData(int fd, uint32_t generation) {
  return static_cast<uint32_t>(fd) | (static_cast<uint64_t>(generation) << 32);
}

}  // namespace

struct Http1Client::Host {
  std::string authority;  // as written in the URL
  Http1Endpoint endpoint;
  HostCounters* counters = nullptr;
  size_t open = 0;                // connections, connecting ones included
  std::vector<Connection*> idle;  // most recently used last
  std::deque<RequestId> waiting;  // may hold ids already ended (skipped when reached)
};

struct Http1Client::Connection {
  UniqueFd fd;
  uint32_t generation = 0;
  Host* host = nullptr;
  Exchange* exchange = nullptr;
  bool connecting = true;
  bool idle = false;
  bool want_write = true;  // EPOLLOUT is in the registered set (it is while connecting)
  uint64_t served = 0;     // exchanges completed on it
  MonotonicTime opened_at{};
  MonotonicTime idle_since{};
  TimerId connect_timer = 0;
  Http1ResponseParser parser;
};

struct Http1Client::Exchange final : Http1ResponseParser::Handler {
  Http1Client* client = nullptr;
  RequestId id = 0;
  HttpRequest request;
  ResponseCallbacks callbacks;
  HttpResponse response;
  std::string head;  // request line and header fields, ready to send
  size_t sent = 0;   // bytes of head + body written
  Host* host = nullptr;
  Connection* conn = nullptr;
  bool waiting = false;
  bool reused = false;   // the current connection had served an exchange before
  bool retried = false;  // already moved once to a new connection (see connectionBroken)
  bool saw_first_byte = false;
  std::optional<Error> local_error;  // why a handler stopped the parser
  MonotonicTime started_at{};
  MonotonicTime last_data_at{};
  TimerId total_timer = 0;
  TimerId first_byte_timer = 0;
  TimerId idle_timer = 0;

  void clear() {
    id = 0;
    request = HttpRequest{};
    callbacks = ResponseCallbacks{};
    response = HttpResponse{};
    sent = 0;
    host = nullptr;
    conn = nullptr;
    waiting = reused = retried = saw_first_byte = false;
    local_error.reset();
    total_timer = first_byte_timer = idle_timer = 0;
  }

  bool onHead(int status, Headers& headers) override {
    response.status = status;
    const std::chrono::milliseconds idle = request.timeouts.idle;
    if (idle.count() > 0 && idle_timer == 0) {
      last_data_at = now();
      client->armIdleTimer(*this, last_data_at + idle);
    }
    if (!callbacks.on_head) {
      response.headers = std::move(headers);
      return true;
    }
    // The head is lent to the callback and taken back, so the headers are not copied.
    HttpResponseHead lent{status, std::move(headers)};
    try {
      callbacks.on_head(lent);
    } catch (...) {
      local_error = Error(ErrorCode::Internal, "the on_head callback threw an exception");
      return false;
    }
    response.headers = std::move(lent.headers);
    return true;
  }

  bool onBody(std::string_view piece) override {
    if (idle_timer != 0) last_data_at = now();
    if (!callbacks.on_data) {
      const size_t limit = request.max_response_bytes;
      if (limit != 0 && response.body.size() + piece.size() > limit) {
        local_error = responseTooLarge(limit);
        return false;
      }
      response.body.append(piece);
      return true;
    }
    bool keep_going = false;
    try {
      keep_going = callbacks.on_data(piece);
    } catch (...) {
      local_error = Error(ErrorCode::Internal, "the on_data callback threw an exception");
      return false;
    }
    if (!keep_going) {
      local_error = Error(ErrorCode::Cancelled, "the on_data callback stopped the stream");
    }
    return keep_going;
  }
};

// ---------------------------------------------------------------------------------------------
// Construction
// ---------------------------------------------------------------------------------------------

Http1Client::Http1Client(const CurlTransportOptions& options, TransportCounters& counters,
                         int epoll_fd, Loop& loop)
    : options_(options),
      counters_(counters),
      epoll_fd_(epoll_fd),
      loop_(loop),
      enabled_(options.native_http1 && !proxyApplies(options)),
      in_flight_nodes_(1024),
      read_buffer_(kReadBufferBytes) {}

Http1Client::~Http1Client() {
  for (auto& conn : by_fd_) {
    if (!conn) continue;
    conn->host->counters->closed.fetch_add(1);
    counters_.connections_closed.fetch_add(1);
  }
}

Http1Client::Host* Http1Client::hostFor(std::string_view authority) {
  if (auto it = hosts_.find(authority); it != hosts_.end()) return it->second.get();
  auto endpoint = resolveHttp1Endpoint(authority);
  if (!endpoint) return nullptr;
  auto host = std::make_unique<Host>();
  host->authority.assign(authority);
  host->endpoint = std::move(*endpoint);
  host->counters = &counters_.forHost(hostKey(authority));
  Host* raw = host.get();
  hosts_.emplace(host->authority, std::move(host));
  return raw;
}

std::unique_ptr<Http1Client::Exchange> Http1Client::takeExchange() {
  if (spare_exchanges_.empty()) {
    auto ex = std::make_unique<Exchange>();
    ex->client = this;
    return ex;
  }
  auto ex = std::move(spare_exchanges_.back());
  spare_exchanges_.pop_back();
  return ex;
}

Http1Client::Exchange* Http1Client::find(RequestId id) {
  auto it = in_flight_.find(id);
  return it == in_flight_.end() ? nullptr : it->second.get();
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

bool Http1Client::tryStart(RequestId id, HttpRequest& request, ResponseCallbacks& callbacks) {
  if (!enabled_) return false;
  const auto url = splitHttp1Url(request.url);
  if (!url) return false;
  Host* host = hostFor(url->authority);
  if (!host) return false;

  std::unique_ptr<Exchange> owned = takeExchange();
  Exchange& ex = *owned;
  ex.id = id;
  ex.host = host;
  ex.started_at = now();
  ex.response.headers.reserve(kExpectedResponseHeaders);
  // The head is written before the request is moved: `url` views the caller's string.
  auto head = writeHttp1RequestHead(ex.head, request, url->target, host->endpoint.host_header);
  ex.request = std::move(request);
  ex.callbacks = std::move(callbacks);
  if (!head) {
    ResponseCallbacks cbs = std::move(ex.callbacks);
    ex.clear();
    if (spare_exchanges_.size() < kSpareExchanges) spare_exchanges_.push_back(std::move(owned));
    loop_.deliver(cbs, std::unexpected(std::move(head.error())));
    return true;
  }
  host->counters->active.fetch_add(1, std::memory_order_relaxed);
  in_flight_nodes_.insert(in_flight_, id, std::move(owned));
  armTimers(ex);
  dispatch(ex);
  return true;
}

void Http1Client::armTimers(Exchange& ex) {
  const RequestId id = ex.id;
  // Captures are [this, id] only: they fit std::function's inline storage (no allocation).
  if (ex.request.timeouts.total.count() > 0) {
    ex.total_timer = loop_.addLoopTimer(ex.started_at + ex.request.timeouts.total, [this, id] {
      Exchange* e = find(id);
      if (!e) return;
      e->total_timer = 0;
      fail(*e,
           Error(ErrorCode::Timeout, "request did not complete within " +
                                         millis(e->request.timeouts.total) + " (total timeout)"));
    });
  }
  if (ex.request.timeouts.first_byte.count() > 0) {
    ex.first_byte_timer =
        loop_.addLoopTimer(ex.started_at + ex.request.timeouts.first_byte, [this, id] {
          Exchange* e = find(id);
          if (!e || e->saw_first_byte) return;
          e->first_byte_timer = 0;
          fail(*e, Error(ErrorCode::Timeout, "no response headers within " +
                                                 millis(e->request.timeouts.first_byte) +
                                                 " (first-byte timeout)"));
        });
  }
}

void Http1Client::armIdleTimer(Exchange& ex, MonotonicTime when) {
  const RequestId id = ex.id;
  // One timer per request, moved lazily: body bytes only stamp last_data_at.
  ex.idle_timer = loop_.addLoopTimer(when, [this, id] {
    Exchange* e = find(id);
    if (!e) return;
    e->idle_timer = 0;
    const std::chrono::milliseconds idle = e->request.timeouts.idle;
    const MonotonicTime deadline = e->last_data_at + idle;
    if (deadline > now()) {
      armIdleTimer(*e, deadline);
      return;
    }
    fail(*e, Error(ErrorCode::Timeout,
                   "no data for " + millis(idle) + " (idle timeout between stream chunks)"));
  });
}

bool Http1Client::expired(const Connection& conn, MonotonicTime t) const {
  // An idle timeout of 0 means no limit.
  if (options_.connection_idle_timeout.count() > 0 &&
      t - conn.idle_since >= options_.connection_idle_timeout) {
    return true;
  }
  return options_.connection_max_lifetime.count() > 0 &&
         t - conn.opened_at >= options_.connection_max_lifetime;
}

void Http1Client::dispatch(Exchange& ex) {
  Host& host = *ex.host;
  const MonotonicTime t = now();
  while (!host.idle.empty()) {
    Connection* conn = host.idle.back();
    host.idle.pop_back();
    conn->idle = false;
    if (expired(*conn, t)) {
      closeConnection(*conn, /*serve_waiting=*/false);
      continue;
    }
    assign(*conn, ex);
    return;
  }
  const size_t per_host = perHostLimit();
  const size_t total = totalLimit();
  if (host.open < per_host && (open_connections_ < total || closeOneIdle())) {
    openConnection(host, ex);
    return;
  }
  ex.waiting = true;
  ++waiting_;
  host.waiting.push_back(ex.id);
}

bool Http1Client::openConnection(Host& host, Exchange& ex) {
  const auto& address = host.endpoint.address;
  const int fd =
      ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    const int error_number = errno;
    if (auto local = localResourceError(error_number)) {
      counters_.local_resource_failures.fetch_add(1);
      fail(ex, std::move(*local));
    } else {
      fail(ex, Error(ErrorCode::ConnectFailed, "cannot open a socket to " + host.authority + ": " +
                                                   std::strerror(error_number)));
    }
    return false;
  }
  auto owned = std::make_unique<Connection>();
  Connection& conn = *owned;
  conn.fd = UniqueFd(fd);
  conn.generation = ++next_generation_;
  if (conn.generation == 0) conn.generation = ++next_generation_;  // 0 marks libcurl's sockets
  conn.host = &host;
  conn.opened_at = now();
  conn.idle_since = conn.opened_at;
  if (static_cast<size_t>(fd) >= by_fd_.size()) by_fd_.resize(static_cast<size_t>(fd) + 64);
  by_fd_[static_cast<size_t>(fd)] = std::move(owned);
  ++host.open;
  ++open_connections_;
  host.counters->opened.fetch_add(1);
  counters_.connections_opened.fetch_add(1);
  conn.exchange = &ex;
  ex.conn = &conn;

  const int one = 1;
  if (options_.tcp_nodelay) ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (options_.tcp_keepalive) {
    const int idle = static_cast<int>(options_.tcp_keepalive_idle.count());
    const int interval = static_cast<int>(options_.tcp_keepalive_interval.count());
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  }

  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  ev.data.u64 = epollData(fd, conn.generation);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    const int error_number = errno;
    abandonConnect(conn,
                   localResourceError(error_number)
                       .value_or(Error(ErrorCode::Internal, std::string("epoll_ctl failed: ") +
                                                                std::strerror(error_number))));
    return false;
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), host.endpoint.address_length) !=
          0 &&
      errno != EINPROGRESS) {
    const int error_number = errno;
    if (auto local = localResourceError(error_number)) {
      counters_.local_resource_failures.fetch_add(1);
      abandonConnect(conn, std::move(*local));
    } else {
      abandonConnect(
          conn, Error(ErrorCode::ConnectFailed, "could not connect to " + host.authority + ": " +
                                                    std::strerror(error_number)));
    }
    return false;
  }
  // Completion (or failure) of the connect shows as writability; the connect timeout bounds it.
  std::chrono::milliseconds limit = options_.connect_timeout;
  const std::chrono::milliseconds own = ex.request.timeouts.connect;
  if (own.count() > 0) limit = limit.count() > 0 ? std::min(limit, own) : own;
  if (limit.count() > 0) {
    const int conn_fd = fd;
    const uint32_t generation = conn.generation;
    conn.connect_timer =
        loop_.addLoopTimer(conn.opened_at + limit, [this, conn_fd, generation, limit] {
          if (static_cast<size_t>(conn_fd) >= by_fd_.size()) return;
          Connection* c = by_fd_[static_cast<size_t>(conn_fd)].get();
          if (!c || c->generation != generation || !c->connecting) return;
          c->connect_timer = 0;
          failOnConnection(
              *c, Error(ErrorCode::Timeout, "could not connect to " + c->host->authority +
                                                " within " + millis(limit) + " (connect timeout)"));
        });
  }
  return true;
}

void Http1Client::abandonConnect(Connection& conn, Error error) {
  Exchange& ex = *conn.exchange;
  conn.exchange = nullptr;
  ex.conn = nullptr;
  // The freed slot is not handed on here: openConnection's callers do that in a loop, so a host
  // whose every connect fails at once cannot recurse once per waiting request.
  closeConnection(conn, /*serve_waiting=*/false);
  fail(ex, std::move(error));
}

void Http1Client::assign(Connection& conn, Exchange& ex) {
  conn.exchange = &ex;
  ex.conn = &conn;
  ex.reused = conn.served > 0;
  if (!conn.connecting) {
    conn.parser.reset(ex.request.method == "HEAD");
    ex.sent = 0;
    sendSome(conn);
  }
}

void Http1Client::onConnected(Connection& conn) {
  conn.connecting = false;
  if (conn.connect_timer != 0) {
    loop_.cancelLoopTimer(conn.connect_timer);
    conn.connect_timer = 0;
  }
  if (conn.exchange) {
    conn.parser.reset(conn.exchange->request.method == "HEAD");
    conn.exchange->sent = 0;
    sendSome(conn);
    return;
  }
  // Its request ended while it connected: the new connection serves the next one.
  setWantWrite(conn, false);
  release(conn);
}

bool Http1Client::sendSome(Connection& conn) {
  Exchange& ex = *conn.exchange;
  const size_t head_size = ex.head.size();
  const size_t total = head_size + ex.request.body.size();
  while (ex.sent < total) {
    iovec parts[2];
    int count = 0;
    if (ex.sent < head_size) {
      parts[count++] = {ex.head.data() + ex.sent, head_size - ex.sent};
      if (!ex.request.body.empty()) {
        parts[count++] = {ex.request.body.data(), ex.request.body.size()};
      }
    } else {
      const size_t offset = ex.sent - head_size;
      parts[count++] = {ex.request.body.data() + offset, ex.request.body.size() - offset};
    }
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = static_cast<size_t>(count);
    const ssize_t n = ::sendmsg(conn.fd.get(), &message, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        setWantWrite(conn, true);
        return true;
      }
      connectionBroken(conn, errno, "sending the request");
      return false;
    }
    ex.sent += static_cast<size_t>(n);
  }
  setWantWrite(conn, false);
  return true;
}

void Http1Client::setWantWrite(Connection& conn, bool want) {
  if (conn.want_write == want) return;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
  ev.data.u64 = epollData(conn.fd.get(), conn.generation);
  // Cannot fail for a registered socket short of kernel memory; a missed EPOLLOUT would then
  // surface as the request's timeout.
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, conn.fd.get(), &ev);
  conn.want_write = want;
}

void Http1Client::onEvent(uint64_t data, uint32_t events) {
  const auto fd = static_cast<size_t>(static_cast<uint32_t>(data));
  const auto generation = static_cast<uint32_t>(data >> 32);
  if (fd >= by_fd_.size()) return;
  Connection* conn = by_fd_[fd].get();
  // A stale event: its connection was closed earlier in this batch (the fd may be reused).
  if (!conn || conn->generation != generation) return;

  if (conn->connecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int error_number = 0;
    socklen_t length = sizeof(error_number);
    if (::getsockopt(conn->fd.get(), SOL_SOCKET, SO_ERROR, &error_number, &length) != 0) {
      error_number = errno;
    }
    if (error_number == 0 && (events & (EPOLLERR | EPOLLHUP))) error_number = ECONNREFUSED;
    if (error_number != 0) {
      Error error = localResourceError(error_number)
                        .value_or(Error(ErrorCode::ConnectFailed, "could not connect to " +
                                                                      conn->host->authority + ": " +
                                                                      std::strerror(error_number)));
      if (conn->exchange) {
        failOnConnection(*conn, std::move(error));
      } else {
        closeConnection(*conn);
      }
      return;
    }
    onConnected(*conn);
    return;
  }
  if ((events & EPOLLOUT) && conn->exchange &&
      conn->exchange->sent < conn->exchange->head.size() + conn->exchange->request.body.size()) {
    if (!sendSome(*conn)) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) receive(*conn);
}

void Http1Client::receive(Connection& conn) {
  for (;;) {
    const ssize_t n = ::recv(conn.fd.get(), read_buffer_.data(), read_buffer_.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (!conn.exchange) {
        closeConnection(conn);
        return;
      }
      connectionBroken(conn, errno, "reading the response");
      return;
    }
    if (!conn.exchange) {
      // An idle connection that becomes readable was closed by the peer (or sent bytes nobody
      // asked for): it cannot carry another request.
      closeConnection(conn);
      return;
    }
    Exchange& ex = *conn.exchange;
    if (n == 0) {
      if (conn.parser.finishAtEof()) {
        finishSuccess(conn, /*reusable=*/false);
      } else {
        connectionBroken(conn, 0, "reading the response");
      }
      return;
    }
    if (!ex.saw_first_byte) {
      ex.saw_first_byte = true;
      ex.response.time_to_first_byte =
          std::chrono::duration_cast<std::chrono::microseconds>(now() - ex.started_at);
      if (ex.first_byte_timer != 0) {
        loop_.cancelLoopTimer(ex.first_byte_timer);
        ex.first_byte_timer = 0;
      }
    }
    const auto length = static_cast<size_t>(n);
    size_t consumed = 0;
    switch (conn.parser.feed(std::string_view(read_buffer_.data(), length), ex, consumed)) {
      case Http1ResponseParser::Status::NeedMore:
        // A short read drained the socket: wait for the next event instead of a recv() that
        // would only say EAGAIN.
        if (length < read_buffer_.size()) return;
        continue;
      case Http1ResponseParser::Status::Done:
        // Bytes after the response were never asked for: the connection is not reused.
        finishSuccess(conn, consumed == length);
        return;
      case Http1ResponseParser::Status::Aborted:
        failOnConnection(conn, ex.local_error.value_or(
                                   Error(ErrorCode::Cancelled, "the response was abandoned")));
        return;
      case Http1ResponseParser::Status::Invalid:
        failOnConnection(
            conn, Error(ErrorCode::Protocol, "invalid HTTP response from " + conn.host->authority +
                                                 ": " + conn.parser.error()));
        return;
    }
  }
}

void Http1Client::finishSuccess(Connection& conn, bool reusable) {
  Exchange& ex = *conn.exchange;
  conn.exchange = nullptr;
  ex.conn = nullptr;
  ++conn.served;
  ex.response.status = conn.parser.status();
  ex.response.reused_connection = ex.reused;
  if (ex.reused) {
    counters_.connections_reused.fetch_add(1);
    ex.host->counters->reused.fetch_add(1, std::memory_order_relaxed);
  }
  ex.response.total_time =
      std::chrono::duration_cast<std::chrono::microseconds>(now() - ex.started_at);
  if (reusable && conn.parser.keepAlive()) {
    release(conn);
  } else {
    closeConnection(conn);
  }
  complete(ex, std::move(ex.response));
}

void Http1Client::connectionBroken(Connection& conn, int error_number, const char* during) {
  Exchange& ex = *conn.exchange;
  Host& host = *conn.host;
  const bool nothing_received = !conn.parser.started();
  const bool head_done = conn.parser.headDone();
  conn.exchange = nullptr;
  ex.conn = nullptr;
  closeConnection(conn, /*serve_waiting=*/false);
  if (ex.reused && nothing_received && !ex.retried) {
    // A keep-alive connection the peer closed just as it was reused: the request never reached
    // it, so it goes again, once, on a fresh connection (the slot just freed is ours).
    ex.retried = true;
    ex.reused = false;
    openConnection(host, ex);
  } else {
    std::string message =
        error_number == 0
            ? (nothing_received ? "empty reply from " + host.authority
                                : std::string("connection closed by ") + host.authority +
                                      (head_done ? " in the middle of the response body"
                                                 : " before the response head was complete"))
            : std::string("connection to ") + host.authority + " failed while " + during + ": " +
                  std::strerror(error_number);
    fail(ex, Error(ErrorCode::ConnectFailed, std::move(message)));
  }
  serveWaiting(host);
}

void Http1Client::failOnConnection(Connection& conn, Error error) {
  Exchange* ex = conn.exchange;
  conn.exchange = nullptr;
  if (ex) ex->conn = nullptr;
  closeConnection(conn);
  if (ex) fail(*ex, std::move(error));
}

void Http1Client::release(Connection& conn) {
  Host& host = *conn.host;
  conn.idle_since = now();
  if (options_.connection_max_lifetime.count() > 0 &&
      conn.idle_since - conn.opened_at >= options_.connection_max_lifetime) {
    closeConnection(conn);
    return;
  }
  if (Exchange* ex = popWaiting(host)) {
    assign(conn, *ex);
    return;
  }
  if (waiting_ > 0 && anotherHostWaitsForATotalSlot(host)) {
    // A request for another host waits only because max_total_connections is reached: this
    // connection makes room for it rather than idling.
    closeConnection(conn, /*serve_waiting=*/false);
    serveWaitingElsewhere();
    return;
  }
  conn.idle = true;
  host.idle.push_back(&conn);
  if (idle_sweep_timer_ == 0 && options_.connection_idle_timeout.count() > 0) {
    armIdleSweep(conn.idle_since + options_.connection_idle_timeout);
  }
}

void Http1Client::closeConnection(Connection& conn, bool serve_waiting) {
  Host& host = *conn.host;
  if (conn.idle) {
    auto it = std::find(host.idle.begin(), host.idle.end(), &conn);
    if (it != host.idle.end()) host.idle.erase(it);
    conn.idle = false;
  }
  if (conn.connect_timer != 0) loop_.cancelLoopTimer(conn.connect_timer);
  // Explicitly out of the epoll set: a forked child may still hold the descriptor, and the set
  // follows the open file, not the descriptor number.
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, conn.fd.get(), nullptr);
  --host.open;
  --open_connections_;
  host.counters->closed.fetch_add(1);
  counters_.connections_closed.fetch_add(1);
  by_fd_[static_cast<size_t>(conn.fd.get())].reset();  // closes the socket; `conn` is gone
  if (serve_waiting) {
    serveWaiting(host);
    if (waiting_ > 0) serveWaitingElsewhere();
  }
}

void Http1Client::serveWaiting(Host& host) {
  const size_t per_host = perHostLimit();
  const size_t total = totalLimit();
  if (failing_all_) return;
  // Iterative: a connection that fails at once completes its request and the loop moves on, so
  // a refused host with many waiters does not recurse.
  while (host.open < per_host && open_connections_ < total) {
    Exchange* ex = popWaiting(host);
    if (!ex) return;
    openConnection(host, *ex);
  }
}

Http1Client::Exchange* Http1Client::popWaiting(Host& host) {
  while (!host.waiting.empty()) {
    const RequestId id = host.waiting.front();
    host.waiting.pop_front();
    Exchange* ex = find(id);
    if (!ex || !ex->waiting) continue;  // ended while it waited
    ex->waiting = false;
    --waiting_;
    return ex;
  }
  return nullptr;
}

void Http1Client::serveWaitingElsewhere() {
  for (auto& [authority, host] : hosts_) {
    if (waiting_ == 0) return;
    if (!host->waiting.empty()) serveWaiting(*host);
  }
}

bool Http1Client::anotherHostWaitsForATotalSlot(const Host& except) const {
  const size_t per_host = perHostLimit();
  const size_t total = totalLimit();
  if (open_connections_ < total) return false;
  for (const auto& [authority, host] : hosts_) {
    if (host.get() != &except && !host->waiting.empty() && host->open < per_host) return true;
  }
  return false;
}

bool Http1Client::closeOneIdle() {
  for (auto& [authority, host] : hosts_) {
    if (host->idle.empty()) continue;
    Connection* oldest = host->idle.front();
    closeConnection(*oldest, /*serve_waiting=*/false);
    return true;
  }
  return false;
}

void Http1Client::armIdleSweep(MonotonicTime when) {
  idle_sweep_at_ = when;
  idle_sweep_timer_ = loop_.addLoopTimer(when, [this] {
    idle_sweep_timer_ = 0;
    sweepIdle();
  });
}

void Http1Client::sweepIdle() {
  const MonotonicTime t = now();
  std::optional<MonotonicTime> next;
  for (auto& [authority, host] : hosts_) {
    // Oldest first; the list is short and the sweep runs once per idle timeout.
    for (size_t i = 0; i < host->idle.size();) {
      Connection* conn = host->idle[i];
      if (expired(*conn, t)) {
        closeConnection(*conn, /*serve_waiting=*/false);  // erases idle[i]
        continue;
      }
      const MonotonicTime due = conn->idle_since + options_.connection_idle_timeout;
      if (!next || due < *next) next = due;
      ++i;
    }
  }
  if (next) armIdleSweep(*next);
}

void Http1Client::fail(Exchange& ex, Error error) {
  if (ex.conn) {
    failOnConnection(*ex.conn, std::move(error));  // comes back here with conn detached
    return;
  }
  if (ex.waiting) {
    ex.waiting = false;  // its id stays in the host's queue and is skipped there
    --waiting_;
  }
  complete(ex, std::unexpected(std::move(error)));
}

void Http1Client::complete(Exchange& ex, Result<HttpResponse> result) {
  if (ex.total_timer != 0) loop_.cancelLoopTimer(ex.total_timer);
  if (ex.first_byte_timer != 0) loop_.cancelLoopTimer(ex.first_byte_timer);
  if (ex.idle_timer != 0) loop_.cancelLoopTimer(ex.idle_timer);
  ex.host->counters->active.fetch_sub(1, std::memory_order_relaxed);
  ResponseCallbacks callbacks = std::move(ex.callbacks);
  if (auto owned = in_flight_nodes_.take(in_flight_, ex.id)) {
    (*owned)->clear();
    if (spare_exchanges_.size() < kSpareExchanges) spare_exchanges_.push_back(std::move(*owned));
  }
  // `ex` may be gone now; the callbacks and the result are ours.
  loop_.deliver(callbacks, std::move(result));
}

bool Http1Client::cancel(RequestId id, const Error& error) {
  Exchange* ex = find(id);
  if (!ex) return false;
  fail(*ex, error);
  return true;
}

void Http1Client::failAll(const Error& error) {
  // Slots freed here must not start the waiting requests that are about to fail too.
  failing_all_ = true;
  while (!in_flight_.empty()) fail(*in_flight_.begin()->second, error);
  failing_all_ = false;
}

}  // namespace llmpool::http
