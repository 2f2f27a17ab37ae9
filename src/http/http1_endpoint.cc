#include "http/http1_endpoint.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace llmpool::http {
namespace {

constexpr std::string_view kScheme = "http://";

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    const char c = s[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<Http1Url> splitHttp1Url(std::string_view url) {
  if (!startsWithNoCase(url, kScheme)) return std::nullopt;
  const size_t end = url.find_first_of("/?#", kScheme.size());
  const std::string_view host_port =
      url.substr(kScheme.size(), end == std::string_view::npos ? url.npos : end - kScheme.size());
  if (host_port.empty() || host_port.find('@') != std::string_view::npos) return std::nullopt;
  Http1Url parts;
  parts.authority = url.substr(0, kScheme.size() + host_port.size());
  std::string_view rest = end == std::string_view::npos ? std::string_view() : url.substr(end);
  // The fragment never goes on the wire.
  if (const size_t hash = rest.find('#'); hash != std::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  parts.target = rest.empty() || rest.front() != '/' ? std::string_view() : rest;
  if (parts.target.empty()) {
    // "http://h:1" and "http://h:1?q" mean "/" and "/?q"; the latter is not a view of the URL,
    // so it is left to libcurl (no provider URL looks like that).
    if (!rest.empty()) return std::nullopt;
    parts.target = "/";
  }
  return parts;
}

std::optional<Http1Endpoint> resolveHttp1Endpoint(std::string_view authority) {
  if (!startsWithNoCase(authority, kScheme)) return std::nullopt;
  const std::string_view host_port = authority.substr(kScheme.size());
  std::string_view host;
  std::string_view port_text;
  bool v6 = false;
  if (host_port.starts_with('[')) {
    const size_t close = host_port.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = host_port.substr(1, close - 1);
    const std::string_view after = host_port.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port_text = after.substr(1);
    }
    v6 = true;
  } else {
    const size_t colon = host_port.rfind(':');
    host = host_port.substr(0, colon);
    if (colon != std::string_view::npos) port_text = host_port.substr(colon + 1);
  }
  unsigned port = 80;
  if (!port_text.empty()) {
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return std::nullopt;
    }
  }
  // inet_pton needs a terminated string; literals are short.
  char literal[INET6_ADDRSTRLEN] = {};
  if (host.empty() || host.size() >= sizeof(literal)) return std::nullopt;
  std::memcpy(literal, host.data(), host.size());

  Http1Endpoint endpoint;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&endpoint.address);
    if (::inet_pton(AF_INET6, literal, &a->sin6_addr) != 1) return std::nullopt;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    endpoint.address_length = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&endpoint.address);
    if (::inet_pton(AF_INET, literal, &a->sin_addr) != 1) return std::nullopt;
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    endpoint.address_length = sizeof(sockaddr_in);
  }
  endpoint.host_header.assign(host_port);
  return endpoint;
}

}  // namespace llmpool::http
