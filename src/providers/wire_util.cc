#include "providers/wire_util.h"

namespace llmpool::providers {

std::string joinUrl(std::string_view base_url, std::string_view path) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  std::string url(base_url);
  if (!path.empty() && path.front() != '/') url.push_back('/');
  url.append(path);
  return url;
}

std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

namespace {

// The header named `name` (ASCII case-insensitive), or null.
std::string* findHeader(http::Headers& headers, std::string_view name) {
  for (auto& [key, existing] : headers) {
    if (key.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < key.size() && same; ++i) same = (key[i] | 0x20) == (name[i] | 0x20);
    if (same) return &existing;
  }
  return nullptr;
}

}  // namespace

void setHeader(http::Headers& headers, std::string_view name, std::string value) {
  if (std::string* existing = findHeader(headers, name)) {
    *existing = std::move(value);
    return;
  }
  headers.emplace_back(std::string(name), std::move(value));
}

void addHeaderUnlessSet(http::Headers& headers, std::string_view name, std::string value) {
  if (findHeader(headers, name) == nullptr)
    headers.emplace_back(std::string(name), std::move(value));
}

std::string textOfParts(const Json& parts) {
  std::string out;
  if (!parts.is_array()) return out;
  bool first = true;
  for (const auto& part : parts) {
    if (stringOr(part, "type") != "text") continue;
    auto it = part.find("text");
    if (it == part.end() || !it->is_string()) continue;
    if (!first) out.push_back('\n');
    out += it->get<std::string>();
    first = false;
  }
  return out;
}

bool partsAreAllText(const Json& parts) {
  if (!parts.is_array()) return false;
  for (const auto& part : parts) {
    if (stringOr(part, "type") != "text") return false;
  }
  return true;
}

std::string dumpJson(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string stringOr(const Json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::string reasoningOf(const Json& message) {
  std::string text = stringOr(message, "reasoning_content");
  return text.empty() ? stringOr(message, "reasoning") : text;
}

std::optional<ToolCallDelta> readToolCallDelta(const Json& delta) {
  if (!delta.is_object()) return std::nullopt;
  ToolCallDelta out;
  if (auto idx = delta.find("index"); idx != delta.end() && idx->is_number_integer()) {
    out.index = idx->get<int>();
  }
  out.id = stringOr(delta, "id");
  if (auto fn = delta.find("function"); fn != delta.end() && fn->is_object()) {
    out.name = stringOr(*fn, "name");
    out.arguments = stringOr(*fn, "arguments");
  }
  return out;
}

}  // namespace llmpool::providers
