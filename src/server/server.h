#pragma once
// The HTTP/1.1 server shared by the mock provider and the gateway: Boost.Beast parsing on Asio,
// keep-alive, a fixed number of I/O threads, optional TLS. See docs/mock.md for its use.
//
// Threads: `threads` workers, each running its own io_context on one thread. The acceptor lives
// on worker 0 and hands accepted sockets round-robin to the workers; a connection stays on its
// worker for life. So a connection's handlers never contend with each other (no strands, no
// locks on the hot path), and throughput scales by adding threads up to the core count. Each
// worker is also a LoopHost (asio_loop_host.h): other event loops, such as the transport's, can
// run on its thread next to its connections (thread-per-core).
//
// Handler: called on the connection's I/O thread with the parsed request and a ResponseWriter
// (response_writer.h) that may be answered at once, later, or from any thread. The handler must
// not block: it runs on the thread that serves other connections too.
//
// Limits: max body and header sizes (413/431), read and write timeouts enforced by a per-thread
// sweep, max open connections (excess ones are closed at accept). Out of descriptors (EMFILE and
// the like), accepting pauses briefly instead of retrying at once: the listening socket stays
// readable, so an immediate retry would spin a core while the pending connections wait.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <thread>
#include <vector>

#include "llmpool/error.h"
#include "server/response_writer.h"
#include "server/server_options.h"
#include "server/worker.h"

namespace llmpool::server {

class Server {
 public:
  /** How long accepting pauses when the process is out of descriptors. */
  static constexpr std::chrono::milliseconds kAcceptPause{100};

  /** Binds and listens (so port() is known at once) and loads the TLS files; serving starts with
   *  start(). Errors: InvalidConfig (bad host, TLS files) or ConnectFailed (bind/listen). */
  static Result<std::unique_ptr<Server>> create(ServerOptions options, Handler handler);

  /** Stops (grace 0) if still running, then releases everything. */
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /** Starts the I/O threads and accepting; returns at once. Call once. */
  void start();

  /** Graceful shutdown, blocking until done: stop accepting; idle keep-alive connections close;
   *  in-flight requests and streams may finish for up to `grace`; then every connection closes
   *  (firing disconnect callbacks) and the threads are joined. Idempotent. Never call it from
   *  an I/O thread. */
  void stop(std::chrono::milliseconds grace);
  /** stop() without the end: the connections are closed, but the threads keep running the
   *  loops they host (loopHosts()) until stop(). Idempotent. Never from an I/O thread. */
  void stopServing(std::chrono::milliseconds grace);

  /** The I/O threads as LoopHosts, one per thread: a transport whose loops run there answers a
   *  request on the thread that read it (thread-per-core). Detach every loop before stop(); a
   *  loop still attached then is finished on the thread that detaches it. */
  std::vector<LoopHost*> loopHosts();

  /** The bound port (the real one when options.port was 0). */
  uint16_t port() const { return port_; }

  /** Counters; any thread. */
  ServerStats stats() const;

 private:
  explicit Server(std::shared_ptr<ServerShared> shared);
  void accept();
  static bool outOfDescriptors(const boost::system::error_code& ec);
  /** Accepts again after kAcceptPause (worker 0's thread). */
  void pauseAccepting();
  /** Polls the open-connection count until zero or `deadline`; returns true when zero. */
  bool waitForClose(std::chrono::steady_clock::time_point deadline) const;

  std::shared_ptr<ServerShared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;  // on workers_[0]
  std::unique_ptr<boost::asio::steady_timer> accept_pause_;   // on workers_[0]
  std::vector<std::thread> threads_;
  std::size_t next_worker_ = 0;  // round-robin; touched by the accept handler only
  uint16_t port_ = 0;
  bool started_ = false;
  bool serving_stopped_ = false;
  bool stopped_ = false;
};

}  // namespace llmpool::server
