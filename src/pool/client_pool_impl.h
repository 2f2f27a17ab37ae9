#pragma once
// ClientPoolImpl: the request state machine behind ClientPool. One request flows
// Admission -> Router -> Gate (breaker, rate limit) -> Provider codec -> Transport -> Outcome ->
// Retry/failover, all driven by callbacks and executor timers (no thread waits per request).

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/executor.h"
#include "common/node_cache.h"
#include "http/transport.h"
#include "llmpool/pool.h"
#include "llmpool/random.h"
#include "metrics/histogram.h"
#include "pool/deployment.h"
#include "resilience/concurrency_limiter.h"
#include "resilience/retry_budget.h"
#include "resilience/retry_policy.h"

namespace llmpool::pool {

struct Call;

class ClientPoolImpl final : public ClientPool {
 public:
  /** Wires the pool to its collaborators (owned elsewhere; they must outlive the pool). */
  static Result<std::unique_ptr<ClientPoolImpl>> create(PoolConfig config,
                                                        http::Transport& transport,
                                                        Executor& executor, RandomSource& random);
  ~ClientPoolImpl() override;

  // ClientPool
  void stop(std::chrono::milliseconds grace) override;
  RequestHandle complete(ChatRequest request, RequestOptions options, ChatCallback done) override;
  RequestHandle stream(ChatRequest request, RequestOptions options, ChunkCallback on_chunk,
                       ChatCallback done) override;
  RequestHandle embed(EmbeddingRequest request, RequestOptions options,
                      EmbeddingCallback done) override;
  PoolStats stats() const override;
  const PoolConfig& config() const override { return config_; }
  void writeMetrics(std::string& out) const override;
  std::vector<std::string> aliases() const override;
  bool ready() const override;
  std::vector<std::string> unavailableAliases() const override;

  /** Keeps an owner of the transport alive as long as the pool (used by ClientPool::create). */
  void holdResource(std::shared_ptr<void> resource) { resources_.push_back(std::move(resource)); }

  /** ClientPool::start: health probes and connection warm-up (idempotent). */
  Result<void> start() override;

  // The state machine's steps (public for the Call helpers in client_pool_impl.cc).
  void onPermit(const std::shared_ptr<Call>& call,
                Result<resilience::ConcurrencyLimiter::Permit> permit);
  void onAdmitted(const std::shared_ptr<Call>& call);
  /** Arms the call's deadline timer. Caller holds call.mu. */
  void armDeadline(Call& call);
  void tryNextAttempt(const std::shared_ptr<Call>& call);
  void onAttemptDone(const std::shared_ptr<Call>& call, Result<http::HttpResponse> result);
  void cancelCall(const std::shared_ptr<Call>& call, ErrorCode code, std::string why);

 private:
  ClientPoolImpl(PoolConfig config, http::Transport& transport, Executor& executor,
                 RandomSource& random);

  RequestHandle start(std::shared_ptr<Call> call);
  /** The live call with this id, or null once it finished. */
  std::shared_ptr<Call> findCall(uint64_t id);
  void sendAttempt(const std::shared_ptr<Call>& call, Deployment& deployment,
                   resilience::CircuitBreaker::Ticket ticket,
                   std::optional<resilience::RateLimiter::Reservation> reservation,
                   std::unique_lock<std::mutex>& lock);
  void settleBreaker(Call& call, Deployment& d, int outcome);
  /** Moves a stream's decoded chunks to `deliver` (the first one named with its deployment and
   *  timed as the first token) and into the assembled response. Caller holds call.mu. */
  void takePendingChunks(Call& call, std::vector<ChatChunk>& deliver);
  /** Hands chunks to the caller, without call.mu held (the callback may cancel). False when the
   *  caller cancelled (recorded as the stream's error). */
  bool deliverChunks(Call& call, const std::vector<ChatChunk>& deliver);
  void finish(const std::shared_ptr<Call>& call, std::unique_lock<std::mutex>& lock);
  void scheduleRetry(const std::shared_ptr<Call>& call, Duration delay,
                     std::unique_lock<std::mutex>& lock);
  void probeHealth(size_t provider_index);
  void warmConnections();

  PoolConfig config_;
  http::Transport& transport_;
  Executor& executor_;
  RandomSource& random_;
  std::vector<std::shared_ptr<void>> resources_;

  std::vector<std::unique_ptr<Deployment>> deployments_;
  std::map<std::string, std::vector<RouteEntry>> routes_;  // alias -> entries by priority
  // The alias patterns ("openai/*"): prefix and route, longest prefix first.
  std::vector<std::pair<std::string, const std::vector<RouteEntry>*>> patterns_;
  resilience::ConcurrencyLimiter limiter_;
  resilience::RetryBudget retry_budget_;
  resilience::RetryPolicy retry_policy_;

  std::atomic<bool> stopping_{false};
  std::mutex calls_mu_;
  // Live calls, owned here from admission to finish (callbacks and timers hold weak refs).
  using CallMap = std::map<uint64_t, std::shared_ptr<Call>>;
  CallMap calls_;                        // guarded by calls_mu_
  NodeCache<CallMap> call_nodes_{1024};  // guarded by calls_mu_
  std::atomic<uint64_t> next_call_id_{0};
  std::vector<TimerId> health_timers_;  // guarded by calls_mu_
  bool started_ = false;                // guarded by calls_mu_

  // Statistics (lock-free on the hot path).
  struct Counters {
    std::atomic<uint64_t> requests{0}, successes{0}, failures{0}, attempts{0}, retries{0},
        failovers{0}, budget_exhausted{0}, admission_rejections{0}, in_flight{0};
    std::array<std::atomic<uint64_t>, 32> failures_by_code{};
    std::array<std::atomic<uint64_t>, 8> skips_by_reason{};
  };
  mutable Counters counters_;
  metrics::Histogram latency_hist_;
  metrics::Histogram ttft_hist_;
  metrics::Histogram permit_wait_hist_;

  friend struct Call;
};

}  // namespace llmpool::pool
