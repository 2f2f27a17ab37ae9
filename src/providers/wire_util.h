#pragma once
// Small helpers shared by the codecs: URL building, header setting, content-part text.

#include <optional>
#include <string>
#include <string_view>

#include "http/transport.h"
#include "llmpool/chat.h"

namespace llmpool::providers {

/** base_url without trailing slashes + path (which starts with '/'). */
std::string joinUrl(std::string_view base_url, std::string_view path);

/** Percent-encodes everything except RFC 3986 unreserved characters. */
std::string percentEncode(std::string_view text);

/** Sets a header, replacing any header of the same name (case-insensitive). */
void setHeader(http::Headers& headers, std::string_view name, std::string value);
/** Adds a header unless one of the same name (case-insensitive) is there already. */
void addHeaderUnlessSet(http::Headers& headers, std::string_view name, std::string value);

/** Joins the `text` of every text part of an OpenAI content array with '\n'. */
std::string textOfParts(const Json& parts);

/** True when every element of a content array is a text part. */
bool partsAreAllText(const Json& parts);

/** Serialises compactly; invalid UTF-8 in strings is replaced (U+FFFD), never thrown about. */
std::string dumpJson(const Json& value);

/** A JSON value's string, or "" when it is not a string. */
std::string stringOr(const Json& object, const char* key);

/** The reasoning in an OpenAI-dialect message or delta: `reasoning_content` (DeepSeek, vLLM,
 *  Ollama), else `reasoning` (OpenRouter, some vLLM versions), when a string; else "". */
std::string reasoningOf(const Json& message);

/** One element of an OpenAI `tool_calls` delta array: the call's index (0 when absent), and the
 *  id, name and arguments fragment it carries ("" when absent). */
struct ToolCallDelta {
  int index = 0;
  std::string id;
  std::string name;
  std::string arguments;
};
/** nullopt for an element that is not an object. */
std::optional<ToolCallDelta> readToolCallDelta(const Json& delta);

}  // namespace llmpool::providers
