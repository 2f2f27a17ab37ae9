#include "tasks/task_json.h"

#include <string>

#include "providers/json_writer.h"

namespace llmpool::tasks {
namespace {

// nlohmann::json reports type mismatches by throwing; the readers below catch at this one
// boundary and turn them into a Protocol error, so no exception leaves this file.
template <class F>
auto guarded(std::string_view what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return fail(ErrorCode::Protocol,
                std::string("stored ") + std::string(what) + " is malformed: " + e.what());
  }
}

Json toolCallsToJson(const std::vector<ToolCall>& calls) {
  Json out = Json::array();
  for (const auto& c : calls) {
    out.push_back({{"id", c.id}, {"type", c.type}, {"name", c.name}, {"arguments", c.arguments}});
  }
  return out;
}

std::vector<ToolCall> toolCallsFromJson(const Json& json) {
  std::vector<ToolCall> out;
  if (!json.is_array()) return out;
  for (const auto& j : json) {
    ToolCall c;
    c.id = j.value("id", "");
    c.type = j.value("type", "function");
    c.name = j.value("name", "");
    c.arguments = j.value("arguments", "");
    out.push_back(std::move(c));
  }
  return out;
}

Json attemptToJson(const Attempt& a) {
  Json j = {{"deployment", a.deployment},        {"skipped", a.skipped},
            {"succeeded", a.succeeded},          {"start_offset_ms", a.start_offset.count()},
            {"duration_ms", a.duration.count()}, {"reason", a.reason}};
  if (a.error) j["error"] = std::string(errorCodeName(*a.error));
  if (a.http_status) j["http_status"] = *a.http_status;
  return j;
}

Attempt attemptFromJson(const Json& j) {
  Attempt a;
  a.deployment = j.value("deployment", "");
  a.skipped = j.value("skipped", false);
  a.succeeded = j.value("succeeded", false);
  a.start_offset = std::chrono::milliseconds(j.value("start_offset_ms", int64_t{0}));
  a.duration = std::chrono::milliseconds(j.value("duration_ms", int64_t{0}));
  a.reason = j.value("reason", "");
  if (j.contains("error")) a.error = parseErrorCode(j.at("error").get<std::string>());
  if (j.contains("http_status")) a.http_status = j.at("http_status").get<int>();
  return a;
}

template <class T>
void putOptional(Json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

template <class T>
void getOptional(const Json& j, const char* key, std::optional<T>& v) {
  if (j.contains(key) && !j.at(key).is_null()) v = j.at(key).get<T>();
}

void getOptionalMillis(const Json& j, const char* key,
                       std::optional<std::chrono::milliseconds>& v) {
  if (j.contains(key) && !j.at(key).is_null())
    v = std::chrono::milliseconds(j.at(key).get<int64_t>());
}

Json usageToJson(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.total_tokens}};
}

Usage usageFromJson(const Json& j) {
  Usage u;
  if (!j.is_object()) return u;
  u.prompt_tokens = j.value("prompt_tokens", int64_t{0});
  u.completion_tokens = j.value("completion_tokens", int64_t{0});
  u.total_tokens = j.value("total_tokens", int64_t{0});
  return u;
}

Json optionsToJson(const RequestOptions& o) {
  Json j = Json::object();
  if (!o.model.empty()) j["model"] = o.model;
  if (o.deadline) j["deadline_ms"] = o.deadline->count();
  if (o.attempt_timeout) j["attempt_timeout_ms"] = o.attempt_timeout->count();
  if (o.ttft_timeout) j["ttft_timeout_ms"] = o.ttft_timeout->count();
  putOptional(j, "max_attempts", o.max_attempts);
  if (o.priority != 0) j["priority"] = o.priority;
  if (!o.metadata.empty()) j["metadata"] = o.metadata;
  return j;
}

RequestOptions optionsFromJson(const Json& j) {
  RequestOptions o;
  if (!j.is_object()) return o;
  o.model = j.value("model", "");
  getOptionalMillis(j, "deadline_ms", o.deadline);
  getOptionalMillis(j, "attempt_timeout_ms", o.attempt_timeout);
  getOptionalMillis(j, "ttft_timeout_ms", o.ttft_timeout);
  getOptional(j, "max_attempts", o.max_attempts);
  o.priority = j.value("priority", 0);
  if (j.contains("metadata"))
    o.metadata = j.at("metadata").get<std::map<std::string, std::string>>();
  return o;
}

