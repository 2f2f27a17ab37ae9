#pragma once
// ResponseWriter: the handle a request handler uses to answer, now or later, from any thread.
//
//   server::Server::create(options, [](server::Request&& req, server::ResponseWriter w) {
//     w.send(Status::ok, R"({"ok":true})", "application/json");           // complete response
//   });
//   // or, streaming (e.g. SSE):
//   w.startStream(head);  w.writeChunk("data: ...\n\n");  ...  w.finish();
//
// Contract:
// - Exactly one of send() / startStream()+finish() / abort() takes effect; later calls are
//   ignored. Chunks are written in call order; call from one thread at a time per exchange.
// - Calls from the connection's I/O thread act directly; calls from other threads are posted to
//   that thread (FIFO), so a producer on another thread never blocks. Exception: send() from
//   another thread on a plain-TCP keep-alive connection usually writes the response itself with
//   one non-blocking send (no hop to the I/O thread; see connection.cc, "direct responses").
// - The handle is a cheap copyable reference (shared_ptr). When the last copy is dropped without
//   an answer, the server answers 500 (nothing sent yet) or closes the connection (a stream was
//   started but not finished).
// - clientGone() turns true once the connection closed (client went away, timeout, shutdown);
//   then every call is a no-op. onDisconnect() callbacks run once, on the I/O thread, only if the
//   connection closes before the response has been completely written.
// - All handles must be dropped before the Server is destroyed (they refer to its I/O contexts).
//   Server::stop() closes every connection, which fires the disconnect callbacks: the place to
//   drop them.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "server/http_types.h"

namespace llmpool::server {

class Connection;

/** Shared state of one request/response exchange (internal to the server). */
struct Exchange {
  Exchange(std::shared_ptr<Connection> c, uint64_t i) : connection(std::move(c)), id(i) {}
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  std::shared_ptr<Connection> connection;
  uint64_t id;
  std::atomic<bool> started{false};    // send() or startStream() was called
  std::atomic<bool> completed{false};  // send(), finish() or abort() was called
  std::atomic<uint32_t> queued{0};     // operations posted to the I/O thread, not yet run
  std::chrono::steady_clock::time_point arrived_at{};  // see ResponseWriter::arrivedAt()
};

class ResponseWriter {
 public:
  explicit ResponseWriter(std::shared_ptr<Exchange> exchange) : exchange_(std::move(exchange)) {}

  /** Sends a complete response. Content-Length, Connection and Transfer-Encoding are set by the
   *  server. */
  void send(Response response);
  /** Convenience: status + body with a Content-Type. */
  void send(Status status, std::string body, std::string_view content_type);

  /** Starts a streamed response: status and headers now, body in chunks (chunked encoding on
   *  HTTP/1.1). */
  void startStream(ResponseHead head);
  /** Appends body bytes to a started stream; empty data is ignored. */
  void writeChunk(std::string data);
  /** Ends a started stream cleanly (the terminating chunk). */
  void finish();
  /** Ends the exchange abnormally. Before anything was sent: the connection is reset (RST).
   *  Mid-response: the bytes already written are delivered, then the connection is closed
   *  without completing the body (the client sees a truncated response). */
  void abort();

  /** True once the client connection is closed; writes are then discarded. Any thread. */
  bool clientGone() const;
  /** Registers `callback`, run once on the I/O thread if the connection closes before the
   *  response completes (immediately, if it already has). Any thread. */
  void onDisconnect(std::function<void()> callback);
  /** Response bytes queued for this connection and not yet written: a streaming producer can
   *  slow down when the client reads slowly. Any thread. */
  std::size_t bufferedBytes() const;

  /** The connection's I/O executor: timers created on it run on the thread that owns the
   *  connection, so handler state touched only there needs no locks. */
  boost::asio::any_io_executor executor() const;
  /** True when called on the connection's I/O thread. */
  bool onIoThread() const;
  /** When the request arrived: its first bytes' kernel receive stamp with
   *  ServerOptions::receive_timestamps (plain TCP), otherwise when the server began reading it.
   *  Any thread. */
  std::chrono::steady_clock::time_point arrivedAt() const { return exchange_->arrived_at; }
  /** Peer address "ip:port". */
  const std::string& remoteAddress() const;
  /** A slot for the handler's per-connection state (e.g. "this connection carried model
   *  traffic"). I/O thread only. Released when the connection closes, so an object stored here
   *  can observe the close in its destructor. */
  std::shared_ptr<void>& connectionData() const;

 private:
  template <class Fn>
  void run(Fn fn);

  std::shared_ptr<Exchange> exchange_;
};

}  // namespace llmpool::server
