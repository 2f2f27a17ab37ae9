#pragma once
// Parsers for the time formats providers put in headers: HTTP-dates (Retry-After), RFC 3339
// timestamps (anthropic-ratelimit-*-reset) and Go-style durations (x-ratelimit-reset-*).
// All are strict: anything unexpected yields nullopt rather than a guess.

#include <chrono>
#include <optional>
#include <string_view>

#include "llmpool/clock.h"

namespace llmpool::providers {

/** IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT")
 *  or asctime ("Sun Nov  6 08:49:37 1994"); always UTC. */
std::optional<SystemTime> parseHttpDate(std::string_view text);

/** RFC 3339 date-time: "2024-05-01T12:00:30Z", optional fraction, "Z" or a "+hh:mm" offset. */
std::optional<SystemTime> parseRfc3339(std::string_view text);

/** Go time.Duration text: "6m0s", "1s", "20ms", "1h2m3.5s", "150us"; a bare "0" is zero. A bare
 *  non-negative number is read as seconds (some OpenAI-compatible servers send that). Rounded
 *  to the nearest millisecond; negative durations are rejected. */
std::optional<std::chrono::milliseconds> parseGoDuration(std::string_view text);

/** A finite decimal number (optional sign, fraction, exponent) spanning all of `text` after
 *  trimming blanks; nullopt otherwise. */
std::optional<double> parseDecimal(std::string_view text);

/** Removes leading and trailing spaces and tabs. */
std::string_view trimBlanks(std::string_view text);

}  // namespace llmpool::providers
