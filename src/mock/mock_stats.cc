#include "mock/mock_stats.h"

#include "mock/json_text.h"

namespace llmpool::mock {

void MockStats::onArrival() {
  requests_total_.fetch_add(1, std::memory_order_relaxed);
  const int64_t now = in_flight_.fetch_add(1, std::memory_order_relaxed) + 1;
  int64_t max = in_flight_max_.load(std::memory_order_relaxed);
  while (now > max && !in_flight_max_.compare_exchange_weak(max, now, std::memory_order_relaxed)) {
  }
}

namespace {

// Lives in a connection's user-data slot; its destructor runs when the connection closes.
class ModelConnectionMark {
 public:
  explicit ModelConnectionMark(std::atomic<uint64_t>& open) : open_(open) {
    open_.fetch_add(1, std::memory_order_relaxed);
  }
  ~ModelConnectionMark() { open_.fetch_sub(1, std::memory_order_relaxed); }
  ModelConnectionMark(const ModelConnectionMark&) = delete;
  ModelConnectionMark& operator=(const ModelConnectionMark&) = delete;

 private:
  std::atomic<uint64_t>& open_;
};

}  // namespace

void MockStats::markModelConnection(std::shared_ptr<void>& slot) {
  if (slot) return;
  connections_accepted_.fetch_add(1, std::memory_order_relaxed);
  slot = std::make_shared<ModelConnectionMark>(connections_open_);
}

void MockStats::onDone() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }

void MockStats::countOutcome(Endpoint endpoint, int slot) {
  if (slot < 0 || static_cast<std::size_t>(slot) >= Slots) return;
  outcomes_[static_cast<std::size_t>(endpoint)][static_cast<std::size_t>(slot)].fetch_add(
      1, std::memory_order_relaxed);
}

void MockStats::log(Endpoint endpoint, std::string_view model, std::string_view prompt, int status,
                    std::string_view fault, LoggedHeaders headers) {
  Entry entry{0,      endpoint, std::string(model), std::string(prompt),
              status, fault,    std::move(headers)};
  std::lock_guard lock(log_mu_);
  entry.seq = next_seq_++;
  if (log_.size() == RequestLogCapacity) log_.pop_front();
  log_.push_back(std::move(entry));
}

std::string MockStats::statsJson(const server::ServerStats& server) const {
  std::string out = R"({"connections_accepted":)";
  appendInt(out, static_cast<int64_t>(connections_accepted_.load(std::memory_order_relaxed)));
  out.append(R"(,"connections_open":)");
  appendInt(out, static_cast<int64_t>(connections_open_.load(std::memory_order_relaxed)));
  out.append(R"(,"tcp_connections_accepted":)");
  appendInt(out, static_cast<int64_t>(server.connections_accepted -
                                      tcp_accepted_baseline_.load(std::memory_order_relaxed)));
  out.append(R"(,"tcp_connections_open":)");
  appendInt(out, static_cast<int64_t>(server.connections_open));
  out.append(R"(,"requests_total":)");
  appendInt(out, static_cast<int64_t>(requests_total_.load(std::memory_order_relaxed)));
  out.append(R"(,"in_flight":)");
  appendInt(out, in_flight_.load(std::memory_order_relaxed));
  out.append(R"(,"in_flight_max":)");
  appendInt(out, in_flight_max_.load(std::memory_order_relaxed));
  out.append(R"(,"requests":{)");
  bool first_endpoint = true;
  for (std::size_t e = 0; e < EndpointCount; ++e) {
    bool first_status = true;
    for (std::size_t s = 0; s < Slots; ++s) {
      const uint64_t n = outcomes_[e][s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      if (first_status) {
        if (!first_endpoint) out.push_back(',');
        first_endpoint = false;
        appendJsonString(out, canonicalPath(static_cast<Endpoint>(e)));
        out.append(":{");
      } else {
        out.push_back(',');
      }
      first_status = false;
      if (s == ResetSlot) {
        out.append(R"("reset")");
      } else if (s == HangSlot) {
        out.append(R"("hang")");
      } else {
        out.push_back('"');
        appendInt(out, static_cast<int64_t>(s));
        out.push_back('"');
      }
      out.push_back(':');
      appendInt(out, static_cast<int64_t>(n));
    }
    if (!first_status) out.push_back('}');
  }
  out.append("}}");
  return out;
}

std::string MockStats::requestsJson() const {
  std::string out = R"({"requests":[)";
  std::lock_guard lock(log_mu_);
  bool first = true;
  for (const auto& entry : log_) {
    if (!first) out.push_back(',');
    first = false;
    out.append(R"({"seq":)");
    appendInt(out, static_cast<int64_t>(entry.seq));
    out.append(R"(,"path":)");
    appendJsonString(out, canonicalPath(entry.endpoint));
    out.append(R"(,"model":)");
    appendJsonString(out, entry.model);
    out.append(R"(,"prompt":)");
    appendJsonString(out, entry.prompt);
    out.append(R"(,"status":)");
    appendInt(out, entry.status);
    out.append(R"(,"fault":)");
    if (entry.fault.empty()) {
      out.append("null");
    } else {
      appendJsonString(out, entry.fault);
    }
    for (const auto& [name, value] :
         {std::pair{R"(,"anthropic_beta":)", &entry.headers.anthropic_beta},
          std::pair{R"(,"client_request_id":)", &entry.headers.client_request_id},
          std::pair{R"(,"traceparent":)", &entry.headers.traceparent}}) {
      if (value->empty()) continue;
      out.append(name);
      appendJsonString(out, *value);
    }
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

void MockStats::reset(const server::ServerStats& server) {
  requests_total_.store(0, std::memory_order_relaxed);
  in_flight_max_.store(in_flight_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  connections_accepted_.store(0, std::memory_order_relaxed);
  tcp_accepted_baseline_.store(server.connections_accepted, std::memory_order_relaxed);
  for (auto& endpoint : outcomes_) {
    for (auto& slot : endpoint) slot.store(0, std::memory_order_relaxed);
  }
  std::lock_guard lock(log_mu_);
  log_.clear();
  next_seq_ = 1;
}

}  // namespace llmpool::mock
