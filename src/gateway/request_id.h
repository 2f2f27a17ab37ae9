#pragma once
// Every request through the gateway has an id, so one request can be followed from the client's
// logs through the gateway's to the provider's: the client's own `x-request-id` when it sent a
// usable one (as Envoy keeps it), else one made here (a random UUID, version 4). It comes back in
// the response's `x-request-id`, is logged (request_id=...), and goes upstream as
// `x-client-request-id`, the header OpenAI records with the request for its support.

#include <string>
#include <string_view>

namespace llmpool::gateway {

/** The client's `x-request-id` when usable (1 to 128 visible ASCII characters, none of them
 *  quotes or backslashes, which would need escaping in logs), else a new random UUID. */
std::string requestIdFor(std::string_view client_header);

/** A new random UUID (version 4), "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx". */
std::string newRequestId();

}  // namespace llmpool::gateway
