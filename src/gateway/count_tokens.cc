#include "gateway/count_tokens.h"

#include <algorithm>

#include "common/json_depth.h"
#include "gateway/token_estimate.h"
#include "providers/json_reader.h"

namespace llmpool::gateway {

Result<int64_t> countInputTokens(std::string_view body, const std::vector<std::string>& aliases,
                                 const KeyEntry* key, std::string& alias) {
  if (!jsonDepthWithin(body))
    return fail(ErrorCode::InvalidRequest, "body: " + jsonTooDeepMessage());
  // One pass: the shape (a model to route and messages to count, as the real endpoint requires)
  // and the count (token_estimate.h) together.
  providers::JsonReader reader(body);
  if (!reader.enterObject()) return fail(ErrorCode::InvalidRequest, "body: not a JSON object");
  bool has_model = false;
  bool has_messages = false;
  int64_t tokens = 0;
  std::string_view name;
  std::string_view value;
  while (reader.nextMember(name)) {
    if (name == "model") {
      if (reader.peek() != providers::JsonReader::Kind::String || !reader.readString(alias)) {
        return fail(ErrorCode::InvalidRequest, "model: must be a string");
      }
      has_model = true;
      continue;
    }
    const bool messages = name == "messages";
    const bool counted = messages || name == "system" || name == "tools";
    if (messages && reader.peek() != providers::JsonReader::Kind::Array) {
      return fail(ErrorCode::InvalidRequest, "messages: must be an array");
    }
    if (!reader.rawValue(value)) break;
    has_messages = has_messages || messages;
    if (counted) tokens += estimateTokensOfText(value);
  }
  if (reader.failed() || !reader.atEnd()) {
    return fail(ErrorCode::InvalidRequest, "body: not valid JSON");
  }
  if (!has_model) return fail(ErrorCode::InvalidRequest, "model: required");
  if (!has_messages) return fail(ErrorCode::InvalidRequest, "messages: required");
  if (std::none_of(aliases.begin(), aliases.end(),
                   [&](const std::string& a) { return aliasMatches(a, alias); })) {
    return fail(ErrorCode::NotFound, "the model \"" + alias + "\" does not exist");
  }
  if (key && !key->allows(alias)) {
    Error e(ErrorCode::AuthFailed, "this key may not use model \"" + alias + "\"");
    e.http_status = 403;
    return std::unexpected(std::move(e));
  }
  return tokens;
}

}  // namespace llmpool::gateway
