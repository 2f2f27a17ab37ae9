#pragma once
// The mock LLM provider (`llmpool mock`, docs/mock.md): OpenAI- and Anthropic-compatible
// endpoints with deterministic replies, a latency model, streaming pace, fault injection and an
// admin API, served by the shared server (src/server). Usable in-process too:
//
//   auto mock = mock::MockProvider::create({});   // 127.0.0.1, ephemeral port
//   (*mock)->start();  ... http://127.0.0.1:(*mock)->port()/v1 ...  (*mock)->stop();
//
// Every request is handled on its connection's I/O thread; delays and streaming pace are Asio
// timers on that thread (no thread ever sleeps). Shared state is atomics, an atomically swapped
// fault set, and the request log's mutex.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "llmpool/error.h"
#include "mock/fault_rule.h"
#include "mock/latency_model.h"
#include "mock/mock_stats.h"
#include "server/server.h"

namespace llmpool::mock {

struct MockOptions {
  /** host/port/threads/TLS of the listening server (defaults: 127.0.0.1:0, 1 thread). */
  server::ServerOptions server;
  /** Fixed delay before answering; with latency_p99, the median of a lognormal. */
  std::chrono::milliseconds latency{0};
  std::optional<std::chrono::milliseconds> latency_p99;
  /** Streaming pace in content chunks per second; 0 = as fast as possible. */
  double tokens_per_second = 0;
  /** Fault rules installed at start (as by POST /admin/faults). */
  std::vector<FaultRule> faults;
  int embedding_dim = 8;
  /** Seeds fault rates and latency samples. */
  uint64_t seed = 1;
};

class MockProvider {
 public:
  /** Validates options and binds the port (see server::Server::create for errors). */
  static Result<std::unique_ptr<MockProvider>> create(MockOptions options);
  ~MockProvider();
  MockProvider(const MockProvider&) = delete;
  MockProvider& operator=(const MockProvider&) = delete;

  /** Starts serving (returns at once). */
  void start();
  /** Stops serving: in-flight responses get up to `grace`, then connections close. */
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(250));
  uint16_t port() const { return server_->port(); }
  /** "http://127.0.0.1:PORT" ("https://..." with TLS). */
  std::string baseUrl() const;

  /** Replaces the fault rules (what POST /admin/faults does). Thread-safe. */
  void setFaults(std::vector<FaultRule> rules);

 private:
  struct Call;
  friend struct Call;

  explicit MockProvider(MockOptions options);
  void handle(server::Request&& request, server::ResponseWriter writer);
  void handleAdmin(std::string_view path, const server::Request& request,
                   server::ResponseWriter& writer);
  void handleModel(Endpoint endpoint, server::Request& request, server::ResponseWriter& writer);
  MockRandom& random();

  MockOptions options_;
  LatencyModel latency_;
  MockStats stats_;  // declared before server_: connections report into it until they close
  std::atomic<std::shared_ptr<FaultSet>> faults_;
  std::atomic<bool> has_faults_{false};
  std::atomic<uint64_t> next_request_id_{0};
  std::atomic<uint64_t> next_thread_seed_{0};
  std::unique_ptr<server::Server> server_;
};

}  // namespace llmpool::mock
