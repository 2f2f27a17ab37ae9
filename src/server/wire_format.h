#pragma once
// Serialization of responses into bytes. The server writes every response through one byte
// buffer per connection (header + body, or header + chunks), so a complete response costs one
// write system call and no Beast serializer state; these functions are pure and unit-tested.

#include <string>
#include <string_view>

#include "server/http_types.h"

namespace llmpool::server {

/** How the body of a response is framed on the wire. */
enum class Framing {
  ContentLength,  // complete response: Content-Length: body size
  Chunked,        // streamed response on HTTP/1.1: Transfer-Encoding: chunked
  UntilClose,     // streamed response to an HTTP/1.0 client: body ends when the connection closes
};

/** Appends the status line and the header fields of `head` to `out`, then the framing header
 *  (Content-Length `content_length` or Transfer-Encoding: chunked), `Connection: close` when
 *  `keep_alive` is false, and the blank line. Fields the server owns (Content-Length,
 *  Transfer-Encoding, Connection) are dropped from `head`. */
void appendHead(std::string& out, const ResponseHead& head, Framing framing,
                std::size_t content_length, bool keep_alive);

/** Appends one HTTP/1.1 chunk ("<hex size>\r\n<data>\r\n"); nothing for empty data (an empty
 *  chunk would end the body). */
void appendChunk(std::string& out, std::string_view data);

/** The last chunk of a chunked body (no trailers). */
inline constexpr std::string_view LastChunk = "0\r\n\r\n";

/** Reason phrase for a status code; statuses outside RFC 9110 (e.g. 529) get a generic one. */
std::string_view reasonPhrase(unsigned status);

}  // namespace llmpool::server
