#pragma once
// Turns a provider's streamed chat response (SSE bytes) into ChatChunks, one decoder per
// response. OpenAI-compatible streams end with `data: [DONE]`, Anthropic streams with
// `message_stop`; an error event inside the stream becomes a classified Error.

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "llmpool/chat.h"
#include "llmpool/config.h"
#include "llmpool/error.h"
#include "providers/sse_decoder.h"

namespace llmpool::providers {

/**
 * Usage: `auto d = makeStreamDecoder(kind);` then `d->feed(bytes, emit)` for every body piece
 * as it arrives and `d->finish()` when the body ends. After an error every call returns that
 * error again; bytes after the end marker are ignored. Not thread-safe (one stream, one thread).
 *
 * Chunks: OpenAI chunks map 1:1 (one ChatChunk per choice; the final `choices:[]` chunk becomes
 * a usage-only ChatChunk). Anthropic: message_start -> a role chunk carrying id and model;
 * text_delta -> content; tool_use block start / input_json_delta -> OpenAI-style tool_calls
 * deltas; message_delta -> a finish_reason chunk; message_stop -> a usage-only chunk with the
 * final cumulative usage (so both dialects end the same way); ping and unknown events ignored.
 *
 * With keepEvents(true), chunks also carry the provider's events as they arrived
 * (ChatChunk::provider_data, see there): an Anthropic event makes at most one chunk, and one that
 * makes none (ping, content_block_stop, thinking deltas) then makes a chunk of its own.
 */
class ChatStreamDecoder {
 public:
  using Emit = std::function<void(ChatChunk&&)>;

  virtual ~ChatStreamDecoder() = default;
  ChatStreamDecoder(const ChatStreamDecoder&) = delete;
  ChatStreamDecoder& operator=(const ChatStreamDecoder&) = delete;

  /** Decodes the next piece of the body, emitting every chunk it completes. */
  Result<void> feed(std::string_view bytes, const Emit& emit);

  /** The body ended. Protocol error "stream ended before [DONE]" (or "... message_stop") when
   *  the end marker never came. An unterminated final event is still decoded (to `emit`, if
   *  given). */
  Result<void> finish(const Emit& emit = {});

  /** True once the end marker was seen. */
  bool done() const { return done_; }

  /** Chunks carry the provider's events (for a client of the same dialect); off by default. */
  void keepEvents(bool keep) { keep_events_ = keep; }

 protected:
  explicit ChatStreamDecoder(ProviderKind kind) : kind_(kind) {}
  /** Handles one SSE event; an Error stops the stream. */
  virtual Result<void> onEvent(const SseEvent& event, const Emit& emit) = 0;
  virtual std::string_view endMarker() const = 0;
  void markDone() { done_ = true; }
  bool keepingEvents() const { return keep_events_; }

  ProviderKind kind_;

 private:
  SseDecoder sse_;
  std::optional<Error> error_;
  bool done_ = false;
  bool keep_events_ = false;
};

/** A decoder for `kind`'s stream dialect (OpenAI and Azure share one). */
std::unique_ptr<ChatStreamDecoder> makeStreamDecoder(ProviderKind kind);

}  // namespace llmpool::providers
