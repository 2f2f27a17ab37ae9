// ClientPool's public factory and convenience forms.

#include <algorithm>
#include <future>

#include "http/curl_transport.h"
#include "llmpool/pool.h"
#include "pool/client_pool_impl.h"

namespace llmpool {

Result<std::unique_ptr<ClientPool>> ClientPool::create(PoolConfig config) {
  const PoolSettings& ps = config.pool;
  http::CurlTransportOptions options;
  options.shards = static_cast<size_t>(std::max(1, ps.io_threads));
  // libcurl caps connections per host per multi handle; the cap is the largest any provider
  // asks for (pool.max_connections_per_provider unless a provider overrides it).
  int per_host = ps.max_connections_per_provider;
  for (const auto& p : config.providers)
    per_host = std::max(per_host, p.max_connections.value_or(0));
  options.max_connections_per_host = per_host;
  options.max_total_connections =
      std::max<int>(options.max_total_connections,
                    per_host * static_cast<int>(std::max<size_t>(1, config.providers.size())));
  options.connection_idle_timeout =
      std::chrono::duration_cast<std::chrono::seconds>(ps.connection_idle_timeout);
  options.connection_max_lifetime =
      std::chrono::duration_cast<std::chrono::seconds>(ps.connection_max_lifetime);
  options.connect_timeout = ps.connect_timeout;
  auto transport = http::CurlTransport::create(options);
  if (!transport) return std::unexpected(transport.error());
  std::shared_ptr<http::CurlTransport> shared(std::move(*transport));
  static DefaultRandom random;  // thread-safe; shared by every pool of the process
  auto pool = pool::ClientPoolImpl::create(std::move(config), *shared, *shared, random);
  if (!pool) return std::unexpected(pool.error());
  // The pool must be destroyed before its transport: the transport is held by the pool itself
  // and released after the pool's members (see ~ClientPoolImpl, which stops first).
  (*pool)->holdResource(shared);
  (*pool)->startHealthChecks();
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
