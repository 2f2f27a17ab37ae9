#include "config/env_expand.h"

#include <cctype>

namespace llmpool::config {

bool isEnvName(std::string_view name) {
  if (name.empty()) return false;
  const auto first = static_cast<unsigned char>(name.front());
  if (!std::isalpha(first) && first != '_') return false;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && u != '_') return false;
  }
  return true;
}

Result<Expansion> expandEnv(std::string_view text, const EnvLookup& env) {
  Expansion out;
  out.text.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$' || i + 1 >= text.size()) {
      out.text += c;
      ++i;
      continue;
    }
    const char next = text[i + 1];
    if (next == '$') {
      out.text += '$';
      i += 2;
      continue;
    }
    if (next != '{') {
      out.text += c;
      ++i;
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return fail(ErrorCode::InvalidConfig, "unterminated \"${\" (write \"$$\" for a literal $)");
    }
    const std::string_view inner = text.substr(i + 2, close - i - 2);
    const size_t sep = inner.find(":-");
    const std::string_view name = sep == std::string_view::npos ? inner : inner.substr(0, sep);
    if (!isEnvName(name)) {
      return fail(ErrorCode::InvalidConfig, "invalid variable reference \"${" + std::string(name) +
                                                "}\" (names are letters, digits and _)");
    }
    out.used_env = true;
    const std::optional<std::string> value = env ? env(std::string(name)) : std::nullopt;
    if (sep != std::string_view::npos) {
      out.text += (value && !value->empty()) ? *value : std::string(inner.substr(sep + 2));
    } else if (value) {
      out.text += *value;
    } else {
      out.missing.emplace_back(name);
    }
    i = close + 1;
  }
  return out;
}

}  // namespace llmpool::config
