// Error -> HTTP for the gateway. See docs/gateway.md "Error mapping" for the table.

#include "gateway/error_mapping.h"

#include "gateway/attempt_headers.h"
#include "providers/wire_util.h"

namespace llmpool::gateway {

namespace {

using std::chrono::milliseconds;

// The default wait we suggest when we refuse for load and nobody told us a better one: long
// enough to let a burst drain, short enough that the SDKs' default policy still honours it.
constexpr milliseconds kDefaultRetryAfter{1'000};

HttpError make(unsigned status, std::string_view openai_type, std::string_view anthropic_type,
               std::string_view code) {
  HttpError h;
  h.status = status;
  h.openai_type = openai_type;
  h.anthropic_type = anthropic_type;
  h.code = code;
  return h;
}

bool anyAttemptSent(const Error& error) {
  for (const auto& a : error.attempts) {
    if (!a.skipped) return true;
  }
  return false;
}

}  // namespace

HttpError mapError(const Error& error, ErrorOrigin origin, Dialect dialect) {
  HttpError h;
  switch (error.code) {
    case ErrorCode::InvalidRequest: {
      // A provider's 413/422 keeps its status (the SDKs have distinct classes for them).
      const int s = error.http_status.value_or(400);
      if (s == 413) {
        h = make(413, "invalid_request_error", "request_too_large", "request_too_large");
      } else if (s == 422) {
        h = make(422, "invalid_request_error", "invalid_request_error", "unprocessable_entity");
      } else {
        h = make(400, "invalid_request_error", "invalid_request_error", "invalid_request");
      }
      h.should_retry = false;
      break;
    }
    case ErrorCode::AuthFailed:
      if (origin == ErrorOrigin::Upstream) {
        // The provider refused the gateway's configured credentials: the caller can do nothing.
        h = make(502, "api_error", "api_error", "upstream_auth_failed");
      } else if (error.http_status == 403) {
        h = make(403, "permission_error", "permission_error", "permission_denied");
      } else {
        h = make(401, "authentication_error", "authentication_error", "invalid_api_key");
      }
      h.should_retry = false;
      break;
    case ErrorCode::NotFound:
      h = make(404, "invalid_request_error", "not_found_error", "model_not_found");
      h.should_retry = false;
      break;
    case ErrorCode::RateLimited:
      h = make(429, "rate_limit_error", "rate_limit_error", "rate_limit_exceeded");
      h.retry_after = error.retry_after.value_or(kDefaultRetryAfter);
      if (error.should_retry == false) {
        h.code = "insufficient_quota";
        h.should_retry = false;
      } else {
        h.should_retry = true;
      }
      break;
    case ErrorCode::Overloaded:
    case ErrorCode::QueueFull:
      h = make(429, "rate_limit_error", "rate_limit_error", "overloaded");
      h.retry_after = error.retry_after.value_or(kDefaultRetryAfter);
      h.should_retry = true;
      break;
    case ErrorCode::ProviderOverloaded:
      h = dialect == Dialect::Anthropic
              ? make(529, "service_unavailable_error", "overloaded_error", "provider_overloaded")
              : make(503, "service_unavailable_error", "overloaded_error", "provider_overloaded");
      h.retry_after = error.retry_after;
      h.should_retry = true;
      break;
    case ErrorCode::CircuitOpen:
      h = make(503, "service_unavailable_error", "overloaded_error", "circuit_open");
      h.retry_after = error.retry_after;
      h.should_retry = true;
      break;
    case ErrorCode::NoDeployment:
    case ErrorCode::Dropped:
      h = make(503, "service_unavailable_error", "overloaded_error", "no_deployment");
      h.retry_after = error.retry_after;
      h.should_retry = true;
      break;
    case ErrorCode::ServerError:
      // Every deployment failed. A provider's 503 stays 503 (with its Retry-After); anything
      // else from upstream is a bad gateway.
      if (error.http_status == 503) {
        h = make(503, "service_unavailable_error", "overloaded_error", "upstream_unavailable");
      } else {
        h = make(502, "api_error", "api_error", "upstream_error");
      }
      h.retry_after = error.retry_after;
      h.should_retry = error.should_retry.value_or(true);
      break;
    case ErrorCode::ConnectFailed:
      h = make(502, "api_error", "api_error", "upstream_unreachable");
      h.should_retry = true;
      break;
    case ErrorCode::Protocol:
      h = make(502, "api_error", "api_error", "upstream_protocol_error");
      h.should_retry = true;
      break;
    case ErrorCode::TlsError:
      h = make(502, "api_error", "api_error", "upstream_tls_error");
      h.should_retry = false;  // a certificate problem does not heal in seconds
      break;
    case ErrorCode::Timeout:
      h = make(504, "timeout_error", "timeout_error", "upstream_timeout");
      h.should_retry = true;
      break;
    case ErrorCode::DeadlineExceeded:
      // Nothing was sent upstream: the request spent its deadline waiting in the gateway (408,
      // "took too long to serve your request"); otherwise the upstream attempts ran out of time.
      h = anyAttemptSent(error) ? make(504, "timeout_error", "timeout_error", "deadline_exceeded")
                                : make(408, "timeout_error", "timeout_error", "deadline_exceeded");
      h.should_retry = true;
      break;
    case ErrorCode::Cancelled:
      // Only visible when the gateway itself cancels (shutdown or reload); a caller that went
      // away never reads it.
      h = make(503, "service_unavailable_error", "overloaded_error", "shutting_down");
      h.retry_after = kDefaultRetryAfter;
      h.should_retry = true;
      break;
    case ErrorCode::InvalidConfig:
    case ErrorCode::Internal:
      h = make(500, "api_error", "api_error", "internal_error");
      break;
  }
  return h;
}

std::string errorBody(Dialect dialect, const HttpError& mapped, const Error& error,
                      ErrorOrigin origin) {
  if (dialect == Dialect::Anthropic) {
    Json body = {{"type", "error"},
                 {"error", {{"type", mapped.anthropic_type}, {"message", error.message}}}};
    return providers::dumpJson(body);
  }
  Json param = nullptr;
  // The codecs phrase request problems as "<field path>: <problem>".
  if (origin == ErrorOrigin::Gateway && error.code == ErrorCode::InvalidRequest) {
    const auto sep = error.message.find(": ");
    if (sep != std::string::npos && sep > 0 &&
        error.message.find(' ') == sep + 1) {  // a path has no spaces
      param = error.message.substr(0, sep);
    }
  }
  Json body = {{"error",
                {{"message", error.message},
                 {"type", mapped.openai_type},
                 {"param", param},
                 {"code", mapped.code}}}};
  return providers::dumpJson(body);
}

server::Response errorResponse(Dialect dialect, const Error& error, ErrorOrigin origin) {
  const HttpError mapped = mapError(error, origin, dialect);
  server::Response r{static_cast<server::Status>(mapped.status), 11};
  r.set(boost::beast::http::field::content_type, "application/json");
  if (mapped.retry_after) {
    const auto ms = std::max<int64_t>(0, mapped.retry_after->count());
    r.set(boost::beast::http::field::retry_after, std::to_string((ms + 999) / 1000));
    r.set("retry-after-ms", std::to_string(ms));
  }
  if (mapped.should_retry) r.set("x-should-retry", *mapped.should_retry ? "true" : "false");
  setFailureTrailHeaders(r.base(), error);
  r.body() = errorBody(dialect, mapped, error, origin);
  return r;
}

std::string streamErrorEvent(Dialect dialect, const Error& error) {
  const HttpError mapped = mapError(error, ErrorOrigin::Upstream, dialect);
  const std::string body = errorBody(dialect, mapped, error, ErrorOrigin::Upstream);
  if (dialect == Dialect::Anthropic) return "event: error\ndata: " + body + "\n\n";
  return "data: " + body + "\n\n";
}

}  // namespace llmpool::gateway
