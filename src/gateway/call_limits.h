#pragma once
// Per-request limits a client may ask for in headers, tighter than the configuration's, never
// looser: a latency-bound caller (autocomplete, a voice turn) would rather fail fast than have
// the gateway retry and fail over for the configured two minutes.
//
//   x-llmpool-timeout: 10s        the whole request (queueing, attempts, backoff); `1500ms`, `2m`
//   x-llmpool-max-attempts: 1     attempts across the failover chain (1: no retry, no failover)

#include <chrono>
#include <optional>

#include "llmpool/config.h"
#include "llmpool/error.h"
#include "server/http_types.h"

namespace llmpool::gateway {

struct CallLimits {
  std::optional<Millis> deadline;   // at most pool.deadline
  std::optional<int> max_attempts;  // at most pool.retry.max_attempts
};

/** The limits `request` asks for, capped by `pool`; InvalidRequest naming the header when one is
 *  malformed (a timeout that is not a positive duration, attempts that are not a whole number of
 *  at least 1). */
Result<CallLimits> callLimitsOf(const server::Request& request, const PoolSettings& pool);

}  // namespace llmpool::gateway
