#include "providers/forwarded_body.h"

#include <initializer_list>

#include "providers/json_reader.h"
#include "providers/json_writer.h"

namespace llmpool::providers {
namespace {

bool isOneOf(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (name == n) return true;
  }
  return false;
}

/**
 * Writes `{"model":MODEL` and then the members of `body` that `decided` does not claim, each as
 * written (its name re-escaped, its value copied byte for byte); the object is left open for the
 * caller's own members. `decided(name)` returns true for a member the caller writes itself.
 * False when `body` is not one well-formed JSON object.
 */
template <typename Decided>
bool copyMembers(std::string_view body, std::string_view model, std::string& out,
                 Decided&& decided) {
  JsonReader reader(body);
  if (!reader.enterObject()) return false;
  out.reserve(body.size() + model.size() + 64);
  out.append(R"({"model":)");
  appendJsonString(out, model);
  std::string_view name;
  std::string_view value;
  while (reader.nextMember(name)) {
    if (decided(name)) {
      if (!reader.skipValue()) return false;
      continue;
    }
    out.push_back(',');
    appendJsonString(out, name);  // a view valid only until the next read: written first
    out.push_back(':');
    if (!reader.rawValue(value)) return false;
    out.append(value);
  }
  return !reader.failed() && reader.atEnd();
}

}  // namespace

std::optional<std::string> forwardedOpenAIBody(std::string_view body, const ChatRequest& request,
                                               std::string_view model,
                                               std::string_view max_tokens_field) {
  std::string out;
  const bool copied = copyMembers(body, model, out, [](std::string_view name) {
    return isOneOf(name,
                   {"model", "stream", "stream_options", "max_tokens", "max_completion_tokens"});
  });
  if (!copied) return std::nullopt;
  JsonWriter w(out);
  if (request.max_tokens) {
    out.push_back(',');
    w.key(max_tokens_field);
    w.integer(*request.max_tokens);
  }
  if (request.stream) out.append(R"(,"stream":true,"stream_options":{"include_usage":true})");
  out.push_back('}');
  return out;
}

std::optional<std::string> forwardedAnthropicBody(std::string_view body, const ChatRequest& request,
                                                  std::string_view model) {
  std::string out;
  const bool copied = copyMembers(body, model, out, [](std::string_view name) {
    return isOneOf(name, {"model", "stream"});
  });
  if (!copied) return std::nullopt;
  if (request.stream) out.append(R"(,"stream":true)");
  out.push_back('}');
  return out;
}

}  // namespace llmpool::providers
