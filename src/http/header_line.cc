#include "http/header_line.h"

#include <charconv>

namespace llmpool::http {
namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<int> parseStatusLine(std::string_view line) {
  if (!line.starts_with("HTTP/")) return std::nullopt;
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view rest = line.substr(space + 1);
  if (rest.size() < 3) return std::nullopt;
  int status = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + 3, status);
  if (ec != std::errc() || end != rest.data() + 3 || status < 100 || status > 999) {
    return std::nullopt;
  }
  return status;
}

bool isEndOfHeaders(std::string_view line) { return line == "\r\n" || line == "\n"; }

std::optional<std::pair<std::string, std::string>> parseHeaderLine(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view name = trim(line.substr(0, colon));
  if (name.empty()) return std::nullopt;
  std::string lower(name);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return std::make_pair(std::move(lower), std::string(trim(line.substr(colon + 1))));
}

}  // namespace llmpool::http
