// Semantic rules: every problem is reported in one pass, with the path and line of the culprit.

#include <gtest/gtest.h>

#include <tuple>
#include <utility>

#include "config/config_loader.h"
#include "config_test_util.h"

namespace llmpool::config {
namespace {

using testing::dump;
using testing::findDiag;
using testing::minimalProviders;
using testing::parse;

void expectError(const ConfigDiagnostics& diags, const std::string& path,
                 const std::string& fragment, int line = -1) {
  const auto* d = findDiag(diags, path);
  ASSERT_NE(nullptr, d) << "no diagnostic for " << path << "\n" << dump(diags);
  EXPECT_FALSE(d->is_warning) << path;
  EXPECT_NE(std::string::npos, d->message.find(fragment)) << path << ": " << d->message;
  if (line >= 0) {
    EXPECT_EQ(line, d->line) << path;
  }
}

TEST(ValidationTest, ReportsEveryProblemAtOnce) {
  // Line numbers below are those of this document (line 1 is "providers:").
  const std::string yaml = R"(providers:
  - {name: openai, kind: openai, base_url: 'https://api.openai.com/v1'}
  - {name: openai, kind: gemini, base_url: 'ftp://x'}
  - {name: local, kind: openai}
models:
  gpt-4o:
    - {provider: openai, model: gpt-4o}
    - {provider: foo, model: x, weight: 0, priority: -1}
  empty: []
pool:
  max_concurrent_requests: 0
  strategy: round_robin
  retry: {max_attempts: 0, multiplier: 0.5, initial_backoff: 1s, max_backoff: 500ms}
  circuit_breaker: {failure_threshold: 0, max_repair_attempts: 0}
processor: {queue: 'postgres://db'}
gateway: {listen: 'localhost', keys: [{name: nokey}], log_level: loud,
          cache: {ttl: 1m, max_entries: 0, max_bytes: 1KiB}}
)";
  ConfigDiagnostics diags;
  auto c = parse(yaml, diags);
  ASSERT_FALSE(c);
  EXPECT_EQ(ErrorCode::InvalidConfig, c.error().code);

  expectError(diags, "providers[1].name", "duplicate provider name \"openai\"", 3);
  expectError(diags, "providers[1].kind", "unknown provider kind \"gemini\"", 3);
  expectError(diags, "providers[1].base_url", "http:// or https://", 3);
  expectError(diags, "providers[2].base_url", "is required", 4);
  expectError(diags, "models.gpt-4o[1].provider", "unknown provider \"foo\"", 8);
  expectError(diags, "models.gpt-4o[1].weight", "greater than 0", 8);
  expectError(diags, "models.gpt-4o[1].priority", "must not be negative", 8);
  expectError(diags, "models.empty", "at least one deployment", 9);
  expectError(diags, "pool.max_concurrent_requests", "at least 1", 11);
  expectError(diags, "pool.strategy", "unknown strategy", 12);
  expectError(diags, "pool.retry.max_attempts", "at least 1", 13);
  expectError(diags, "pool.retry.multiplier", "at least 1.0", 13);
  expectError(diags, "pool.retry.max_backoff", "initial_backoff", 13);
  expectError(diags, "pool.circuit_breaker.failure_threshold", "at least 1", 14);
  expectError(diags, "pool.circuit_breaker.max_repair_attempts", "at least 1", 14);
  expectError(diags, "processor.queue", "memory, sqlite:PATH or redis://", 15);
  expectError(diags, "gateway.listen", "HOST:PORT", 16);
  expectError(diags, "gateway.keys[0].key", "missing \"key\"", 16);
  expectError(diags, "gateway.log_level", "expected one of", 16);
  expectError(diags, "gateway.cache.max_entries", "at least 1", 17);
  expectError(diags, "gateway.cache.max_bytes", "at least 64KiB", 17);

