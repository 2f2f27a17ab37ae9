#pragma once
// Provider rate-limit headers, captured on every response so the pool can pace itself before a
// 429 arrives: OpenAI x-ratelimit-* (Go-style reset durations) and anthropic-ratelimit-*
// (RFC 3339 reset timestamps).

#include <chrono>
#include <cstdint>
#include <optional>

#include "http/transport.h"
#include "llmpool/clock.h"

namespace llmpool::providers {

struct RateLimitInfo {
  std::optional<int64_t> limit_requests, remaining_requests, limit_tokens, remaining_tokens;
  /** Time until the window resets, from the response's point of view (never negative). */
  std::optional<std::chrono::milliseconds> reset_requests, reset_tokens;
  /** Anthropic's separate input/output token buckets (anthropic-ratelimit-input-tokens-*). */
  std::optional<int64_t> limit_input_tokens, remaining_input_tokens;
  std::optional<int64_t> limit_output_tokens, remaining_output_tokens;
  std::optional<std::chrono::milliseconds> reset_input_tokens, reset_output_tokens;

  /** True when no header was recognised. */
  bool empty() const {
    return !limit_requests && !remaining_requests && !limit_tokens && !remaining_tokens &&
           !reset_requests && !reset_tokens && !limit_input_tokens && !remaining_input_tokens &&
           !limit_output_tokens && !remaining_output_tokens && !reset_input_tokens &&
           !reset_output_tokens;
  }
};

/**
 * Reads both vendors' headers (whichever are present). For Anthropic, the *_tokens fields come
 * from anthropic-ratelimit-tokens-*; when a server sends only the input/output buckets, the
 * *_tokens fields take the input bucket (the one prompt-heavy traffic exhausts first). A reset
 * timestamp already in the past gives 0 ms. Malformed values are skipped.
 */
RateLimitInfo parseRateLimitHeaders(const http::Headers& headers, SystemTime now);

}  // namespace llmpool::providers
