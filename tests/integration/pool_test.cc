// ClientPool against real `llmpool mock` processes over loopback: failover, breaker recovery,
// Retry-After, retry classification, and the concurrency and connection caps seen by the server.

#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "descriptor_exhaustion.h"
#include "llmpool/pool.h"
#include "subprocess.h"

namespace llmpool {
namespace {

using namespace std::chrono_literals;
using testing::MockProvider;
using Json = nlohmann::json;

Json stats(const MockProvider& m) { return Json::parse(m.statsJson()); }

uint64_t chatCount(const MockProvider& m, const std::string& status = "") {
  Json s = stats(m);
  uint64_t n = 0;
  for (const auto& [path, by_status] : s["requests"].items()) {
    if (path.find("chat/completions") == std::string::npos) continue;
    for (const auto& [code, count] : by_status.items()) {
      if (status.empty() || code == status) n += count.get<uint64_t>();
    }
  }
  return n;
}

ChatRequest hello(const std::string& text = "hello") {
  ChatRequest r;
  r.model = "chat";
  r.messages.push_back({.role = "user", .content = text});
  return r;
}

PoolConfig configFor(std::vector<const MockProvider*> mocks) {
  PoolConfig c;
  c.pool.health_checks = false;
  c.pool.deadline = 20s;
  for (size_t i = 0; i < mocks.size(); ++i) {
    const std::string name = "p" + std::to_string(i);
    c.providers.push_back(
        {.name = name, .kind = ProviderKind::OpenAI, .base_url = mocks[i]->baseUrl() + "/v1"});
    c.models["chat"].push_back({.provider = name, .model = "m", .priority = static_cast<int>(i)});
  }
  return c;
}

// Breakers that open after `threshold` failures and stay open for exactly `recovery`.
void setBreaker(PoolConfig& c, int threshold, std::chrono::milliseconds recovery) {
  c.pool.circuit_breaker.failure_threshold = threshold;
  c.pool.circuit_breaker.recovery_timeout = recovery;
  c.pool.circuit_breaker.max_recovery_timeout = recovery;
}

std::unique_ptr<ClientPool> makePool(PoolConfig c) {
  auto pool = ClientPool::create(std::move(c));
  EXPECT_TRUE(pool.has_value()) << pool.error().describe();
  return pool ? std::move(*pool) : nullptr;
}

TEST(PoolIntegrationTest, FailingPrimaryHealthySecondaryAllSucceedAndBreakerShieldsThePrimary) {
  MockProvider primary({"--fault", R"({"kind":"status","status":503})"});
  MockProvider backup;
  PoolConfig c = configFor({&primary, &backup});
  setBreaker(c, 5, 60s);
  auto pool = makePool(c);
  ASSERT_TRUE(pool);
  int ok = 0;
  for (int i = 0; i < 100; ++i) {
    auto r = pool->completeBlocking(hello());
    ok += r.has_value();
    if (r) {
      EXPECT_EQ(r->deployment, "p1/m");
    }
  }
  EXPECT_EQ(ok, 100);
  EXPECT_EQ(chatCount(primary), 5u);  // the breaker opened after 5 failures
  EXPECT_EQ(chatCount(backup, "200"), 100u);
  EXPECT_EQ(pool->stats().breaker_trips, 1u);
}

TEST(PoolIntegrationTest, PrimaryRecoversWhenItsFaultsAreCleared) {
  MockProvider primary({"--fault", R"({"kind":"status","status":500})"});
  MockProvider backup;
  PoolConfig c = configFor({&primary, &backup});
  setBreaker(c, 2, 300ms);
  auto pool = makePool(c);
  ASSERT_TRUE(pool);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool->completeBlocking(hello()).has_value());
  ASSERT_EQ(primary.setFaults(R"({"faults":[]})"), 200);
  std::this_thread::sleep_for(400ms);  // real time must pass for the real breaker's open period
  int on_primary = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = pool->completeBlocking(hello());
    ASSERT_TRUE(r.has_value());
    on_primary += r->deployment == "p0/m";
  }
  EXPECT_EQ(on_primary, 10);
}

TEST(PoolIntegrationTest, RetryAfterDelaysTheNextAttemptToTheSameDeployment) {
  MockProvider m({"--fault", R"({"kind":"status","status":429,"retry_after":1,"first_n":1})"});
  auto pool = makePool(configFor({&m}));
  ASSERT_TRUE(pool);
  const auto start = std::chrono::steady_clock::now();
  auto r = pool->completeBlocking(hello());
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(r->attempts, 2);
  EXPECT_GE(took, 1s);
  EXPECT_EQ(chatCount(m, "429"), 1u);
  EXPECT_EQ(chatCount(m, "200"), 1u);
}

