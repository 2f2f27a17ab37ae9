// ClientPool's public factory and convenience forms.

#include <algorithm>
#include <future>
#include <map>

#include "http/curl_transport.h"
#include "llmpool/pool.h"
#include "pool/client_pool_impl.h"
#include "pool/hosted_pool.h"
#include "pool/routing_transport.h"

namespace llmpool {

Result<std::unique_ptr<ClientPool>> ClientPool::create(PoolConfig config) {
  return pool::createHostedPool(std::move(config), {});
}

Result<std::unique_ptr<ClientPool>> pool::createHostedPool(PoolConfig config,
                                                           const std::vector<LoopHost*>& hosts) {
  const PoolSettings& ps = config.pool;
  http::CurlTransportOptions base;
  base.shards = hosts.empty() ? static_cast<size_t>(std::max(1, ps.io_threads)) : hosts.size();
  base.hosts = hosts;
  // Rounded up: the transport works in seconds, and a sub-second limit must not become 0 (which
  // means "no limit").
  base.connection_idle_timeout =
      std::chrono::ceil<std::chrono::seconds>(ps.connection_idle_timeout);
  base.connection_max_lifetime =
      std::chrono::ceil<std::chrono::seconds>(ps.connection_max_lifetime);
  base.connect_timeout = ps.connect_timeout;
  base.native_http1 = ps.native_http1;

  // One transport per distinct per-host connection cap (libcurl has one cap per multi handle).
  // The first one also runs the pool's timers.
  auto routing = std::make_shared<pool::RoutingTransport>();
  std::map<int, std::shared_ptr<http::CurlTransport>> by_cap;
  std::shared_ptr<http::CurlTransport> executor;
  auto transportFor = [&](int cap) -> Result<std::shared_ptr<http::CurlTransport>> {
    auto& t = by_cap[cap];
    if (!t) {
      http::CurlTransportOptions options = base;
      options.max_connections_per_host = cap;
      options.max_total_connections = std::max(options.max_total_connections, cap);
      auto created = http::CurlTransport::create(options);
      if (!created) return std::unexpected(created.error());
      t = std::move(*created);
      if (!executor) executor = t;
    }
    return t;
  };
  auto fallback = transportFor(ps.max_connections_per_provider);
  if (!fallback) return std::unexpected(fallback.error());
  routing->addRoute("", *fallback);
  for (const auto& p : config.providers) {
    auto t = transportFor(p.max_connections.value_or(ps.max_connections_per_provider));
    if (!t) return std::unexpected(t.error());
    routing->addRoute(p.base_url, *t);
  }
  static DefaultRandom random;  // thread-safe; shared by every pool of the process
  auto pool = pool::ClientPoolImpl::create(std::move(config), *routing, *executor, random);
  if (!pool) return std::unexpected(pool.error());
  // The pool holds its transports and releases them first when destroyed (see ~ClientPoolImpl).
  (*pool)->holdResource(routing);
  // The executor's transport goes last: the others' final callbacks may still post to it.
  for (auto& [cap, t] : by_cap) {
    if (t != executor) (*pool)->holdResource(t);
  }
  (*pool)->holdResource(executor);
  if (auto started = (*pool)->start(); !started) return std::unexpected(started.error());
  return std::unique_ptr<ClientPool>(std::move(*pool));
}

std::future<Result<ChatResponse>> ClientPool::completeAsync(ChatRequest request,
                                                            RequestOptions options) {
  auto promise = std::make_shared<std::promise<Result<ChatResponse>>>();
  auto future = promise->get_future();
  complete(std::move(request), std::move(options),
           [promise](Result<ChatResponse> r) { promise->set_value(std::move(r)); });
  return future;
}

Result<ChatResponse> ClientPool::completeBlocking(ChatRequest request, RequestOptions options) {
  return completeAsync(std::move(request), std::move(options)).get();
}

}  // namespace llmpool
