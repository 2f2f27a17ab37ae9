// What the bench load clients (latency_probe, rate_load) share: the request they send, how they
// connect, where the first whole HTTP/1.1 response in a buffer ends, and percentiles. Enough for
// the servers measured here (Content-Length or chunked bodies), not a general HTTP client.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// bench/chat_post.lua's request: a small OpenAI chat completion.
constexpr std::string_view kChatBody =
    R"({"model":"mock-model","messages":[{"role":"system","content":"You are terse."},)"
    R"({"role":"user","content":"Summarize the benefits of connection pooling."}],"max_tokens":64})";

inline std::string chatRequest(const std::string& host) {
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: " + host +
         "\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(kChatBody.size()) + "\r\n\r\n" + std::string(kChatBody);
}

// A connected TCP socket with TCP_NODELAY, or -1 with `error` set.
inline int connectTo(const std::string& host, int port, int extra_flags, std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "socket: " + std::string(std::strerror(errno));
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    error = "bad host " + host;
    ::close(fd);
    return -1;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = "connect to port " + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (extra_flags != 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | extra_flags);
  return fd;
}

struct ResponseSpan {
  size_t length = 0;  // 0: no whole response in the buffer yet
  int status = 0;
};

inline ResponseSpan scanResponse(std::string_view buffer) {
  const size_t head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string_view::npos || buffer.size() < 12) return {};
  std::string head(buffer.substr(0, head_end));
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const int status = std::atoi(head.c_str() + 9);
  const size_t body_start = head_end + 4;
  size_t total = std::string_view::npos;
  if (const size_t at = head.find("\r\ncontent-length:"); at != std::string::npos) {
    total = body_start + std::strtoul(head.c_str() + at + 17, nullptr, 10);
  } else if (head.find("transfer-encoding: chunked") != std::string::npos) {
    const size_t end = buffer.find("\r\n0\r\n\r\n", body_start - 2);
    if (end != std::string_view::npos) total = end + 7;
  }
  if (total == std::string_view::npos || buffer.size() < total) return {};
  return {total, status};
}

// The q-quantile (nearest rank) of `v`; 0 for an empty sample.
inline double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

}  // namespace bench
