#include "server/connection.h"

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>

#include "server/wire_format.h"
#include "server/worker.h"

namespace llmpool::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

Connection::Connection(Worker* worker)
    : worker_(worker), executor_(worker_->context().get_executor()) {}

Connection::~Connection() = default;

namespace {

tcp::socket& lowestLayer(tcp::socket& s) { return s; }
tcp::socket& lowestLayer(asio::ssl::stream<tcp::socket>& s) { return s.next_layer(); }

using SteadyTime = std::chrono::steady_clock::time_point;

// The first read of a request when arrival stamps are on: small chat requests fit in one.
constexpr std::size_t kStampedReadBytes = 4096;

// Plain TCP without arrival stamps reads a request's first bytes into a buffer of the
// connection's own (ConnectionImpl::first_read_). Small chat requests (and the headers of most
// others) fit; the rest is read through the read buffer as before.
constexpr std::size_t kFirstReadBytes = 2048;

// When the data a recvmsg returned reached the socket, from its SCM_TIMESTAMPNS (wall-clock time,
// turned into steady time by its age); `now` when there is none. A stamp more than a second old
// or in the future means the wall clock was stepped meanwhile: not trusted.
SteadyTime arrivalOf(msghdr& msg, SteadyTime now) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
    timespec stamp{};
    std::memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
    timespec wall{};
    ::clock_gettime(CLOCK_REALTIME, &wall);
    const auto age = std::chrono::seconds(wall.tv_sec - stamp.tv_sec) +
                     std::chrono::nanoseconds(wall.tv_nsec - stamp.tv_nsec);
    if (age >= std::chrono::nanoseconds::zero() && age < std::chrono::seconds(1)) {
      return now - std::chrono::duration_cast<std::chrono::steady_clock::duration>(age);
    }
  }
  return now;
}

// One connection: reads requests one at a time, hands each to the handler, writes the answer
// through a double byte buffer (one buffer being written, one collecting), then reads the next.
//
// While a handler works on a request the connection keeps a read pending: it notices a client
// that goes away (EOF or error -> disconnect callbacks) and picks up a pipelined request, which
// waits in pending_ until the current response is written. On plain TCP that read goes into the
// connection's fixed 2 KiB first_read_ buffer (with arrival stamps on: a wait for readability),
// so an idle connection or a long stream holds no growing read buffer and no parser (see
// readRequest()).
//
// Direct responses: a handler that answers from another thread (the gateway answers from the
// pool's transport thread) would cost a hop to the I/O thread per response: a wake-up, a queued
// handler, a context switch. Instead, while an exchange runs on a plain-TCP keep-alive connection
// with nothing else to write, the connection opens a "direct window" for it (direct_id_): the
// answering thread formats the response and sends it with one non-blocking sendmsg under
// direct_mu_, and records the fact in direct_done_. The I/O thread takes note of it
// (syncDirect) the next time it runs for this connection: the next request, an EOF, the sweep.
// Everything that could conflict with such a write (a write of its own, close, drain, a
// pipelined request, Connection: close) first closes the window under the same mutex, and the
// socket is closed only after that, so the other thread never touches a closed descriptor. A send
// that does not take the whole response hands the rest to the I/O thread.
template <class Stream>
class ConnectionImpl final : public Connection {
 public:
  ConnectionImpl(Worker* worker, Stream stream) : Connection(worker), stream_(std::move(stream)) {
    ErrorCode ec;
    auto remote = lowestLayer(stream_).remote_endpoint(ec);
    if (!ec) remote_address_ = remote.address().to_string() + ":" + std::to_string(remote.port());
  }

