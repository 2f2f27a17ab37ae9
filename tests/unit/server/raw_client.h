#pragma once
// A raw client socket for server tests: lets them control keep-alive, partial sends and closing,
// and read exactly what the server wrote.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <string>

namespace llmpool::testing {

class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { closeNow(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  void send(const std::string& data) { ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL); }
  /** Reads until `marker` appears in what was read (or EOF / 5 s); returns everything up to it. */
  std::string readUntil(const std::string& marker) {
    while (buffer_.find(marker) == std::string::npos && fill()) {
    }
    const auto pos = buffer_.find(marker);
    std::string out = pos == std::string::npos ? buffer_ : buffer_.substr(0, pos + marker.size());
    buffer_.erase(0, out.size());
    return out;
  }
  /** Reads exactly `n` more bytes (fewer on EOF / 5 s). */
  std::string readBytes(std::size_t n) {
    while (buffer_.size() < n && fill()) {
    }
    std::string out = buffer_.substr(0, std::min(n, buffer_.size()));
    buffer_.erase(0, out.size());
    return out;
  }
  /** True when the server closed the connection (EOF or reset) within the receive timeout. */
  bool closedByPeer() {
    char buf[256];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }
  void closeNow() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  bool fill() {
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

}  // namespace llmpool::testing
