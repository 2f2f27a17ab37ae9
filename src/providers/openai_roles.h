#pragma once
// The message roles the OpenAI chat dialect accepts from clients.

#include <algorithm>
#include <array>
#include <string_view>

namespace llmpool::providers {

inline constexpr std::array<std::string_view, 6> kOpenAIRoles = {
    "system", "developer", "user", "assistant", "tool", "function"};

inline bool isOpenAIRole(std::string_view role) {
  return std::ranges::find(kOpenAIRoles, role) != kOpenAIRoles.end();
}

}  // namespace llmpool::providers
