#pragma once
// Counters and the request log behind GET /admin/stats and GET /admin/requests. Counters are
// atomics (the hot path takes no lock); only the request log has a mutex, held for one append.

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "mock/endpoint.h"
#include "server/server_options.h"

namespace llmpool::mock {

/** Request headers the request log shows, so tests can see what a client sent upstream. */
struct LoggedHeaders {
  std::string anthropic_beta;     // Anthropic beta features asked for
  std::string client_request_id;  // x-client-request-id: the caller's id of the request
  std::string traceparent;        // W3C trace context
};

class MockStats {
 public:
  /** Status slots: an HTTP status (100..599), or a connection-level outcome. */
  static constexpr int ResetSlot = 600;  // closed before any response
  static constexpr int HangSlot = 601;   // never answered
  static constexpr std::size_t RequestLogCapacity = 10'000;

  /** Counts the connection holding `slot` (ResponseWriter::connectionData) as a model
   *  connection the first time it carries a model request; it counts as open until it closes.
   *  Connections used only for /admin and /health are left out, so a test's own stats calls do
   *  not disturb the connection counts it asserts. I/O thread only. */
  void markModelConnection(std::shared_ptr<void>& slot);
  /** A model request arrived: requests_total, in_flight (and its max) go up. */
  void onArrival();
  /** The request ended (answered, reset, or its client left): in_flight goes down. */
  void onDone();
  void countOutcome(Endpoint endpoint, int slot);
  /** Appends to the request log; sequence numbers follow the order of these calls. `status` 0
   *  means no HTTP status was sent; `fault` names the fault kind applied, if any;
   *  `headers` are the request's headers worth showing ("" for those it did not have). */
  void log(Endpoint endpoint, std::string_view model, std::string_view prompt, int status,
           std::string_view fault, LoggedHeaders headers = {});

  /** The /admin/stats body. connections_* count model connections (markModelConnection);
   *  tcp_connections_* are the server's raw counts, admin connections included. */
  std::string statsJson(const server::ServerStats& server) const;
  std::string requestsJson() const;
  /** Zeroes counters and the log; in_flight and connections_open stay (they are levels). */
  void reset(const server::ServerStats& server);

 private:
  static constexpr std::size_t Slots = 602;

  std::atomic<uint64_t> requests_total_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> in_flight_max_{0};
  std::atomic<uint64_t> connections_accepted_{0};  // model connections
  std::atomic<uint64_t> connections_open_{0};
  std::atomic<uint64_t> tcp_accepted_baseline_{0};
  std::array<std::array<std::atomic<uint64_t>, Slots>, EndpointCount> outcomes_{};

  struct Entry {
    uint64_t seq;
    Endpoint endpoint;
    std::string model;
    std::string prompt;
    int status;
    std::string_view fault;  // static strings only
    LoggedHeaders headers;
  };
  mutable std::mutex log_mu_;
  std::deque<Entry> log_;  // guarded by log_mu_
  uint64_t next_seq_ = 1;  // guarded by log_mu_
};

}  // namespace llmpool::mock
