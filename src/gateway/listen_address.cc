#include "gateway/listen_address.h"

#include <boost/asio/ip/address.hpp>
#include <charconv>

namespace llmpool::gateway {

Result<ListenAddress> parseListenAddress(std::string_view text) {
  const auto bad = [&] {
    return fail(ErrorCode::InvalidConfig, "listen address \"" + std::string(text) +
                                              "\" is not HOST:PORT (e.g. 127.0.0.1:8080)");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad();
  ListenAddress out;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  out.host = host.empty() ? "0.0.0.0" : std::string(host);
  const std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad();
  }
  out.port = static_cast<uint16_t>(value);
  return out;
}

bool isLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

}  // namespace llmpool::gateway
