#pragma once
// Parsing of the raw header lines libcurl hands to CURLOPT_HEADERFUNCTION (one line per call,
// CRLF included; the status line of every response block first, a blank line last).

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace llmpool::http {

/** "HTTP/1.1 200 OK\r\n" or "HTTP/2 429 \r\n" -> the status code; nullopt for other lines. */
std::optional<int> parseStatusLine(std::string_view line);

/** True for the empty line ("\r\n" or "\n") that ends a header block. */
bool isEndOfHeaders(std::string_view line);

/** "Content-Type:  text/event-stream \r\n" -> {"content-type", "text/event-stream"}: the name is
 *  lower-cased, the value trimmed. nullopt for lines without a colon or with an empty name. */
std::optional<std::pair<std::string, std::string>> parseHeaderLine(std::string_view line);

}  // namespace llmpool::http
