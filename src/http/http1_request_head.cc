#include "http/http1_request_head.h"

#include <charconv>

#include "http/http_token.h"

namespace llmpool::http {
namespace {

// A field value may hold anything but the bytes that end or corrupt a line.
bool isSafeValue(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  }
  return true;
}

bool isFramingField(std::string_view name) {
  return equalsNoCase(name, "content-length") || equalsNoCase(name, "transfer-encoding") ||
         equalsNoCase(name, "connection") || equalsNoCase(name, "expect");
}

Error invalid(std::string message) { return Error(ErrorCode::InvalidConfig, std::move(message)); }

}  // namespace

Result<void> writeHttp1RequestHead(std::string& out, const HttpRequest& request,
                                   std::string_view target, std::string_view host_header) {
  if (!isHttpToken(request.method)) {
    return std::unexpected(invalid("invalid HTTP method \"" + request.method + "\""));
  }
  out.clear();
  out.append(request.method).append(" ").append(target).append(" HTTP/1.1\r\n");
  bool has_host = false;
  for (const auto& [name, value] : request.headers) {
    if (!isHttpToken(name)) {
      return std::unexpected(invalid("invalid request header name \"" + name + "\""));
    }
    // The value is not quoted: it may be a credential.
    if (!isSafeValue(value)) {
      return std::unexpected(
          invalid("request header \"" + name + "\" contains a line break or NUL byte"));
    }
    if (isFramingField(name)) continue;
    has_host = has_host || equalsNoCase(name, "host");
  }
  if (!has_host) out.append("Host: ").append(host_header).append("\r\n");
  for (const auto& [name, value] : request.headers) {
    if (isFramingField(name)) continue;
    out.append(name).append(": ").append(value).append("\r\n");
  }
  const bool body_method =
      request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  if (!request.body.empty() || body_method) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), request.body.size());
    (void)ec;  // 24 digits always fit a size_t
    out.append("Content-Length: ").append(digits, end).append("\r\n");
  }
  out.append("\r\n");
  return {};
}

}  // namespace llmpool::http