  // The Error carries the same list, one formatted line per problem, in file order.
  const std::string& message = c.error().message;
  EXPECT_NE(std::string::npos,
            message.find("config.yaml:8: models.gpt-4o[1].provider: unknown provider \"foo\""))
      << message;
  EXPECT_LT(message.find("config.yaml:3:"), message.find("config.yaml:16:"));
  EXPECT_EQ(diags.errorCount(),
            static_cast<size_t>(std::count(message.begin(), message.end(), '\n') + 1));
}

TEST(ValidationTest, ProviderLimitsMustBePositive) {
  ConfigDiagnostics diags;
  auto c = parse(
      "providers:\n"
      "  - {name: p, base_url: 'http://127.0.0.1:1/v1', max_connections: 0, rpm: 0, tpm: -5, "
      "timeout: 0}\n"
      "models: {m: [{provider: p, rpm: 0}]}\n",
      diags);
  ASSERT_FALSE(c);
  expectError(diags, "providers[0].max_connections", "at least 1", 2);
  expectError(diags, "providers[0].rpm", "greater than 0", 2);
  expectError(diags, "providers[0].tpm", "greater than 0", 2);
  expectError(diags, "providers[0].timeout", "greater than 0", 2);
  expectError(diags, "models.m[0].rpm", "greater than 0", 3);
}

TEST(ValidationTest, AzureNeedsApiVersionAndKindsAcceptAliases) {
  ConfigDiagnostics diags;
  auto c = parse(
      "providers:\n"
      "  - {name: a, kind: azure, base_url: 'https://r.openai.azure.com'}\n"
      "  - {name: b, kind: openai-compatible, base_url: 'http://127.0.0.1:1/v1'}\n"
      "models: {m: [{provider: a}, {provider: b}]}\n",
      diags);
  ASSERT_FALSE(c);
  expectError(diags, "providers[0].api_version", "required for azure", 2);
  EXPECT_EQ(nullptr, findDiag(diags, "providers[1].kind")) << dump(diags);
}

TEST(ValidationTest, GatewayKeysAndListenForms) {
  ConfigDiagnostics diags;
  auto c = parse(minimalProviders() +
                     "gateway:\n"
                     "  listen: '[::1]:8080'\n"
                     "  keys:\n"
                     "    - 'same-key'\n"
                     "    - {key: same-key, models: [gpt-4o, nope], rpm: 0, max_concurrent: 0}\n",
                 diags);
  ASSERT_FALSE(c);
  EXPECT_EQ(nullptr, findDiag(diags, "gateway.listen")) << dump(diags);
  expectError(diags, "gateway.keys[1].key", "duplicates an earlier key", 10);
  expectError(diags, "gateway.keys[1].models[1]", "unknown model alias \"nope\"", 10);
  expectError(diags, "gateway.keys[1].rpm", "greater than 0", 10);
  expectError(diags, "gateway.keys[1].max_concurrent", "at least 1", 10);
  // The key itself never appears in any message.
  EXPECT_EQ(std::string::npos, dump(diags).find("same-key"));
}

TEST(ValidationTest, GatewayHeaderLimitAndWriteTimeoutAreChecked) {
  ConfigDiagnostics diags;
  auto c = parse(minimalProviders() +
                     "gateway:\n"
                     "  max_header_bytes: 100\n"
                     "  write_timeout: 0s\n",
                 diags);
  ASSERT_FALSE(c);
  EXPECT_NE(nullptr, findDiag(diags, "gateway.max_header_bytes")) << dump(diags);
  EXPECT_NE(nullptr, findDiag(diags, "gateway.write_timeout")) << dump(diags);
}

TEST(ValidationTest, QueueForms) {
  for (const char* ok : {"memory", "sqlite:state.db", "redis://127.0.0.1:6379/llmpool",
                         "rediss://user:pw@cache.internal:6380/q"}) {
    ConfigDiagnostics diags;
    EXPECT_TRUE(parse(minimalProviders() + "processor: {queue: '" + ok + "'}\n", diags))
        << ok << "\n"
        << dump(diags);
  }
  for (const char* bad : {"sqlite:", "redis://", "redis://host:99999/q", "mem", "file:x"}) {
    ConfigDiagnostics diags;
    EXPECT_FALSE(parse(minimalProviders() + "processor: {queue: '" + bad + "'}\n", diags)) << bad;
    EXPECT_NE(nullptr, findDiag(diags, "processor.queue")) << bad;
  }
}

TEST(ValidationTest, ProcessorKnobs) {
  ConfigDiagnostics diags;
  auto c = parse(minimalProviders() +
                     "processor: {overflow: spill, concurrency: 0, results_buffer: 0,\n"
                     "            retry_backoff: 5s, max_retry_backoff: 1s}\n",
                 diags);
  ASSERT_FALSE(c);
  expectError(diags, "processor.overflow", "block, reject or drop_lowest", 6);
  expectError(diags, "processor.concurrency", "at least 1", 6);
  expectError(diags, "processor.results_buffer", "at least 1", 6);
  expectError(diags, "processor.max_retry_backoff", "retry_backoff", 7);
}

TEST(ValidationTest, WarningsDoNotFailTheLoad) {
  ConfigDiagnostics diags2;
  auto c2 = parse(
      "providers:\n"
      "  - {name: used, base_url: 'http://127.0.0.1:1/v1'}\n"
      "  - {name: spare, base_url: 'http://127.0.0.1:2/v1'}\n"
      "models: {m: [{provider: used}]}\n"
      "gateway: {listen: '0.0.0.0:8080'}\n",
      diags2);
  ASSERT_TRUE(c2) << dump(diags2);
  EXPECT_EQ(2u, diags2.warningCount()) << dump(diags2);
  const auto* spare = findDiag(diags2, "providers[1]");
  ASSERT_NE(nullptr, spare);
  EXPECT_TRUE(spare->is_warning);
  EXPECT_EQ(3, spare->line);
  const auto* listen = findDiag(diags2, "gateway.listen");
  ASSERT_NE(nullptr, listen);
  EXPECT_TRUE(listen->is_warning);
  EXPECT_EQ("config.yaml:5: warning: gateway.listen: " + listen->message, diags2.format(*listen));
}

TEST(ValidationTest, ReadErrorsAreNotRepeatedByValidation) {
  ConfigDiagnostics diags;
  auto c = parse(
      "providers: [{name: p, base_url: [not, a, string]}]\n"
      "models: {m: [{provider: p}]}\n",
      diags);
  ASSERT_FALSE(c);
  EXPECT_EQ(1u, diags.errorCount()) << dump(diags);
}

TEST(ValidationTest, IoThreadsIsAutomaticByDefaultAndBounded) {
  PoolConfig config;
  config.providers.push_back({.name = "p", .base_url = "http://127.0.0.1:1/v1"});
  config.models["m"].push_back({.provider = "p", .model = "x"});
  EXPECT_EQ(0, config.pool.io_threads);  // automatic
  for (int ok : {0, 1, 64}) {
    config.pool.io_threads = ok;
    ConfigDiagnostics diags;
    EXPECT_TRUE(validateConfig(config, diags)) << ok << ": " << dump(diags);
  }
  for (int bad : {-1, 65}) {
    config.pool.io_threads = bad;
    ConfigDiagnostics diags;
    EXPECT_FALSE(validateConfig(config, diags)) << bad;
    EXPECT_NE(nullptr, findDiag(diags, "pool.io_threads")) << bad;
  }
}

TEST(ValidationTest, GatewayThreadsAndSliceAreAutomaticByDefaultAndBounded) {
  PoolConfig config;
  config.providers.push_back({.name = "p", .base_url = "http://127.0.0.1:1/v1"});
  config.models["m"].push_back({.provider = "p", .model = "x"});
  EXPECT_EQ(0, config.gateway.threads);  // automatic
  EXPECT_EQ(200, config.gateway.thread_slice_us);
  for (auto [threads, slice] : {std::pair{0, 0}, {1, 100}, {256, 100'000}}) {
    config.gateway.threads = threads;
    config.gateway.thread_slice_us = slice;
    ConfigDiagnostics diags;
    EXPECT_TRUE(validateConfig(config, diags)) << threads << "/" << slice << ": " << dump(diags);
  }
  for (auto [threads, slice, field] : {std::tuple{-1, 200, "gateway.threads"},
                                       {257, 200, "gateway.threads"},
                                       {1, 99, "gateway.thread_slice_us"},
                                       {1, 100'001, "gateway.thread_slice_us"},
                                       {1, -5, "gateway.thread_slice_us"}}) {
    config.gateway.threads = threads;
    config.gateway.thread_slice_us = slice;
    ConfigDiagnostics diags;
    EXPECT_FALSE(validateConfig(config, diags)) << threads << "/" << slice;
    EXPECT_NE(nullptr, findDiag(diags, field)) << threads << "/" << slice;
  }
}

TEST(ValidationTest, ValidateConfigWorksOnConfigsBuiltInCode) {
  PoolConfig config;
  config.providers.push_back({.name = "p", .base_url = "http://127.0.0.1:1/v1"});
  config.models["m"].push_back({.provider = "p", .model = "x"});
  ConfigDiagnostics ok;
  EXPECT_TRUE(validateConfig(config, ok)) << dump(ok);
  config.models["m"][0].weight = -1;
  config.pool.retry.max_attempts = 0;
  ConfigDiagnostics bad;
  EXPECT_FALSE(validateConfig(config, bad));
  EXPECT_EQ(2u, bad.errorCount());
  EXPECT_NE(nullptr, findDiag(bad, "models.m[0].weight"));
}

}  // namespace
}  // namespace llmpool::config
