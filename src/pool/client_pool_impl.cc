#include "pool/client_pool_impl.h"

#include <algorithm>
#include <thread>

#include "common/block_cache.h"
#include "pool/balancer.h"
#include "pool/call.h"
#include "providers/error_classifier.h"
#include "providers/provider_codec.h"
#include "providers/rate_limit_headers.h"
#include "providers/wire_util.h"

namespace llmpool::pool {
namespace {

// Calls are made once per request and are larger than malloc's per-thread cache: their blocks
// are recycled (src/common/block_cache.h).
std::shared_ptr<Call> makeCall() { return std::allocate_shared<Call>(CachingAllocator<Call>()); }

using std::chrono::duration_cast;
using std::chrono::milliseconds;

int64_t unixSeconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

/** What every request to `provider` carries besides its body and timeouts: its TLS overrides and
 *  the cap on a buffered reply. */
void applyProviderSettings(http::HttpRequest& request, const ProviderConfig& provider,
                           const PoolSettings& pool) {
  request.max_response_bytes = pool.max_response_bytes;
  if (!provider.ca_file.empty()) request.ca_file = provider.ca_file;
  if (!provider.verify_tls) request.verify_tls = false;
}

enum class SkipReason : size_t { BreakerOpen, RateLimited, Unhealthy, Deadline, Panic, Count };

constexpr const char* skipReasonName(SkipReason r) {
  switch (r) {
    case SkipReason::BreakerOpen:
      return "breaker_open";
    case SkipReason::RateLimited:
      return "rate_limited";
    case SkipReason::Unhealthy:
      return "unhealthy";
    case SkipReason::Deadline:
      return "deadline";
    case SkipReason::Panic:
      return "panic_mode";
    case SkipReason::Count:
      break;
  }
  return "unknown";
}

milliseconds toMillis(Duration d) { return duration_cast<milliseconds>(d); }

constexpr bool isOpen(resilience::CircuitState s) { return s == resilience::CircuitState::Open; }

CircuitState publicState(resilience::CircuitState s) {
  switch (s) {
    case resilience::CircuitState::Closed:
      return CircuitState::Closed;
    case resilience::CircuitState::Open:
      return CircuitState::Open;
    case resilience::CircuitState::HalfOpen:
      return CircuitState::HalfOpen;
  }
  return CircuitState::Closed;
}

LatencySummary summarize(const metrics::Histogram& h) {
  const auto snap = h.snapshot();
  LatencySummary out;
  out.count = snap.count;
  if (snap.count == 0) return out;
  const auto secs = [](Duration d) { return std::chrono::duration<double>(d).count(); };
  out.mean = secs(snap.sum) / static_cast<double>(snap.count);
  out.p50 = secs(snap.percentile(0.50));
  out.p95 = secs(snap.percentile(0.95));
  out.p99 = secs(snap.percentile(0.99));
  return out;
}

resilience::ProviderRateLimits toLimits(const providers::RateLimitInfo& info) {
  return {info.limit_requests, info.remaining_requests, info.reset_requests,
          info.limit_tokens,   info.remaining_tokens,   info.reset_tokens};
}

// Tokens a request may consume, reserved against a tpm budget before sending (settled later).
int64_t tokenEstimate(const Call& call) {
  if (call.kind == CallKind::Embed) {
    int64_t chars = 0;
    for (const auto& in : call.embed->request.input) chars += static_cast<int64_t>(in.size());
    return chars / 4 + 1;
  }
  int64_t chars = 0;
  for (const auto& m : call.chat.messages) chars += static_cast<int64_t>(m.content.size());
  return chars / 4 + call.chat.max_tokens.value_or(256);
}

// What selection found when no deployment could take the attempt now.
struct NoPick {
  std::optional<MonotonicTime> earliest_probe;   // all open: when the first admits a probe
  std::optional<MonotonicTime> rate_wait_until;  // rate limited: when budget returns
  bool any_breaker_open = false;
  bool any_rate_limited = false;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Construction

ClientPoolImpl::ClientPoolImpl(PoolConfig config, http::Transport& transport, Executor& executor,
                               RandomSource& random)
    : config_(std::move(config)),
      transport_(transport),
      executor_(executor),
      random_(random),
      limiter_("pool", config_.pool.max_concurrent_requests, config_.pool.max_queue, executor),
      retry_budget_(config_.pool.retry),
      retry_policy_(config_.pool.retry, random_, &retry_budget_) {}

Result<std::unique_ptr<ClientPoolImpl>> ClientPoolImpl::create(PoolConfig config,
                                                               http::Transport& transport,
                                                               Executor& executor,
                                                               RandomSource& random) {
  if (config.models.empty()) return fail(ErrorCode::InvalidConfig, "no model aliases configured");
  std::unique_ptr<ClientPoolImpl> pool(
      new ClientPoolImpl(std::move(config), transport, executor, random));
  // Deployments are unique per (provider, model): two aliases routing to the same upstream
  // share one breaker, one limiter and one set of statistics.
  std::map<std::string, Deployment*> by_name;
  for (const auto& [alias, entries] : pool->config_.models) {
    auto& route = pool->routes_[alias];
    for (size_t i = 0; i < entries.size(); ++i) {
      const DeploymentConfig& dc = entries[i];
      const ProviderConfig* provider = pool->config_.findProvider(dc.provider);
      if (!provider) {
        return fail(ErrorCode::InvalidConfig, "models." + alias + "[" + std::to_string(i) +
                                                  "].provider: unknown provider \"" + dc.provider +
                                                  "\"");
      }
      const std::string name = dc.provider + "/" + dc.model;
      Deployment*& d = by_name[name];
      if (!d) {
        pool->deployments_.push_back(
            std::make_unique<Deployment>(name, *provider, dc, pool->config_.pool.circuit_breaker));
        d = pool->deployments_.back().get();
      }
      route.push_back(RouteEntry{d, dc.priority, dc.weight});
    }
    std::stable_sort(route.begin(), route.end(), [](const RouteEntry& a, const RouteEntry& b) {
      return a.priority < b.priority;
    });
    if (isAliasPattern(alias))
      pool->patterns_.emplace_back(alias.substr(0, alias.size() - 1), &route);
  }
  std::stable_sort(pool->patterns_.begin(), pool->patterns_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  return pool;
}

ClientPoolImpl::~ClientPoolImpl() {
  stop(std::chrono::milliseconds(0));
  // Owned transports go first, while every member their pending callbacks touch still exists
  // (their destructors join the event loops), in the order they were handed over.
  for (auto& resource : resources_) resource.reset();
  resources_.clear();
}

std::vector<std::string> ClientPoolImpl::aliases() const {
  std::vector<std::string> out;
  for (const auto& [alias, route] : routes_) out.push_back(alias);
  return out;
}

bool ClientPoolImpl::ready() const { return !stopping_ && unavailableAliases().empty(); }

std::vector<std::string> ClientPoolImpl::unavailableAliases() const {
  const MonotonicTime now = executor_.clock().now();
  std::vector<std::string> out;
  for (const auto& [alias, route] : routes_) {
    bool usable = false;
    for (const auto& e : route) {
      usable = usable || !isOpen(e.deployment->breaker.state(now));
    }
    if (!usable) out.push_back(alias);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Entry points

RequestHandle ClientPoolImpl::complete(ChatRequest request, RequestOptions options,
                                       ChatCallback done) {
  auto call = makeCall();
  call->kind = CallKind::Chat;
  call->chat = std::move(request);
  call->chat.stream = false;
  call->options = std::move(options);
  call->done = std::move(done);
  return start(std::move(call));
}

RequestHandle ClientPoolImpl::stream(ChatRequest request, RequestOptions options,
                                     ChunkCallback on_chunk, ChatCallback done) {
  auto call = makeCall();
  call->kind = CallKind::Stream;
  call->chat = std::move(request);
  call->chat.stream = true;
  call->options = std::move(options);
  call->stream = std::make_unique<StreamState>();
  call->stream->on_chunk = std::move(on_chunk);
  call->done = std::move(done);
  return start(std::move(call));
}

RequestHandle ClientPoolImpl::embed(EmbeddingRequest request, RequestOptions options,
                                    EmbeddingCallback done) {
  auto call = makeCall();
  call->kind = CallKind::Embed;
  call->embed = std::make_unique<EmbedState>();
  call->embed->request = std::move(request);
  call->options = std::move(options);
  call->embed->done = std::move(done);
  return start(std::move(call));
}

RequestHandle ClientPoolImpl::start(std::shared_ptr<Call> call) {
  const PoolSettings& ps = config_.pool;
  call->id = ++next_call_id_;
  call->started = executor_.clock().now();
  call->deadline = call->started + call->options.deadline.value_or(ps.deadline);
  call->max_attempts = std::max(1, call->options.max_attempts.value_or(ps.retry.max_attempts));
  call->alias = !call->options.model.empty()    ? call->options.model
                : call->kind == CallKind::Embed ? call->embed->request.model
                                                : call->chat.model;
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  counters_.in_flight.fetch_add(1, std::memory_order_relaxed);
  retry_budget_.onRequest(call->started);

  std::weak_ptr<Call> weak = call;
  RequestHandle handle([this, weak] {
    if (auto c = weak.lock()) cancelCall(c, ErrorCode::Cancelled, "cancelled by the caller");
  });

  const std::vector<RouteEntry>* route = nullptr;
  if (auto it = routes_.find(call->alias); it != routes_.end()) {
    route = &it->second;
  } else {
    // An alias pattern: the longest prefix the name starts with (and goes on after).
    for (const auto& [prefix, pattern_route] : patterns_) {
      if (call->alias.size() > prefix.size() && call->alias.starts_with(prefix)) {
        route = pattern_route;
        call->matched = call->alias.substr(prefix.size());
        break;
      }
    }
  }
  std::unique_lock lock(call->mu);
  if (stopping_) {
    call->last_error = Error(ErrorCode::Cancelled, "the pool is stopping");
    finish(call, lock);
    return handle;
  }
  if (!route) {
    call->last_error = Error(ErrorCode::NotFound, "unknown model alias \"" + call->alias + "\"");
    finish(call, lock);
    return handle;
  }
  call->route = route;
  const uint64_t id = call->id;
  {
    std::lock_guard calls_lock(calls_mu_);
    call_nodes_.insert(calls_, id, call);
  }
  // Timer and admission callbacks find the call by id in calls_: a [this, id] capture fits
  // std::function's inline storage (no allocation per request), and a call that finished in the
  // meantime is simply not found.
  // Admission: the permit callback arrives on the executor (never inside this call). A free
  // permit with nobody queued is taken here and only the hop to the executor is posted; the
  // deadline timer is armed by that hop, on the executor's own thread, where arming is a heap
  // insert (from here it would be a second closure queued to that thread). The deadline is
  // absolute, so arming it a moment later changes nothing.
  if (auto permit = limiter_.tryAcquire()) {
    call->permit.emplace(std::move(*permit));
    lock.unlock();
    executor_.post([this, id] {
      if (auto c = findCall(id)) onAdmitted(c);
    });
    return handle;
  }
  armDeadline(*call);
  lock.unlock();
  limiter_.acquire(std::min(call->deadline, call->started + ps.acquire_timeout),
                   [this, call](Result<resilience::ConcurrencyLimiter::Permit> permit) {
                     onPermit(call, std::move(permit));
                   });
  return handle;
}

void ClientPoolImpl::armDeadline(Call& call) {
  call.deadline_timer = executor_.runAt(call.deadline, [this, id = call.id] {
    if (auto c = findCall(id)) cancelCall(c, ErrorCode::DeadlineExceeded, "deadline exceeded");
  });
}

std::shared_ptr<Call> ClientPoolImpl::findCall(uint64_t id) {
  std::lock_guard lock(calls_mu_);
  auto it = calls_.find(id);
  return it == calls_.end() ? nullptr : it->second;
}

void ClientPoolImpl::onPermit(const std::shared_ptr<Call>& call,
                              Result<resilience::ConcurrencyLimiter::Permit> permit) {
  {
    std::unique_lock lock(call->mu);
    if (call->finished) return;  // the permit (if any) is released as it goes out of scope
    if (!permit) {
      permit_wait_hist_.observe(executor_.clock().now() - call->started);
      counters_.admission_rejections.fetch_add(1, std::memory_order_relaxed);
      Error e = permit.error();
      if (e.code != ErrorCode::Cancelled) e.code = ErrorCode::Overloaded;
      call->last_error = std::move(e);
      finish(call, lock);
      return;
    }
    call->permit.emplace(std::move(*permit));
  }
  onAdmitted(call);
}

void ClientPoolImpl::onAdmitted(const std::shared_ptr<Call>& call) {
  std::unique_lock lock(call->mu);
  if (call->finished) return;                         // finish() released the permit already
  if (call->deadline_timer == 0) armDeadline(*call);  // admitted at once in start()
  permit_wait_hist_.observe(executor_.clock().now() - call->started);
  call->admitted = true;
  lock.unlock();
  tryNextAttempt(call);
}

// ---------------------------------------------------------------------------------------------
// Routing and attempts

void ClientPoolImpl::tryNextAttempt(const std::shared_ptr<Call>& call) {
  std::unique_lock lock(call->mu);
  if (call->finished || call->in_attempt) return;
  call->retry_timer = 0;
  const MonotonicTime now = executor_.clock().now();
  if (now >= call->deadline) {
    if (!call->last_error)
      call->last_error = Error(ErrorCode::DeadlineExceeded, "deadline exceeded");
    finish(call, lock);
    return;
  }

  auto note_skip = [&](const Deployment& d, SkipReason reason) {
    counters_.skips_by_reason[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
    std::string key = d.name + ":" + skipReasonName(reason);
    if (std::find(call->skip_notes.begin(), call->skip_notes.end(), key) != call->skip_notes.end())
      return;
    call->skip_notes.push_back(std::move(key));
    Attempt a;
    a.deployment = d.name;
    a.skipped = true;
    a.reason = skipReasonName(reason);
    a.start_offset = toMillis(now - call->started);
    call->trail.push_back(std::move(a));
  };
  auto failed_here = [&](const Deployment* d) {
    return std::find(call->failed.begin(), call->failed.end(), d) != call->failed.end();
  };

  const auto& route = *call->route;
  NoPick none;
  // Pass 0 avoids deployments that already failed this call and unhealthy ones; pass 1 allows
  // them (retrying the same deployment beats giving up while attempts and time remain).
  for (int pass = 0; pass < 2; ++pass) {
    size_t tier_begin = 0;
    while (tier_begin < route.size()) {
      size_t tier_end = tier_begin;
      while (tier_end < route.size() && route[tier_end].priority == route[tier_begin].priority)
        ++tier_end;
      // Per-thread scratch: selection runs on every attempt and must not allocate.
      thread_local std::vector<const RouteEntry*> usable;
      thread_local std::vector<BalanceCandidate> cands;
      usable.clear();
      for (size_t i = tier_begin; i < tier_end; ++i) {
        Deployment& d = *route[i].deployment;
        if (pass == 0 && (failed_here(&d) || !d.healthy.load(std::memory_order_relaxed))) {
          if (!d.healthy.load(std::memory_order_relaxed)) note_skip(d, SkipReason::Unhealthy);
          continue;
        }
        if (isOpen(d.breaker.state(now))) {
          none.any_breaker_open = true;
          auto probe_at = d.breaker.nextProbeAt();
          if (probe_at && (!none.earliest_probe || *probe_at < *none.earliest_probe))
            none.earliest_probe = probe_at;
          note_skip(d, SkipReason::BreakerOpen);
          continue;
        }
        usable.push_back(&route[i]);
      }
      while (!usable.empty()) {
        cands.clear();
        for (const RouteEntry* e : usable) {
          std::optional<double> latency;
          if (auto total = e->deployment->latency.total()) {
            latency = std::chrono::duration<double>(*total).count();
          }
          cands.push_back(
              {e->weight, e->deployment->in_flight.load(std::memory_order_relaxed), latency});
        }
        auto pick = pickCandidate(cands, config_.pool.strategy, random_);
        Deployment& d = *usable[*pick]->deployment;
        auto admission = d.breaker.tryAdmit(now);
        if (!admission.admitted) {  // lost a race for the half-open probe slot
          none.any_breaker_open = true;
          note_skip(d, SkipReason::BreakerOpen);
          usable.erase(usable.begin() + static_cast<ptrdiff_t>(*pick));
          continue;
        }
        std::optional<resilience::RateLimiter::Reservation> reservation;
        if (d.limiter) {
          auto decision = d.limiter->reserve(now, tokenEstimate(*call));
          if (!decision.granted()) {
            d.breaker.onIgnored(admission.ticket);
            none.any_rate_limited = true;
            if (!none.rate_wait_until || decision.retry_at < *none.rate_wait_until)
              none.rate_wait_until = decision.retry_at;
            note_skip(d, SkipReason::RateLimited);
            usable.erase(usable.begin() + static_cast<ptrdiff_t>(*pick));
            continue;
          }
          reservation = decision.reservation;
        }
        sendAttempt(call, d, std::move(admission.ticket), reservation, lock);
        return;
      }
      tier_begin = tier_end;
      if (!config_.pool.failover) break;  // failover off: only the first tier is ever used
    }
  }

  // Nothing can take the attempt now.
  if (none.rate_wait_until && *none.rate_wait_until < call->deadline) {
    scheduleRetry(call, *none.rate_wait_until - now, lock);
    return;
  }
  if (config_.pool.panic_mode && none.any_breaker_open) {
    // Opt-in: rather than fail fast, try the deployment whose breaker will admit soonest.
    Deployment* least_bad = nullptr;
    std::optional<MonotonicTime> best;
    for (const auto& e : route) {
      auto at = e.deployment->breaker.nextProbeAt();
      if (!least_bad || (at && (!best || *at < *best))) {
        least_bad = e.deployment;
        best = at;
      }
    }
    note_skip(*least_bad, SkipReason::Panic);
    sendAttempt(call, *least_bad, {}, std::nullopt, lock);
    return;
  }
  if (!call->last_error || none.any_breaker_open) {
    if (none.any_breaker_open && !none.any_rate_limited) {
      Error e(ErrorCode::CircuitOpen,
              "every deployment of \"" + call->alias + "\" has its circuit breaker open");
      if (none.earliest_probe) {
        e.retry_after = std::max(milliseconds(0), toMillis(*none.earliest_probe - now));
        e.message +=
            "; the next probe is allowed in " + std::to_string(e.retry_after->count()) + " ms";
      }
      if (!call->last_error || call->attempts == 0) call->last_error = std::move(e);
    } else if (none.any_rate_limited) {
      Error e(ErrorCode::RateLimited, "every deployment of \"" + call->alias +
                                          "\" is at its rate limit until after the deadline");
      if (none.rate_wait_until) e.retry_after = toMillis(*none.rate_wait_until - now);
      call->last_error = std::move(e);
    } else if (!call->last_error) {
      call->last_error =
          Error(ErrorCode::NoDeployment, "no usable deployment for \"" + call->alias + "\"");
    }
  }
  finish(call, lock);
}

void ClientPoolImpl::sendAttempt(const std::shared_ptr<Call>& call, Deployment& d,
                                 resilience::CircuitBreaker::Ticket ticket,
                                 std::optional<resilience::RateLimiter::Reservation> reservation,
                                 std::unique_lock<std::mutex>& lock) {
  const PoolSettings& ps = config_.pool;
  const MonotonicTime now = executor_.clock().now();
  if (call->previous && call->previous != &d) {
    counters_.failovers.fetch_add(1, std::memory_order_relaxed);
  }
  call->current = &d;
  call->ticket = std::move(ticket);
  call->reservation = reservation;
  call->in_attempt = true;
  call->attempt_start = now;
  ++call->attempts;
  const uint64_t seq = ++call->attempt_seq;
  counters_.attempts.fetch_add(1, std::memory_order_relaxed);
  d.requests.fetch_add(1, std::memory_order_relaxed);
  d.in_flight.fetch_add(1, std::memory_order_relaxed);

  // Encode the wire request for this deployment's dialect, sending its upstream model name (an
  // alias pattern's deployment puts in what the pattern matched).
  std::string pattern_model;
  if (!call->matched.empty()) pattern_model = upstreamModelName(d.config.model, call->matched);
  const std::string& model = call->matched.empty() ? d.config.model : pattern_model;
  http::HttpRequest request;
  if (call->kind == CallKind::Embed) {
    auto encoded = providers::encodeEmbeddings(d.endpoint, call->embed->request, model);
    if (!encoded) {
      // This provider cannot serve embeddings: a configuration problem, not a transient one.
      call->in_attempt = false;
      d.in_flight.fetch_sub(1, std::memory_order_relaxed);
      settleBreaker(*call, d, 0);
      call->last_error = encoded.error();
      finish(call, lock);
      return;
    }
    request = std::move(*encoded);
  } else {
    request = providers::encodeChat(d.endpoint, call->chat, model);
  }
  applyProviderSettings(request, d.provider, ps);
  for (const auto& [name, value] : call->options.headers) {
    providers::addHeaderUnlessSet(request.headers, name, value);
  }
  const Duration left = call->deadline - now;
  const milliseconds attempt_timeout =
      call->options.attempt_timeout.value_or(d.provider.timeout.value_or(ps.request_timeout));
  request.timeouts.connect = std::min(ps.connect_timeout, toMillis(left));
  if (call->kind == CallKind::Stream) {
    // A stream may legitimately run long: bound it by the deadline, its first byte by the TTFT
    // timeout and its silences by the idle timeout.
    request.timeouts.total = toMillis(left);
    request.timeouts.first_byte = call->options.ttft_timeout.value_or(
        ps.ttft_timeout.count() > 0 ? ps.ttft_timeout : attempt_timeout);
    request.timeouts.idle = ps.stream_idle_timeout;
  } else {
    request.timeouts.total = std::min(attempt_timeout, toMillis(left));
  }
  if (request.timeouts.total.count() <= 0) request.timeouts.total = milliseconds(1);

  http::ResponseCallbacks callbacks;
  std::weak_ptr<Call> weak = call;
  if (call->kind == CallKind::Stream) {
    StreamState& attempt_state = *call->stream;
    attempt_state.status = 0;
    attempt_state.head_headers.clear();
    attempt_state.error_body.clear();
    attempt_state.stream_error.reset();
    attempt_state.decoder = providers::makeStreamDecoder(d.provider.kind);
    attempt_state.decoder->keepEvents(call->options.provider_events);
    attempt_state.assembler = providers::StreamAssembler();
    callbacks.on_head = [weak, seq](const http::HttpResponseHead& head) {
      auto c = weak.lock();
      if (!c) return;
      std::lock_guard g(c->mu);
      if (c->attempt_seq != seq) return;
      c->stream->status = head.status;
      c->stream->head_headers = head.headers;
    };
    callbacks.on_data = [this, weak, seq](std::string_view bytes) -> bool {
      auto c = weak.lock();
      if (!c) return false;
      std::vector<ChatChunk> deliver;
      {
        std::lock_guard g(c->mu);
        if (c->attempt_seq != seq || c->finished) return false;
        StreamState& st = *c->stream;
        if (st.status < 200 || st.status >= 300) {
          if (st.error_body.size() < 64 * 1024) st.error_body.append(bytes);
          return true;
        }
        auto fed = st.decoder->feed(
            bytes, [&](ChatChunk&& chunk) { st.pending_chunks.push_back(std::move(chunk)); });
        if (!fed) {
          st.stream_error = fed.error();
          return false;  // completes the attempt with Cancelled; the recorded error wins
        }
        takePendingChunks(*c, deliver);
      }
      return deliverChunks(*c, deliver);
    };
  }
  callbacks.on_complete = [this, weak, seq](Result<http::HttpResponse> result) {
    auto c = weak.lock();
    if (!c) return;
    std::vector<ChatChunk> deliver;
    {
      std::lock_guard g(c->mu);
      if (c->attempt_seq != seq || !c->in_attempt || c->finished) return;
      // The body's end may complete a last event (one sent without its closing blank line):
      // the caller gets its chunks like any other, before the call finishes.
      if (c->kind == CallKind::Stream && result && c->stream->status >= 200 &&
          c->stream->status < 300) {
        StreamState& st = *c->stream;
        if (!st.decoder->finish(
                [&](ChatChunk&& chunk) { st.pending_chunks.push_back(std::move(chunk)); })) {
          st.pending_chunks.clear();  // a truncated stream: onAttemptDone reports it
        }
        takePendingChunks(*c, deliver);
      }
    }
    if (!deliverChunks(*c, deliver)) {
      result = std::unexpected(Error(ErrorCode::Cancelled, "cancelled by the caller"));
    }
    onAttemptDone(c, std::move(result));
  };
  // The transport may complete on its loop thread at once; never hold our lock into it.
  lock.unlock();
  const http::RequestId id = transport_.send(std::move(request), std::move(callbacks));
  lock.lock();
  if (call->attempt_seq == seq && call->in_attempt) call->transport_id = id;
}

void ClientPoolImpl::takePendingChunks(Call& c, std::vector<ChatChunk>& deliver) {
  StreamState& st = *c.stream;
  deliver.swap(st.pending_chunks);
  for (auto& chunk : deliver) {
    if (chunk.created != 0) continue;
    if (st.created == 0) st.created = unixSeconds(executor_.clock().systemNow());
    chunk.created = st.created;
  }
  if (!deliver.empty() && !st.saw_first_chunk) {
    st.saw_first_chunk = true;
    c.committed = true;
    if (c.current) deliver.front().deployment = c.current->name;
    deliver.front().attempts = c.attempts;
    deliver.front().provider_request_id = providers::providerRequestId(st.head_headers);
    const Duration ttft = executor_.clock().now() - c.attempt_start;
    ttft_hist_.observe(ttft);
    if (c.current) {
      c.current->ttft_hist.observe(ttft);
      c.current->latency.recordTtft(ttft);
    }
  }
  for (const auto& chunk : deliver) st.assembler.add(chunk);
}

bool ClientPoolImpl::deliverChunks(Call& c, const std::vector<ChatChunk>& deliver) {
  for (const auto& chunk : deliver) {
    if (c.stream->on_chunk && !c.stream->on_chunk(chunk)) {
      std::lock_guard g(c.mu);
      c.stream->stream_error = Error(ErrorCode::Cancelled, "cancelled by the caller");
      return false;
    }
  }
  return true;
}

void ClientPoolImpl::onAttemptDone(const std::shared_ptr<Call>& call,
                                   Result<http::HttpResponse> result) {
  std::unique_lock lock(call->mu);
  if (call->finished || !call->in_attempt) return;
  Deployment& d = *call->current;
  const MonotonicTime now = executor_.clock().now();
  const Duration took = now - call->attempt_start;
  call->in_attempt = false;
  call->transport_id = 0;
  call->previous = &d;
  d.in_flight.fetch_sub(1, std::memory_order_relaxed);

  // Decode: a response of any status becomes either a value or one classified Error.
  std::optional<Error> error;
  std::optional<Usage> usage;
  int status = 0;
  if (!result) {
    error = result.error();
    // Why on_data aborted the transfer (decoder error, caller cancel) is the real cause.
    if (error->code == ErrorCode::Cancelled && call->stream && call->stream->stream_error) {
      error = *call->stream->stream_error;
    }
  } else {
    http::HttpResponse& resp = *result;
    status = call->kind == CallKind::Stream ? call->stream->status : resp.status;
    if (call->kind == CallKind::Stream && resp.headers.empty()) {
      resp.headers = call->stream->head_headers;
    }
    if (d.limiter) {
      d.limiter->syncFromHeaders(now, toLimits(providers::parseRateLimitHeaders(
                                          resp.headers, executor_.clock().systemNow())));
    }
    if (status < 200 || status >= 300) {
      const std::string& body =
          call->kind == CallKind::Stream ? call->stream->error_body : resp.body;
      error = providers::classifyHttpError(d.provider.kind, status, resp.headers, body,
                                           executor_.clock().systemNow());
    } else if (call->kind == CallKind::Chat) {
      auto decoded = providers::decodeChat(d.provider.kind, resp);
      if (decoded) {
        usage = decoded->usage;
        if (decoded->created == 0) decoded->created = unixSeconds(executor_.clock().systemNow());
        decoded->provider_request_id = providers::providerRequestId(resp.headers);
        providers::keepProviderBody(d.provider.kind, std::move(resp.body), *decoded);
        call->chat_result = std::move(*decoded);
      } else {
        error = decoded.error();
      }
    } else if (call->kind == CallKind::Stream) {
      StreamState& st = *call->stream;
      auto finished = st.decoder->finish([&](ChatChunk&& chunk) { st.assembler.add(chunk); });
      if (!finished) {
        error = finished.error();
      } else {
        ChatResponse assembled = st.assembler.response();
        assembled.provider_request_id = providers::providerRequestId(resp.headers);
        usage = assembled.usage;
        call->chat_result = std::move(assembled);
      }
    } else {
      auto decoded = providers::decodeEmbeddings(d.provider.kind, resp);
      if (decoded) {
        usage = decoded->usage;
        call->embed->result = std::move(*decoded);
      } else {
        error = decoded.error();
      }
    }
    if (!error && call->kind != CallKind::Stream) {
      const auto ttft =
          resp.time_to_first_byte.count() > 0 ? Duration(resp.time_to_first_byte) : took;
      ttft_hist_.observe(ttft);
      d.ttft_hist.observe(ttft);
      d.latency.recordTtft(ttft);
    }
  }

  Attempt attempt;
  attempt.deployment = d.name;
  attempt.start_offset = toMillis(call->attempt_start - call->started);
  attempt.duration = toMillis(took);
  if (status) attempt.http_status = status;

  if (!error) {
    // Success.
    d.breaker.onSuccess(now, call->ticket);
    d.healthy.store(true, std::memory_order_relaxed);
    d.latency.recordTotal(took);
    d.latency_hist.observe(took);
    d.successes.fetch_add(1, std::memory_order_relaxed);
    if (d.limiter && call->reservation) {
      d.limiter->settle(now, *call->reservation, usage ? usage->total_tokens : 0);
      call->reservation.reset();
    }
    const Usage u = usage.value_or(Usage{});
    const double cost = d.costOf(u);
    d.tokens_in.fetch_add(static_cast<uint64_t>(u.prompt_tokens), std::memory_order_relaxed);
    d.tokens_out.fetch_add(static_cast<uint64_t>(u.completion_tokens), std::memory_order_relaxed);
    d.cost_micro_usd.fetch_add(static_cast<uint64_t>(cost * 1e6 + 0.5), std::memory_order_relaxed);
    attempt.succeeded = true;
    call->trail.push_back(std::move(attempt));
    if (call->chat_result && *call->chat_result) {
      ChatResponse& r = **call->chat_result;
      r.deployment = d.name;
      r.attempts = call->attempts;
      r.cost_usd = cost;
      r.attempt_trail = std::move(call->trail);  // the call is finishing: nothing reads it after
    }
    if (call->embed && call->embed->result && *call->embed->result) {
      (*call->embed->result)->deployment = d.name;
      (*call->embed->result)->attempts = call->attempts;
      (*call->embed->result)->cost_usd = cost;
    }
    call->last_error.reset();
    finish(call, lock);
    return;
  }

  // Failure: settle the breaker, then decide whether and where to retry.
  Error e = std::move(*error);
  if (e.provider.empty()) e.provider = d.provider.name;
  d.failures.fetch_add(1, std::memory_order_relaxed);
  if (d.limiter && call->reservation) {
    d.limiter->settle(now, *call->reservation, 0);
    call->reservation.reset();
  }
  if (e.code != ErrorCode::Cancelled && resilience::RetryPolicy::countsAsBreakerFailure(e)) {
    d.breaker.onFailure(now, call->ticket);
  } else {
    d.breaker.onIgnored(call->ticket);
  }
  if (e.code == ErrorCode::RateLimited && e.retry_after) {
    // The provider told us how long this deployment is out: cool it down that long.
    d.breaker.coolDown(now, *e.retry_after);
  }
  if (e.code == ErrorCode::ConnectFailed) d.healthy.store(false, std::memory_order_relaxed);
  attempt.error = e.code;
  attempt.reason = e.message;
  call->trail.push_back(std::move(attempt));
  call->failed.push_back(&d);
  call->chat_result.reset();
  if (call->embed) call->embed->result.reset();
  if (call->stream) call->stream->saw_first_chunk = false;

  call->last_error = e;
  if (call->committed) {  // part of a stream reached the caller: never retry behind its back
    finish(call, lock);
    return;
  }
  // Is there somewhere else to go right now? Then retry there at once, without backoff.
  bool alternative = false;
  for (const auto& entry : *call->route) {
    const Deployment* other = entry.deployment;
    if (other == &d ||
        std::find(call->failed.begin(), call->failed.end(), other) != call->failed.end())
      continue;
    if (!config_.pool.failover && entry.priority != call->route->front().priority) continue;
    if (isOpen(other->breaker.state(now))) continue;
    if (!other->healthy.load(std::memory_order_relaxed)) continue;
    alternative = true;
    break;
  }
  resilience::RetryQuery query;
  query.attempts_made = call->attempts;
  query.time_left = call->deadline - now;
  query.other_deployment_available = alternative;
  if (call->max_attempts != retry_policy_.maxAttempts() && call->attempts >= call->max_attempts) {
    finish(call, lock);  // a per-request max_attempts below the pool's
    return;
  }
  const resilience::RetryPlan plan = retry_policy_.decide(now, e, query);
  switch (plan.decision) {
    case resilience::RetryDecision::RetryOtherNow:
      counters_.retries.fetch_add(1, std::memory_order_relaxed);
      lock.unlock();
      executor_.post([this, call] { tryNextAttempt(call); });
      return;
    case resilience::RetryDecision::RetrySameAfter:
      counters_.retries.fetch_add(1, std::memory_order_relaxed);
      scheduleRetry(call, plan.delay, lock);
      return;
    case resilience::RetryDecision::NoBudget:
      counters_.budget_exhausted.fetch_add(1, std::memory_order_relaxed);
      call->last_error->message += " (retry budget exhausted)";
      break;
    case resilience::RetryDecision::NoDeadline:
      call->last_error->message += " (no time left before the deadline to retry)";
      break;
    case resilience::RetryDecision::NoRetryAfterTooLong:
      call->last_error->message += " (Retry-After exceeds max_retry_after)";
      break;
    case resilience::RetryDecision::NoNonRetryable:
    case resilience::RetryDecision::NoAttemptsLeft:
      break;
  }
  finish(call, lock);
}

void ClientPoolImpl::settleBreaker(Call& call, Deployment& d, int outcome) {
  const MonotonicTime now = executor_.clock().now();
  if (outcome > 0) {
    d.breaker.onSuccess(now, call.ticket);
  } else if (outcome < 0) {
    d.breaker.onFailure(now, call.ticket);
  } else {
    d.breaker.onIgnored(call.ticket);
  }
}

void ClientPoolImpl::scheduleRetry(const std::shared_ptr<Call>& call, Duration delay,
                                   std::unique_lock<std::mutex>& lock) {
  std::weak_ptr<Call> weak = call;
  call->retry_timer = executor_.runAt(executor_.clock().now() + delay, [this, weak] {
    if (auto c = weak.lock()) tryNextAttempt(c);
  });
  (void)lock;
}

// ---------------------------------------------------------------------------------------------
// Completion, cancellation, shutdown

void ClientPoolImpl::cancelCall(const std::shared_ptr<Call>& call, ErrorCode code,
                                std::string why) {
  std::unique_lock lock(call->mu);
  if (call->finished) return;
  Error e(code, std::move(why));
  if (code == ErrorCode::DeadlineExceeded && call->last_error) {
    e.message += "; last error: " + call->last_error->describe();
  }
  if (call->in_attempt && call->current) {
    Deployment& d = *call->current;
    d.in_flight.fetch_sub(1, std::memory_order_relaxed);
    d.breaker.onIgnored(call->ticket);
    if (code == ErrorCode::DeadlineExceeded) {
      Attempt a;
      a.deployment = d.name;
      a.error = ErrorCode::Timeout;
      a.start_offset = toMillis(call->attempt_start - call->started);
      a.duration = toMillis(executor_.clock().now() - call->attempt_start);
      a.reason = "cut short by the request deadline";
      call->trail.push_back(std::move(a));
    }
    if (d.limiter && call->reservation) {
      d.limiter->settle(executor_.clock().now(), *call->reservation, 0);
      call->reservation.reset();
    }
    call->in_attempt = false;
    ++call->attempt_seq;  // the transport's Cancelled completion is now stale
    const http::RequestId id = call->transport_id;
    call->transport_id = 0;
    if (id) transport_.cancel(id);
  }
  call->last_error = std::move(e);
  call->chat_result.reset();
  if (call->embed) call->embed->result.reset();
  finish(call, lock);
}

void ClientPoolImpl::finish(const std::shared_ptr<Call>& call, std::unique_lock<std::mutex>& lock) {
  if (call->finished) return;
  call->finished = true;
  if (call->deadline_timer) executor_.cancelTimer(call->deadline_timer);
  if (call->retry_timer) executor_.cancelTimer(call->retry_timer);
  call->deadline_timer = call->retry_timer = 0;
  call->permit.reset();
  const Duration took = executor_.clock().now() - call->started;

  const bool ok = !call->last_error && (call->chat_result || (call->embed && call->embed->result));
  if (ok) {
    counters_.successes.fetch_add(1, std::memory_order_relaxed);
    latency_hist_.observe(took);
  } else {
    Error e = call->last_error.value_or(Error(ErrorCode::Internal, "request ended without result"));
    if (call->attempts > 0 && e.message.find("attempt") == std::string::npos) {
      e.message += " (after " + std::to_string(call->attempts) + " attempt" +
                   (call->attempts == 1 ? "" : "s") + ")";
    }
    e.attempts = std::move(call->trail);  // the call is finishing: nothing reads it after
    counters_.failures.fetch_add(1, std::memory_order_relaxed);
    counters_.failures_by_code[static_cast<size_t>(e.code)].fetch_add(1, std::memory_order_relaxed);
    if (call->kind == CallKind::Embed) {
      call->embed->result = std::unexpected(std::move(e));
    } else {
      call->chat_result = std::unexpected(std::move(e));
    }
  }
  counters_.in_flight.fetch_sub(1, std::memory_order_relaxed);
  {
    std::lock_guard calls_lock(calls_mu_);
    call_nodes_.erase(calls_, call->id);
  }
  // Deliver on the executor, never on the caller's own stack (complete() promises that).
  auto chat_done = std::move(call->done);
  EmbeddingCallback embed_done;
  std::optional<Result<EmbeddingResponse>> embed_result;
  if (call->embed) {
    embed_done = std::move(call->embed->done);
    embed_result = std::move(call->embed->result);
  }
  auto chat_result = std::move(call->chat_result);
  lock.unlock();
  if (call->kind == CallKind::Embed) {
    if (embed_done) {
      executor_.post([done = std::move(embed_done), r = std::move(*embed_result)]() mutable {
        done(std::move(r));
      });
    }
  } else if (chat_done) {
    executor_.post([done = std::move(chat_done), r = std::move(*chat_result)]() mutable {
      done(std::move(r));
    });
  }
  lock.lock();
}

void ClientPoolImpl::stop(std::chrono::milliseconds grace) {
  if (stopping_.exchange(true)) return;
  // New requests are refused from here (start() checks stopping_). Requests already accepted are
  // in flight for their callers even while they wait for a permit: they are admitted as running
  // ones finish, within the grace (a reload retires a pool with its queue still full).
  {
    std::lock_guard lock(calls_mu_);
    for (TimerId t : health_timers_) executor_.cancelTimer(t);
    health_timers_.clear();
  }
  auto live = [this] {
    std::lock_guard lock(calls_mu_);
    return calls_.size();
  };
  const auto until = std::chrono::steady_clock::now() + grace;
  // stop() is a control-path call that blocks by contract; poll the live-call count.
  while (live() > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  limiter_.shutdown();  // fails the waiters left; their calls are cancelled just below
  std::vector<std::shared_ptr<Call>> rest;
  {
    std::lock_guard lock(calls_mu_);
    for (auto& [id, c] : calls_) rest.push_back(c);
  }
  for (auto& c : rest) cancelCall(c, ErrorCode::Cancelled, "the pool stopped");
}

// ---------------------------------------------------------------------------------------------
// Statistics

PoolStats ClientPoolImpl::stats() const {
  PoolStats s;
  const auto rd = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  s.requests = rd(counters_.requests);
  s.successes = rd(counters_.successes);
  s.failures = rd(counters_.failures);
  s.attempts = rd(counters_.attempts);
  s.retries = rd(counters_.retries);
  s.failovers = rd(counters_.failovers);
  s.retry_budget_exhausted = rd(counters_.budget_exhausted);
  s.admission_rejections = rd(counters_.admission_rejections);
  s.in_flight = rd(counters_.in_flight);
  for (size_t i = 0; i < counters_.failures_by_code.size(); ++i) {
    if (uint64_t n = rd(counters_.failures_by_code[i]))
      s.failures_by_kind[std::string(errorCodeName(static_cast<ErrorCode>(i)))] = n;
  }
  for (size_t i = 0; i < static_cast<size_t>(SkipReason::Count); ++i) {
    if (uint64_t n = rd(counters_.skips_by_reason[i]))
      s.skips_by_reason[skipReasonName(static_cast<SkipReason>(i))] = n;
  }
  const auto ls = limiter_.stats();
  s.queue_depth = ls.queue_depth;
  s.permit_wait = summarize(permit_wait_hist_);
  s.latency = summarize(latency_hist_);
  s.ttft = summarize(ttft_hist_);
  const MonotonicTime now = executor_.clock().now();
  for (const auto& [alias, route] : routes_) {
    for (const auto& e : route) {
      const Deployment& d = *e.deployment;
      DeploymentStats ds;
      ds.alias = alias;
      ds.name = d.name;
      ds.provider = d.provider.name;
      ds.model = d.config.model;
      ds.priority = e.priority;
      ds.state = publicState(d.breaker.state(now));
      ds.healthy = d.healthy.load(std::memory_order_relaxed);
      ds.requests = rd(d.requests);
      ds.successes = rd(d.successes);
      ds.failures = rd(d.failures);
      ds.in_flight = rd(d.in_flight);
      const auto bc = d.breaker.counters();
      ds.breaker_trips = bc.trips_total;
      ds.repair_attempts = bc.repair_attempts_total;
      ds.breaker_rejections = bc.rejections_total;
      ds.tokens_in = rd(d.tokens_in);
      ds.tokens_out = rd(d.tokens_out);
      ds.cost_usd = static_cast<double>(rd(d.cost_micro_usd)) / 1e6;
      ds.latency = summarize(d.latency_hist);
      ds.ttft = summarize(d.ttft_hist);
      s.deployments.push_back(std::move(ds));
    }
  }
  // Totals over unique deployments (an alias may share one with another alias).
  for (const auto& d : deployments_) {
    const auto bc = d->breaker.counters();
    s.breaker_trips += bc.trips_total;
    s.repair_attempts += bc.repair_attempts_total;
    s.tokens_in += rd(d->tokens_in);
    s.tokens_out += rd(d->tokens_out);
    s.cost_usd += static_cast<double>(rd(d->cost_micro_usd)) / 1e6;
  }
  const auto ts = transport_.stats();
  s.pool_hits = ts.connections_reused;
  s.pool_misses = ts.connections_opened;
  s.connections_open = ts.connections_opened - ts.connections_closed;
  // Providers sharing a host (same base URL authority) share its connections: each reports them.
  for (const auto& provider : config_.providers) {
    ProviderConnectionStats pc;
    pc.provider = provider.name;
    const std::string host = http::hostKey(provider.base_url);
    for (const auto& h : ts.hosts) {
      if (h.host != host) continue;
      pc.connections_open = h.open;
      pc.connections_busy = h.busy;
      pc.connections_idle = h.idle;
      pc.pool_hits = h.reused;
      pc.pool_misses = h.opened;
    }
    s.providers.push_back(std::move(pc));
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Health probes: zero-token GETs off the request path; results feed routing.

Result<void> ClientPoolImpl::start() {
  {
    std::lock_guard lock(calls_mu_);
    if (stopping_) return fail(ErrorCode::Cancelled, "the pool is stopping");
    if (started_) return {};
    started_ = true;
  }
  warmConnections();
  if (!config_.pool.health_checks || config_.pool.health_check_interval.count() <= 0) return {};
  std::lock_guard lock(calls_mu_);
  for (size_t i = 0; i < config_.providers.size(); ++i) {
    health_timers_.push_back(
        executor_.runAt(executor_.clock().now() + config_.pool.health_check_interval,
                        [this, i] { probeHealth(i); }));
  }
  return {};
}

void ClientPoolImpl::warmConnections() {
  const int n = config_.pool.warm_connections;
  if (n <= 0) return;
  // Concurrent zero-token probes open up to n connections per provider (never more than its
  // cap); the connections stay in the cache for the first real requests.
  for (const auto& provider : config_.providers) {
    const Deployment* any = nullptr;
    for (const auto& d : deployments_) {
      if (&d->provider == &provider) any = d.get();
    }
    if (!any) continue;
    const int count =
        std::min(n, provider.max_connections.value_or(config_.pool.max_connections_per_provider));
    for (int i = 0; i < count; ++i) {
      http::HttpRequest probe = providers::encodeHealthProbe(any->endpoint, provider.health_path);
      probe.timeouts.total = std::min(config_.pool.connect_timeout, milliseconds(10'000));
      applyProviderSettings(probe, provider, config_.pool);
      http::ResponseCallbacks callbacks;
      callbacks.on_complete = [](Result<http::HttpResponse>) {};
      transport_.send(std::move(probe), std::move(callbacks));
    }
  }
}

void ClientPoolImpl::probeHealth(size_t provider_index) {
  if (stopping_) return;
  const ProviderConfig& provider = config_.providers[provider_index];
  const providers::Endpoint* endpoint = nullptr;
  for (const auto& d : deployments_) {
    if (&d->provider == &provider) endpoint = &d->endpoint;
  }
  auto reschedule = [this, provider_index] {
    std::lock_guard lock(calls_mu_);
    if (stopping_) return;
    health_timers_.push_back(
        executor_.runAt(executor_.clock().now() + config_.pool.health_check_interval,
                        [this, provider_index] { probeHealth(provider_index); }));
  };
  if (!endpoint) return;  // no deployment uses this provider
  http::HttpRequest probe = providers::encodeHealthProbe(*endpoint, provider.health_path);
  probe.timeouts.total = std::min(config_.pool.request_timeout, milliseconds(10'000));
  applyProviderSettings(probe, provider, config_.pool);
  http::ResponseCallbacks callbacks;
  callbacks.on_complete = [this, &provider, reschedule](Result<http::HttpResponse> r) {
    // Reachable and answering (even 401/404 for a missing models route) counts as healthy;
    // refused connections, timeouts and 5xx do not.
    const bool healthy = r.has_value() && r->status < 500;
    for (const auto& d : deployments_) {
      if (&d->provider == &provider) d->healthy.store(healthy, std::memory_order_relaxed);
    }
    reschedule();
  };
  transport_.send(std::move(probe), std::move(callbacks));
}

}  // namespace llmpool::pool
