#pragma once
// The attempt trail in response headers, so a caller (or an operator with curl -i) sees who
// served a request and what was tried first:
//   x-llmpool-deployment: openai/gpt-4o          (who served; absent on failure)
//   x-llmpool-attempts:   2                      (attempts sent upstream, skips not counted)
//   x-llmpool-trail:      azure/gpt-4o=server_error,openai/gpt-4o=ok   (bounded length)
//   x-llmpool-upstream-request-id: req_abc123  (the serving provider's own id for the reply)

#include <string>
#include <string_view>
#include <vector>

#include "llmpool/error.h"
#include "server/http_types.h"

namespace llmpool::gateway {

/** Attempts that were sent (skipped deployments are not counted). */
int attemptsSent(const std::vector<Attempt>& trail);

/** "deployment=outcome" per entry, comma-separated, cut (with "...") beyond `max_bytes`.
 *  Outcomes: ok, skipped:<reason>, or the error code name / HTTP status. */
std::string trailSummary(const std::vector<Attempt>& trail, std::size_t max_bytes = 512);

void setSuccessTrailHeaders(server::ResponseHead& head, const std::string& deployment, int attempts,
                            const std::vector<Attempt>& trail);
void setFailureTrailHeaders(server::ResponseHead& head, const Error& error);
/** The serving provider's id for the reply, when it gave one: what its logs and support know. */
void setUpstreamRequestIdHeader(server::ResponseHead& head, std::string_view id);

}  // namespace llmpool::gateway