  ~ConnectionImpl() override {
    if (!closed_) {  // only reachable if every pending operation was destroyed unrun
      worker_->unlink(this);
      worker_->shared().open.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  void start() override {
    worker_->link(this);
    if constexpr (std::is_same_v<Stream, asio::ssl::stream<tcp::socket>>) {
      setDeadline(options().read_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = self()](ErrorCode ec) {
        if (ec) return self->close(false);
        self->readRequest();
      });
    } else {
      readRequest();
    }
  }

  // ---- Exchange operations -------------------------------------------------------------------

  void sendResponse(uint64_t id, Response response) override {
    if (revokeDirect(id) || !acceptsHead(id)) return;
    if (!response.keep_alive()) keep_alive_ = false;
    response_started_ = true;
    const std::size_t body_size = response.body().size();
    appendHead(out_pending_, response.base(), Framing::ContentLength, body_size, keep_alive_);
    if (!head_only_) out_pending_.append(response.body());
    response_complete_ = true;
    flush();
  }

  void startStream(uint64_t id, ResponseHead head) override {
    if (revokeDirect(id) || !acceptsHead(id)) return;
    if (http10_) keep_alive_ = false;  // no chunked encoding: the body ends at close
    framing_ = http10_ ? Framing::UntilClose : Framing::Chunked;
    response_started_ = true;
    streaming_ = true;
    appendHead(out_pending_, head, framing_, 0, keep_alive_);
    if (head_only_) response_complete_ = true;
    flush();
  }

  void writeChunk(uint64_t id, std::string data) override {
    if (id != active_ || closed_ || !streaming_ || response_complete_ || head_only_ ||
        abort_after_flush_) {
      return;
    }
    if (framing_ == Framing::Chunked) {
      appendChunk(out_pending_, data);
    } else {
      out_pending_.append(data);
    }
    if (out_pending_.size() + out_writing_.size() > options().max_buffered_bytes) {
      // The client is not keeping up with the stream: drop it rather than hold the rest. The
      // close is posted, not done here: it runs the disconnect callbacks, and the producer calling
      // writeChunk may hold the lock its own callback takes.
      std::string().swap(out_pending_);
      abort_after_flush_ = true;  // later chunks are dropped (writeChunk checks it)
      keep_alive_ = false;
      asio::post(stream_.get_executor(), [self = self()] { self->close(false); });
      return;
    }
    flush();
  }

  void finishStream(uint64_t id) override {
    if (id != active_ || closed_ || response_complete_ || abort_after_flush_) return;
    if (!streaming_) return abandonExchange(id);  // finish() without startStream()
    if (framing_ == Framing::Chunked && !head_only_) out_pending_.append(LastChunk);
    response_complete_ = true;
    flush();
  }

  void abortExchange(uint64_t id) override {
    if (revokeDirect(id) || id != active_ || closed_) return;
    if (!response_started_) return close(true);  // nothing sent: a plain TCP reset
    // Mid-response: deliver what was written, then close without ending the body, so the client
    // sees a response cut short (a reset now would make the kernel drop the queued bytes).
    abort_after_flush_ = true;
    keep_alive_ = false;
    flush();
  }

  void abandonExchange(uint64_t id) override {
    if (revokeDirect(id) || id != active_ || closed_ || response_complete_) return;
    if (response_started_) return close(false);
    Response response{http::status::internal_server_error, 11};
    response.set(http::field::content_type, "application/json");
    response.body() =
        R"({"error":{"message":"the handler produced no response","type":"server_error",)"
        R"("param":null,"code":null}})";
    sendResponse(id, std::move(response));
  }

  void addDisconnectCallback(uint64_t id, std::function<void()> callback) override {
    if (closed_) {
      if (id == active_) callback();  // closed before the response completed
      return;
    }
    if (id == active_ && !exchange_written_) callbacks_.push_back(std::move(callback));
  }

  bool sendFromAnyThread(uint64_t id, const Response& response) override {
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
      return false;  // TLS state belongs to the I/O thread
    } else {
      if (direct_hint_.load(std::memory_order_acquire) != id || !response.keep_alive()) {
        return false;
      }
      // Formatted before taking the lock, into this thread's reusable buffer; the body is sent
      // from where it is (no copy).
      thread_local std::string head;
      head.clear();
      const std::string& body = response.body();
      appendHead(head, response.base(), Framing::ContentLength, body.size(), true);
      iovec parts[2] = {{head.data(), head.size()}, {const_cast<char*>(body.data()), body.size()}};
      msghdr msg{};
      msg.msg_iov = parts;
      msg.msg_iovlen = body.empty() ? 1 : 2;
      const std::size_t total = head.size() + body.size();
      std::lock_guard lock(direct_mu_);
      if (direct_id_ != id) return false;
      direct_id_ = 0;
      direct_hint_.store(0, std::memory_order_relaxed);
      const ssize_t sent = ::sendmsg(stream_.native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent <= 0) return false;  // full buffer or error: the I/O thread writes (and sees it)
      if (static_cast<std::size_t>(sent) == total) {
        direct_done_.store(id, std::memory_order_release);
        return true;
      }
      // Part went out: the rest is the I/O thread's to write (the window stays closed, so
      // nothing else is written in between).
      std::string rest;
      rest.reserve(total - static_cast<std::size_t>(sent));
      const std::size_t from = static_cast<std::size_t>(sent);
      if (from < head.size()) {
        rest.append(head, from);
        rest.append(body);
      } else {
        rest.append(body, from - head.size());
      }
      buffered_.store(rest.size(), std::memory_order_relaxed);
      asio::post(executor_, [self = self(), id, rest = std::move(rest)]() mutable {
        self->finishDirect(id, std::move(rest));
      });
      return true;
    }
  }

