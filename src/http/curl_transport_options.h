#pragma once
// Settings of CurlTransport. docs/transport.md explains each choice and the defaults.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/loop_host.h"

namespace llmpool::http {

struct CurlTransportOptions {
  /** Event-loop threads. Each shard owns one curl multi handle (so one connection cache) and a
   *  share of every host's connections; the shares add up to max_connections_per_host, so that
   *  limit holds exactly. At most max_connections_per_host shards run (a share is >= 1). */
  size_t shards = 1;
  /** Thread-per-core: when not empty, the loops run on these hosts' threads instead of threads
   *  of their own, shard i on hosts[i % hosts.size()] (common/loop_host.h). The hosts must
   *  outlive the transport. A request sent from a host thread goes to the shard it hosts. */
  std::vector<LoopHost*> hosts;
  /** Connections per host (CURLMOPT_MAX_HOST_CONNECTIONS). Requests beyond it wait inside the
   *  transport for a connection to become free; they never open more. */
  int max_connections_per_host = 5;
  /** Connections per shard over all hosts (CURLMOPT_MAX_TOTAL_CONNECTIONS and the size of the
   *  idle-connection cache, CURLMOPT_MAXCONNECTS). Raised to max_connections_per_host if lower. */
  int max_total_connections = 256;
  /** An idle keep-alive connection older than this is closed instead of reused
   *  (CURLOPT_MAXAGE_CONN); 0 = no idle limit. */
  std::chrono::seconds connection_idle_timeout{300};
  /** A connection older than this is not reused for new requests (CURLOPT_MAXLIFETIME_CONN);
   *  0 = no limit. */
  std::chrono::seconds connection_max_lifetime{0};
  /** Ceiling for connection set-up (TCP + TLS); the request's own Timeouts::connect applies when
   *  it is nonzero and smaller. */
  std::chrono::milliseconds connect_timeout{10'000};
  /** CA bundle (PEM) used to verify servers; empty = the system default bundle. */
  std::string ca_file;
  /** Verify the server certificate and host name. Turning it off is for tests only. */
  bool verify_tls = true;
  /** Negotiate HTTP/2 over TLS when the server offers it (ALPN), with multiplexing; HTTP/1.1
   *  otherwise and always for plain http://. */
  bool http2 = true;
  /** nullopt: libcurl's default, the http_proxy / https_proxy / all_proxy / no_proxy environment
   *  variables. "" disables proxies; any other value is the proxy URL. */
  std::optional<std::string> proxy;
  /** TCP keep-alive probes on idle connections, so dead peers are noticed. */
  bool tcp_keepalive = true;
  std::chrono::seconds tcp_keepalive_idle{60};
  std::chrono::seconds tcp_keepalive_interval{30};
  /** Disable Nagle: requests are small and latency-sensitive. */
  bool tcp_nodelay = true;
  /** Plain http:// requests to an IP-literal host (a local model server, a sidecar, the mock) go
   *  through the built-in HTTP/1.1 client on the same loop instead of libcurl, unless a proxy
   *  applies; https://, host names and proxies always use libcurl. Same limits, timeouts and
   *  counters either way (docs/transport.md). */
  bool native_http1 = true;
  /** Easy handles kept per shard for reuse after their request completed. */
  size_t max_cached_handles = 256;
};

}  // namespace llmpool::http
