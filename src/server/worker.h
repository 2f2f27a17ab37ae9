#pragma once
// One I/O thread's world: its io_context, the connections it owns, and the sweep that enforces
// their deadlines. Connections never migrate between workers, so their state needs no locks.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "server/asio_loop_host.h"
#include "server/http_types.h"
#include "server/response_writer.h"
#include "server/server_options.h"

namespace llmpool::server {

class Connection;

using Handler = std::function<void(Request&& request, ResponseWriter writer)>;

/** What the server and all its workers share (read-only after start, except the atomics). */
struct ServerShared {
  ServerOptions options;
  Handler handler;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain HTTP
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> open{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> accept_pauses{0};
};

class Worker {
 public:
  explicit Worker(std::shared_ptr<ServerShared> shared);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  boost::asio::io_context& context() { return context_; }
  /** Runs other event loops on this worker's thread (thread-per-core). */
  AsioLoopHost& loopHost() { return loop_host_; }
  ServerShared& shared() { return *shared_; }

  // Worker thread only.
  void link(Connection* connection);
  void unlink(Connection* connection);
  /** Starts the periodic deadline sweep. */
  void startSweep();
  /** Stop phase 1: idle connections close, busy ones close after their response. */
  void drainAll();
  /** Stop phase 2: everything closes now. */
  void closeAll();

  /** Requests being answered on this thread at or above which it asks for the short scheduler
   *  slice (ServerOptions::thread_slice), and at or below which it gives it up again. */
  static constexpr size_t kBusyForShortSlice = 4;
  static constexpr size_t kBusyForDefaultSlice = 1;

 private:
  void sweep();
  void adaptSlice(size_t busy);

  // Member order matters: context_ is destroyed before the list and shared state that the
  // connections it still owns touch in their destructors, and after the timer that uses it.
  std::shared_ptr<ServerShared> shared_;
  std::chrono::milliseconds sweep_interval_;
  Connection* head_ = nullptr;  // open connections (intrusive list)
  bool stopping_ = false;
  bool short_slice_ = false;  // this thread asked the kernel for options.thread_slice
  // NOTE: one io_context per thread with concurrency hint 1: a connection lives on one thread,
  // so handlers never contend and no strand is needed.
  boost::asio::io_context context_{1};
  AsioLoopHost loop_host_{context_};
  boost::asio::steady_timer sweep_timer_;
};

}  // namespace llmpool::server
