// ClientPoolImpl::writeMetrics: the pool's Prometheus families (docs/metrics.md lists them).

#include "metrics/prometheus_text.h"
#include "pool/client_pool_impl.h"

namespace llmpool::pool {

void ClientPoolImpl::writeMetrics(std::string& out) const {
  const PoolStats s = stats();
  metrics::PrometheusText p;
  const auto d = [](uint64_t v) { return static_cast<double>(v); };

  p.family("llmpool_requests_total", "counter", "Requests that finished, by outcome.");
  p.sample("llmpool_requests_total", {{"outcome", "success"}}, d(s.successes));
  p.sample("llmpool_requests_total", {{"outcome", "failure"}}, d(s.failures));
  p.family("llmpool_request_failures_total", "counter", "Failed requests by error kind.");
  for (const auto& [kind, n] : s.failures_by_kind) {
    p.sample("llmpool_request_failures_total", {{"kind", kind}}, d(n));
  }
  p.family("llmpool_attempts_total", "counter", "Attempts sent to providers.");
  p.sample("llmpool_attempts_total", {}, d(s.attempts));
  p.family("llmpool_retries_total", "counter", "Attempts that were retries.");
  p.sample("llmpool_retries_total", {}, d(s.retries));
  p.family("llmpool_failovers_total", "counter", "Retries that went to another deployment.");
  p.sample("llmpool_failovers_total", {}, d(s.failovers));
  p.family("llmpool_retry_budget_exhausted_total", "counter",
           "Retries refused because the retry budget was spent.");
  p.sample("llmpool_retry_budget_exhausted_total", {}, d(s.retry_budget_exhausted));
  p.family("llmpool_admission_rejections_total", "counter",
           "Requests refused by admission (queue full or acquire timeout).");
  p.sample("llmpool_admission_rejections_total", {}, d(s.admission_rejections));
  p.family("llmpool_skips_total", "counter", "Deployments passed over while routing, by reason.");
  for (const auto& [reason, n] : s.skips_by_reason) {
    p.sample("llmpool_skips_total", {{"reason", reason}}, d(n));
  }
  p.family("llmpool_in_flight_requests", "gauge", "Requests admitted and not finished.");
  p.sample("llmpool_in_flight_requests", {}, d(s.in_flight));
  p.family("llmpool_queue_depth", "gauge", "Requests waiting for an admission permit.");
  p.sample("llmpool_queue_depth", {}, d(s.queue_depth));

  p.family("llmpool_request_duration_seconds", "histogram",
           "End-to-end request latency: admission, attempts and backoff.");
  p.histogram("llmpool_request_duration_seconds", {}, latency_hist_.snapshot());
  p.family("llmpool_time_to_first_token_seconds", "histogram",
           "Time from sending an attempt to its first byte (first chunk for streams).");
  p.histogram("llmpool_time_to_first_token_seconds", {}, ttft_hist_.snapshot());
  p.family("llmpool_permit_wait_seconds", "histogram", "Time spent waiting for admission.");
  p.histogram("llmpool_permit_wait_seconds", {}, permit_wait_hist_.snapshot());

  // Per deployment (unique provider/model pairs; bounded by the config, not by traffic).
  const MonotonicTime now = executor_.clock().now();
  const auto state_value = [&](const Deployment& dep) {
    switch (dep.breaker.state(now)) {
      case resilience::CircuitState::Closed:
        return 0.0;
      case resilience::CircuitState::HalfOpen:
        return 1.0;
      case resilience::CircuitState::Open:
        return 2.0;
    }
    return 0.0;
  };
  const auto rd = [](const std::atomic<uint64_t>& a) {
    return static_cast<double>(a.load(std::memory_order_relaxed));
  };
  const auto each = [&](const char* name, const char* type, const char* help, auto value) {
    p.family(name, type, help);
    for (const auto& dep : deployments_) {
      p.sample(name, {{"deployment", dep->name}, {"provider", dep->provider.name}}, value(*dep));
    }
  };
  each("llmpool_deployment_requests_total", "counter", "Attempts sent to the deployment.",
       [&](const Deployment& x) { return rd(x.requests); });
  each("llmpool_deployment_successes_total", "counter", "Attempts that succeeded.",
       [&](const Deployment& x) { return rd(x.successes); });
  each("llmpool_deployment_failures_total", "counter", "Attempts that failed.",
       [&](const Deployment& x) { return rd(x.failures); });
  each("llmpool_deployment_in_flight", "gauge", "Attempts in flight.",
       [&](const Deployment& x) { return rd(x.in_flight); });
  each("llmpool_deployment_state", "gauge", "Circuit breaker: 0 closed, 1 half-open, 2 open.",
       state_value);
  each("llmpool_deployment_healthy", "gauge", "1 when the last health signal was good.",
       [](const Deployment& x) { return x.healthy.load() ? 1.0 : 0.0; });
  each("llmpool_breaker_trips_total", "counter", "Times the breaker opened.",
       [](const Deployment& x) { return static_cast<double>(x.breaker.counters().trips_total); });
  each("llmpool_breaker_repair_attempts_total", "counter", "Half-open probes admitted.",
       [](const Deployment& x) {
         return static_cast<double>(x.breaker.counters().repair_attempts_total);
       });
  each("llmpool_cost_usd_total", "counter", "Cost of successful responses, in USD.",
       [&](const Deployment& x) { return rd(x.cost_micro_usd) / 1e6; });
  p.family("llmpool_tokens_total", "counter", "Tokens of successful responses.");
  for (const auto& dep : deployments_) {
    p.sample("llmpool_tokens_total",
             {{"deployment", dep->name}, {"provider", dep->provider.name}, {"type", "input"}},
             rd(dep->tokens_in));
    p.sample("llmpool_tokens_total",
             {{"deployment", dep->name}, {"provider", dep->provider.name}, {"type", "output"}},
             rd(dep->tokens_out));
  }
  p.family("llmpool_deployment_request_duration_seconds", "histogram",
           "Latency of successful attempts per deployment.");
  for (const auto& dep : deployments_) {
    p.histogram("llmpool_deployment_request_duration_seconds",
                {{"deployment", dep->name}, {"provider", dep->provider.name}},
                dep->latency_hist.snapshot());
  }

  p.family("llmpool_connections_open", "gauge", "HTTP connections open to providers.");
  p.sample("llmpool_connections_open", {}, d(s.connections_open));
  p.family("llmpool_connections_opened_total", "counter",
           "Connections opened (connection pool misses).");
  p.sample("llmpool_connections_opened_total", {}, d(s.pool_misses));
  p.family("llmpool_connection_reuses_total", "counter",
           "Requests served on an already open connection (connection pool hits).");
  p.sample("llmpool_connection_reuses_total", {}, d(s.pool_hits));
  p.family("llmpool_provider_connections", "gauge",
           "HTTP connections open per provider: busy (carrying a request) or idle (cached).");
  for (const auto& pc : s.providers) {
    p.sample("llmpool_provider_connections", {{"provider", pc.provider}, {"state", "busy"}},
             d(pc.connections_busy));
    p.sample("llmpool_provider_connections", {{"provider", pc.provider}, {"state", "idle"}},
             d(pc.connections_idle));
  }
  out += p.take();
}

}  // namespace llmpool::pool