TEST(PoolIntegrationTest, BadRequestIsNotRetried) {
  MockProvider m({"--fault", R"({"kind":"status","status":400})"});
  auto pool = makePool(configFor({&m}));
  ASSERT_TRUE(pool);
  auto r = pool->completeBlocking(hello());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest);
  EXPECT_EQ(r.error().http_status, 400);
  EXPECT_EQ(chatCount(m), 1u);
}

TEST(PoolIntegrationTest, ServiceUnavailableIsRetriedUpToMaxAttempts) {
  MockProvider m({"--fault", R"({"kind":"status","status":503})"});
  PoolConfig c = configFor({&m});
  c.pool.retry.max_attempts = 3;
  c.pool.retry.initial_backoff = 10ms;
  auto pool = makePool(c);
  ASSERT_TRUE(pool);
  auto r = pool->completeBlocking(hello());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::ServerError);
  EXPECT_EQ(r.error().attempts.size(), 3u);
  EXPECT_EQ(chatCount(m, "503"), 3u);
}

TEST(PoolIntegrationTest, ConcurrencyAndConnectionsStayWithinTheirCaps) {
  MockProvider m({"--latency", "20ms"});
  PoolConfig c = configFor({&m});
  c.pool.max_concurrent_requests = 6;
  c.pool.max_queue = 1000;
  c.pool.max_connections_per_provider = 4;
  auto pool = makePool(c);
  ASSERT_TRUE(pool);
  std::vector<std::future<Result<ChatResponse>>> futures;
  for (int i = 0; i < 120; ++i) futures.push_back(pool->completeAsync(hello()));
  int ok = 0;
  for (auto& f : futures) ok += f.get().has_value();
  EXPECT_EQ(ok, 120);
  Json s = stats(m);
  EXPECT_LE(s["in_flight_max"].get<int>(), 4);  // connections cap the in-flight count too
  EXPECT_GE(s["in_flight_max"].get<int>(), 2);
  EXPECT_LE(s["connections_accepted"].get<int>(), 4);
  const auto ps = pool->stats();
  EXPECT_GT(ps.pool_hits, 100u);
  // Per provider: every connection it opened is still open and idle now that traffic stopped.
  ASSERT_EQ(1u, ps.providers.size());
  const ProviderConnectionStats& pc = ps.providers.front();
  EXPECT_EQ("p0", pc.provider);
  EXPECT_EQ(static_cast<uint64_t>(s["connections_accepted"].get<int>()), pc.pool_misses);
  EXPECT_EQ(pc.pool_misses, pc.connections_open);
  EXPECT_EQ(0u, pc.connections_busy);
  EXPECT_EQ(pc.connections_open, pc.connections_idle);
  EXPECT_EQ(ps.pool_hits, pc.pool_hits);
}

TEST(PoolIntegrationTest, ConnectionsBusyWhileRequestsRunPerProvider) {
  MockProvider slow({"--latency", "400ms"});
  MockProvider fast;
  PoolConfig c = configFor({&slow, &fast});
  c.models["fast"].push_back({.provider = "p1", .model = "m"});
  c.pool.max_connections_per_provider = 4;
  auto pool = makePool(c);
  ASSERT_TRUE(pool);
  ChatRequest quick = hello();
  quick.model = "fast";
  ASSERT_TRUE(pool->completeBlocking(quick).has_value());
  auto a = pool->completeAsync(hello());  // to p0, held 400 ms by the mock
  bool busy = false;
  for (int i = 0; i < 200 && !busy; ++i) {  // bounded: at most 2 s
    const auto ps = pool->stats();
    busy = ps.providers.size() == 2 && ps.providers[0].connections_busy == 1;
    if (!busy) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(busy);
  const auto during = pool->stats();
  ASSERT_EQ(2u, during.providers.size());
  EXPECT_EQ("p1", during.providers[1].provider);
  EXPECT_EQ(1u, during.providers[1].connections_open);
  EXPECT_EQ(0u, during.providers[1].connections_busy);
  EXPECT_EQ(1u, during.providers[1].connections_idle);
  ASSERT_TRUE(a.get().has_value());
  const auto after = pool->stats();
  EXPECT_EQ(0u, after.providers[0].connections_busy);
  EXPECT_EQ(1u, after.providers[0].connections_idle);
}

TEST(PoolIntegrationTest, AdmissionLimitBoundsWhatTheProviderSees) {
  MockProvider m({"--latency", "20ms"});
  PoolConfig c = configFor({&m});
  c.pool.max_concurrent_requests = 3;
  c.pool.max_connections_per_provider = 16;
  auto pool = makePool(c);
  ASSERT_TRUE(pool);
  std::vector<std::future<Result<ChatResponse>>> futures;
  for (int i = 0; i < 60; ++i) futures.push_back(pool->completeAsync(hello()));
  for (auto& f : futures) EXPECT_TRUE(f.get().has_value());
  EXPECT_LE(stats(m)["in_flight_max"].get<int>(), 3);
}

TEST(PoolIntegrationTest, StopLetsRunningAndQueuedRequestsFinish) {
  MockProvider m({"--latency", "200ms"});
  PoolConfig c = configFor({&m});
  c.pool.max_concurrent_requests = 1;
  auto pool = makePool(c);
  ASSERT_TRUE(pool);
  std::vector<std::future<Result<ChatResponse>>> accepted;
  for (int i = 0; i < 3; ++i) accepted.push_back(pool->completeAsync(hello()));
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (pool->stats().queue_depth < 2 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(pool->stats().queue_depth, 2u);  // one runs, two wait for the only permit
  pool->stop(10s);
  for (auto& f : accepted) {
    auto r = f.get();
    EXPECT_TRUE(r.has_value()) << r.error().describe();
  }
  EXPECT_EQ(chatCount(m, "200"), 3u);
  auto late = pool->completeAsync(hello()).get();
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, ErrorCode::Cancelled);
}

TEST(PoolIntegrationTest, StreamsFromTheMockChunkByChunk) {
  MockProvider m({"--tokens-per-second", "200"});
  auto pool = makePool(configFor({&m}));
  ASSERT_TRUE(pool);
  std::promise<Result<ChatResponse>> done;
  std::vector<std::string> pieces;
  pool->stream(
      hello("one two three four five"), {},
      [&](const ChatChunk& c) {
        if (!c.content.empty()) pieces.push_back(c.content);
        return true;
      },
      [&](Result<ChatResponse> r) { done.set_value(std::move(r)); });
  auto r = done.get_future().get();
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(r->text(), "mock reply: one two three four five");
  EXPECT_GE(pieces.size(), 5u);
}

}  // namespace
}  // namespace llmpool

