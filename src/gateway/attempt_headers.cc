#include "gateway/attempt_headers.h"

namespace llmpool::gateway {

int attemptsSent(const std::vector<Attempt>& trail) {
  int n = 0;
  for (const auto& a : trail) n += a.skipped ? 0 : 1;
  return n;
}

std::string trailSummary(const std::vector<Attempt>& trail, std::size_t max_bytes) {
  std::string out;
  for (const auto& a : trail) {
    std::string item = a.deployment + "=";
    if (a.skipped) {
      item += "skipped:" + a.reason;
    } else if (a.succeeded) {
      item += "ok";
    } else if (a.error) {
      item += std::string(errorCodeName(*a.error));
      if (a.http_status) item += ":" + std::to_string(*a.http_status);
    } else {
      item += "unknown";
    }
    // Header values must stay on one line and printable: deployment names come from the config.
    for (char& c : item) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ',') c = '_';
    }
    const std::size_t need = item.size() + (out.empty() ? 0 : 1);
    if (out.size() + need > max_bytes) {
      out += out.empty() ? "..." : ",...";
      break;
    }
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

void setSuccessTrailHeaders(server::ResponseHead& head, const std::string& deployment, int attempts,
                            const std::vector<Attempt>& trail) {
  if (!deployment.empty()) head.set("x-llmpool-deployment", deployment);
  head.set("x-llmpool-attempts", std::to_string(std::max(1, attempts)));
  // A first-try success has nothing to tell beyond the two headers above.
  if (trail.size() > 1) head.set("x-llmpool-trail", trailSummary(trail));
}

void setUpstreamRequestIdHeader(server::ResponseHead& head, std::string_view id) {
  if (!id.empty()) head.set("x-llmpool-upstream-request-id", id);
}

void setFailureTrailHeaders(server::ResponseHead& head, const Error& error) {
  head.set("x-llmpool-attempts", std::to_string(attemptsSent(error.attempts)));
  if (!error.attempts.empty()) head.set("x-llmpool-trail", trailSummary(error.attempts));
}

}  // namespace llmpool::gateway