// A stored reply body's dialect: "openai" or "anthropic" ("" for none).
std::string_view dialectName(WireDialect d) {
  switch (d) {
    case WireDialect::OpenAI:
      return "openai";
    case WireDialect::Anthropic:
      return "anthropic";
    case WireDialect::None:
      break;
  }
  return "";
}

WireDialect dialectFromName(std::string_view name) {
  if (name == "openai") return WireDialect::OpenAI;
  if (name == "anthropic") return WireDialect::Anthropic;
  return WireDialect::None;
}

}  // namespace

int64_t toUnixMillis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SystemTime fromUnixMillis(int64_t ms) {
  // Stored text can hold any integer; beyond what the clock represents (about +-292 years around
  // 1970 in nanoseconds) the time saturates instead of overflowing.
  using std::chrono::milliseconds;
  constexpr auto kMax = std::chrono::duration_cast<milliseconds>(SystemTime::duration::max());
  constexpr auto kMin = std::chrono::duration_cast<milliseconds>(SystemTime::duration::min());
  if (ms >= kMax.count()) return SystemTime::max();
  if (ms <= kMin.count()) return SystemTime::min();
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(milliseconds(ms)));
}

std::optional<ErrorCode> parseErrorCode(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::Internal); ++i) {
    auto code = static_cast<ErrorCode>(i);
    if (errorCodeName(code) == name) return code;
  }
  return std::nullopt;
}

Json chatRequestToJson(const ChatRequest& r) {
  Json messages = Json::array();
  for (const auto& m : r.messages) {
    Json jm = {{"role", m.role}, {"content", m.content}};
    if (!m.content_parts.is_null()) jm["content_parts"] = m.content_parts;
    if (!m.name.empty()) jm["name"] = m.name;
    if (!m.tool_call_id.empty()) jm["tool_call_id"] = m.tool_call_id;
    if (!m.tool_calls.empty()) jm["tool_calls"] = toolCallsToJson(m.tool_calls);
    messages.push_back(std::move(jm));
  }
  Json j = {{"model", r.model}, {"messages", std::move(messages)}};
  putOptional(j, "temperature", r.temperature);
  putOptional(j, "top_p", r.top_p);
  putOptional(j, "max_tokens", r.max_tokens);
  if (!r.stop.empty()) j["stop"] = r.stop;
  putOptional(j, "n", r.n);
  putOptional(j, "seed", r.seed);
  putOptional(j, "presence_penalty", r.presence_penalty);
  putOptional(j, "frequency_penalty", r.frequency_penalty);
  if (!r.tools.is_null()) j["tools"] = r.tools;
  if (!r.tool_choice.is_null()) j["tool_choice"] = r.tool_choice;
  if (!r.response_format.is_null()) j["response_format"] = r.response_format;
  if (!r.user.empty()) j["user"] = r.user;
  if (r.stream) j["stream"] = true;
  if (r.include_usage) j["include_usage"] = true;
  if (r.extra.is_object() && !r.extra.empty()) j["extra"] = r.extra;
  return j;
}

