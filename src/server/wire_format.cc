#include "server/wire_format.h"

#include <boost/beast/http/status.hpp>
#include <charconv>

namespace llmpool::server {

namespace http = boost::beast::http;

namespace {

void appendNumber(std::string& out, std::size_t value, int base) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, base);
  (void)ec;  // 24 characters always fit a 64-bit number
  out.append(buf, end);
}

}  // namespace

std::string_view reasonPhrase(unsigned status) {
  if (status == 529) return "Overloaded";
  auto reason = http::obsolete_reason(static_cast<http::status>(status));
  // Beast answers "<unknown-status>" for codes it does not know; a plain word is friendlier.
  if (reason.empty() || reason.front() == '<') return "Status";
  return {reason.data(), reason.size()};
}

void appendHead(std::string& out, const ResponseHead& head, Framing framing,
                std::size_t content_length, bool keep_alive) {
  const unsigned status = head.result_int();
  out.append("HTTP/1.1 ");  // our own version, whatever the client spoke (RFC 9110 2.5)
  appendNumber(out, status, 10);
  out.push_back(' ');
  out.append(reasonPhrase(status));
  out.append("\r\n");
  for (const auto& field : head) {
    switch (field.name()) {
      case http::field::content_length:
      case http::field::transfer_encoding:
      case http::field::connection:
        continue;  // owned by the server: framing and keep-alive are decided here
      default:
        break;
    }
    auto name = field.name_string();
    auto value = field.value();
    out.append(name.data(), name.size());
    out.append(": ");
    out.append(value.data(), value.size());
    out.append("\r\n");
  }
  switch (framing) {
    case Framing::ContentLength:
      out.append("Content-Length: ");
      appendNumber(out, content_length, 10);
      out.append("\r\n");
      break;
    case Framing::Chunked:
      out.append("Transfer-Encoding: chunked\r\n");
      break;
    case Framing::UntilClose:
      break;
  }
  if (!keep_alive) out.append("Connection: close\r\n");
  out.append("\r\n");
}

void appendChunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  appendNumber(out, data.size(), 16);
  out.append("\r\n");
  out.append(data);
  out.append("\r\n");
}

}  // namespace llmpool::server
