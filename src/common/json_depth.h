#pragma once
// A nesting limit for JSON that comes from outside: request bodies, provider replies, input and
// state files. nlohmann's parser and destructor are iterative, but copying, comparing and dump()
// recurse once per level, so a 300,000-deep array (600 KB, under every body limit) would overflow
// a thread's stack the first time it is copied. Documents deeper than the limit are refused
// before they become trees. Real ones (tool schemas included) stay far below it.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace llmpool {

/** Deepest array/object nesting accepted; the same bound as providers::JsonReader's. */
inline constexpr int kMaxJsonDepth = 512;

/** True when no array or object in `text` nests deeper than `max_depth`. Brackets inside strings
 *  do not count. One linear pass, no allocation; it checks nesting only, not syntax. */
bool jsonDepthWithin(std::string_view text, int max_depth = kMaxJsonDepth);

/** What to tell whoever sent a document jsonDepthWithin() refused. */
inline std::string jsonTooDeepMessage() {
  return "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
}

/** Json::parse(text, nullptr, false) that also gives a discarded value for a document nested
 *  deeper than kMaxJsonDepth. */
nlohmann::json parseJsonBounded(std::string_view text);

}  // namespace llmpool