Result<ChatRequest> chatRequestFromJson(const Json& j) {
  return guarded("request", [&]() -> Result<ChatRequest> {
    if (!j.is_object()) return fail(ErrorCode::Protocol, "stored request is not an object");
    ChatRequest r;
    r.model = j.value("model", "");
    if (j.contains("messages")) {
      for (const auto& jm : j.at("messages")) {
        ChatMessage m;
        m.role = jm.at("role").get<std::string>();
        m.content = jm.value("content", "");
        if (jm.contains("content_parts")) m.content_parts = jm.at("content_parts");
        m.name = jm.value("name", "");
        m.tool_call_id = jm.value("tool_call_id", "");
        if (jm.contains("tool_calls")) m.tool_calls = toolCallsFromJson(jm.at("tool_calls"));
        r.messages.push_back(std::move(m));
      }
    }
    getOptional(j, "temperature", r.temperature);
    getOptional(j, "top_p", r.top_p);
    getOptional(j, "max_tokens", r.max_tokens);
    if (j.contains("stop")) r.stop = j.at("stop").get<std::vector<std::string>>();
    getOptional(j, "n", r.n);
    getOptional(j, "seed", r.seed);
    getOptional(j, "presence_penalty", r.presence_penalty);
    getOptional(j, "frequency_penalty", r.frequency_penalty);
    if (j.contains("tools")) r.tools = j.at("tools");
    if (j.contains("tool_choice")) r.tool_choice = j.at("tool_choice");
    if (j.contains("response_format")) r.response_format = j.at("response_format");
    r.user = j.value("user", "");
    r.stream = j.value("stream", false);
    r.include_usage = j.value("include_usage", false);
    if (j.contains("extra")) r.extra = j.at("extra");
    return r;
  });
}

Json chatResponseToJson(const ChatResponse& r) {
  Json choices = Json::array();
  for (const auto& c : r.choices) {
    Json jc = {{"index", c.index},
               {"role", c.role},
               {"content", c.content},
               {"finish_reason", c.finish_reason}};
    if (!c.tool_calls.empty()) jc["tool_calls"] = toolCallsToJson(c.tool_calls);
    choices.push_back(std::move(jc));
  }
  Json trail = Json::array();
  for (const auto& a : r.attempt_trail) trail.push_back(attemptToJson(a));
  Json j = {{"id", r.id},
            {"model", r.model},
            {"created", r.created},
            {"choices", std::move(choices)},
            {"usage", usageToJson(r.usage)},
            {"deployment", r.deployment},
            {"attempts", r.attempts},
            {"cost_usd", r.cost_usd},
            {"attempt_trail", std::move(trail)}};
  if (!r.provider_body.empty()) {
    j["provider_body"] = r.provider_body;
    j["provider_dialect"] = dialectName(r.provider_dialect);
  }
  return j;
}

Result<ChatResponse> chatResponseFromJson(const Json& j) {
  return guarded("response", [&]() -> Result<ChatResponse> {
    if (!j.is_object()) return fail(ErrorCode::Protocol, "stored response is not an object");
    ChatResponse r;
    r.id = j.value("id", "");
    r.model = j.value("model", "");
    r.created = j.value("created", int64_t{0});
    if (j.contains("choices")) {
      for (const auto& jc : j.at("choices")) {
        ChatChoice c;
        c.index = jc.value("index", 0);
        c.role = jc.value("role", "assistant");
        c.content = jc.value("content", "");
        c.finish_reason = jc.value("finish_reason", "");
        if (jc.contains("tool_calls")) c.tool_calls = toolCallsFromJson(jc.at("tool_calls"));
        r.choices.push_back(std::move(c));
      }
    }
    if (j.contains("usage")) r.usage = usageFromJson(j.at("usage"));
    r.deployment = j.value("deployment", "");
    r.attempts = j.value("attempts", 1);
    r.cost_usd = j.value("cost_usd", 0.0);
    if (j.contains("attempt_trail")) {
      for (const auto& a : j.at("attempt_trail")) r.attempt_trail.push_back(attemptFromJson(a));
    }
    r.provider_body = j.value("provider_body", "");
    r.provider_dialect = dialectFromName(j.value("provider_dialect", ""));
    return r;
  });
}

Json errorToJson(const Error& e) {
  Json j = {{"code", std::string(errorCodeName(e.code))}, {"message", e.message}};
  putOptional(j, "http_status", e.http_status);
  if (e.retry_after) j["retry_after_ms"] = e.retry_after->count();
  if (!e.provider.empty()) j["provider"] = e.provider;
  if (!e.attempts.empty()) {
    Json trail = Json::array();
    for (const auto& a : e.attempts) trail.push_back(attemptToJson(a));
    j["attempts"] = std::move(trail);
  }
  return j;
}

