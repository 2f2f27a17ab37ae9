#pragma once
// The stream-independent face of one accepted connection, as ResponseWriter and the worker see
// it. The implementation (connection.cc) is a template over the byte stream (plain TCP or TLS).
//
// Thread contract: every method here except executor(), the atomics and sendFromAnyThread() runs
// on the connection's own I/O thread. ResponseWriter hops there with asio::post when called from
// elsewhere, except for a complete response that sendFromAnyThread() can write at once.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "server/http_types.h"

namespace llmpool::server {

class Worker;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Executor = boost::asio::io_context::executor_type;

  explicit Connection(Worker* worker);
  virtual ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /** Begins the connection's life on its I/O thread (TLS handshake, then the first read). */
  virtual void start() = 0;

  // Exchange operations: `id` names the request they answer; stale ids are ignored, so a writer
  // that outlives its exchange can do no harm.
  virtual void sendResponse(uint64_t id, Response response) = 0;
  virtual void startStream(uint64_t id, ResponseHead head) = 0;
  virtual void writeChunk(uint64_t id, std::string data) = 0;
  virtual void finishStream(uint64_t id) = 0;
  /** Before any response byte: RST. Mid-response: flush, then close without ending the body. */
  virtual void abortExchange(uint64_t id) = 0;
  /** Every writer handle was dropped: answer 500 if nothing was sent, else close. */
  virtual void abandonExchange(uint64_t id) = 0;
  virtual void addDisconnectCallback(uint64_t id, std::function<void()> callback) = 0;

  /** Any thread: writes the complete response of exchange `id` straight to the socket when the
   *  connection allows it (plain TCP, keep-alive, nothing else being written), so answering from
   *  a producer thread costs no hop to the I/O thread (which takes note of it later, when it next
   *  runs for this connection). Returns false when it did nothing; the caller then posts
   *  sendResponse as usual. */
  virtual bool sendFromAnyThread(uint64_t id, const Response& response) = 0;

  // Worker operations.
  /** Server stop: close now when idle, otherwise close after the current response. */
  virtual void drain() = 0;
  /** Closes the socket; fires disconnect callbacks of an unfinished exchange. */
  virtual void close(bool reset) = 0;
  /** Takes note of a response sendFromAnyThread() completed (keep-alive deadline, next request).
   *  Called by the worker's sweep so an idle connection cannot escape its read timeout. */
  virtual void collectDirectResponse() = 0;
  /** True while a request is being answered (after collectDirectResponse()). */
  virtual bool busy() const = 0;

  Executor executor() const { return executor_; }
  /** True once the connection is closed (by either side). Readable from any thread. */
  bool gone() const { return gone_.load(std::memory_order_acquire); }
  /** Response bytes accepted but not yet handed to the kernel. Readable from any thread. */
  std::size_t bufferedBytes() const { return buffered_.load(std::memory_order_relaxed); }
  const std::string& remoteAddress() const { return remote_address_; }
  /** Per-connection slot for the handler's own state; I/O thread only; released at close. */
  std::shared_ptr<void>& userData() { return user_data_; }

  // Intrusive list of the worker's open connections and the deadline its sweep enforces; owned
  // by the worker thread.
  Connection* prev_ = nullptr;
  Connection* next_ = nullptr;
  bool linked_ = false;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();

 protected:
  Worker* worker_;  // outlives the connection: its io_context owns every handler holding us
  Executor executor_;
  std::atomic<bool> gone_{false};
  std::atomic<std::size_t> buffered_{0};
  std::string remote_address_;
  std::shared_ptr<void> user_data_;
};

/** Creates a connection over an accepted socket (already bound to `worker`'s context). Call
 *  start() on the worker's thread. TLS is used when the server has a TLS context. */
std::shared_ptr<Connection> makeConnection(Worker* worker, boost::asio::ip::tcp::socket socket);

}  // namespace llmpool::server