  void collectDirectResponse() override {
    if (direct_done_.load(std::memory_order_acquire) != 0) syncDirect(false);
  }

  bool busy() const override { return active_ != 0; }

  // ---- Worker operations ---------------------------------------------------------------------

  void drain() override {
    syncDirect(true);  // the current response (if any) becomes the last one: no direct write
    draining_ = true;
    if (active_ == 0) return close(false);
    keep_alive_ = false;  // the current response is the last one
  }

  void close(bool reset) override {
    if (closed_) return;
    // After this no other thread touches the socket; an exchange it answered is complete, so
    // its disconnect callbacks must not run.
    syncDirect(true);
    closed_ = true;
    gone_.store(true, std::memory_order_release);
    worker_->unlink(this);
    worker_->shared().open.fetch_sub(1, std::memory_order_relaxed);
    auto& socket = lowestLayer(stream_);
    ErrorCode ignored;
    if (reset) socket.set_option(asio::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
    pending_.reset();
    user_data_.reset();
    std::string().swap(out_pending_);  // out_writing_ stays until the aborted write returns
    buffered_.store(0, std::memory_order_relaxed);
    // The client is gone before the response completed: tell whoever produces it.
    auto callbacks = std::move(callbacks_);
    callbacks_.clear();
    for (auto& callback : callbacks) callback();
  }

 private:
  std::shared_ptr<ConnectionImpl> self() {
    return std::static_pointer_cast<ConnectionImpl>(shared_from_this());
  }
  const ServerOptions& options() const { return worker_->shared().options; }

  void setDeadline(std::chrono::milliseconds timeout) {
    deadline_ = std::chrono::steady_clock::now() + timeout;
  }
  void clearDeadline() { deadline_ = std::chrono::steady_clock::time_point::max(); }

  bool acceptsHead(uint64_t id) const { return id == active_ && !closed_ && !response_started_; }

  // ---- Direct responses (see the class comment) ------------------------------------------------

  void openDirect(uint64_t id) {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      if (!keep_alive_ || head_only_ || draining_ || writing_ || !out_pending_.empty()) return;
      std::lock_guard lock(direct_mu_);
      direct_id_ = id;
      direct_hint_.store(id, std::memory_order_release);
    }
  }