Result<Error> errorFromJson(const Json& j) {
  return guarded("error", [&]() -> Result<Error> {
    if (!j.is_object()) return fail(ErrorCode::Protocol, "stored error is not an object");
    auto code = parseErrorCode(j.value("code", ""));
    // An unknown code (a newer version wrote it) still round-trips as a failure, never a success.
    Error e(code.value_or(ErrorCode::Internal), j.value("message", ""));
    getOptional(j, "http_status", e.http_status);
    getOptionalMillis(j, "retry_after_ms", e.retry_after);
    e.provider = j.value("provider", "");
    if (j.contains("attempts")) {
      for (const auto& a : j.at("attempts")) e.attempts.push_back(attemptFromJson(a));
    }
    return e;
  });
}

Json taskToJson(const Task& t) {
  Json j = {{"id", t.id},
            {"priority", std::string(priorityName(t.priority))},
            {"request", chatRequestToJson(t.request)},
            {"options", optionsToJson(t.options)}};
  if (t.expires_at) j["expires_at_ms"] = toUnixMillis(*t.expires_at);
  putOptional(j, "max_attempts", t.max_attempts);
  if (!t.metadata.empty()) j["metadata"] = t.metadata;
  return j;
}

Result<Task> taskFromJson(const Json& j) {
  return guarded("task", [&]() -> Result<Task> {
    if (!j.is_object()) return fail(ErrorCode::Protocol, "stored task is not an object");
    Task t;
    t.id = j.at("id").get<std::string>();
    auto priority = parsePriority(j.value("priority", "normal"));
    if (!priority) return fail(ErrorCode::Protocol, "stored task has an unknown priority");
    t.priority = *priority;
    auto request = chatRequestFromJson(j.at("request"));
    if (!request) return std::unexpected(request.error());
    t.request = std::move(*request);
    if (j.contains("options")) t.options = optionsFromJson(j.at("options"));
    if (j.contains("expires_at_ms"))
      t.expires_at = fromUnixMillis(j.at("expires_at_ms").get<int64_t>());
    getOptional(j, "max_attempts", t.max_attempts);
    if (j.contains("metadata"))
      t.metadata = j.at("metadata").get<std::map<std::string, std::string>>();
    return t;
  });
}

Json taskResultToJson(const TaskResult& r) {
  Json j = {{"task_id", r.task_id},
            {"priority", std::string(priorityName(r.priority))},
            {"attempts", r.attempts},
            {"queue_wait_ns", r.queue_wait.count()},
            {"run_time_ns", r.run_time.count()}};
  if (r.outcome) {
    j["response"] = chatResponseToJson(*r.outcome);
  } else {
    j["error"] = errorToJson(r.outcome.error());
  }
  if (!r.metadata.empty()) j["metadata"] = r.metadata;
  return j;
}

Result<TaskResult> taskResultFromJson(const Json& j) {
  return guarded("result", [&]() -> Result<TaskResult> {
    if (!j.is_object()) return fail(ErrorCode::Protocol, "stored result is not an object");
    TaskResult r;
    r.task_id = j.at("task_id").get<std::string>();
    r.priority = parsePriority(j.value("priority", "normal")).value_or(Priority::Normal);
    r.attempts = j.value("attempts", 0);
    r.queue_wait = Duration(j.value("queue_wait_ns", int64_t{0}));
    r.run_time = Duration(j.value("run_time_ns", int64_t{0}));
    if (j.contains("response")) {
      auto response = chatResponseFromJson(j.at("response"));
      if (!response) return std::unexpected(response.error());
      r.outcome = std::move(*response);
    } else if (j.contains("error")) {
      auto error = errorFromJson(j.at("error"));
      if (!error) return std::unexpected(error.error());
      r.outcome = std::unexpected(std::move(*error));
    } else {
      return fail(ErrorCode::Protocol, "stored result has neither response nor error");
    }
    if (j.contains("metadata"))
      r.metadata = j.at("metadata").get<std::map<std::string, std::string>>();
    return r;
  });
}

// ---------------------------------------------------------------- direct text encoders
// Mirror the tree builders above field for field (TaskJsonTest checks that both agree).

