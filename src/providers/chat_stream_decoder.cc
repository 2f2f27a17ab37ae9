#include "providers/chat_stream_decoder.h"

#include <string>

#include "providers/endpoint.h"

namespace llmpool::providers {

std::unique_ptr<ChatStreamDecoder> makeOpenAIStreamDecoder(ProviderKind kind);
std::unique_ptr<ChatStreamDecoder> makeAnthropicStreamDecoder();

std::unique_ptr<ChatStreamDecoder> makeStreamDecoder(ProviderKind kind) {
  if (kind == ProviderKind::Anthropic) return makeAnthropicStreamDecoder();
  return makeOpenAIStreamDecoder(kind);
}

Result<void> ChatStreamDecoder::feed(std::string_view bytes, const Emit& emit) {
  if (error_) return std::unexpected(*error_);
  if (done_) return {};  // events after the end marker are ignored
  auto fed = sse_.feed(bytes, [&](SseEvent&& event) {
    if (error_ || done_) return;
    if (auto r = onEvent(event, emit); !r) error_ = std::move(r.error());
  });
  if (!fed && !error_) error_ = std::move(fed.error());
  if (error_) return std::unexpected(*error_);
  return {};
}

Result<void> ChatStreamDecoder::finish(const Emit& emit) {
  if (error_) return std::unexpected(*error_);
  if (!done_) {
    const Emit drop = [](ChatChunk&&) {};
    const Emit& sink = emit ? emit : drop;
    sse_.finish([&](SseEvent&& event) {
      if (error_ || done_) return;
      if (auto r = onEvent(event, sink); !r) error_ = std::move(r.error());
    });
  }
  if (done_) return {};
  // A half-received last event may fail to parse; truncation is the real cause, so say that.
  error_ = Error(ErrorCode::Protocol, std::string(providerKindName(kind_)) +
                                          ": stream ended before " + std::string(endMarker()));
  return std::unexpected(*error_);
}

}  // namespace llmpool::providers
