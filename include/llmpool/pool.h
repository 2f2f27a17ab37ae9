#pragma once
// ClientPool: connection reuse, admission control, per-deployment circuit breakers, retries with
// backoff, deadlines, failover and balancing across providers. See docs/pool.md.

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "llmpool/chat.h"
#include "llmpool/completer.h"
#include "llmpool/config.h"
#include "llmpool/error.h"
#include "llmpool/stats.h"

namespace llmpool {

class ClientPool : public ChatCompleter {
 public:
  /** Builds a pool from a validated config; fails with InvalidConfig without half-building. The
   *  pool owns its transport (libcurl multi event loops) and starts serving immediately. */
  static Result<std::unique_ptr<ClientPool>> create(PoolConfig config);

  ~ClientPool() override = default;

  /**
   * Starts the background work: zero-token health probes every health_check_interval and, with
   * warm_connections > 0, opens that many connections per provider so the first requests skip
   * the handshake. Requests are served from create() on; start() is idempotent and never blocks.
   * create() calls it.
   */
  virtual Result<void> start() = 0;

  /**
   * Graceful stop: refuses new requests (Cancelled) and lets the accepted ones finish until
   * `grace` passes: those running and those still waiting for an admission permit, which are
   * admitted as running ones end. Then cancels the rest. Blocks the caller until done.
   * Idempotent. Must not be called from a callback of this pool.
   */
  virtual void stop(std::chrono::milliseconds grace) = 0;

  // ChatCompleter: asynchronous; `done` runs exactly once on a pool thread.
  RequestHandle complete(ChatRequest request, RequestOptions options,
                         ChatCallback done) override = 0;

  /** Streams a completion: `on_chunk` for each chunk (on a pool thread, in order), then `done`
   *  once with the assembled response or an Error. Failover happens only before the first chunk
   *  reached the caller; after it, an error ends the stream with a typed Error. */
  virtual RequestHandle stream(ChatRequest request, RequestOptions options, ChunkCallback on_chunk,
                               ChatCallback done) = 0;

  virtual RequestHandle embed(EmbeddingRequest request, RequestOptions options,
                              EmbeddingCallback done) = 0;

  /** Convenience forms of complete(). The blocking form must not be called from pool threads. */
  std::future<Result<ChatResponse>> completeAsync(ChatRequest request, RequestOptions options = {});
  Result<ChatResponse> completeBlocking(ChatRequest request, RequestOptions options = {});

  /** A consistent-enough snapshot (each counter is atomic; the set is not a transaction). */
  virtual PoolStats stats() const = 0;

  virtual const PoolConfig& config() const = 0;

  /** Appends the pool's metric families in Prometheus text format 0.0.4 (llmpool_* names,
   *  base units, _total counters, histograms with LLM-sized buckets). See docs/metrics.md. */
  virtual void writeMetrics(std::string& out) const = 0;

  /** Model aliases this pool routes. */
  virtual std::vector<std::string> aliases() const = 0;

  /** True when every alias has at least one deployment whose breaker admits requests. */
  virtual bool ready() const = 0;
  /** The aliases with no deployment whose breaker admits requests now (what makes ready()
   *  false, unless the pool is stopping). */
  virtual std::vector<std::string> unavailableAliases() const = 0;
};

}  // namespace llmpool