namespace {

using providers::JsonWriter;

void writeMember(JsonWriter& w, std::string_view key, std::string_view value) {
  w.key(key);
  w.string(value);
}

void writeMember(JsonWriter& w, std::string_view key, int64_t value) {
  w.key(key);
  w.integer(value);
}

void writeStringMap(JsonWriter& w, const std::map<std::string, std::string>& map) {
  w.beginObject();
  for (const auto& [k, v] : map) writeMember(w, k, v);
  w.endObject();
}

void writeToolCalls(JsonWriter& w, const std::vector<ToolCall>& calls) {
  w.beginArray();
  for (const auto& c : calls) {
    w.beginObject();
    writeMember(w, "id", c.id);
    writeMember(w, "type", c.type);
    writeMember(w, "name", c.name);
    writeMember(w, "arguments", c.arguments);
    w.endObject();
  }
  w.endArray();
}

void writeAttempt(JsonWriter& w, const Attempt& a) {
  w.beginObject();
  writeMember(w, "deployment", a.deployment);
  w.key("skipped");
  w.boolean(a.skipped);
  w.key("succeeded");
  w.boolean(a.succeeded);
  writeMember(w, "start_offset_ms", a.start_offset.count());
  writeMember(w, "duration_ms", a.duration.count());
  writeMember(w, "reason", a.reason);
  if (a.error) writeMember(w, "error", errorCodeName(*a.error));
  if (a.http_status) writeMember(w, "http_status", *a.http_status);
  w.endObject();
}

void writeAttempts(JsonWriter& w, const std::vector<Attempt>& attempts) {
  w.beginArray();
  for (const auto& a : attempts) writeAttempt(w, a);
  w.endArray();
}

void writeOptionalNumber(JsonWriter& w, std::string_view key, const std::optional<double>& v) {
  if (!v) return;
  w.key(key);
  w.number(*v);
}

template <class Int>
void writeOptionalInt(JsonWriter& w, std::string_view key, const std::optional<Int>& v) {
  if (v) writeMember(w, key, static_cast<int64_t>(*v));
}

void writeRequest(JsonWriter& w, const ChatRequest& r) {
  w.beginObject();
  writeMember(w, "model", r.model);
  w.key("messages");
  w.beginArray();
  for (const auto& m : r.messages) {
    w.beginObject();
    writeMember(w, "role", m.role);
    writeMember(w, "content", m.content);
    if (!m.content_parts.is_null()) {
      w.key("content_parts");
      w.json(m.content_parts);
    }
    if (!m.name.empty()) writeMember(w, "name", m.name);
    if (!m.tool_call_id.empty()) writeMember(w, "tool_call_id", m.tool_call_id);
    if (!m.tool_calls.empty()) {
      w.key("tool_calls");
      writeToolCalls(w, m.tool_calls);
    }
    w.endObject();
  }
  w.endArray();
  writeOptionalNumber(w, "temperature", r.temperature);
  writeOptionalNumber(w, "top_p", r.top_p);
  writeOptionalInt(w, "max_tokens", r.max_tokens);
  if (!r.stop.empty()) {
    w.key("stop");
    w.beginArray();
    for (const auto& s : r.stop) w.string(s);
    w.endArray();
  }
  writeOptionalInt(w, "n", r.n);
  writeOptionalInt(w, "seed", r.seed);
  writeOptionalNumber(w, "presence_penalty", r.presence_penalty);
  writeOptionalNumber(w, "frequency_penalty", r.frequency_penalty);
  for (const auto& [key, value] : {std::pair<const char*, const Json*>{"tools", &r.tools},
                                   {"tool_choice", &r.tool_choice},
                                   {"response_format", &r.response_format}}) {
    if (value->is_null()) continue;
    w.key(key);
    w.json(*value);
  }
  if (!r.user.empty()) writeMember(w, "user", r.user);
  if (r.stream) {
    w.key("stream");
    w.boolean(true);
  }
  if (r.include_usage) {
    w.key("include_usage");
    w.boolean(true);
  }
  if (r.extra.is_object() && !r.extra.empty()) {
    w.key("extra");
    w.json(r.extra);
  }
  w.endObject();
}

void writeOptions(JsonWriter& w, const RequestOptions& o) {
  w.beginObject();
  if (!o.model.empty()) writeMember(w, "model", o.model);
  if (o.deadline) writeMember(w, "deadline_ms", o.deadline->count());
  if (o.attempt_timeout) writeMember(w, "attempt_timeout_ms", o.attempt_timeout->count());
  if (o.ttft_timeout) writeMember(w, "ttft_timeout_ms", o.ttft_timeout->count());
  writeOptionalInt(w, "max_attempts", o.max_attempts);
  if (o.priority != 0) writeMember(w, "priority", o.priority);
  if (!o.metadata.empty()) {
    w.key("metadata");
    writeStringMap(w, o.metadata);
  }
  w.endObject();
}

void writeResponse(JsonWriter& w, const ChatResponse& r) {
  w.beginObject();
  writeMember(w, "id", r.id);
  writeMember(w, "model", r.model);
  writeMember(w, "created", r.created);
  w.key("choices");
  w.beginArray();
  for (const auto& c : r.choices) {
    w.beginObject();
    writeMember(w, "index", c.index);
    writeMember(w, "role", c.role);
    writeMember(w, "content", c.content);
    writeMember(w, "finish_reason", c.finish_reason);
    if (!c.tool_calls.empty()) {
      w.key("tool_calls");
      writeToolCalls(w, c.tool_calls);
    }
    w.endObject();
  }
  w.endArray();
  w.key("usage");
  w.beginObject();
  writeMember(w, "prompt_tokens", r.usage.prompt_tokens);
  writeMember(w, "completion_tokens", r.usage.completion_tokens);
  writeMember(w, "total_tokens", r.usage.total_tokens);
  w.endObject();
  writeMember(w, "deployment", r.deployment);
  writeMember(w, "attempts", r.attempts);
  w.key("cost_usd");
  w.number(r.cost_usd);
  w.key("attempt_trail");
  writeAttempts(w, r.attempt_trail);
  if (!r.provider_body.empty()) {
    writeMember(w, "provider_body", r.provider_body);
    writeMember(w, "provider_dialect", dialectName(r.provider_dialect));
  }
  w.endObject();
}

void writeError(JsonWriter& w, const Error& e) {
  w.beginObject();
  writeMember(w, "code", errorCodeName(e.code));
  writeMember(w, "message", e.message);
  writeOptionalInt(w, "http_status", e.http_status);
  if (e.retry_after) writeMember(w, "retry_after_ms", e.retry_after->count());
  if (!e.provider.empty()) writeMember(w, "provider", e.provider);
  if (!e.attempts.empty()) {
    w.key("attempts");
    writeAttempts(w, e.attempts);
  }
  w.endObject();
}

}  // namespace

