#pragma once
// The state of one logical request inside ClientPoolImpl, from admission to its single result.
// Guarded by its own mutex: transport callbacks, timers and cancel() may race.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/transport.h"
#include "llmpool/completer.h"
#include "pool/deployment.h"
#include "providers/chat_stream_decoder.h"
#include "providers/stream_assembler.h"
#include "resilience/circuit_breaker.h"
#include "resilience/concurrency_limiter.h"
#include "resilience/rate_limiter.h"

namespace llmpool::pool {

enum class CallKind { Chat, Stream, Embed };

/** The streaming state of a stream call's current attempt (guarded by Call::mu). */
struct StreamState {
  ChunkCallback on_chunk;
  int status = 0;
  http::Headers head_headers;
  std::string error_body;
  std::unique_ptr<providers::ChatStreamDecoder> decoder;
  std::vector<ChatChunk> pending_chunks;  // decoded, not yet delivered (delivered outside mu)
  providers::StreamAssembler assembler;
  bool saw_first_chunk = false;
  int64_t created = 0;                // unix seconds given to chunks whose provider gave none
  std::optional<Error> stream_error;  // why on_data aborted the transfer (decoder or caller)
};

/** The request, callback and outcome of an embeddings call (outcome guarded by Call::mu). */
struct EmbedState {
  EmbeddingRequest request;
  EmbeddingCallback done;
  std::optional<Result<EmbeddingResponse>> result;
};

// Stream and embedding state live in their own allocations, made only for those kinds: a chat
// call, the common case, carries neither (1,160 bytes instead of 1,920). Calls are made by
// makeCall(), which recycles their blocks.
struct Call {
  uint64_t id = 0;
  CallKind kind = CallKind::Chat;
  ChatRequest chat;
  RequestOptions options;
  ChatCallback done;
  std::string alias;
  const std::vector<RouteEntry>* route = nullptr;
  std::string matched;  // what the '*' of an alias pattern stood for; "" for a plain alias
  MonotonicTime started{};
  MonotonicTime deadline{};
  int max_attempts = 1;

  std::mutex mu;
  // Everything below is guarded by mu.
  std::optional<resilience::ConcurrencyLimiter::Permit> permit;
  bool admitted = false;
  bool finished = false;
  bool committed = false;  // a stream chunk reached the caller: no more retries or failover
  int attempts = 0;
  std::vector<Attempt> trail;
  std::vector<const Deployment*> failed;  // deployments that failed for this call
  std::vector<std::string> skip_notes;    // "deployment:reason" already recorded in the trail
  Deployment* current = nullptr;
  const Deployment* previous = nullptr;
  resilience::CircuitBreaker::Ticket ticket;  // the breaker admission of the current attempt
  uint64_t attempt_seq = 0;                   // completions of older attempts are ignored
  http::RequestId transport_id = 0;
  bool in_attempt = false;
  MonotonicTime attempt_start{};
  std::optional<resilience::RateLimiter::Reservation> reservation;
  TimerId deadline_timer = 0;
  TimerId retry_timer = 0;
  std::optional<Error> last_error;

  std::unique_ptr<StreamState> stream;  // only for CallKind::Stream
  std::unique_ptr<EmbedState> embed;    // only for CallKind::Embed

  // The outcome, delivered outside mu by whoever finished the call.
  std::optional<Result<ChatResponse>> chat_result;
};

}  // namespace llmpool::pool
