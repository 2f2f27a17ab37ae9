#include "http/curl_transport.h"

#include <algorithm>
#include <utility>

#include "http/curl_global.h"
#include "http/curl_multi_loop.h"

namespace llmpool::http {
namespace {

// "https://API.example.com:443/v1/x?y" -> "https://api.example.com:443": the key libcurl's
// per-host limit is about (close enough: userinfo and default ports are not normalised).
std::string hostKey(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const size_t authority_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const size_t authority_end = url.find_first_of("/?#", authority_start);
  std::string key(url.substr(0, authority_end));
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

Result<void> validate(const CurlTransportOptions& o) {
  if (o.shards < 1 || o.shards > 64) {
    return fail(ErrorCode::InvalidConfig, "transport shards must be between 1 and 64");
  }
  if (o.max_connections_per_host < 1) {
    return fail(ErrorCode::InvalidConfig, "max_connections_per_host must be at least 1");
  }
  if (o.max_total_connections < 1) {
    return fail(ErrorCode::InvalidConfig, "max_total_connections must be at least 1");
  }
  if (o.connection_idle_timeout.count() < 0 || o.connection_max_lifetime.count() < 0 ||
      o.connect_timeout.count() < 0) {
    return fail(ErrorCode::InvalidConfig, "transport timeouts must not be negative");
  }
  return {};
}

}  // namespace

CurlTransport::CurlTransport(CurlTransportOptions options) : options_(std::move(options)) {
  options_.max_total_connections =
      std::max(options_.max_total_connections, options_.max_connections_per_host);
}

Result<std::unique_ptr<CurlTransport>> CurlTransport::create(CurlTransportOptions options) {
  if (auto valid = validate(options); !valid) return std::unexpected(std::move(valid.error()));
  if (auto init = ensureCurlGlobalInit(); !init) return std::unexpected(std::move(init.error()));
  std::unique_ptr<CurlTransport> transport(new CurlTransport(std::move(options)));
  for (size_t i = 0; i < transport->options_.shards; ++i) {
    auto loop = CurlMultiLoop::create(transport->options_, transport->counters_);
    // On failure the loops started so far are stopped by the transport's destructor.
    if (!loop) return std::unexpected(std::move(loop.error()));
    transport->loops_.push_back(std::move(*loop));
  }
  return transport;
}

CurlTransport::~CurlTransport() {
  // Explicit, in order, so that work a callback of one shard posts to another shard during
  // shutdown is still answered (a stopped loop completes late submissions with Cancelled).
  for (auto& loop : loops_) loop->shutdown();
}

size_t CurlTransport::shardFor(std::string_view url) {
  if (loops_.size() == 1) return 0;
  std::string key = hostKey(url);
  std::lock_guard lock(host_mu_);
  auto [it, inserted] = host_shard_.try_emplace(std::move(key), next_shard_);
  if (inserted) next_shard_ = (next_shard_ + 1) % loops_.size();
  return it->second;
}

RequestId CurlTransport::send(HttpRequest request, ResponseCallbacks callbacks) {
  const size_t shard = shardFor(request.url);
  // The id encodes its shard so cancel() needs no lookup table shared between threads.
  const RequestId id = (next_request_seq_.fetch_add(1) + 1) * loops_.size() + shard;
  counters_.requests_started.fetch_add(1);
  loops_[shard]->submit(id, std::move(request), std::move(callbacks));
  return id;
}

void CurlTransport::cancel(RequestId id) {
  if (id == 0) return;
  loops_[id % loops_.size()]->cancel(id);
}

TransportStats CurlTransport::stats() const { return counters_.snapshot(); }

void CurlTransport::post(std::function<void()> fn) { loops_.front()->post(std::move(fn)); }

TimerId CurlTransport::runAt(MonotonicTime when, std::function<void()> fn) {
  return loops_.front()->runAt(when, std::move(fn));
}

void CurlTransport::cancelTimer(TimerId id) { loops_.front()->cancelTimer(id); }

const Clock& CurlTransport::clock() const { return SteadyClock::instance(); }

bool CurlTransport::inExecutorThread() const { return loops_.front()->inLoopThread(); }

}  // namespace llmpool::http
