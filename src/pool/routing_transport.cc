#include "pool/routing_transport.h"

#include <algorithm>

namespace llmpool::pool {

void RoutingTransport::addRoute(std::string url_prefix,
                                std::shared_ptr<http::Transport> transport) {
  size_t index = transports_.size();
  for (size_t i = 0; i < transports_.size(); ++i) {
    if (transports_[i] == transport) index = i;
  }
  if (index == transports_.size()) transports_.push_back(std::move(transport));
  routes_.emplace_back(std::move(url_prefix), index);
  std::stable_sort(routes_.begin(), routes_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

size_t RoutingTransport::indexFor(const std::string& url) const {
  for (const auto& [prefix, index] : routes_) {
    if (url.compare(0, prefix.size(), prefix) == 0) return index;
  }
  return 0;
}

http::RequestId RoutingTransport::send(http::HttpRequest request,
                                       http::ResponseCallbacks callbacks) {
  const size_t index = indexFor(request.url);
  const http::RequestId inner = transports_[index]->send(std::move(request), std::move(callbacks));
  return inner | (static_cast<http::RequestId>(index) << kIndexShift);
}

void RoutingTransport::cancel(http::RequestId id) {
  const size_t index = static_cast<size_t>(id >> kIndexShift);
  if (index < transports_.size()) {
    transports_[index]->cancel(id & ((http::RequestId{1} << kIndexShift) - 1));
  }
}

http::TransportStats RoutingTransport::stats() const {
  http::TransportStats total;
  for (const auto& t : transports_) {
    const auto s = t->stats();
    total.requests_started += s.requests_started;
    total.requests_completed += s.requests_completed;
    total.connections_opened += s.connections_opened;
    total.connections_closed += s.connections_closed;
    total.connections_reused += s.connections_reused;
    total.in_flight += s.in_flight;
    // A host is served by exactly one of the transports (routes are by URL prefix).
    for (const auto& h : s.hosts) total.hosts.push_back(h);
  }
  std::sort(total.hosts.begin(), total.hosts.end(),
            [](const auto& a, const auto& b) { return a.host < b.host; });
  return total;
}

}  // namespace llmpool::pool