  // Takes note of a direct response (and with `revoke`, closes the window first, so no direct
  // write can follow). Returns true when the active exchange turned out to be answered already.
  bool syncDirect(bool revoke) {
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
      return false;
    } else {
      if (!revoke && direct_done_.load(std::memory_order_acquire) == 0) return false;
      uint64_t done = 0;
      {
        std::lock_guard lock(direct_mu_);
        if (revoke) {
          direct_id_ = 0;
          direct_hint_.store(0, std::memory_order_relaxed);
        }
        done = direct_done_.exchange(0, std::memory_order_acq_rel);
      }
      if (done == 0 || done != active_ || closed_) return false;
      // The response is on the wire: the same bookkeeping as after a write of our own, minus
      // the things a direct window excludes (Connection: close, pipelined requests, writes).
      response_started_ = true;
      response_complete_ = false;
      exchange_written_ = true;
      callbacks_.clear();
      active_ = 0;
      // A read is pending for the whole exchange (dispatch starts it), except when the caller is
      // the end of a read (onRequest, onReadError), which goes on to dispatch or close.
      if (reading_) setDeadline(options().read_timeout);
      return true;
    }
  }

  // An exchange op on the I/O thread: closes the window. True when `id` was answered directly
  // already, so the op is stale.
  bool revokeDirect(uint64_t id) { return id == active_ && syncDirect(true); }

  // The rest of a response whose first bytes were sent directly.
  void finishDirect(uint64_t id, std::string rest) {
    if (id != active_ || closed_) return;
    response_started_ = true;
    out_pending_.append(rest);
    response_complete_ = true;
    flush();
  }

  // ---- Reading -------------------------------------------------------------------------------

  void readRequest() {
    if (closed_ || reading_) return;
    reading_ = true;
    // Waiting while a handler works on a request is not the client's fault: no deadline then.
    if (active_ == 0) setDeadline(options().read_timeout);
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      // Nothing buffered: the next bytes (a request, or the client leaving) land in first_read_
      // and no read buffer or parser is taken before they come. A long stream or an idle
      // keep-alive connection then holds neither, only those 2 KiB, which matters at 10,000 of
      // them. (TLS may hold decrypted bytes the socket no longer shows as readable, so a TLS
      // connection always reads.)
      //
      // A read rather than a wait for readability: Asio re-registers the socket with epoll for
      // every wait (an epoll_ctl per request), and a wait is followed by a read anyway.
      if (buffer_.size() == 0) {
        buffer_.shrink_to_fit();  // frees it: nothing is in it
        if (options().receive_timestamps) {
          lowestLayer(stream_).async_wait(tcp::socket::wait_read,
                                          [self = self()](ErrorCode ec) { self->onReadable(ec); });
        } else {
          stream_.async_read_some(
              asio::buffer(first_read_),
              [self = self()](ErrorCode ec, std::size_t n) { self->onFirstBytes(ec, n); });
        }
        return;
      }
    }
    startParse();
  }

  // A request's first bytes (or the client's EOF) in first_read_: parsed from there, without a
  // copy or another pass through the event loop when the whole request came in one segment.
  void onFirstBytes(ErrorCode ec, std::size_t n) {
    if (closed_ || ec == asio::error::operation_aborted) {
      reading_ = false;
      return;
    }
    if (ec) {  // the client closed, or the socket failed: as a read in startParse() would end
      reading_ = false;
      return close(false);
    }
    newParser();
    ErrorCode parse_error;
    const std::size_t used = parser_->put(asio::buffer(first_read_.data(), n), parse_error);
    if (parse_error == http::error::need_more) parse_error = {};
    if (!parse_error && used < n) {
      // The rest of a header, a body, or a pipelined request: the read buffer takes it over.
      buffer_.commit(asio::buffer_copy(buffer_.prepare(n - used),
                                       asio::buffer(first_read_.data() + used, n - used)));
    }
    onReadSome(parse_error);
  }

  void onReadable(ErrorCode ec) {
    if (closed_ || ec == asio::error::operation_aborted) {
      reading_ = false;
      return;
    }
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      if (!ec && options().receive_timestamps && !receiveStamped()) return;
    }
    // Readable, at EOF or failed: the read says which (an error ends in onReadError).
    startParse();
  }

  // The request's first bytes, read with the kernel's arrival stamp (ServerOptions::
  // receive_timestamps); the parser then starts on what is buffered. False when there is nothing
  // to parse: the readiness was spurious (waiting again) or the connection ended (closed).
  bool receiveStamped() {
    auto space = buffer_.prepare(kStampedReadBytes);
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    iovec iov{space.data(), space.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = 0;
    do {
      n = ::recvmsg(lowestLayer(stream_).native_handle(), &msg, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      reading_ = false;
      readRequest();
      return false;
    }
    if (n <= 0) {  // the client closed, or the socket failed: as a read would end
      reading_ = false;
      close(false);
      return false;
    }
    buffer_.commit(static_cast<std::size_t>(n));
    stamped_arrival_ = arrivalOf(msg, std::chrono::steady_clock::now());
    return true;
  }

  void startParse() {
    newParser();
    readSome();
  }

  void newParser() {
    parse_started_ = std::chrono::steady_clock::now();
    // On the heap, like the read buffer: a connection waiting for its next request holds none.
    parser_ = std::make_unique<http::request_parser<http::string_body>>();
    parser_->header_limit(static_cast<std::uint32_t>(options().max_header_bytes));
    parser_->body_limit(options().max_body_bytes);
    parser_->eager(true);  // parse the body in the same pass as the header when it is there
    continue_checked_ = false;
  }

  // One read-and-parse step; a small request arriving in one segment completes in one step.
  void readSome() {
    http::async_read_some(stream_, buffer_, *parser_,
                          [self = self()](ErrorCode ec, std::size_t) { self->onReadSome(ec); });
  }

  void onReadSome(ErrorCode ec) {
    collectDirectResponse();
    if (ec) return onReadError(ec);
    if (parser_->is_done()) return onRequest();
    if (parser_->is_header_done() && !continue_checked_) {
      continue_checked_ = true;
      // A client that asks before sending its body (curl does for large bodies) is told to go
      // on; otherwise it would wait for its own timeout.
      auto expect = parser_->get()[http::field::expect];
      if (active_ == 0 && beast::iequals(expect, "100-continue")) {
        out_pending_.append("HTTP/1.1 100 Continue\r\n\r\n");
        flush();
      }
    }
    readSome();
  }

  void onRequest() {
    reading_ = false;
    if (closed_) return;
    Request request = parser_->release();
    parser_.reset();
    // A pipelined request waits for the current response, which must then be written here (so
    // the window closes), unless it was answered directly meanwhile.
    if (active_ != 0 && !syncDirect(true)) {
      // Pipelined: answered after the current one (dropped if this connection will close).
      if (keep_alive_) pending_ = std::make_unique<Request>(std::move(request));
      return;
    }
    dispatch(std::move(request));
  }

  void onReadError(ErrorCode ec) {
    reading_ = false;
    if (closed_ || ec == asio::error::operation_aborted) return;
    const bool malformed =
        ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message;
    if (!malformed) {
      return close(false);  // the client closed or the socket failed
    }
    // A malformed or oversized request: answer it (unless busy with the previous one) and close.
    if (active_ != 0 && !syncDirect(true)) {
      keep_alive_ = false;
      return;
    }
    http::status status = http::status::bad_request;
    if (ec == http::error::body_limit) status = http::status::payload_too_large;
    if (ec == http::error::header_limit) status = http::status::request_header_fields_too_large;
    active_ = ++next_id_;
    resetExchangeState();
    keep_alive_ = false;
    Response response{status, 11};
    response.set(http::field::content_type, "application/json");
    response.body() = std::string(R"({"error":{"message":")") +
                      std::string(reasonPhrase(static_cast<unsigned>(status))) +
                      R"(","type":"invalid_request_error","param":null,"code":null}})";
    sendResponse(active_, std::move(response));
  }

  // ---- Handling ------------------------------------------------------------------------------

  void resetExchangeState() {
    response_started_ = false;
    response_complete_ = false;
    streaming_ = false;
    exchange_written_ = false;
    head_only_ = false;
    http10_ = false;
  }

  void dispatch(Request request) {
    const uint64_t id = ++next_id_;
    active_ = id;
    resetExchangeState();
    keep_alive_ = request.keep_alive() && !draining_;
    http10_ = request.version() < 11;
    if (http10_) keep_alive_ = false;
    head_only_ = request.method() == http::verb::head;
    clearDeadline();
    openDirect(id);
    {
      auto exchange = std::make_shared<Exchange>(shared_from_this(), id);
      exchange->arrived_at = stamped_arrival_.value_or(parse_started_);
      stamped_arrival_.reset();
      ResponseWriter writer(std::move(exchange));
      try {
        worker_->shared().handler(std::move(request), std::move(writer));
      } catch (...) {
        // A throwing handler must not take the server down; its writer is dropped, so the
        // client gets a 500 (abandonExchange).
      }
    }
    // Keep reading, even when this is the last request: the read notices a client that leaves
    // mid-exchange (disconnect callbacks) and accepts a pipelined request.
    if (!closed_ && active_ == id) readRequest();
  }

  void onResponseWritten() {
    response_complete_ = false;
    exchange_written_ = true;
    callbacks_.clear();  // completed: disconnect no longer concerns this exchange
    active_ = 0;
    if (!keep_alive_ || draining_) {
      ErrorCode ignored;
      lowestLayer(stream_).shutdown(tcp::socket::shutdown_send, ignored);
      return close(false);
    }
    if (pending_) {
      Request next = std::move(*pending_);
      pending_.reset();
      dispatch(std::move(next));
      return;
    }
    if (reading_) {
      setDeadline(options().read_timeout);
    } else {
      readRequest();
    }
  }

  // ---- Writing -------------------------------------------------------------------------------

  void flush() {
    if (closed_ || writing_) return;
    if (out_pending_.empty()) {
      if (abort_after_flush_) {
        ErrorCode ignored;
        lowestLayer(stream_).shutdown(tcp::socket::shutdown_send, ignored);
        close(false);
      } else if (response_complete_) {
        onResponseWritten();
      }
      return;
    }
    std::swap(out_pending_, out_writing_);
    out_pending_.clear();
    writing_ = true;
    buffered_.store(out_writing_.size(), std::memory_order_relaxed);
    setDeadline(options().write_timeout);
    asio::async_write(stream_, asio::buffer(out_writing_),
                      [self = self()](ErrorCode ec, std::size_t) { self->onWrite(ec); });
  }

  void onWrite(ErrorCode ec) {
    writing_ = false;
    // Released rather than kept for the next write: a stream writes a chunk every now and then,
    // and 10,000 streams each holding two buffers of their largest write add up; one allocation
    // per write is the cheaper side.
    std::string().swap(out_writing_);
    if (ec) return close(false);
    if (closed_) return;
    buffered_.store(out_pending_.size(), std::memory_order_relaxed);
    clearDeadline();
    if (active_ == 0 && reading_) setDeadline(options().read_timeout);
    flush();
  }

  Stream stream_;
  // Plain TCP only (see readRequest()); a TLS connection always reads through buffer_.
  struct NoFirstRead {};
  [[no_unique_address]] std::conditional_t<std::is_same_v<Stream, tcp::socket>,
                                           std::array<char, kFirstReadBytes>, NoFirstRead>
      first_read_;
  beast::flat_buffer buffer_;
  SteadyTime parse_started_{};                 // when reading the current request began
  std::optional<SteadyTime> stamped_arrival_;  // its kernel arrival stamp, when there is one
  std::unique_ptr<http::request_parser<http::string_body>> parser_;  // while reading only
  std::unique_ptr<Request> pending_;              // a pipelined request read while busy
  std::string out_pending_;                       // bytes collected while a write is in flight
  std::string out_writing_;                       // bytes being written
  std::vector<std::function<void()>> callbacks_;  // disconnect callbacks of the active exchange
  uint64_t next_id_ = 0;
  uint64_t active_ = 0;  // id of the exchange being answered, 0 when none
  Framing framing_ = Framing::ContentLength;
  bool reading_ = false;
  bool writing_ = false;
  bool closed_ = false;
  bool draining_ = false;
  bool keep_alive_ = true;
  bool http10_ = false;
  bool head_only_ = false;
  bool response_started_ = false;
  bool response_complete_ = false;  // the whole response is in the buffers
  bool exchange_written_ = false;
  bool streaming_ = false;
  bool abort_after_flush_ = false;
  bool continue_checked_ = false;  // Expect: 100-continue looked at for the request being read
  // Direct responses (class comment). direct_hint_ mirrors direct_id_ for a lock-free pre-check.
  std::mutex direct_mu_;
  uint64_t direct_id_ = 0;                // guarded by direct_mu_: the exchange with a window
  std::atomic<uint64_t> direct_hint_{0};  // == direct_id_
  std::atomic<uint64_t> direct_done_{0};  // answered directly, not yet noted by the I/O thread
};

}  // namespace

std::shared_ptr<Connection> makeConnection(Worker* worker, tcp::socket socket) {
  if (auto& tls = worker->shared().tls) {
    using TlsStream = asio::ssl::stream<tcp::socket>;
    return std::make_shared<ConnectionImpl<TlsStream>>(worker, TlsStream(std::move(socket), *tls));
  }
  return std::make_shared<ConnectionImpl<tcp::socket>>(worker, std::move(socket));
}

}  // namespace llmpool::server
