#pragma once
// `llmpool serve`: an OpenAI- and Anthropic-compatible HTTP gateway over a ClientPool
// (docs/gateway.md). Routes:
//   POST /v1/chat/completions, /v1/messages, /v1/responses, /v1/embeddings  (keys)
//   GET /v1/models                                                          (keys)
//   GET /metrics, GET /healthz, GET /readyz                                 (open)
//
// Reload: reload() reads the config file again and validates it completely; only a valid file
// is applied. A new ClientPool is built from it and swapped in atomically: requests that
// started on the old pool finish there (it is stopped with shutdown_grace and destroyed on a
// retirement thread once the last of them is gone); new requests use the new pool. Settings
// of the listening socket (listen, threads, limits) need a restart and are reported as such.
//
// Threads: the HTTP server's I/O threads run the handler, and by default (hostsPoolLoops) the
// pool's transport loops too, so completions run there as well; with an explicit
// pool.io_threads they run on the pool's own threads. The caller of reload()/stop() (the signal
// loop of cmd_serve) does the blocking control work.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gateway/generation.h"
#include "gateway/listen_address.h"
#include "llmpool/config.h"
#include "llmpool/error.h"
#include "server/server.h"

namespace llmpool::gateway {

struct GatewayOptions {
  PoolConfig config;
  /** The file reload() reads; empty disables reload. */
  std::string config_path;
  /** --listen: overrides gateway.listen (and survives reloads). */
  std::optional<std::string> listen;
  /** --log-level: overrides gateway.log_level (and survives reloads). */
  std::optional<LogLevel> log_level;
};

class Gateway {
 public:
  /** Builds the pool and binds the listening socket. InvalidConfig when the listen address is
   *  bad, or when there are no keys and the address is not loopback without
   *  gateway.allow_unauthenticated; ConnectFailed when the bind fails. */
  static Result<std::unique_ptr<Gateway>> create(GatewayOptions options);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  void start();
  uint16_t port() const { return server_->port(); }

  /** Re-reads, validates and applies the config file. Returns the applied changes in words, or
   *  the reason nothing was applied (the running config is untouched). Blocking; not from an
   *  I/O or pool thread. */
  Result<std::string> reload();

  /** Graceful stop: no new connections; in-flight requests and streams get `grace`; then the
   *  rest are closed (their upstream requests cancelled) and every pool is stopped and freed.
   *  Blocking; idempotent. */
  void stop(std::chrono::milliseconds grace);

  std::chrono::milliseconds shutdownGrace() const;
  GatewayShared& shared() { return *shared_; }

 private:
  Gateway(GatewayOptions options, std::shared_ptr<GatewayShared> shared);
  void handle(server::Request&& request, server::ResponseWriter writer);
  /** A pool for `config`, its loops hosted on the server threads when hostsPoolLoops(). */
  Result<std::unique_ptr<ClientPool>> createPool(const PoolConfig& config);
  /** Opens gateway.state_file when `config` names one and no ledger is open yet. */
  Result<void> openLedger(const PoolConfig& config);
  void retire(std::shared_ptr<const Generation> old, std::chrono::milliseconds grace);
  void joinRetired();

  GatewayOptions options_;
  std::shared_ptr<GatewayShared> shared_;
  std::atomic<std::shared_ptr<const Generation>> current_;
  std::mutex control_mu_;         // serialises reload() and stop()
  uint64_t next_generation_ = 1;  // guarded by control_mu_
  std::mutex retire_mu_;
  std::vector<std::thread> retiring_;  // guarded by retire_mu_
  bool stopped_ = false;               // guarded by control_mu_
  // Declared last: destroyed first, after stop() has drained every request.
  std::unique_ptr<server::Server> server_;
};

/** The most server threads an automatic `gateway.threads` gives: past a few, each transport loop
 *  on them only holds a smaller share of every provider's connections. */
inline constexpr int kMaxAutomaticThreads = 8;

/** The gateway's resolution of automatic settings: `gateway.threads: 0` becomes one server thread
 *  per core (at most kMaxAutomaticThreads). */
PoolConfig withGatewayDefaults(PoolConfig config);

/** Thread-per-core: with `pool.io_threads: 0` (automatic) the pool's transport loops run on the
 *  server threads, one on each, so a request is read, sent upstream, answered and written on one
 *  thread (docs/gateway.md, "Threads"). An explicit io_threads gives the loops threads of their
 *  own, as in the library. */
bool hostsPoolLoops(const PoolConfig& config);

/** Checks that a config may run as a gateway: listen address, and the no-keys rule. */
Result<ListenAddress> checkGatewayConfig(const PoolConfig& config,
                                         const std::optional<std::string>& listen_override);

}  // namespace llmpool::gateway
