#include "gateway/call_limits.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "config/duration.h"

namespace llmpool::gateway {

Result<CallLimits> callLimitsOf(const server::Request& request, const PoolSettings& pool) {
  CallLimits limits;
  if (auto it = request.find("x-llmpool-timeout"); it != request.end()) {
    auto value = config::parseDuration(it->value());
    if (!value || value->count() <= 0) {
      return fail(ErrorCode::InvalidRequest,
                  "header x-llmpool-timeout: \"" + std::string(it->value()) +
                      "\" is not a positive duration (such as 10s, 1500ms or 2m)");
    }
    limits.deadline = std::min(*value, pool.deadline);
  }
  if (auto it = request.find("x-llmpool-max-attempts"); it != request.end()) {
    const std::string_view text = it->value();
    int attempts = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), attempts);
    if (ec != std::errc() || end != text.data() + text.size() || attempts < 1) {
      return fail(ErrorCode::InvalidRequest, "header x-llmpool-max-attempts: \"" +
                                                 std::string(text) +
                                                 "\" is not a whole number of at least 1");
    }
    limits.max_attempts = std::min(attempts, pool.retry.max_attempts);
  }
  return limits;
}

}  // namespace llmpool::gateway
