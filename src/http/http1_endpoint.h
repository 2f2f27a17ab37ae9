#pragma once
// Which requests the built-in HTTP/1.1 client takes: plain http:// URLs whose host is an IP
// literal. Those need neither TLS, nor a resolver (a blocking lookup would stall the loop), nor
// proxy or credential handling; everything else goes to libcurl.

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

namespace llmpool::http {

struct Http1Endpoint {
  sockaddr_storage address{};
  socklen_t address_length = 0;
  /** The Host header's value: the URL's host and port as written ("127.0.0.1:8080"). */
  std::string host_header;
};

/** The pieces of a URL the built-in client uses. Views into the URL. */
struct Http1Url {
  std::string_view authority;  // "http://127.0.0.1:8080", as written (the host pool's key)
  std::string_view target;     // "/v1/chat/completions?x=1"; "/" when the URL has no path
};

/** Splits an http:// URL; nullopt for other schemes, userinfo, or an empty host. Does not look at
 *  the host itself (see resolveHttp1Endpoint). */
std::optional<Http1Url> splitHttp1Url(std::string_view url);

/** The socket address of `authority` ("http://HOST[:PORT]") when HOST is an IPv4 literal or a
 *  bracketed IPv6 literal and PORT (default 80) is valid; nullopt otherwise (host names, bad
 *  ports): such URLs are left to libcurl. */
std::optional<Http1Endpoint> resolveHttp1Endpoint(std::string_view authority);

}  // namespace llmpool::http
