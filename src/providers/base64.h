#pragma once
// Standard base64 (RFC 4648, with padding), used for embeddings in encoding_format=base64.

#include <optional>
#include <string>
#include <string_view>

namespace llmpool::providers {

std::string base64Encode(std::string_view bytes);

/** nullopt on any character outside the alphabet or bad padding. */
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace llmpool::providers
