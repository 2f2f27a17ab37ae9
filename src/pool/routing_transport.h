#pragma once
// Sends each request through the transport of its provider. libcurl caps connections per host
// per multi handle with one number, so providers with different `max_connections` get their own
// CurlTransport (one per distinct cap; usually there is just one).

#include <memory>
#include <string>
#include <vector>

#include "http/transport.h"

namespace llmpool::pool {

class RoutingTransport final : public http::Transport {
 public:
  /** Requests whose URL starts with `url_prefix` go to `transport`; the first route is the
   *  fallback. Routes are matched longest prefix first. */
  void addRoute(std::string url_prefix, std::shared_ptr<http::Transport> transport);

  http::RequestId send(http::HttpRequest request, http::ResponseCallbacks callbacks) override;
  void cancel(http::RequestId id) override;
  http::TransportStats stats() const override;

 private:
  // Ids carry the transport's index in their top byte, so cancel() needs no lookup table.
  static constexpr int kIndexShift = 56;

  size_t indexFor(const std::string& url) const;

  std::vector<std::pair<std::string, size_t>> routes_;  // prefix -> index into transports_
  std::vector<std::shared_ptr<http::Transport>> transports_;
};

}  // namespace llmpool::pool
