// The DOM-free forms of the two OpenAI inbound hot paths of the gateway: reading a chat request
// and writing a chat.completion. Both must agree with their DOM counterparts in
// openai_inbound.cc (tests/unit/providers/openai_inbound_text_test.cc checks that).

#include <cstdint>
#include <string>

#include "providers/json_reader.h"
#include "providers/json_writer.h"
#include "providers/openai_codec.h"
#include "providers/openai_inbound.h"
#include "providers/openai_roles.h"

namespace llmpool::providers {
namespace {

bool readMessage(JsonReader& r, ChatMessage& out) {
  if (!r.enterObject()) return false;
  SeenMembers seen;
  bool has_content = false;
  std::string_view name;
  while (r.nextMember(name)) {
    bool ok = false;
    if (name == "role") {
      ok = seen.first(1) && r.readString(out.role) && isOpenAIRole(out.role);
    } else if (name == "content") {
      ok = seen.first(2) && r.readString(out.content);  // parts and null: the DOM path
      has_content = true;
    } else if (name == "name") {
      ok = seen.first(4) && r.readString(out.name);
    } else if (name == "tool_call_id") {
      ok = seen.first(8) && r.readString(out.tool_call_id);
    }
    if (!ok) return false;  // tool_calls, unknown members, wrong types: the DOM path
  }
  if (r.failed() || out.role.empty() || !has_content) return false;
  return out.role != "tool" || !out.tool_call_id.empty();
}

bool readNumberIn(JsonReader& r, double lo, double hi, std::optional<double>& out) {
  double v = 0;
  if (!r.readNumber(v) || v < lo || v > hi) return false;
  out = v;
  return true;
}

bool readIntegerIn(JsonReader& r, int64_t lo, int64_t hi, std::optional<int64_t>& out) {
  int64_t v = 0;
  if (!r.readInt(v) || v < lo || v > hi) return false;
  out = v;
  return true;
}

bool readStreamOptions(JsonReader& r, bool& include_usage) {
  if (!r.enterObject()) return false;
  SeenMembers seen;
  std::string_view name;
  while (r.nextMember(name)) {
    if (name == "include_usage") {
      if (!seen.first(1) || !r.readBool(include_usage)) return false;
    } else if (!r.skipValue()) {
      return false;
    }
  }
  return !r.failed();
}

void writeUsage(JsonWriter& w, const Usage& usage) {
  w.beginObject();
  w.key("prompt_tokens");
  w.integer(usage.prompt_tokens);
  w.key("completion_tokens");
  w.integer(usage.completion_tokens);
  w.key("total_tokens");
  w.integer(usage.total_tokens != 0 ? usage.total_tokens
                                    : usage.prompt_tokens + usage.completion_tokens);
  w.endObject();
}

}  // namespace

std::optional<ChatRequest> parseOpenAIChatRequestText(std::string_view body) {
  JsonReader r(body);
  if (!r.enterObject()) return std::nullopt;
  ChatRequest out;
  SeenMembers seen;
  std::optional<int64_t> max_tokens, max_completion_tokens, n;
  std::string_view name;
  while (r.nextMember(name)) {
    bool ok = false;
    if (name == "model") {
      ok = seen.first(1 << 0) && r.readString(out.model) && !out.model.empty();
    } else if (name == "messages") {
      ok = seen.first(1 << 1) && r.enterArray();
      while (ok && r.nextElement()) {
        ChatMessage message;
        ok = readMessage(r, message);
        out.messages.push_back(std::move(message));
      }
      ok = ok && !r.failed() && !out.messages.empty();
    } else if (name == "temperature") {
      ok = seen.first(1 << 2) && readNumberIn(r, 0.0, 2.0, out.temperature);
    } else if (name == "top_p") {
      ok = seen.first(1 << 3) && readNumberIn(r, 0.0, 1.0, out.top_p);
    } else if (name == "max_tokens") {
      ok = seen.first(1 << 4) && readIntegerIn(r, 1, INT64_MAX, max_tokens);
    } else if (name == "max_completion_tokens") {
      ok = seen.first(1 << 5) && readIntegerIn(r, 1, INT64_MAX, max_completion_tokens);
    } else if (name == "n") {
      ok = seen.first(1 << 6) && readIntegerIn(r, 1, 128, n);
    } else if (name == "seed") {
      ok = seen.first(1 << 7) && readIntegerIn(r, INT64_MIN, INT64_MAX, out.seed);
    } else if (name == "presence_penalty") {
      ok = seen.first(1 << 8) && readNumberIn(r, -2.0, 2.0, out.presence_penalty);
    } else if (name == "frequency_penalty") {
      ok = seen.first(1 << 9) && readNumberIn(r, -2.0, 2.0, out.frequency_penalty);
    } else if (name == "user") {
      ok = seen.first(1 << 10) && r.readString(out.user);
    } else if (name == "stream") {
      ok = seen.first(1 << 11) && r.readBool(out.stream);
    } else if (name == "stream_options") {
      ok = seen.first(1 << 12) && readStreamOptions(r, out.include_usage);
    }
    // stop, tools, tool_choice, response_format, null values and members kept in `extra`
    // take the DOM path.
    if (!ok) return std::nullopt;
  }
  if (!r.atEnd() || out.model.empty() || out.messages.empty()) return std::nullopt;
  out.max_tokens = max_completion_tokens ? max_completion_tokens : max_tokens;
  if (n) out.n = static_cast<int>(*n);
  return out;
}

std::string openAIChatResponseText(const ChatResponse& response) {
  std::string out;
  out.reserve(256 + response.text().size());
  JsonWriter w(out);
  w.beginObject();
  w.key("id");
  w.string(response.id);
  w.key("object");
  w.string("chat.completion");
  w.key("created");
  w.integer(response.created);
  w.key("model");
  w.string(response.model);
  w.key("choices");
  w.beginArray();
  for (const auto& choice : response.choices) {
    w.beginObject();
    w.key("index");
    w.integer(choice.index);
    w.key("message");
    w.beginObject();
    w.key("role");
    w.string(choice.role.empty() ? "assistant" : choice.role);
    w.key("content");
    if (choice.content.empty() && !choice.tool_calls.empty()) {
      w.null();
    } else {
      w.string(choice.content);
    }
    w.key("refusal");
    w.null();
    if (!choice.reasoning.empty()) {
      w.key("reasoning_content");
      w.string(choice.reasoning);
    }
    if (!choice.tool_calls.empty()) {
      w.key("tool_calls");
      openai::writeToolCalls(w, choice.tool_calls);
    }
    w.endObject();
    w.key("logprobs");
    w.null();
    w.key("finish_reason");
    if (choice.finish_reason.empty()) {
      w.null();
    } else {
      w.string(choice.finish_reason);
    }
    w.endObject();
  }
  w.endArray();
  w.key("usage");
  writeUsage(w, response.usage);
  w.endObject();
  return out;
}

}  // namespace llmpool::providers
