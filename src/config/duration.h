#pragma once
// Duration text as written in config files: a sequence of <number><unit> parts, e.g. `100ms`,
// `30s`, `1.5s`, `5m`, `1h30m`. Units: ms, s, m, h. A bare `0` means zero; any other bare number is
// rejected because its unit would be a guess (500 what?). Values are rounded to milliseconds.

#include <string>
#include <string_view>

#include "llmpool/config.h"
#include "llmpool/error.h"

namespace llmpool::config {

/** @return the duration, or an InvalidConfig Error whose message says what is wrong. */
Result<Millis> parseDuration(std::string_view text);

/** Shortest exact rendering: 100ms, 30s, 5m, 1h, 1m30s, 1.5s -> "1500ms". */
std::string formatDuration(Millis value);

}  // namespace llmpool::config
