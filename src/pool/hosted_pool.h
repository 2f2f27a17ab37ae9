#pragma once
// ClientPool::create for a host that runs the pool's event loops on its own threads
// (thread-per-core, common/loop_host.h): the gateway hosts them on its server threads.

#include <memory>
#include <vector>

#include "common/loop_host.h"
#include "llmpool/config.h"
#include "llmpool/error.h"
#include "llmpool/pool.h"

namespace llmpool::pool {

/** As ClientPool::create(config); with `hosts` not empty, every transport of the pool runs one
 *  loop on each host's thread instead of pool.io_threads threads of its own. The hosts must
 *  outlive the pool. */
Result<std::unique_ptr<ClientPool>> createHostedPool(PoolConfig config,
                                                     const std::vector<LoopHost*>& hosts);

}  // namespace llmpool::pool
