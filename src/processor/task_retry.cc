#include "processor/task_retry.h"

#include <algorithm>

namespace llmpool::processor {

bool isRetryableTaskError(const Error& error) {
  switch (error.code) {
    case ErrorCode::RateLimited:
    case ErrorCode::ServerError:
    case ErrorCode::Timeout:
    case ErrorCode::ConnectFailed:
    case ErrorCode::ProviderOverloaded:
    case ErrorCode::Overloaded:
    case ErrorCode::CircuitOpen:
      return true;
    default:
      return false;
  }
}

Duration taskRetryDelay(const ProcessorConfig& config, int attempts_made, const Error& error) {
  const Duration cap = config.max_retry_backoff;
  Duration delay = config.retry_backoff;
  // Doubling stops once past the cap, so the loop is bounded and never overflows.
  for (int i = 1; i < attempts_made && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  if (error.retry_after) {
    // A Retry-After is honoured even beyond the cap (sending earlier only earns another 429),
    // but an absurd one is bounded to ten minutes.
    const Duration asked = std::min<Duration>(*error.retry_after, std::chrono::minutes(10));
    delay = std::max(delay, asked);
  }
  return std::max(delay, Duration::zero());
}

}  // namespace llmpool::processor
