#include "batch/input_line.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "batch/input_line_text.h"
#include "common/json_depth.h"
#include "llmpool/config.h"
#include "providers/anthropic_inbound.h"
#include "providers/openai_inbound.h"
#include "providers/responses_inbound.h"
#include "providers/wire_util.h"

namespace llmpool::batch {
namespace {

using Outcome = std::expected<Task, InputError>;

struct LineContext {
  size_t line;
  std::optional<std::string> custom_id;

  std::unexpected<InputError> error(std::string message) const {
    return std::unexpected(InputError{line, custom_id, std::move(message)});
  }
};

const Json* member(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

// JSON parsing is the one place where the JSON library reports by exception; it stays here.
std::optional<Json> parseJson(std::string_view text, std::string& problem) {
  if (!jsonDepthWithin(text)) {
    problem = jsonTooDeepMessage();
    return std::nullopt;
  }
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    problem = "malformed JSON at column " + std::to_string(e.byte);
    return std::nullopt;
  }
}

std::string listAliases(const std::set<std::string>& aliases) {
  std::string out;
  for (const auto& a : aliases) {
    if (!out.empty()) out += ", ";
    out += a;
  }
  return out;
}

// The model must name a routed alias: a typo would otherwise fail every line at run time.
std::optional<std::string> checkModel(const std::string& model, const std::string& path,
                                      const InputRules& rules) {
  if (model.empty()) return path + ": missing";
  if (!rules.routes(model)) {
    return path + ": unknown model alias '" + model +
           "' (configured: " + listAliases(rules.aliases) + ")";
  }
  return std::nullopt;
}

// Codec messages start with the field path inside the body ("messages[2].role: ..."); a few
// already say "body" (the body itself is wrong).
std::string bodyProblem(const std::string& message) {
  return message.starts_with("body") ? message : "body." + message;
}

void tagUrl(Task& task, std::string_view url, size_t line) {
  task.metadata[kUrlKey] = std::string(url);
  task.metadata["batch.line"] = std::to_string(line);
  task.options.metadata[kUrlKey] = std::string(url);
}

Outcome parseEnhancement(const Json& object, const LineContext& ctx, const InputRules& rules) {
  const Json* content = member(object, "content");
  const Json* instruction = member(object, "instruction");
  if (!content || !content->is_string()) return ctx.error("content: expected a string");
  if (!instruction || !instruction->is_string()) {
    return ctx.error("instruction: expected a string");
  }
  std::string model = rules.default_model;
  if (const Json* m = member(object, "model")) {
    if (!m->is_string()) return ctx.error("model: expected a string");
    model = m->get<std::string>();
  } else if (model.empty()) {
    return ctx.error("model: required (the config routes more than one model alias)");
  }
  if (auto problem = checkModel(model, "model", rules)) return ctx.error(*problem);
  Task task = makeEnhancementTask(*ctx.custom_id, content->get_ref<const std::string&>(),
                                  instruction->get_ref<const std::string&>(), model);
  tagUrl(task, kUrlEnhancement, ctx.line);
  return task;
}

Outcome parseRequestLine(const Json& object, const LineContext& ctx, const InputRules& rules) {
  if (const Json* method = member(object, "method")) {
    if (!method->is_string() || method->get<std::string>() != "POST") {
      return ctx.error("method: expected \"POST\"");
    }
  }
  const Json* url_json = member(object, "url");
  if (!url_json) return ctx.error("url: missing");
  if (!url_json->is_string()) return ctx.error("url: expected a string");
  const std::string url = url_json->get<std::string>();
  if (url != kUrlChat && url != kUrlEmbeddings && url != kUrlMessages && url != kUrlResponses) {
    return ctx.error("url: unknown endpoint '" + url + "' (expected " + std::string(kUrlChat) +
                     ", " + std::string(kUrlEmbeddings) + ", " + std::string(kUrlMessages) +
                     " or " + std::string(kUrlResponses) + ")");
  }
  const Json* body = member(object, "body");
  if (!body) return ctx.error("body: missing");
  if (!body->is_object()) return ctx.error("body: expected a JSON object");
  const Json* model = member(*body, "model");
  if (!model) return ctx.error("body.model: missing");
  if (!model->is_string()) return ctx.error("body.model: expected a string");
  if (auto problem = checkModel(model->get<std::string>(), "body.model", rules)) {
    return ctx.error(*problem);
  }
  if (const Json* stream = member(*body, "stream");
      stream && stream->is_boolean() && stream->get<bool>()) {
    return ctx.error("body.stream: streaming is not supported in a batch");
  }

  Task task;
  task.id = *ctx.custom_id;
  if (url == kUrlEmbeddings) {
    auto parsed = providers::parseOpenAIEmbeddingRequest(*body);
    if (!parsed) return ctx.error(bodyProblem(parsed.error().message));
    // The processor carries chat requests; the embeddings body rides in `extra` and the
    // embeddings adapter (embedding_completer.h) sends it to the pool's embed().
    task.request.model = model->get<std::string>();
    task.request.extra = *body;
  } else if (url == kUrlResponses) {
    // Served as the gateway serves it: through the chat path, the reply written as a Response.
    auto parsed = providers::parseResponsesRequest(*body);
    if (!parsed) return ctx.error(bodyProblem(parsed.error().message));
    task.request = std::move(*parsed);
    task.metadata[kResponsesEchoKey] = providers::dumpJson(providers::responsesEcho(*body));
  } else {
    auto parsed = url == kUrlChat ? providers::parseOpenAIChatRequest(*body)
                                  : providers::parseAnthropicRequest(*body);
    if (!parsed) return ctx.error(bodyProblem(parsed.error().message));
    task.request = std::move(*parsed);
  }
  tagUrl(task, url, ctx.line);
  return task;
}

}  // namespace

bool isBlankLine(std::string_view text) {
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::expected<Task, InputError> parseInputLine(std::string_view text, size_t line,
                                               const InputRules& rules) {
  if (auto task = parseInputLineText(text, line, rules)) return std::move(*task);
  return parseInputLineJson(text, line, rules);
}

std::expected<Task, InputError> parseInputLineJson(std::string_view text, size_t line,
                                                   const InputRules& rules) {
  LineContext ctx{line, std::nullopt};
  std::string problem;
  auto parsed = parseJson(text, problem);
  if (!parsed) return ctx.error(problem);
  const Json& object = *parsed;
  if (!object.is_object()) return ctx.error("expected a JSON object");

  const Json* id = member(object, "custom_id");
  if (!id) return ctx.error("custom_id: missing");
  if (!id->is_string() || id->get_ref<const std::string&>().empty()) {
    return ctx.error("custom_id: expected a non-empty string");
  }
  ctx.custom_id = id->get<std::string>();

  Priority priority = Priority::Normal;
  if (const Json* p = member(object, "priority")) {
    std::optional<Priority> named =
        p->is_string() ? parsePriority(p->get<std::string>()) : std::nullopt;
    if (!named) return ctx.error("priority: expected one of critical, high, normal, low");
    priority = *named;
  }

  const bool enhancement = object.contains("content") || object.contains("instruction");
  const bool request = object.contains("url") || object.contains("body");
  if (enhancement && request) {
    return ctx.error(
        "a line is either a request (url, body) or an enhancement (content, "
        "instruction), not both");
  }
  if (!enhancement && !request) {
    return ctx.error(
        "expected url and body (OpenAI Batch) or content and instruction "
        "(enhancement form)");
  }
  auto task =
      enhancement ? parseEnhancement(object, ctx, rules) : parseRequestLine(object, ctx, rules);
  if (task) task->priority = priority;
  return task;
}

bool InputRules::routes(const std::string& model) const {
  if (aliases.empty() || aliases.contains(model)) return true;
  return std::any_of(aliases.begin(), aliases.end(),
                     [&](const std::string& a) { return matchAliasPattern(a, model).has_value(); });
}

}  // namespace llmpool::batch
