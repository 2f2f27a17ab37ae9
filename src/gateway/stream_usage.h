#pragma once
// A provider's stream event with its usage taken out, for a client that did not ask for usage.
// The gateway always asks an OpenAI-dialect provider for usage (logs, metrics and key budgets
// need it), and OpenAI then puts `"usage":null` in every event and the totals in the last one.

#include <string>
#include <string_view>

namespace llmpool::gateway {

/** `event_data` (one SSE event's JSON) without its top-level `usage` member: unchanged when it
 *  has none, byte for byte the rest when it ends in `"usage":null` (OpenAI's place for it),
 *  else re-serialized without it; "" when it mentions usage but is not a JSON object. */
std::string withoutUsage(std::string_view event_data);

}  // namespace llmpool::gateway
