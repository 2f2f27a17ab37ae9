// taskFromJsonText(): the durable queue reads a task back at every lease, so the shape its own
// writer (taskToJsonText) produces for an ordinary chat task is read without building a tree.
// Whatever else a stored row holds — tool calls, content parts, tools, response formats, extra
// members, nulls, a member written twice, or anything malformed — goes through the tree reader
// (taskFromJson), whose result or error is the answer. Both must agree
// (tests/unit/tasks/task_text_reader_test.cc).

#include <climits>
#include <cstdint>

#include "common/json_depth.h"
#include "providers/json_reader.h"
#include "tasks/task_text_reader.h"

#include "tasks/task_json.h"

namespace llmpool::tasks {
namespace {

using providers::JsonReader;

bool readInt32(JsonReader& r, int& out) {
  int64_t v = 0;
  if (!r.readInt(v) || v < INT_MIN || v > INT_MAX) return false;
  out = static_cast<int>(v);
  return true;
}

template <class T>
bool readOptional(JsonReader& r, std::optional<T>& out) {
  T v{};
  bool ok = false;
  if constexpr (std::is_same_v<T, double>) {
    ok = r.readNumber(v);
  } else if constexpr (std::is_same_v<T, int>) {
    ok = readInt32(r, v);
  } else {
    ok = r.readInt(v);
  }
  if (ok) out = v;
  return ok;
}

bool readMillis(JsonReader& r, std::optional<std::chrono::milliseconds>& out) {
  int64_t v = 0;
  if (!r.readInt(v)) return false;
  out = std::chrono::milliseconds(v);
  return true;
}

bool readStringMap(JsonReader& r, std::map<std::string, std::string>& out) {
  if (!r.enterObject()) return false;
  std::string_view name;
  while (r.nextMember(name)) {
    auto [it, inserted] = out.try_emplace(std::string(name));
    if (!inserted || !r.readString(it->second)) return false;
  }
  return !r.failed();
}

bool readMessage(JsonReader& r, ChatMessage& m) {
  if (!r.enterObject()) return false;
  providers::SeenMembers seen;
  bool has_role = false;
  std::string_view name;
  while (r.nextMember(name)) {
    bool ok = false;
    if (name == "role") {
      ok = seen.first(1 << 0) && r.readString(m.role);
      has_role = true;
    } else if (name == "content") {
      ok = seen.first(1 << 1) && r.readString(m.content);
    } else if (name == "name") {
      ok = seen.first(1 << 2) && r.readString(m.name);
    } else if (name == "tool_call_id") {
      ok = seen.first(1 << 3) && r.readString(m.tool_call_id);
    }
    if (!ok) return false;  // content_parts, tool_calls, anything else: the tree reader
  }
  return !r.failed() && has_role;
}

bool readRequest(JsonReader& r, ChatRequest& q) {
  if (!r.enterObject()) return false;
  providers::SeenMembers seen;
  std::string_view name;
  while (r.nextMember(name)) {
    bool ok = false;
    if (name == "model") {
      ok = seen.first(1 << 0) && r.readString(q.model);
    } else if (name == "messages") {
      ok = seen.first(1 << 1) && r.enterArray();
      while (ok && r.nextElement()) {
        ok = readMessage(r, q.messages.emplace_back());
      }
      ok = ok && !r.failed();
    } else if (name == "temperature") {
      ok = seen.first(1 << 2) && readOptional(r, q.temperature);
    } else if (name == "top_p") {
      ok = seen.first(1 << 3) && readOptional(r, q.top_p);
    } else if (name == "max_tokens") {
      ok = seen.first(1 << 4) && readOptional(r, q.max_tokens);
    } else if (name == "stop") {
      ok = seen.first(1 << 5) && r.enterArray();
      while (ok && r.nextElement()) ok = r.readString(q.stop.emplace_back());
      ok = ok && !r.failed();
    } else if (name == "n") {
      ok = seen.first(1 << 6) && readOptional(r, q.n);
    } else if (name == "seed") {
      ok = seen.first(1 << 7) && readOptional(r, q.seed);
    } else if (name == "presence_penalty") {
      ok = seen.first(1 << 8) && readOptional(r, q.presence_penalty);
    } else if (name == "frequency_penalty") {
      ok = seen.first(1 << 9) && readOptional(r, q.frequency_penalty);
    } else if (name == "user") {
      ok = seen.first(1 << 10) && r.readString(q.user);
    } else if (name == "stream") {
      ok = seen.first(1 << 11) && r.readBool(q.stream);
    } else if (name == "include_usage") {
      ok = seen.first(1 << 12) && r.readBool(q.include_usage);
    }
    if (!ok) return false;  // tools, tool_choice, response_format, extra: the tree reader
  }
  return !r.failed();
}

bool readOptions(JsonReader& r, RequestOptions& o) {
  if (!r.enterObject()) return false;
  providers::SeenMembers seen;
  std::string_view name;
  while (r.nextMember(name)) {
    bool ok = false;
    if (name == "model") {
      ok = seen.first(1 << 0) && r.readString(o.model);
    } else if (name == "deadline_ms") {
      ok = seen.first(1 << 1) && readMillis(r, o.deadline);
    } else if (name == "attempt_timeout_ms") {
      ok = seen.first(1 << 2) && readMillis(r, o.attempt_timeout);
    } else if (name == "ttft_timeout_ms") {
      ok = seen.first(1 << 3) && readMillis(r, o.ttft_timeout);
    } else if (name == "max_attempts") {
      ok = seen.first(1 << 4) && readOptional(r, o.max_attempts);
    } else if (name == "priority") {
      ok = seen.first(1 << 5) && readInt32(r, o.priority);
    } else if (name == "metadata") {
      ok = seen.first(1 << 6) && readStringMap(r, o.metadata);
    }
    if (!ok) return false;
  }
  return !r.failed();
}

}  // namespace

std::optional<Task> readTaskText(std::string_view text) {
  JsonReader r(text);
  if (!r.enterObject()) return std::nullopt;
  Task t;
  providers::SeenMembers seen;
  bool has_id = false;
  bool has_request = false;
  std::string value;
  std::string_view name;
  while (r.nextMember(name)) {
    bool ok = false;
    if (name == "id") {
      ok = has_id = seen.first(1 << 0) && r.readString(t.id);
    } else if (name == "priority") {
      std::optional<Priority> priority;
      ok = seen.first(1 << 1) && r.readString(value) && (priority = parsePriority(value));
      if (ok) t.priority = *priority;
    } else if (name == "request") {
      ok = has_request = seen.first(1 << 2) && readRequest(r, t.request);
    } else if (name == "options") {
      ok = seen.first(1 << 3) && readOptions(r, t.options);
    } else if (name == "expires_at_ms") {
      int64_t ms = 0;
      ok = seen.first(1 << 4) && r.readInt(ms);
      if (ok) t.expires_at = fromUnixMillis(ms);
    } else if (name == "max_attempts") {
      ok = seen.first(1 << 5) && readOptional(r, t.max_attempts);
    } else if (name == "metadata") {
      ok = seen.first(1 << 6) && readStringMap(r, t.metadata);
    }
    if (!ok) return std::nullopt;
  }
  if (!r.atEnd() || !has_id || !has_request) return std::nullopt;
  return t;
}

Result<Task> taskFromJsonText(std::string_view text) {
  if (auto task = readTaskText(text)) return std::move(*task);
  auto json = parseJsonBounded(text);
  if (json.is_discarded()) return fail(ErrorCode::Protocol, "stored task is not JSON");
  return taskFromJson(json);
}

}  // namespace llmpool::tasks
