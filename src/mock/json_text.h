#pragma once
// Writing JSON text by hand for the mock's hot path: building a small response by appending to
// one string is several times cheaper than assembling and dumping a nlohmann::json tree.

#include <cstdint>
#include <string>
#include <string_view>

namespace llmpool::mock {

/** Appends `text` as a quoted JSON string, escaping quotes, backslashes and control characters
 *  (UTF-8 passes through unchanged). */
void appendJsonString(std::string& out, std::string_view text);

void appendInt(std::string& out, int64_t value);

/** Shortest round-trip representation of a double (never NaN/Inf here). */
void appendDouble(std::string& out, double value);

}  // namespace llmpool::mock
