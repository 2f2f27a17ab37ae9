#include <gtest/gtest.h>

#include "config/config_loader.h"
#include "config_test_util.h"

namespace llmpool::config {
namespace {

using testing::dump;
using testing::parse;

TEST(RoutingTableTest, ShowsTiersWeightsAndLimitsButNoSecrets) {
  ConfigDiagnostics diags;
  auto c = parse(R"(providers:
  - {name: openai, kind: openai, base_url: "https://api.openai.com/v1", api_key: "${KEY}", rpm: 500}
  - {name: local, kind: openai, base_url: "http://127.0.0.1:8080/v1", max_connections: 2}
models:
  gpt-4o:
    - {provider: openai, model: gpt-4o, weight: 3, tpm: 1000}
    - {provider: openai, model: gpt-4o-mini, weight: 1}
    - {provider: local, model: llama3, priority: 1}
processor: {queue: "redis://user:hunter2@cache:6379/q"}
)",
                 diags, {{"KEY", "sk-very-secret"}});
  ASSERT_TRUE(c) << dump(diags);
  const std::string table = describeRoutingTable(*c);
  EXPECT_NE(std::string::npos, table.find("gpt-4o")) << table;
  EXPECT_NE(std::string::npos, table.find("openai/gpt-4o")) << table;
  EXPECT_NE(std::string::npos, table.find("local/llama3")) << table;
  EXPECT_NE(std::string::npos, table.find("3 (75%)")) << table;
  EXPECT_NE(std::string::npos, table.find("https://api.openai.com/v1")) << table;
  EXPECT_NE(std::string::npos, table.find("provider rpm 500")) << table;
  EXPECT_NE(std::string::npos, table.find("tpm 1000")) << table;
  EXPECT_NE(std::string::npos, table.find("conns 2")) << table;
  EXPECT_NE(std::string::npos, table.find("set")) << table;
  EXPECT_NE(std::string::npos, table.find("none")) << table;
  EXPECT_EQ(std::string::npos, table.find("sk-very-secret")) << table;
  // Tier 0 rows come before the failover tier.
  EXPECT_LT(table.find("openai/gpt-4o-mini"), table.find("local/llama3"));

  const std::string settings = describeSettings(*c);
  EXPECT_EQ(std::string::npos, settings.find("hunter2")) << settings;
  EXPECT_NE(std::string::npos, settings.find("max_attempts 3")) << settings;
  EXPECT_NE(std::string::npos, settings.find("no reply cache")) << settings;
  PoolConfig cached = *c;
  cached.gateway.cache.ttl = std::chrono::minutes(10);
  EXPECT_NE(std::string::npos,
            describeSettings(cached).find("reply cache ttl 10m (10000 entries, 64 MiB)"))
      << describeSettings(cached);
}

}  // namespace
}  // namespace llmpool::config
