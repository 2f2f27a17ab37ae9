#include "gateway/gateway_metrics.h"

#include "metrics/prometheus_text.h"

namespace llmpool::gateway {

namespace {

constexpr std::array<std::string_view, kRouteCount> kRouteNames = {"/v1/chat/completions",
                                                                   "/v1/messages",
                                                                   "/v1/embeddings",
                                                                   "/v1/models",
                                                                   "/metrics",
                                                                   "/healthz",
                                                                   "/readyz",
                                                                   "/v1/messages/count_tokens",
                                                                   "/v1/responses",
                                                                   "other"};

template <std::size_t N>
int indexIn(const std::array<Route, N>& routes, Route r) {
  for (std::size_t i = 0; i < N; ++i) {
    if (routes[i] == r) return static_cast<int>(i);
  }
  return -1;
}

// Histogram index of a model route, or -1.
int durationIndex(Route r) { return indexIn(kTimedRoutes, r); }

std::string routeLabel(Route r) { return std::string(kRouteNames[static_cast<std::size_t>(r)]); }

}  // namespace

std::string_view routeName(Route route) { return kRouteNames[static_cast<std::size_t>(route)]; }

std::size_t GatewayMetrics::slot(unsigned status) {
  for (std::size_t i = 0; i < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) return i;
  }
  return kStatuses.size();
}

