#include "llmpool/error.h"

#include <string>

namespace llmpool {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidRequest:
      return "invalid_request";
    case ErrorCode::AuthFailed:
      return "auth_failed";
    case ErrorCode::NotFound:
      return "not_found";
    case ErrorCode::RateLimited:
      return "rate_limited";
    case ErrorCode::ProviderOverloaded:
      return "provider_overloaded";
    case ErrorCode::ServerError:
      return "server_error";
    case ErrorCode::Timeout:
      return "timeout";
    case ErrorCode::ConnectFailed:
      return "connect_failed";
    case ErrorCode::TlsError:
      return "tls_error";
    case ErrorCode::Protocol:
      return "protocol_error";
    case ErrorCode::CircuitOpen:
      return "circuit_open";
    case ErrorCode::Overloaded:
      return "overloaded";
    case ErrorCode::DeadlineExceeded:
      return "deadline_exceeded";
    case ErrorCode::Cancelled:
      return "cancelled";
    case ErrorCode::QueueFull:
      return "queue_full";
    case ErrorCode::Dropped:
      return "dropped";
    case ErrorCode::InvalidConfig:
      return "invalid_config";
    case ErrorCode::NoDeployment:
      return "no_deployment";
    case ErrorCode::Internal:
      return "internal";
  }
  return "unknown";
}

std::string Error::describe() const {
  std::string out(errorCodeName(code));
  if (http_status) out += " (" + std::to_string(*http_status) + ")";
  if (!provider.empty()) out += " from " + provider;
  if (!message.empty()) out += ": " + message;
  if (attempts.size() > 1) out += " [" + std::to_string(attempts.size()) + " attempts]";
  return out;
}

}  // namespace llmpool
