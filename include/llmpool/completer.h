#pragma once
// The asynchronous "complete a chat request" contract shared by ClientPool (pooling, breakers,
// retries, failover) and the legacy direct-provider path. The background processor is written
// against it, so it works with either.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "llmpool/chat.h"
#include "llmpool/error.h"

namespace llmpool {

/** Per-request knobs. Unset values take the pool's configuration. */
struct RequestOptions {
  /** Model alias to route; empty = ChatRequest::model. */
  std::string model;
  /** Overall deadline measured from the call: queueing + attempts + backoff. */
  std::optional<std::chrono::milliseconds> deadline;
  std::optional<std::chrono::milliseconds> attempt_timeout;
  std::optional<std::chrono::milliseconds> ttft_timeout;
  std::optional<int> max_attempts;
  /** Free-form priority tag, reported in stats and logs (admission is FIFO). */
  int priority = 0;
  std::map<std::string, std::string> metadata;
  /** Streams: chunks carry the provider's own events (ChatChunk::provider_data), for a caller
   *  that hands them on unchanged; an event that makes no chunk then comes on a chunk of its own
   *  (ChatChunk::only_event). Off, chunks carry no copy of the events. */
  bool provider_events = false;
  /** Headers sent with every attempt, to a provider of any dialect (the gateway's request id
   *  and the client's trace context); a header the provider's config sets wins. */
  std::vector<std::pair<std::string, std::string>> headers;
};

using ChatCallback = std::function<void(Result<ChatResponse>)>;
/** Streaming chunk callback; return false to cancel the request. */
using ChunkCallback = std::function<bool(const ChatChunk&)>;
using EmbeddingCallback = std::function<void(Result<EmbeddingResponse>)>;

/**
 * Cancels the request it was returned for. Cancelling completes the request with
 * ErrorCode::Cancelled unless it already completed. Copyable; safe from any thread; a default
 * handle does nothing.
 */
class RequestHandle {
 public:
  RequestHandle() = default;
  explicit RequestHandle(std::function<void()> cancel)
      : cancel_(std::make_shared<std::function<void()>>(std::move(cancel))) {}
  void cancel() const {
    if (cancel_ && *cancel_) (*cancel_)();
  }

 private:
  std::shared_ptr<std::function<void()>> cancel_;
};

class ChatCompleter {
 public:
  virtual ~ChatCompleter() = default;
  /**
   * Starts a chat completion. `done` is called exactly once, on an internal thread (never inside
   * this call), with the response or an Error. Thread-safe; never blocks.
   */
  virtual RequestHandle complete(ChatRequest request, RequestOptions options,
                                 ChatCallback done) = 0;
};

}  // namespace llmpool
