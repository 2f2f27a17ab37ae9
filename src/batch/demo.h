#pragma once
// `llmpool run --demo`: the pieces that do not need the mock server itself (which lives in the
// server layer and is started by the command): the sample batch, the fault rules of the flaky
// primary, and the pool config with a failover tier. See docs/run.md, "The demo".

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "llmpool/config.h"
#include "llmpool/error.h"

namespace llmpool::batch {

inline constexpr std::string_view kDemoModel = "mock-model";
inline constexpr size_t kDemoTasks = 400;

/**
 * The sample batch: `count` lines with mixed priorities (about 10% critical, 20% high, 50% normal,
 * 20% low), mostly chat completions, plus enhancement-form, Anthropic /v1/messages and embeddings
 * lines, all for kDemoModel. Deterministic.
 */
std::string demoBatchText(size_t count);

/** Fault rules (mock JSON) for the primary: an outage window that trips its breaker, 429s with
 *  Retry-After, scattered 503s and the odd connection reset. */
std::vector<std::string> demoPrimaryFaults();

/**
 * Two OpenAI-compatible providers, "primary" (tier 0) and "backup" (tier 1, failover), serving
 * every alias in `aliases`; small backoffs and a quick breaker so the demo shows retries, a trip,
 * failover and recovery within seconds.
 */
PoolConfig demoPoolConfig(const std::string& primary_base_url, const std::string& backup_base_url,
                          const std::set<std::string>& aliases);

/** The models named by the lines of a batch file (body.model or model); unreadable lines are
 *  skipped. Used by --demo with a user's INPUT, so its models are routed to the mocks. */
std::set<std::string> modelsInBatchFile(const std::string& path);

}  // namespace llmpool::batch
