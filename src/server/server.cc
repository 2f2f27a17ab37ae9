#include "server/server.h"

#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>

#include "common/thread_name.h"
#include "server/connection.h"

namespace llmpool::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

Result<std::unique_ptr<Server>> Server::create(ServerOptions options, Handler handler) {
  if (options.threads < 1) return fail(ErrorCode::InvalidConfig, "server threads must be >= 1");
  boost::system::error_code ec;
  auto address =
      asio::ip::make_address(options.host == "localhost" ? "127.0.0.1" : options.host, ec);
  if (ec) return fail(ErrorCode::InvalidConfig, "invalid listen address '" + options.host + "'");

  auto shared = std::make_shared<ServerShared>();
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return fail(ErrorCode::InvalidConfig, "TLS needs both a certificate and a key file");
    }
    auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    tls->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) {
      return fail(ErrorCode::InvalidConfig,
                  "cannot load TLS certificate '" + options.tls_cert_file + "': " + ec.message());
    }
    tls->use_private_key_file(options.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) {
      return fail(ErrorCode::InvalidConfig,
                  "cannot load TLS key '" + options.tls_key_file + "': " + ec.message());
    }
    shared->tls = std::move(tls);
  }
  shared->options = std::move(options);
  shared->handler = std::move(handler);

  std::unique_ptr<Server> server(new Server(shared));
  const tcp::endpoint endpoint(address, shared->options.port);
  auto acceptor = std::make_unique<tcp::acceptor>(server->workers_[0]->context());
  auto bindError = [&](const char* what) {
    return fail(ErrorCode::ConnectFailed, std::string(what) + " " + shared->options.host + ":" +
                                              std::to_string(shared->options.port) + ": " +
                                              ec.message());
  };
  acceptor->open(endpoint.protocol(), ec);
  if (ec) return bindError("cannot open socket for");
  acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  acceptor->bind(endpoint, ec);
  if (ec) return bindError("cannot bind");
  acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return bindError("cannot listen on");
  server->port_ = acceptor->local_endpoint(ec).port();
  server->acceptor_ = std::move(acceptor);
  server->accept_pause_ = std::make_unique<asio::steady_timer>(server->workers_[0]->context());
  return server;
}

Server::Server(std::shared_ptr<ServerShared> shared) : shared_(std::move(shared)) {
  for (int i = 0; i < shared_->options.threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(shared_));
  }
}

Server::~Server() {
  if (started_) stop(0ms);
  // The acceptor lives on worker 0's context; each worker's context then destroys its pending
  // handlers (and with them the connections) before the worker state they use.
  accept_pause_.reset();
  acceptor_.reset();
  workers_.clear();
}

void Server::start() {
  if (started_) return;
  started_ = true;
  for (auto& worker : workers_) {
    asio::post(worker->context(), [w = worker.get()] { w->startSweep(); });
  }
  asio::post(workers_[0]->context(), [this] { accept(); });
  for (auto& worker : workers_) {
    // The scheduler slice is the worker's to set, while it is busy (Worker::adaptSlice).
    threads_.emplace_back([w = worker.get()] {
      setCurrentThreadName("llmpool-http");
      auto guard = asio::make_work_guard(w->context());
      w->loopHost().threadStarted();
      w->context().run();
      w->loopHost().threadExited();
    });
  }
}

void Server::accept() {
  Worker* worker = workers_[next_worker_].get();
  next_worker_ = (next_worker_ + 1) % workers_.size();
  acceptor_->async_accept(
      worker->context(), [this, w = worker](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
        if (!ec) {
          shared_->accepted.fetch_add(1, std::memory_order_relaxed);
          if (shared_->open.load(std::memory_order_relaxed) >= shared_->options.max_connections) {
            shared_->rejected.fetch_add(1, std::memory_order_relaxed);
            boost::system::error_code ignored;
            socket.close(ignored);
          } else {
            shared_->open.fetch_add(1, std::memory_order_relaxed);
            boost::system::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);  // small responses, no Nagle wait
            if (shared_->options.receive_timestamps && !shared_->tls) {
              const int on = 1;
              ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
            }
            asio::post(w->context(), [w, s = std::move(socket)]() mutable {
              makeConnection(w, std::move(s))->start();
            });
          }
        }
        if (ec && outOfDescriptors(ec)) return pauseAccepting();
        // Other errors (a connection reset while queued) concern one connection: keep accepting.
        accept();
      });
}

bool Server::outOfDescriptors(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory ||
         ec == boost::system::error_code(ENFILE, boost::system::system_category());
}

void Server::pauseAccepting() {
  // Descriptors come back as connections close; until then the pending connections wait in the
  // listen backlog. Like nginx and HAProxy, retry after a pause rather than in a tight loop.
  shared_->accept_pauses.fetch_add(1, std::memory_order_relaxed);
  accept_pause_->expires_after(kAcceptPause);
  accept_pause_->async_wait([this](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
    accept();
  });
}

std::vector<LoopHost*> Server::loopHosts() {
  std::vector<LoopHost*> hosts;
  for (auto& worker : workers_) hosts.push_back(&worker->loopHost());
  return hosts;
}

void Server::stop(std::chrono::milliseconds grace) {
  if (!started_ || stopped_) return;
  stopServing(grace);
  stopped_ = true;
  for (auto& worker : workers_) worker->context().stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void Server::stopServing(std::chrono::milliseconds grace) {
  if (!started_ || serving_stopped_) return;
  serving_stopped_ = true;
  asio::post(workers_[0]->context(), [this] {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
    accept_pause_->cancel();
  });
  for (auto& worker : workers_) {
    asio::post(worker->context(), [w = worker.get()] { w->drainAll(); });
  }
  waitForClose(std::chrono::steady_clock::now() + grace);
  for (auto& worker : workers_) {
    asio::post(worker->context(), [w = worker.get()] { w->closeAll(); });
  }
  waitForClose(std::chrono::steady_clock::now() + 1s);
}

bool Server::waitForClose(std::chrono::steady_clock::time_point deadline) const {
  // Shutdown is a control-path wait in the caller's thread; polling keeps the I/O path free of
  // any signalling cost.
  while (shared_->open.load(std::memory_order_relaxed) > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

ServerStats Server::stats() const {
  return {shared_->accepted.load(std::memory_order_relaxed),
          shared_->open.load(std::memory_order_relaxed),
          shared_->rejected.load(std::memory_order_relaxed),
          shared_->accept_pauses.load(std::memory_order_relaxed)};
}

}  // namespace llmpool::server
