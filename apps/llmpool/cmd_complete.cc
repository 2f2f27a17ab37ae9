// `llmpool complete`: one request through the pool, like curl for LLMs.
//   llmpool complete --base-url URL --kind openai|anthropic|azure --model M [--api-key-env VAR]
//                    [--stream] [--system S] PROMPT
//   llmpool complete --config FILE --model ALIAS PROMPT
//   llmpool complete --demo PROMPT          (the embedded mock provider, no key needed)
// The reply goes to stdout (token by token with --stream), usage and the serving deployment to
// stderr. Exit 0 on success, 1 when the request failed, 2 for usage or config errors.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <iostream>
#include <optional>

#include "commands.h"
#include "config/config_loader.h"
#include "llmpool/pool.h"
#include "mock/mock_provider.h"

namespace llmpool::cli {
namespace {

struct CompleteArgs {
  std::string prompt;
  std::string base_url;
  std::string kind = "openai";
  std::string model;
  std::string api_key_env;
  std::string api_version;
  std::string system;
  std::string config_path;
  bool stream = false;
  bool demo = false;
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature;
  double timeout_s = 0;
};

std::optional<ProviderKind> parseKind(const std::string& kind) {
  if (kind == "openai") return ProviderKind::OpenAI;
  if (kind == "anthropic") return ProviderKind::Anthropic;
  if (kind == "azure") return ProviderKind::Azure;
  return std::nullopt;
}

void printFailure(const Error& e) {
  std::cerr << "llmpool complete: " << e.describe() << "\n";
  for (const auto& a : e.attempts) {
    std::cerr << "  attempt " << a.deployment << ": ";
    if (a.skipped) {
      std::cerr << "skipped (" << a.reason << ")";
    } else {
      std::cerr << (a.error ? std::string(errorCodeName(*a.error)) : "ok");
      if (a.http_status) std::cerr << " " << *a.http_status;
      std::cerr << " after " << a.duration.count() << " ms";
      if (!a.reason.empty()) std::cerr << " — " << a.reason;
    }
    std::cerr << "\n";
  }
}

int runComplete(const CompleteArgs& args) {
  PoolConfig config;
  std::unique_ptr<mock::MockProvider> embedded;
  std::string alias = args.model;
  if (args.demo) {
    mock::MockOptions options;
    options.latency = std::chrono::milliseconds(20);
    options.tokens_per_second = args.stream ? 50 : 0;
    auto m = mock::MockProvider::create(options);
    if (!m) {
      std::cerr << "llmpool complete: cannot start the embedded mock: " << m.error().describe()
                << "\n";
      return 1;
    }
    embedded = std::move(*m);
    embedded->start();
    config.providers.push_back(
        {.name = "mock", .kind = ProviderKind::OpenAI, .base_url = embedded->baseUrl() + "/v1"});
    alias = alias.empty() ? "demo" : alias;
    config.models[alias] = {{.provider = "mock", .model = "mock-model"}};
    config.pool.health_checks = false;
  } else if (!args.config_path.empty()) {
    config::ConfigDiagnostics diags;
    auto loaded = config::loadConfigFile(args.config_path, &diags);
    for (const auto& d : diags.items) std::cerr << diags.format(d) << "\n";
    if (!loaded) {
      if (diags.items.empty()) std::cerr << "llmpool complete: " << loaded.error().message << "\n";
      return 2;
    }
    config = std::move(*loaded);
    if (alias.empty()) {
      if (config.models.size() != 1) {
        std::cerr << "llmpool complete: --model ALIAS is required (the config defines "
                  << config.models.size() << " aliases)\n";
        return 2;
      }
      alias = config.models.begin()->first;
    }
    config.pool.health_checks = false;  // one request: no background probes
  } else {
    if (args.base_url.empty() || args.model.empty()) {
      std::cerr
          << "llmpool complete: give --demo, --config FILE, or --base-url URL and --model M\n";
      return 2;
    }
    auto kind = parseKind(args.kind);
    if (!kind) {
      std::cerr << "llmpool complete: --kind must be openai, anthropic or azure, not \""
                << args.kind << "\"\n";
      return 2;
    }
    ProviderConfig p{.name = "direct", .kind = *kind, .base_url = args.base_url};
    p.api_version = args.api_version;
    if (!args.api_key_env.empty()) {
      const char* key = std::getenv(args.api_key_env.c_str());
      if (!key || !*key) {
        std::cerr << "llmpool complete: environment variable " << args.api_key_env
                  << " (--api-key-env) is not set\n";
        return 2;
      }
      p.api_key = key;
    }
    while (!p.base_url.empty() && p.base_url.back() == '/') p.base_url.pop_back();
    config.providers.push_back(std::move(p));
    config.models[alias] = {{.provider = "direct", .model = args.model}};
    config.pool.health_checks = false;
  }
  if (args.timeout_s > 0) {
    config.pool.deadline = std::chrono::milliseconds(static_cast<int64_t>(args.timeout_s * 1000));
  }

  auto pool = ClientPool::create(config);
  if (!pool) {
    std::cerr << "llmpool complete: " << pool.error().describe() << "\n";
    return 2;
  }

  ChatRequest request;
  request.model = alias;
  if (!args.system.empty()) request.messages.push_back({.role = "system", .content = args.system});
  request.messages.push_back({.role = "user", .content = args.prompt});
  request.max_tokens = args.max_tokens;
  request.temperature = args.temperature;

  const auto start = std::chrono::steady_clock::now();
  Result<ChatResponse> result = fail(ErrorCode::Internal, "no result");
  if (args.stream) {
    std::promise<Result<ChatResponse>> done;
    auto future = done.get_future();
    (*pool)->stream(
        request, {},
        [](const ChatChunk& chunk) {
          if (!chunk.content.empty()) {
            std::fwrite(chunk.content.data(), 1, chunk.content.size(), stdout);
            std::fflush(stdout);
          }
          return true;
        },
        [&done](Result<ChatResponse> r) { done.set_value(std::move(r)); });
    result = future.get();
    if (result) std::fputc('\n', stdout);
  } else {
    result = (*pool)->completeBlocking(request);
    if (result) std::cout << result->text() << "\n";
  }
  std::cout.flush();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  (*pool)->stop(std::chrono::milliseconds(1000));
  if (!result) {
    printFailure(result.error());
    return 1;
  }
  std::cerr << "[" << result->deployment << ", " << result->attempts << " attempt"
            << (result->attempts == 1 ? "" : "s") << ", " << ms
            << " ms] tokens: prompt=" << result->usage.prompt_tokens
            << " completion=" << result->usage.completion_tokens
            << " total=" << result->usage.total_tokens;
  if (result->cost_usd > 0) std::cerr << " cost=$" << result->cost_usd;
  std::cerr << "\n";
  return 0;
}

}  // namespace

void addCompleteCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CompleteArgs>();
  auto* cmd = app.add_subcommand("complete", "Send one chat request through the pool");
  cmd->add_option("prompt", args->prompt, "The user message")->required();
  cmd->add_option("--base-url", args->base_url,
                  "Provider base URL, e.g. https://api.openai.com/v1");
  cmd->add_option("--kind", args->kind, "openai | anthropic | azure (with --base-url)");
  cmd->add_option("--model", args->model, "Upstream model (with --base-url) or model alias");
  cmd->add_option("--api-key-env", args->api_key_env, "Environment variable holding the API key");
  cmd->add_option("--api-version", args->api_version, "Azure api-version / anthropic-version");
  cmd->add_option("--system", args->system, "A system message");
  cmd->add_option("--config", args->config_path, "Route through the pool of this config file");
  cmd->add_option("--max-tokens", args->max_tokens, "Upper bound on generated tokens");
  cmd->add_option("--temperature", args->temperature, "Sampling temperature");
  cmd->add_option("--timeout", args->timeout_s, "Overall deadline in seconds");
  cmd->add_flag("--stream", args->stream, "Print tokens as they arrive");
  cmd->add_flag("--demo", args->demo, "Use the embedded mock provider (no key needed)");
  cmd->callback([args, &exit_code] { exit_code = runComplete(*args); });
}

}  // namespace llmpool::cli