std::string taskToJsonText(const Task& t) {
  std::string out;
  out.reserve(256);
  JsonWriter w(out);
  w.beginObject();
  writeMember(w, "id", t.id);
  writeMember(w, "priority", priorityName(t.priority));
  w.key("request");
  writeRequest(w, t.request);
  w.key("options");
  writeOptions(w, t.options);
  if (t.expires_at) writeMember(w, "expires_at_ms", toUnixMillis(*t.expires_at));
  writeOptionalInt(w, "max_attempts", t.max_attempts);
  if (!t.metadata.empty()) {
    w.key("metadata");
    writeStringMap(w, t.metadata);
  }
  w.endObject();
  return out;
}

std::string taskResultToJsonText(const TaskResult& r) {
  std::string out;
  out.reserve(512);
  JsonWriter w(out);
  w.beginObject();
  writeMember(w, "task_id", r.task_id);
  writeMember(w, "priority", priorityName(r.priority));
  writeMember(w, "attempts", r.attempts);
  writeMember(w, "queue_wait_ns", r.queue_wait.count());
  writeMember(w, "run_time_ns", r.run_time.count());
  if (r.outcome) {
    w.key("response");
    writeResponse(w, *r.outcome);
  } else {
    w.key("error");
    writeError(w, r.outcome.error());
  }
  if (!r.metadata.empty()) {
    w.key("metadata");
    writeStringMap(w, r.metadata);
  }
  w.endObject();
  return out;
}

}  // namespace llmpool::tasks
