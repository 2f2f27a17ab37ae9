#include "http/curl_transport.h"

#include <algorithm>
#include <utility>

#include "http/curl_global.h"
#include "http/curl_multi_loop.h"

namespace llmpool::http {
namespace {

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
  // Every loop carries a share of every host's connections (curl enforces the limit per multi
  // handle): the shares add up to max_connections_per_host exactly, so the limit holds over the
  // whole transport while one busy host can use every loop thread.
  const auto cap = static_cast<size_t>(transport->options_.max_connections_per_host);
  const size_t shards = std::min(transport->options_.shards, cap);
  for (size_t i = 0; i < shards; ++i) {
    CurlTransportOptions shard_options = transport->options_;
    shard_options.max_connections_per_host = static_cast<int>(cap / shards + (i < cap % shards));
    LoopHost* host = transport->options_.hosts.empty()
                         ? nullptr
                         : transport->options_.hosts[i % transport->options_.hosts.size()];
    auto loop = CurlMultiLoop::create(shard_options, transport->counters_, i, shards, host);
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

size_t CurlTransport::callerShard() const {
  if (const CurlMultiLoop* current = CurlMultiLoop::current()) {
    for (size_t i = 0; i < loops_.size(); ++i) {
      if (loops_[i].get() == current) return i;
    }
  }
  // A host thread outside this transport's pump (the server's own work, or another
  // transport's loop on the same thread) still runs one of our loops.
  if (!options_.hosts.empty()) {
    for (size_t i = 0; i < loops_.size(); ++i) {
      if (loops_[i]->inLoopThread()) return i;
    }
  }
  return kNoShard;
}

size_t CurlTransport::pickShard() {
  const size_t n = loops_.size();
  if (n == 1) return 0;
  // Least loaded per connection of its share (loads compared as cross products: no division).
  size_t best = next_shard_.fetch_add(1, std::memory_order_relaxed) % n;
  int64_t best_load = loops_[best]->load();
  int64_t best_share = loops_[best]->hostShare();
  for (size_t k = 1; k < n; ++k) {
    const size_t i = (best + k) % n;
    const int64_t load = loops_[i]->load();
    const int64_t share = loops_[i]->hostShare();
    if (load * best_share < best_load * share) {
      best = i, best_load = load, best_share = share;
    }
  }
  return best;
}

size_t CurlTransport::executorShard() const {
  // Work from elsewhere goes to loop 0, as it always has: spreading it over the loops too was
  // measured (docs/benchmarks.md, Gateway, "Follow-ups stay on their loop") and cost latency.
  const size_t local = callerShard();
  return local != kNoShard ? local : 0;
}

int64_t CurlTransport::shardLoad(size_t i) const { return loops_.at(i)->load(); }

RequestId CurlTransport::send(HttpRequest request, ResponseCallbacks callbacks) {
  // Hosted loops: a request stays on the thread that sends it; the host spreads the work (the
  // server hands its connections to its threads in turn). Otherwise the least loaded loop.
  size_t shard = options_.hosts.empty() ? kNoShard : callerShard();
  if (shard == kNoShard) shard = pickShard();
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

void CurlTransport::post(std::function<void()> fn) { loops_[executorShard()]->post(std::move(fn)); }

TimerId CurlTransport::runAt(MonotonicTime when, std::function<void()> fn) {
  return loops_[executorShard()]->runAt(when, std::move(fn));
}

void CurlTransport::cancelTimer(TimerId id) {
  if (id == 0) return;
  // Loop i hands out only ids congruent to i (see CurlMultiLoop::create).
  loops_[id % loops_.size()]->cancelTimer(id);
}

const Clock& CurlTransport::clock() const { return SteadyClock::instance(); }

bool CurlTransport::inExecutorThread() const { return callerShard() != kNoShard; }

}  // namespace llmpool::http
