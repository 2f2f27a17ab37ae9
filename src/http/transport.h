#pragma once
// The HTTP client seam. CurlTransport (libcurl multi on an epoll loop) implements it; unit tests
// of the pool use a scripted fake. Types here are plain values so codecs can build and read them
// without knowing about curl.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llmpool/error.h"

namespace llmpool::http {

/** Header list. Response header names are lower-cased by the transport. */
using Headers = std::vector<std::pair<std::string, std::string>>;

/** Finds a header by case-insensitive name; returns "" when absent. */
inline std::string_view findHeader(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < key.size() && same; ++i) {
      same = (key[i] | 0x20) == (name[i] | 0x20);
    }
    if (same) return value;
  }
  return {};
}

struct Timeouts {
  std::chrono::milliseconds connect{10'000};
  std::chrono::milliseconds total{30'000};  // whole attempt; 0 = none
  std::chrono::milliseconds first_byte{0};  // until response headers arrive; 0 = none
  std::chrono::milliseconds idle{0};        // longest gap between body bytes; 0 = none
};

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  Headers headers;
  std::string body;
  Timeouts timeouts;
  /** Per-request TLS overrides (a provider's own CA bundle or verification setting); empty /
   *  nullopt = the transport's settings. Connections are only reused between requests whose TLS
   *  settings match. */
  std::string ca_file;
  std::optional<bool> verify_tls;
  /** A response body collected into HttpResponse::body (no on_data) longer than this fails the
   *  request with Protocol instead of growing without bound; 0 = no limit. */
  size_t max_response_bytes = 0;
};

/** The error of a response body over HttpRequest::max_response_bytes. */
inline Error responseTooLarge(size_t limit) {
  return Error(ErrorCode::Protocol, "the response body is larger than max_response_bytes (" +
                                        std::to_string(limit) + " bytes)");
}

struct HttpResponseHead {
  int status = 0;
  Headers headers;
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;  // empty when the body was delivered through on_data
  bool reused_connection = false;
  std::chrono::microseconds time_to_first_byte{0};
  std::chrono::microseconds total_time{0};

  std::string_view header(std::string_view name) const { return findHeader(headers, name); }
};

/**
 * Callbacks of one request, all invoked on the transport's loop thread, never concurrently for
 * one request. on_head (optional) runs once when the status line and headers are in. When on_data
 * is set the body is streamed to it piece by piece and not accumulated. on_complete runs exactly
 * once: with the response (any HTTP status) or with a transport Error (Timeout, ConnectFailed,
 * TlsError, Cancelled, Internal). Returning false from on_data aborts the request (completes with
 * Cancelled).
 */
struct ResponseCallbacks {
  std::function<void(const HttpResponseHead&)> on_head;
  std::function<bool(std::string_view)> on_data;
  std::function<void(Result<HttpResponse>)> on_complete;
};

using RequestId = uint64_t;

/** Connection accounting of a transport, for the pool's "pool hits/misses" statistics. */
/** Connections to one host (scheme://host:port, lowercase). `busy` connections carry a request
 *  now (for HTTP/1.1, min(requests in progress, open)); `idle` ones wait in the cache. */
struct HostConnectionStats {
  std::string host;
  uint64_t open = 0, busy = 0, idle = 0;
  uint64_t opened = 0;  // sockets opened so far (pool misses)
  uint64_t reused = 0;  // requests served on an already open connection (pool hits)
};

struct TransportStats {
  uint64_t requests_started = 0;
  uint64_t requests_completed = 0;
  uint64_t connections_opened = 0;  // sockets opened (pool misses)
  uint64_t connections_closed = 0;
  uint64_t connections_reused = 0;  // requests served on an already open connection (pool hits)
  uint64_t in_flight = 0;
  /** Requests failed by a local shortage (out of descriptors or socket memory) before reaching
   *  the provider; reported as Overloaded, never as the provider's failure. */
  uint64_t local_resource_failures = 0;
  std::vector<HostConnectionStats> hosts;  // by host, in host order
};

/** "https://API.example.com:443/v1/x?y" -> "https://api.example.com:443": the key connection
 *  limits and statistics are kept by (userinfo and default ports are not normalised). */
std::string hostKey(std::string_view url);

/** The "scheme://authority" prefix of `url`, as written (no copy, no case folding). */
std::string_view authorityOf(std::string_view url);

class Transport {
 public:
  virtual ~Transport() = default;
  /** Starts a request; thread-safe. Callbacks run on the loop thread. */
  virtual RequestId send(HttpRequest request, ResponseCallbacks callbacks) = 0;
  /** Cancels an in-flight request; thread-safe. on_complete(Cancelled) follows unless the request
   *  had already completed. The connection is closed or returned to the cache correctly. */
  virtual void cancel(RequestId id) = 0;
  virtual TransportStats stats() const = 0;
};

}  // namespace llmpool::http
