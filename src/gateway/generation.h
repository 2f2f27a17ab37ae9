#pragma once
// One configuration in force: its pool and its keys. The gateway swaps the current generation
// atomically on reload; each request holds the generation it started on, so in-flight requests
// finish on the old pool while new ones use the new one.

#include <chrono>
#include <cstdint>
#include <memory>

#include "gateway/budget_ledger.h"
#include "gateway/gateway_metrics.h"
#include "gateway/key_ring.h"
#include "gateway/reply_cache.h"
#include "gateway/request_log.h"
#include "llmpool/config.h"
#include "llmpool/pool.h"

namespace llmpool::gateway {

struct Generation {
  /** `ledger` (kept by GatewayShared, so it outlives the generation) records the keys' spend. */
  Generation(uint64_t n, PoolConfig c, std::unique_ptr<ClientPool> p, BudgetLedger* ledger)
      : number(n), config(std::move(c)), pool(std::move(p)), keys(config.gateway.keys, ledger) {
    if (config.gateway.cache.enabled()) cache = std::make_unique<ReplyCache>(config.gateway.cache);
  }

  uint64_t number;
  PoolConfig config;
  std::unique_ptr<ClientPool> pool;
  KeyRing keys;
  std::unique_ptr<ReplyCache> cache;  // null unless gateway.cache is on
  // When this configuration was loaded (unix seconds): the creation time /v1/models gives its
  // aliases.
  int64_t loaded_at = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
};

using GenerationPtr = std::shared_ptr<const Generation>;

/** What request handlers share with the gateway; it outlives every request and generation. */
struct GatewayShared {
  GatewayMetrics metrics;
  Logger logger;
  /** The keys' spend (gateway.state_file); opened with the first configuration that has one,
   *  by the thread that loads configurations, and kept until the gateway is gone. */
  std::unique_ptr<BudgetLedger> ledger;
};

}  // namespace llmpool::gateway
