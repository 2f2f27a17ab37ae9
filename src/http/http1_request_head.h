#pragma once
// The request line and header fields the built-in HTTP/1.1 client sends.

#include <string>
#include <string_view>

#include "http/transport.h"
#include "llmpool/error.h"

namespace llmpool::http {

/**
 * Writes the head of `request` into `out` (replacing its contents): the request line, Host (unless
 * the request sets its own), the request's header fields in order, Content-Length when there is a
 * body or the method is POST/PUT/PATCH, and the blank line. The framing is ours: the request's own
 * Content-Length, Transfer-Encoding, Connection and Expect fields are not sent. A method, name or
 * value that would break the message (a line break, NUL, or a name that is not a token) is refused
 * with InvalidConfig naming the field, never sent.
 */
Result<void> writeHttp1RequestHead(std::string& out, const HttpRequest& request,
                                   std::string_view target, std::string_view host_header);

}  // namespace llmpool::http
