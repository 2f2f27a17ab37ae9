#pragma once
// The characters of an HTTP token (RFC 9110 5.6.2 tchar): what a method or a field name may hold.

#include <array>
#include <string_view>

namespace llmpool::http {

inline constexpr std::array<bool, 256> kHttpTokenChars = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

/** A non-empty run of token characters. */
inline bool isHttpToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!kHttpTokenChars[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

}  // namespace llmpool::http