namespace llmpool {
namespace {

TEST(PoolIntegrationTest, EachProviderKeepsItsOwnConnectionCap) {
  MockProvider narrow({"--latency", "20ms"});
  MockProvider wide({"--latency", "20ms"});
  PoolConfig c = configFor({&narrow, &wide});
  c.pool.max_concurrent_requests = 32;
  c.pool.max_connections_per_provider = 8;
  c.providers[0].max_connections = 2;
  c.models.clear();
  c.models["narrow"] = {{.provider = "p0", .model = "m"}};
  c.models["wide"] = {{.provider = "p1", .model = "m"}};
  auto pool = makePool(c);
  ASSERT_TRUE(pool);
  std::vector<std::future<Result<ChatResponse>>> futures;
  for (int i = 0; i < 64; ++i) {
    RequestOptions o;
    o.model = i % 2 ? "narrow" : "wide";
    futures.push_back(pool->completeAsync(hello(), o));
  }
  for (auto& f : futures) EXPECT_TRUE(f.get().has_value());
  EXPECT_LE(stats(narrow)["connections_accepted"].get<int>(), 2);
  EXPECT_GT(stats(wide)["connections_accepted"].get<int>(), 2);
  EXPECT_LE(stats(wide)["connections_accepted"].get<int>(), 8);
}

// A process out of descriptors cannot open a socket to any provider: that is a local overload.
// It must not count against the (healthy) provider's breaker, nor fail over to the next
// deployment (which would fail the same way), and the pool must be fine once descriptors are back.
TEST(PoolIntegrationTest, OutOfDescriptorsFailsLocallyWithoutTrippingTheBreakerOrFailingOver) {
  MockProvider primary;
  MockProvider backup;
  PoolConfig c = configFor({&primary, &backup});
  setBreaker(c, 2, 60s);
  auto pool = makePool(c);
  ASSERT_TRUE(pool);
  std::vector<Result<ChatResponse>> results;
  {
    testing::DescriptorExhaustion exhausted;
    ASSERT_TRUE(exhausted.exhausted());
    for (int i = 0; i < 6; ++i) results.push_back(pool->completeBlocking(hello()));
  }
  for (const auto& r : results) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(ErrorCode::Overloaded, r.error().code) << r.error().describe();
    EXPECT_NE(std::string::npos, r.error().message.find("open-file limit")) << r.error().message;
    int sent = 0;
    for (const auto& a : r.error().attempts) sent += !a.skipped;
    EXPECT_EQ(1, sent) << "a local shortage is not retried elsewhere";
  }
  EXPECT_EQ(0u, pool->stats().breaker_trips);
  auto r = pool->completeBlocking(hello());
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ("p0/m", r->deployment);  // the primary's breaker stayed closed
  EXPECT_EQ(chatCount(primary, "200"), 1u);
  EXPECT_EQ(chatCount(backup), 0u);
}

}  // namespace
}  // namespace llmpool
