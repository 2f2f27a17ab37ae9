#pragma once
// Durations written the way the CLI takes them: "250ms", "2s", "1.5s", "1m", "0".

#include <chrono>
#include <string_view>

#include "llmpool/error.h"

namespace llmpool::mock {

/** Parses "<number><unit>" with unit ms, s, m or h ("0" alone is allowed). InvalidConfig on
 *  anything else or a negative value. */
Result<std::chrono::milliseconds> parseDuration(std::string_view text);

}  // namespace llmpool::mock
