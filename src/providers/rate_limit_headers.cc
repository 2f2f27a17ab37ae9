#include "providers/rate_limit_headers.h"

#include <charconv>
#include <string>
#include <string_view>

#include "providers/time_parse.h"

namespace llmpool::providers {
namespace {

std::optional<int64_t> headerInt(const http::Headers& headers, std::string_view name) {
  std::string_view v = trimBlanks(http::findHeader(headers, name));
  if (v.empty()) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (ec != std::errc() || end != v.data() + v.size() || value < 0) return std::nullopt;
  return value;
}

std::optional<std::chrono::milliseconds> headerGoDuration(const http::Headers& headers,
                                                          std::string_view name) {
  std::string_view v = http::findHeader(headers, name);
  if (v.empty()) return std::nullopt;
  return parseGoDuration(v);
}

std::optional<std::chrono::milliseconds> headerResetTime(const http::Headers& headers,
                                                         std::string_view name, SystemTime now) {
  std::string_view v = http::findHeader(headers, name);
  if (v.empty()) return std::nullopt;
  auto at = parseRfc3339(v);
  if (!at) return std::nullopt;
  auto delta = std::chrono::ceil<std::chrono::milliseconds>(*at - now);
  return delta.count() < 0 ? std::chrono::milliseconds(0) : delta;
}

}  // namespace

RateLimitInfo parseRateLimitHeaders(const http::Headers& headers, SystemTime now) {
  RateLimitInfo info;
  info.limit_requests = headerInt(headers, "x-ratelimit-limit-requests");
  info.remaining_requests = headerInt(headers, "x-ratelimit-remaining-requests");
  info.limit_tokens = headerInt(headers, "x-ratelimit-limit-tokens");
  info.remaining_tokens = headerInt(headers, "x-ratelimit-remaining-tokens");
  info.reset_requests = headerGoDuration(headers, "x-ratelimit-reset-requests");
  info.reset_tokens = headerGoDuration(headers, "x-ratelimit-reset-tokens");

  const std::string a = "anthropic-ratelimit-";
  auto fill = [&](std::optional<int64_t>& field, const std::string& name) {
    if (!field) field = headerInt(headers, a + name);
  };
  auto fill_reset = [&](std::optional<std::chrono::milliseconds>& field, const std::string& name) {
    if (!field) field = headerResetTime(headers, a + name, now);
  };
  fill(info.limit_requests, "requests-limit");
  fill(info.remaining_requests, "requests-remaining");
  fill_reset(info.reset_requests, "requests-reset");
  fill(info.limit_tokens, "tokens-limit");
  fill(info.remaining_tokens, "tokens-remaining");
  fill_reset(info.reset_tokens, "tokens-reset");
  fill(info.limit_input_tokens, "input-tokens-limit");
  fill(info.remaining_input_tokens, "input-tokens-remaining");
  fill_reset(info.reset_input_tokens, "input-tokens-reset");
  fill(info.limit_output_tokens, "output-tokens-limit");
  fill(info.remaining_output_tokens, "output-tokens-remaining");
  fill_reset(info.reset_output_tokens, "output-tokens-reset");
  if (!info.limit_tokens) info.limit_tokens = info.limit_input_tokens;
  if (!info.remaining_tokens) info.remaining_tokens = info.remaining_input_tokens;
  if (!info.reset_tokens) info.reset_tokens = info.reset_input_tokens;
  return info;
}

}  // namespace llmpool::providers
