#include "batch/demo.h"

#include <fstream>

#include "common/json_depth.h"
#include "llmpool/chat.h"

namespace llmpool::batch {
namespace {

using std::chrono::milliseconds;

const char* demoPriority(size_t i) {
  switch (i % 10) {
    case 0:
      return "critical";
    case 1:
    case 2:
      return "high";
    case 3:
    case 4:
      return "low";
    default:
      return "normal";
  }
}

const char* const kTopics[] = {"a lighthouse", "tide pools",   "the first compiler",
                               "sourdough",    "glaciers",     "a city at night",
                               "bees",         "the Moon",     "paper airplanes",
                               "old maps",     "rain forests", "a chess endgame"};

}  // namespace

std::string demoBatchText(size_t count) {
  std::string out;
  const std::string model(kDemoModel);
  for (size_t i = 0; i < count; ++i) {
    const std::string topic = kTopics[i % std::size(kTopics)];
    char id[32];
    std::snprintf(id, sizeof id, "demo-%04zu", i + 1);
    Json line;
    if (i % 20 == 7) {
      line = {{"custom_id", id},
              {"content", "Notes about " + topic + ": short, unedited, a little rough."},
              {"instruction", "Rewrite as one clear sentence."},
              {"model", model}};
    } else if (i % 20 == 13) {
      line = {
          {"custom_id", id},
          {"method", "POST"},
          {"url", "/v1/messages"},
          {"body",
           {{"model", model},
            {"max_tokens", 64},
            {"messages", {{{"role", "user"}, {"content", "Name three facts about " + topic}}}}}}};
    } else if (i % 20 == 17) {
      line = {{"custom_id", id},
              {"method", "POST"},
              {"url", "/v1/embeddings"},
              {"body", {{"model", model}, {"input", "an embedding of " + topic}}}};
    } else {
      line = {{"custom_id", id},
              {"method", "POST"},
              {"url", "/v1/chat/completions"},
              {"body",
               {{"model", model},
                {"max_tokens", 32},
                {"messages",
                 {{{"role", "system"}, {"content", "You are concise."}},
                  {{"role", "user"}, {"content", "Write a haiku about " + topic}}}}}}};
    }
    line["priority"] = demoPriority(i);
    out += line.dump();
    out += '\n';
  }
  return out;
}

std::vector<std::string> demoPrimaryFaults() {
  return {
      // An outage: every request fails for a while, the breaker opens, traffic fails over to the
      // backup tier, and after recovery_timeout a probe finds the primary healthy again.
      R"({"kind":"status","status":503,"after_s":0.6,"until_s":1.6})",
      R"({"kind":"status","status":429,"retry_after_ms":200,"rate":0.06})",
      R"({"kind":"status","status":503,"rate":0.04})",
      R"({"kind":"reset","rate":0.015})",
  };
}

PoolConfig demoPoolConfig(const std::string& primary_base_url, const std::string& backup_base_url,
                          const std::set<std::string>& aliases) {
  PoolConfig config;
  auto& pool = config.pool;
  pool.max_concurrent_requests = 16;
  pool.max_queue = 10'000;
  pool.max_connections_per_provider = 16;
  pool.request_timeout = milliseconds(5'000);
  pool.deadline = milliseconds(30'000);
  pool.health_checks = false;
  pool.retry.max_attempts = 4;
  pool.retry.initial_backoff = milliseconds(50);
  pool.retry.max_backoff = milliseconds(1'000);
  pool.retry.budget_percent = 50;
  pool.circuit_breaker.failure_threshold = 5;
  pool.circuit_breaker.failure_window = milliseconds(10'000);
  pool.circuit_breaker.recovery_timeout = milliseconds(1'000);
  pool.circuit_breaker.max_recovery_timeout = milliseconds(4'000);

  ProviderConfig primary;
  primary.name = "primary";
  primary.base_url = primary_base_url + "/v1";
  ProviderConfig backup;
  backup.name = "backup";
  backup.base_url = backup_base_url + "/v1";
  config.providers = {primary, backup};

  for (const auto& alias : aliases) {
    DeploymentConfig first;
    first.provider = "primary";
    first.model = alias;
    first.priority = 0;
    first.input_price_per_mtok = 0.15;
    first.output_price_per_mtok = 0.60;
    DeploymentConfig second = first;
    second.provider = "backup";
    second.priority = 1;
    config.models[alias] = {first, second};
  }
  config.processor.concurrency = 8;
  return config;
}

std::set<std::string> modelsInBatchFile(const std::string& path) {
  std::set<std::string> models;
  std::ifstream in(path);
  std::string text;
  while (std::getline(in, text)) {
    Json line = parseJsonBounded(text);
    if (line.is_discarded() || !line.is_object()) continue;
    const Json* model = nullptr;
    if (auto body = line.find("body"); body != line.end() && body->is_object()) {
      if (auto m = body->find("model"); m != body->end()) model = &*m;
    } else if (auto m = line.find("model"); m != line.end()) {
      model = &*m;
    }
    if (model && model->is_string() && !model->get_ref<const std::string&>().empty()) {
      models.insert(model->get<std::string>());
    }
  }
  return models;
}

}  // namespace llmpool::batch
