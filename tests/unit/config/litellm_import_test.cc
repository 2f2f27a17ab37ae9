// LiteLLM proxy config.yaml import: mapping, os.environ, fallbacks, warnings for the rest.

#include <gtest/gtest.h>

#include "config/config_loader.h"
#include "config_test_util.h"

namespace llmpool::config {
namespace {

using std::chrono::milliseconds;
using testing::dump;
using testing::findDiag;
using testing::parse;

const char* const LiteLlmDoc = R"(model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      rpm: 500
      tpm: 200000
      timeout: 300
      stream_timeout: 60
    model_info: {id: openai-gpt4o}
  - model_name: gpt-4o
    litellm_params:
      model: azure/gpt-4o-eu
      api_base: os.environ/AZURE_API_BASE
      api_key: os.environ/AZURE_API_KEY
      api_version: "2024-06-01"
      rpm: 300
  - model_name: local-llama
    litellm_params:
      model: openai/meta-llama/Llama-3.1-8B-Instruct
      api_base: http://vllm:8000/v1
      api_key: none
  - model_name: claude-sonnet
    litellm_params:
      model: anthropic/claude-3-5-sonnet-20240620
      api_key: os.environ/ANTHROPIC_API_KEY
router_settings:
  routing_strategy: least-busy
  num_retries: 2
  allowed_fails: 3
  cooldown_time: 45
  timeout: 600
  fallbacks: [{"gpt-4o": ["claude-sonnet"]}]
  context_window_fallbacks: [{"local-llama": ["gpt-4o"]}]
  redis_host: cache
litellm_settings:
  drop_params: true
  callbacks: ["prometheus"]
  request_timeout: 120
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  database_url: postgres://x
)";

std::map<std::string, std::string> fullEnv() {
  return {{"OPENAI_API_KEY", "sk-openai-secret"},
          {"AZURE_API_BASE", "https://myres.openai.azure.com/"},
          {"AZURE_API_KEY", "az-secret"},
          {"ANTHROPIC_API_KEY", "ant-secret"},
          {"LITELLM_MASTER_KEY", "sk-master-secret"}};
}

TEST(LiteLlmImportTest, MapsDeploymentsAndSynthesizesProviders) {
  ConfigDiagnostics diags;
  auto c = parse(LiteLlmDoc, diags, fullEnv());
  ASSERT_TRUE(c) << dump(diags);

  ASSERT_EQ(4u, c->providers.size()) << dump(diags);
  const ProviderConfig* openai = c->findProvider("openai");
  ASSERT_NE(nullptr, openai);
  EXPECT_EQ(ProviderKind::OpenAI, openai->kind);
  EXPECT_EQ("https://api.openai.com/v1", openai->base_url);
  EXPECT_EQ("sk-openai-secret", openai->api_key);
  EXPECT_EQ(milliseconds(300'000), openai->timeout);

  const ProviderConfig* azure = c->findProvider("azure-myres");
  ASSERT_NE(nullptr, azure) << describeRoutingTable(*c);
  EXPECT_EQ(ProviderKind::Azure, azure->kind);
  EXPECT_EQ("https://myres.openai.azure.com", azure->base_url);
  EXPECT_EQ("2024-06-01", azure->api_version);

  // openai/ with an api_base is an OpenAI-compatible server; the model keeps its own slashes.
  const ProviderConfig* vllm = c->findProvider("openai-vllm-8000");
  ASSERT_NE(nullptr, vllm) << describeRoutingTable(*c);
  EXPECT_EQ("http://vllm:8000/v1", vllm->base_url);
  const auto& llama = c->models.at("local-llama");
  ASSERT_EQ(1u, llama.size());
  EXPECT_EQ("meta-llama/Llama-3.1-8B-Instruct", llama[0].model);
  EXPECT_EQ("openai-vllm-8000", llama[0].provider);

  const ProviderConfig* anthropic = c->findProvider("anthropic");
  ASSERT_NE(nullptr, anthropic);
  EXPECT_EQ(ProviderKind::Anthropic, anthropic->kind);
  EXPECT_EQ("https://api.anthropic.com/v1", anthropic->base_url);

  // rpm on every deployment of the group and no weights: rpm are the simple-shuffle weights.
  const auto& gpt = c->models.at("gpt-4o");
  ASSERT_EQ(3u, gpt.size());
  EXPECT_EQ("gpt-4o", gpt[0].model);
  EXPECT_EQ(500.0, gpt[0].rpm);
  EXPECT_EQ(200000.0, gpt[0].tpm);
  EXPECT_DOUBLE_EQ(500.0, gpt[0].weight);
  EXPECT_DOUBLE_EQ(300.0, gpt[1].weight);
  EXPECT_EQ(0, gpt[0].priority);
  EXPECT_EQ(0, gpt[1].priority);
  // The fallback: claude-sonnet's deployment appended as the next tier.
  EXPECT_EQ("anthropic", gpt[2].provider);
  EXPECT_EQ("claude-3-5-sonnet-20240620", gpt[2].model);
  EXPECT_EQ(1, gpt[2].priority);
  // Fallbacks are not transitive and not mirrored.
  EXPECT_EQ(1u, c->models.at("claude-sonnet").size());
}

TEST(LiteLlmImportTest, MapsRouterAndGeneralSettings) {
  ConfigDiagnostics diags;
  auto c = parse(LiteLlmDoc, diags, fullEnv());
  ASSERT_TRUE(c) << dump(diags);
  EXPECT_EQ(BalancingStrategy::LeastInFlight, c->pool.strategy);
  EXPECT_EQ(3, c->pool.retry.max_attempts);                            // num_retries + 1
  EXPECT_EQ(4, c->pool.circuit_breaker.failure_threshold);             // opens once fails exceed 3
  EXPECT_EQ(0.0, c->pool.circuit_breaker.failure_threshold_min_rate);  // counted alone
  EXPECT_EQ(milliseconds(60'000), c->pool.circuit_breaker.failure_window);
  EXPECT_EQ(milliseconds(45'000), c->pool.circuit_breaker.recovery_timeout);
  EXPECT_GE(c->pool.circuit_breaker.max_recovery_timeout, milliseconds(45'000));
  EXPECT_EQ(milliseconds(600'000), c->pool.deadline);
  EXPECT_EQ(milliseconds(120'000), c->pool.request_timeout);
  ASSERT_EQ(1u, c->gateway.keys.size());
  EXPECT_EQ("sk-master-secret", c->gateway.keys[0].key);
}

TEST(LiteLlmImportTest, KeysWithoutEquivalentAreWarningsNamingTheKey) {
  ConfigDiagnostics diags;
  auto c = parse(LiteLlmDoc, diags, fullEnv());
  ASSERT_TRUE(c) << dump(diags);
  for (const char* path : {"model_list[0].litellm_params.stream_timeout",
                           "model_list[0].model_info", "router_settings.context_window_fallbacks",
                           "router_settings.redis_host", "litellm_settings.drop_params",
                           "litellm_settings.callbacks", "general_settings.database_url"}) {
    const auto* d = findDiag(diags, path);
    ASSERT_NE(nullptr, d) << path << "\n" << dump(diags);
    EXPECT_TRUE(d->is_warning) << path;
    EXPECT_GT(d->line, 0) << path;
  }
  EXPECT_EQ(0u, diags.errorCount());
}

TEST(LiteLlmImportTest, MissingEnvironmentVariableIsAnErrorNamingIt) {
  auto env = fullEnv();
  env.erase("AZURE_API_KEY");
  ConfigDiagnostics diags;
  auto c = parse(LiteLlmDoc, diags, env);
  ASSERT_FALSE(c);
  const auto* d = findDiag(diags, "model_list[1].litellm_params.api_key");
  ASSERT_NE(nullptr, d) << dump(diags);
  EXPECT_EQ(15, d->line);
  EXPECT_NE(std::string::npos, d->message.find("AZURE_API_KEY"));
  EXPECT_NE(std::string::npos, d->message.find("os.environ/AZURE_API_KEY"));
  // No secret of the others leaks into the report.
  for (const char* secret : {"sk-openai-secret", "ant-secret", "sk-master-secret"}) {
    EXPECT_EQ(std::string::npos, dump(diags).find(secret)) << secret;
  }
}

TEST(LiteLlmImportTest, OrderWeightAndEnvironmentVariablesSection) {
  ConfigDiagnostics diags;
  auto c = parse(R"(model_list:
  - model_name: m
    litellm_params: {model: hosted_vllm/llama, api_base: "http://10.0.0.5:8000/v1", weight: 3, order: 1}
  - model_name: m
    litellm_params: {model: hosted_vllm/llama, api_base: "http://10.0.0.6:8000/v1", order: 2}
  - model_name: m
    litellm_params: {model: ollama/llama3, api_base: "http://127.0.0.1:11434", api_key: os.environ/LOCAL_KEY}
environment_variables:
  LOCAL_KEY: from-file
router_settings:
  routing_strategy: usage-based-routing-v2
)",
                 diags);
  ASSERT_TRUE(c) << dump(diags);
  const auto& m = c->models.at("m");
  ASSERT_EQ(3u, m.size());
  EXPECT_EQ("hosted_vllm-10-0-0-5-8000", m[0].provider);
  EXPECT_DOUBLE_EQ(3.0, m[0].weight);
  EXPECT_EQ(0, m[0].priority);
  EXPECT_DOUBLE_EQ(1.0, m[1].weight);  // a group with weights: unweighted ones count 1
  EXPECT_EQ(1, m[1].priority);
  EXPECT_EQ(0, m[2].priority);  // no order: first tier
  const ProviderConfig* ollama = c->findProvider(m[2].provider);
  ASSERT_NE(nullptr, ollama);
  EXPECT_EQ("http://127.0.0.1:11434/v1", ollama->base_url);  // /v1 added for Ollama's OpenAI API
  EXPECT_EQ("from-file", ollama->api_key);
  const auto* strategy = findDiag(diags, "router_settings.routing_strategy");
  ASSERT_NE(nullptr, strategy) << dump(diags);
  EXPECT_TRUE(strategy->is_warning);
  EXPECT_EQ(BalancingStrategy::Weighted, c->pool.strategy);
}

TEST(LiteLlmImportTest, ProvidersWithTheSameEndpointAndKeyAreShared) {
  ConfigDiagnostics diags;
  auto c = parse(R"(model_list:
  - {model_name: a, litellm_params: {model: openai/gpt-4o, api_key: k1}}
  - {model_name: b, litellm_params: {model: openai/gpt-4o-mini, api_key: k1}}
  - {model_name: c, litellm_params: {model: openai/gpt-4o-mini, api_key: k2}}
  - {model_name: d, litellm_params: {model: gpt-4.1}}
)",
                 diags);
  ASSERT_TRUE(c) << dump(diags);
  ASSERT_EQ(3u, c->providers.size());
  EXPECT_EQ("openai", c->models.at("a")[0].provider);
  EXPECT_EQ("openai", c->models.at("b")[0].provider);
  EXPECT_EQ("openai-2", c->models.at("c")[0].provider);
  EXPECT_EQ("openai-3", c->models.at("d")[0].provider);  // bare gpt-* inferred as openai/
}

TEST(LiteLlmImportTest, WildcardModelNamesBecomeAliasPatterns) {
  ConfigDiagnostics diags;
  auto c = parse(R"(model_list:
  - {model_name: "openai/*", litellm_params: {model: "openai/*", api_key: k1}}
  - {model_name: "*", litellm_params: {model: "openai/*", api_base: "http://127.0.0.1:8000/v1"}}
)",
                 diags);
  ASSERT_TRUE(c) << dump(diags);
  std::string_view matched;
  const auto* openai = c->findRoute("openai/gpt-4.1", &matched);
  ASSERT_NE(nullptr, openai);
  EXPECT_EQ("openai", (*openai)[0].provider);
  EXPECT_EQ("gpt-4.1", upstreamModelName((*openai)[0].model, matched));
  const auto* rest = c->findRoute("llama3", &matched);
  ASSERT_NE(nullptr, rest);
  EXPECT_EQ("llama3", upstreamModelName((*rest)[0].model, matched));
}

TEST(LiteLlmImportTest, ErrorsPointAtTheUsersLines) {
  ConfigDiagnostics diags;
  auto c = parse(R"(model_list:
  - model_name: a
    litellm_params:
      model: azure/dep
      weight: 0
  - model_name: b
    litellm_params:
      model: mystery-model
router_settings:
  fallbacks: [{"a": ["nope"]}, {"zzz": ["a"]}]
  num_retries: -1
)",
                 diags);
  ASSERT_FALSE(c);
  auto expect = [&](const std::string& path, int line, const std::string& fragment) {
    const auto* d = findDiag(diags, path);
    ASSERT_NE(nullptr, d) << path << "\n" << dump(diags);
    EXPECT_FALSE(d->is_warning);
    EXPECT_EQ(line, d->line) << path;
    EXPECT_NE(std::string::npos, d->message.find(fragment)) << d->message;
  };
  expect("model_list[0].litellm_params.api_base", 4, "missing \"api_base\"");
  expect("model_list[0].litellm_params.weight", 5, "greater than 0");
  expect("model_list[1].litellm_params.model", 8, "provider/model");
  expect("router_settings.fallbacks[0].a[0]", 10, "unknown model_name \"nope\"");
  expect("router_settings.fallbacks[1].zzz", 10, "unknown model_name \"zzz\"");
  expect("router_settings.num_retries", 11, "negative");
  EXPECT_EQ(6u, diags.errorCount()) << dump(diags);
}

TEST(LiteLlmImportTest, UnsupportedProvidersAreSkippedWithAWarning) {
  ConfigDiagnostics diags;
  auto c = parse(R"(model_list:
  - {model_name: a, litellm_params: {model: openai/gpt-4o}}
  - {model_name: a, litellm_params: {model: bedrock/anthropic.claude-v2}}
  - {model_name: only-bedrock, litellm_params: {model: bedrock/titan}}
)",
                 diags);
  ASSERT_FALSE(c);  // only-bedrock has nothing left to serve it
  const auto* skip = findDiag(diags, "model_list[1].litellm_params.model");
  ASSERT_NE(nullptr, skip) << dump(diags);
  EXPECT_TRUE(skip->is_warning);
  EXPECT_NE(std::string::npos, c.error().message.find("only-bedrock"));
  EXPECT_EQ(1u, diags.errorCount()) << dump(diags);
}

TEST(LiteLlmImportTest, DefaultFallbacksAndModelGroupAlias) {
  ConfigDiagnostics diags;
  auto c = parse(R"(model_list:
  - {model_name: a, litellm_params: {model: openai/gpt-4o}}
  - {model_name: b, litellm_params: {model: anthropic/claude-3-haiku, api_key: k}}
litellm_settings:
  default_fallbacks: ["b"]
router_settings:
  model_group_alias: {"gpt-4": "a"}
)",
                 diags);
  ASSERT_TRUE(c) << dump(diags);
  ASSERT_EQ(2u, c->models.at("a").size());
  EXPECT_EQ(1, c->models.at("a")[1].priority);
  EXPECT_EQ(1u, c->models.at("b").size());  // not its own fallback
  ASSERT_TRUE(c->models.contains("gpt-4"));
  EXPECT_EQ(c->models.at("a").size(), c->models.at("gpt-4").size());
}

TEST(LiteLlmImportTest, NativeAndLiteLlmShapesCannotBeMixed) {
  ConfigDiagnostics diags;
  auto c = parse("model_list: []\nproviders: []\n", diags);
  ASSERT_FALSE(c);
  EXPECT_NE(std::string::npos, c.error().message.find("not both"));
}

TEST(LiteLlmImportTest, NativeSectionsOverrideMappedSettings) {
  ConfigDiagnostics diags;
  auto c = parse(R"(model_list:
  - {model_name: a, litellm_params: {model: openai/gpt-4o}}
router_settings: {num_retries: 5}
pool: {retry: {max_attempts: 2}}
processor: {queue: "sqlite:x.db"}
)",
                 diags);
  ASSERT_TRUE(c) << dump(diags);
  EXPECT_EQ(2, c->pool.retry.max_attempts);
  EXPECT_EQ("sqlite:x.db", c->processor.queue);
}

}  // namespace
}  // namespace llmpool::config
