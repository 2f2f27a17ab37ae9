#include "gateway/token_estimate.h"

#include "providers/json_reader.h"

namespace llmpool::gateway {

int64_t estimateTokensOfText(std::string_view text) {
  int64_t ascii = 0;
  int64_t other = 0;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80) {
      ++ascii;
    } else if ((u & 0xC0) != 0x80) {
      ++other;  // a character's first byte; its continuation bytes add nothing
    }
  }
  return (ascii + 3) / 4 + other;
}

std::optional<int64_t> estimateInputTokens(std::string_view body) {
  providers::JsonReader reader(body);
  if (!reader.enterObject()) return std::nullopt;
  int64_t tokens = 0;
  std::string_view name;
  std::string_view value;
  while (reader.nextMember(name)) {
    const bool counted = name == "system" || name == "messages" || name == "tools";
    if (!reader.rawValue(value)) return std::nullopt;
    if (counted) tokens += estimateTokensOfText(value);
  }
  if (reader.failed() || !reader.atEnd()) return std::nullopt;
  return tokens;
}

}  // namespace llmpool::gateway