void GatewayMetrics::requestFinished(Route route, unsigned status, Duration took, bool streamed) {
  const auto r = static_cast<std::size_t>(route);
  requests_[r][slot(status)].fetch_add(1, std::memory_order_relaxed);
  if (streamed) streams_[r].fetch_add(1, std::memory_order_relaxed);
  if (const int h = durationIndex(route); h >= 0) {
    duration_[static_cast<std::size_t>(h)].observe(took);
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void GatewayMetrics::timeToFirstChunk(Route route, Duration ttft) {
  const int h = indexIn(kStreamedRoutes, route);
  if (h >= 0) ttft_[static_cast<std::size_t>(h)].observe(ttft);
}

void GatewayMetrics::authFailure(AuthFailure reason) {
  auth_failures_[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
}

void GatewayMetrics::reload(bool ok) { (ok ? reloads_ok_ : reloads_failed_).fetch_add(1); }

uint64_t GatewayMetrics::requests(Route route, unsigned status) const {
  return requests_[static_cast<std::size_t>(route)][slot(status)].load();
}

uint64_t GatewayMetrics::authFailures(AuthFailure reason) const {
  return auth_failures_[static_cast<std::size_t>(reason)].load();
}

void GatewayMetrics::write(std::string& out, const server::ServerStats& server,
                           CacheGauges cache) const {
  metrics::PrometheusText p;
  const auto d = [](auto v) { return static_cast<double>(v); };

  p.family("llmpool_gateway_requests_total", "counter",
           "HTTP requests answered by the gateway, by route and status (499: client went away).");
  for (std::size_t r = 0; r < kRouteCount; ++r) {
    for (std::size_t s = 0; s < kStatusSlots; ++s) {
      const uint64_t n = requests_[r][s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      const std::string status = s < kStatuses.size() ? std::to_string(kStatuses[s]) : "other";
      p.sample("llmpool_gateway_requests_total",
               {{"route", std::string(kRouteNames[r])}, {"status", status}}, d(n));
    }
  }
  p.family("llmpool_gateway_streams_total", "counter", "Streamed (SSE) responses, by route.");
  for (Route r : kStreamedRoutes) {
    p.sample("llmpool_gateway_streams_total", {{"route", routeLabel(r)}},
             d(streams_[static_cast<std::size_t>(r)].load(std::memory_order_relaxed)));
  }
  p.family("llmpool_gateway_in_flight_requests", "gauge",
           "Model requests (chat, messages, embeddings) being served.");
  p.sample("llmpool_gateway_in_flight_requests", {},
           d(std::max<int64_t>(0, in_flight_.load(std::memory_order_relaxed))));
  p.family("llmpool_gateway_request_duration_seconds", "histogram",
           "Gateway request latency, from the parsed request to the last byte queued.");
  for (std::size_t h = 0; h < duration_.size(); ++h) {
    p.histogram("llmpool_gateway_request_duration_seconds",
                {{"route", routeLabel(kTimedRoutes[h])}}, duration_[h].snapshot());
  }
  p.family("llmpool_gateway_time_to_first_chunk_seconds", "histogram",
           "Streams: time from the parsed request to the first chunk sent to the client.");
  for (std::size_t h = 0; h < ttft_.size(); ++h) {
    p.histogram("llmpool_gateway_time_to_first_chunk_seconds",
                {{"route", routeLabel(kStreamedRoutes[h])}}, ttft_[h].snapshot());
  }
  p.family("llmpool_gateway_auth_failures_total", "counter",
           "Requests refused by gateway-key checks, by reason.");
  for (auto reason :
       {AuthFailure::Missing, AuthFailure::Invalid, AuthFailure::ModelNotAllowed,
        AuthFailure::KeyRateLimited, AuthFailure::KeyConcurrency, AuthFailure::KeyBudget}) {
    p.sample("llmpool_gateway_auth_failures_total",
             {{"reason", std::string(authFailureName(reason))}}, d(authFailures(reason)));
  }
  p.family("llmpool_gateway_client_disconnects_total", "counter",
           "Requests whose client went away before the response completed (upstream cancelled).");
  p.sample("llmpool_gateway_client_disconnects_total", {}, d(disconnects_.load()));
  p.family("llmpool_gateway_config_reloads_total", "counter", "SIGHUP reloads, by result.");
  p.sample("llmpool_gateway_config_reloads_total", {{"result", "success"}}, d(reloads_ok_.load()));
  p.sample("llmpool_gateway_config_reloads_total", {{"result", "failure"}},
           d(reloads_failed_.load()));
  p.family("llmpool_gateway_config_generation", "gauge",
           "Number of the configuration in force (1 at start, +1 per applied reload).");
  p.sample("llmpool_gateway_config_generation", {}, d(generation_.load()));
  p.family("llmpool_gateway_retiring_pools", "gauge",
           "Pools replaced by a reload that still finish in-flight requests.");
  p.sample("llmpool_gateway_retiring_pools", {}, d(std::max<int64_t>(0, retiring_.load())));
  p.family("llmpool_gateway_cache_lookups_total", "counter",
           "Reply cache lookups of cacheable requests, by result (docs/gateway.md).");
  p.sample("llmpool_gateway_cache_lookups_total", {{"result", "hit"}}, d(cache_hits_.load()));
  p.sample("llmpool_gateway_cache_lookups_total", {{"result", "miss"}}, d(cache_misses_.load()));
  p.family("llmpool_gateway_cache_evictions_total", "counter",
           "Replies dropped from the cache to make room for newer ones.");
  p.sample("llmpool_gateway_cache_evictions_total", {}, d(cache_evictions_.load()));
  p.family("llmpool_gateway_cache_entries", "gauge", "Replies held by the cache.");
  p.sample("llmpool_gateway_cache_entries", {}, d(cache.entries));
  p.family("llmpool_gateway_cache_bytes", "gauge",
           "Bytes held by the cache (requests, replies and bookkeeping).");
  p.sample("llmpool_gateway_cache_bytes", {}, d(cache.bytes));
  p.family("llmpool_gateway_connections_open", "gauge", "Client connections open.");
  p.sample("llmpool_gateway_connections_open", {}, d(server.connections_open));
  p.family("llmpool_gateway_connections_accepted_total", "counter",
           "Client connections accepted (including rejected ones).");
  p.sample("llmpool_gateway_connections_accepted_total", {}, d(server.connections_accepted));
  p.family("llmpool_gateway_connections_rejected_total", "counter",
           "Client connections closed at once because max_connections was reached.");
  p.sample("llmpool_gateway_connections_rejected_total", {}, d(server.connections_rejected));
  out += p.take();
}

}  // namespace llmpool::gateway
