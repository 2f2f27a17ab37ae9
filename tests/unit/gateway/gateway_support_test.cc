// Small pieces of the gateway: listen addresses, the attempt-trail headers, request log lines,
// config diffs, metrics text.

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "gateway/attempt_headers.h"
#include "gateway/config_diff.h"
#include "gateway/gateway.h"
#include "gateway/gateway_metrics.h"
#include "gateway/listen_address.h"
#include "gateway/request_log.h"

namespace llmpool::gateway {
namespace {

TEST(ListenAddressTest, Parses) {
  auto a = parseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ("127.0.0.1", a->host);
  EXPECT_EQ(8080, a->port);
  auto v6 = parseListenAddress("[::1]:0");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ("::1", v6->host);
  auto any = parseListenAddress(":9000");
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ("0.0.0.0", any->host);
  EXPECT_FALSE(parseListenAddress("nohost").has_value());
  EXPECT_FALSE(parseListenAddress("1.2.3.4:70000").has_value());
  EXPECT_FALSE(parseListenAddress("1.2.3.4:80x").has_value());
}

TEST(ListenAddressTest, Loopback) {
  EXPECT_TRUE(isLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(isLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(isLoopbackHost("::1"));
  EXPECT_TRUE(isLoopbackHost("localhost"));
  EXPECT_FALSE(isLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(isLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(isLoopbackHost("example.com"));
}

TEST(AttemptHeadersTest, SuccessAfterFailover) {
  Attempt failed;
  failed.deployment = "a/m";
  failed.error = ErrorCode::ConnectFailed;
  Attempt skipped;
  skipped.deployment = "c/m";
  skipped.skipped = true;
  skipped.reason = "breaker_open";
  Attempt ok;
  ok.deployment = "b/m";
  ok.succeeded = true;
  server::ResponseHead head;
  setSuccessTrailHeaders(head, "b/m", 2, {failed, skipped, ok});
  EXPECT_EQ("b/m", head["x-llmpool-deployment"]);
  EXPECT_EQ("2", head["x-llmpool-attempts"]);
  EXPECT_EQ("a/m=connect_failed,c/m=skipped:breaker_open,b/m=ok", head["x-llmpool-trail"]);
  EXPECT_EQ(2, attemptsSent({failed, skipped, ok}));
}

TEST(AttemptHeadersTest, TrailIsBounded) {
  std::vector<Attempt> many(100);
  for (auto& a : many) a.deployment = "provider-with-a-long-name/model";
  const std::string s = trailSummary(many, 128);
  EXPECT_LE(s.size(), 128u + 4);
  EXPECT_TRUE(s.ends_with(",..."));
}

TEST(RequestLogTest, OneLineLogfmtWithoutSecrets) {
  RequestRecord r;
  r.route = "/v1/chat/completions";
  r.status = 200;
  r.key_name = "team a";
  r.alias = "chat";
  r.deployment = "openai/gpt-4o";
  r.upstream_request_id = "req_1 2";
  r.attempts = 2;
  r.stream = true;
  r.duration = std::chrono::milliseconds(812);
  r.ttft = std::chrono::milliseconds(95);
  r.prompt_tokens = 19;
  r.completion_tokens = 120;
  const std::string line = Logger::formatRequest(r);
  EXPECT_EQ(
      "msg=request route=/v1/chat/completions status=200 key=\"team a\" alias=chat "
      "deployment=openai/gpt-4o upstream_request_id=\"req_1 2\" attempts=2 stream=true "
      "duration_ms=812.0 ttft_ms=95.0 "
      "prompt_tokens=19 completion_tokens=120",
      line);
  EXPECT_EQ("\"a\\\"b c\"", Logger::quote("a\"b\nc"));
  r.cache_hit = true;
  r.attempts = 0;
  EXPECT_NE(std::string::npos, Logger::formatRequest(r).find(" attempts=0 cache=hit stream="));
}

TEST(RequestLogTest, Levels) {
  EXPECT_EQ(LogLevel::Warn, parseLogLevel("warn"));
  EXPECT_FALSE(parseLogLevel("loud").has_value());
  Logger logger(LogLevel::Warn);
  EXPECT_FALSE(logger.enabled(LogLevel::Info));
  EXPECT_TRUE(logger.enabled(LogLevel::Error));
  logger.setThreshold(LogLevel::Off);
  EXPECT_FALSE(logger.enabled(LogLevel::Error));
}

PoolConfig baseConfig() {
  PoolConfig c;
  ProviderConfig p;
  p.name = "a";
  p.base_url = "http://127.0.0.1:1";
  p.api_key = "secret-one";
  c.providers.push_back(p);
  DeploymentConfig d;
  d.provider = "a";
  d.model = "m";
  c.models["chat"] = {d};
  return c;
}

TEST(ConfigDiffTest, ReportsAddedRemovedChangedWithoutSecrets) {
  const PoolConfig before = baseConfig();
  EXPECT_TRUE(diffConfigs(before, before).empty());
  EXPECT_EQ("no changes", diffConfigs(before, before).summary());
  PoolConfig after = before;
  after.providers[0].api_key = "secret-two";
  ProviderConfig b = after.providers[0];
  b.name = "b";
  after.providers.push_back(b);
  after.models["embed"] = after.models["chat"];
  after.models.erase("chat");
  after.gateway.listen = "127.0.0.1:9999";
  const ConfigDiff d = diffConfigs(before, after);
  const std::string s = d.summary();
  EXPECT_NE(std::string::npos, s.find("provider changed: a"));
  EXPECT_NE(std::string::npos, s.find("provider added: b"));
  EXPECT_NE(std::string::npos, s.find("alias added: embed"));
  EXPECT_NE(std::string::npos, s.find("alias removed: chat"));
  EXPECT_EQ(std::vector<std::string>{"gateway.listen"}, d.restart_required);
  EXPECT_EQ(std::string::npos, s.find("secret"));
  // The cache is the generation's: new settings apply on reload, with a new (empty) cache.
  PoolConfig cached = before;
  cached.gateway.cache.ttl = std::chrono::minutes(5);
  const ConfigDiff c = diffConfigs(before, cached);
  EXPECT_NE(std::string::npos, c.summary().find("gateway.cache changed"));
  EXPECT_TRUE(c.restart_required.empty());
}

// Transport settings take effect by rebuilding the pool, so a reload must see them change.
TEST(ConfigDiffTest, TransportSettingsCountAsPoolSettings) {
  const PoolConfig before = baseConfig();
  PoolConfig threads = before;
  threads.pool.io_threads = 2;
  EXPECT_NE(std::string::npos, diffConfigs(before, threads).summary().find("pool settings"));
  PoolConfig client = before;
  client.pool.native_http1 = false;
  EXPECT_NE(std::string::npos, diffConfigs(before, client).summary().find("pool settings"));
}

TEST(GatewayDefaultsTest, AutomaticThreadsBecomeOnePerCoreAndHostTheLoops) {
  PoolConfig automatic;
  ASSERT_EQ(0, automatic.gateway.threads);
  ASSERT_EQ(0, automatic.pool.io_threads);
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const PoolConfig resolved = withGatewayDefaults(automatic);
  EXPECT_EQ(std::clamp(cores, 1, kMaxAutomaticThreads), resolved.gateway.threads);
  // Automatic loops run on the server threads: none of their own.
  EXPECT_TRUE(hostsPoolLoops(resolved));
  PoolConfig chosen;
  chosen.gateway.threads = 3;  // explicit values are the operator's, on any machine
  chosen.pool.io_threads = 2;
  EXPECT_EQ(3, withGatewayDefaults(chosen).gateway.threads);
  EXPECT_EQ(2, withGatewayDefaults(chosen).pool.io_threads);
  EXPECT_FALSE(hostsPoolLoops(withGatewayDefaults(chosen)));
}

TEST(GatewayMetricsTest, CountsAndExposesFamilies) {
  GatewayMetrics m;
  m.requestStarted();
  m.requestFinished(Route::ChatCompletions, 200, std::chrono::milliseconds(5), true);
  m.requestStarted();
  m.requestFinished(Route::ChatCompletions, 429, std::chrono::milliseconds(1), false);
  m.requestFinished(Route::Metrics, 200, std::chrono::milliseconds(1), false);
  m.authFailure(AuthFailure::Invalid);
  m.cacheLookup(true);
  m.cacheLookup(false);
  m.cacheLookup(false);
  m.cacheEvicted(4);
  EXPECT_EQ(1u, m.requests(Route::ChatCompletions, 200));
  EXPECT_EQ(1u, m.requests(Route::ChatCompletions, 429));
  EXPECT_EQ(0, m.inFlight());
  std::string text;
  m.write(text, {}, CacheGauges{3, 2048});
  EXPECT_NE(std::string::npos, text.find("llmpool_gateway_cache_lookups_total{result=\"hit\"} 1"));
  EXPECT_NE(std::string::npos, text.find("llmpool_gateway_cache_lookups_total{result=\"miss\"} 2"));
  EXPECT_NE(std::string::npos, text.find("llmpool_gateway_cache_evictions_total 4"));
  EXPECT_NE(std::string::npos, text.find("llmpool_gateway_cache_entries 3"));
  EXPECT_NE(std::string::npos, text.find("llmpool_gateway_cache_bytes 2048"));
  EXPECT_NE(std::string::npos,
            text.find("llmpool_gateway_requests_total{route=\"/v1/chat/completions\","
                      "status=\"429\"} 1"));
  EXPECT_NE(std::string::npos,
            text.find("llmpool_gateway_auth_failures_total{reason=\"invalid_key\"} 1"));
  EXPECT_NE(std::string::npos, text.find("llmpool_gateway_request_duration_seconds_bucket"));
  EXPECT_NE(std::string::npos, text.find("# TYPE llmpool_gateway_in_flight_requests gauge"));
}

}  // namespace
}  // namespace llmpool::gateway
