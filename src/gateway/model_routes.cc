// Chat (both dialects) and embeddings through the pool. See model_routes.h.
//
// Threads: serveChat runs on the connection's I/O thread; chunk and completion callbacks arrive
// on pool threads. One mutex per exchange orders everything written to the ResponseWriter (it
// forwards calls FIFO to the I/O thread), so chunks, the final usage chunk and [DONE] leave in
// order whichever thread produced them.

#include "gateway/model_routes.h"

#include <cctype>
#include <memory>
#include <mutex>

#include "common/json_depth.h"
#include "gateway/attempt_headers.h"
#include "gateway/stream_usage.h"
#include "gateway/token_estimate.h"
#include "providers/anthropic_inbound.h"
#include "providers/anthropic_stream_encoder.h"
#include "providers/openai_inbound.h"
#include "providers/responses_inbound.h"
#include "providers/responses_stream_encoder.h"
#include "providers/sse_decoder.h"
#include "providers/wire_util.h"

namespace llmpool::gateway {

namespace {

namespace http = boost::beast::http;
using providers::dumpJson;

// Status logged and counted for a request whose client went away first (nginx's convention).
constexpr unsigned kClientClosedRequest = 499;

Route routeOf(Dialect dialect) {
  return dialect == Dialect::Anthropic ? Route::Messages : Route::ChatCompletions;
}

std::optional<Json> parseBody(const server::Request& request, Error& error) {
  if (!jsonDepthWithin(request.body())) {
    error = Error(ErrorCode::InvalidRequest, "body: " + jsonTooDeepMessage());
    return std::nullopt;
  }
  Json body = Json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    error = Error(ErrorCode::InvalidRequest, "body: not valid JSON");
    return std::nullopt;
  }
  return body;
}

// Prompt tokens are unknown before the provider answers; a chars/4 estimate plus the output
// bound is what the key's tpm bucket reserves, corrected by the real usage afterwards.
int64_t estimateTokens(const ChatRequest& r) {
  std::size_t chars = 0;
  for (const auto& m : r.messages) chars += m.content.size();
  return static_cast<int64_t>(chars / 4 + 1) + r.max_tokens.value_or(0);
}

}  // namespace

void ModelCall::respond(server::Response response) {
  response.set("x-request-id", request_id);
  writer.send(std::move(response));
}

RequestOptions ModelCall::poolOptions(std::string alias) const {
  RequestOptions options;
  options.model = std::move(alias);
  options.headers = trace_headers;
  options.headers.emplace_back("x-client-request-id", request_id);
  options.deadline = limits.deadline;
  options.max_attempts = limits.max_attempts;
  return options;
}

namespace {

server::Response jsonResponse(std::string body) {
  server::Response r{http::status::ok, 11};
  r.set(http::field::content_type, "application/json");
  r.body() = std::move(body);
  return r;
}

// The deployment serving a stream, from the first chunk's model, when the alias has exactly one
// deployment with that upstream model name (for completers whose chunks do not name it).
std::string deploymentForModel(const PoolConfig& config, const std::string& alias,
                               const std::string& model) {
  std::string_view matched;
  const auto* deployments = config.findRoute(alias, &matched);
  if (!deployments) return {};
  std::string found;
  for (const auto& d : *deployments) {
    if (upstreamModelName(d.model, matched) != model) continue;
    if (!found.empty()) return {};  // ambiguous
    found = d.provider + "/" + d.model;
  }
  return found;
}

// True when a deployment of `alias` speaks OpenAI's dialect, so that an Anthropic client's
// stream may be translated (and not passed through).
bool mayTranslate(const PoolConfig& config, const std::string& alias) {
  const auto* deployments = config.findRoute(alias);
  if (!deployments) return false;
  for (const auto& d : *deployments) {
    for (const auto& p : config.providers) {
      if (p.name == d.provider && p.kind != ProviderKind::Anthropic) return true;
    }
  }
  return false;
}

WireDialect wireDialectOf(Dialect dialect) {
  return dialect == Dialect::Anthropic ? WireDialect::Anthropic : WireDialect::OpenAI;
}

// The body of a non-streamed chat reply in the client's dialect. A provider reply in that same
// dialect goes out as it came (moved out of `r`), so what ChatResponse does not model (logprobs,
// system_fingerprint, usage details, thinking blocks) reaches the client, and nothing is
// re-encoded; any other is translated.
std::string replyBody(Dialect dialect, ChatResponse& r) {
  if (r.provider_dialect == wireDialectOf(dialect) && !r.provider_body.empty()) {
    return std::move(r.provider_body);
  }
  return dialect == Dialect::Anthropic ? dumpJson(providers::toAnthropicResponse(r))
                                       : providers::openAIChatResponseText(r);
}

// -------------------------------------------------------------------------------------------
// ChatExchange: one chat request in flight.

struct ChatExchange : std::enable_shared_from_this<ChatExchange> {
  ChatExchange(ModelCall c, Dialect d) : call(std::move(c)), dialect(d) {}

  ModelCall call;
  KeyLease lease;  // declared after `call` (which holds the generation owning the key)
  Dialect dialect;
  Route route = Route::ChatCompletions;
  bool stream = false;
  bool client_usage = false;  // OpenAI stream_options.include_usage as the client asked
  std::string alias;

  std::mutex mu;
  RequestHandle handle;       // guarded by mu
  bool disconnected = false;  // guarded by mu
  bool head_sent = false;     // guarded by mu
  bool usage_sent = false;    // guarded by mu
  bool done = false;          // guarded by mu
  bool raw_events = false;    // the provider's own events go out (Anthropic); guarded by mu
  std::optional<Duration> ttft;
  std::string upstream_request_id;  // the serving provider's, for the log line; guarded by mu
  // Made when first needed: only an Anthropic client's stream from an OpenAI-dialect provider
  // re-encodes chunks (an OpenAI stream or an Anthropic provider's does not carry its state).
  std::unique_ptr<providers::AnthropicStreamEncoder> encoder_;  // guarded by mu
  int64_t input_estimate = 0;  // for that stream's message_start (token_estimate.h)
  providers::AnthropicStreamEncoder& encoder() {
    if (!encoder_) {
      encoder_ = std::make_unique<providers::AnthropicStreamEncoder>();
      encoder_->setInputTokensEstimate(input_estimate);
    }
    return *encoder_;
  }
  // The reply cache's key for this request's reply, "" when it is not to be stored.
  std::string cache_key;
  // /v1/responses: the request settings its Response repeats, and its stream's encoder.
  Json responses_echo;
  std::unique_ptr<providers::ResponsesStreamEncoder> responses_encoder_;  // guarded by mu
  providers::ResponsesStreamEncoder& responsesEncoder() {
    if (!responses_encoder_) {
      responses_encoder_ = std::make_unique<providers::ResponsesStreamEncoder>(responses_echo);
    }
    return *responses_encoder_;
  }

  void start(ChatRequest request);
  bool onChunk(const ChatChunk& chunk);
  void onDone(Result<ChatResponse> result);
  void onDisconnect();
  void sendStreamHead(const std::string& deployment, std::optional<int> attempts,
                      std::string_view request_id);
  void finishLog(unsigned status, std::string_view deployment, int attempts, const Usage& usage,
                 std::string_view error_code);
};

void ChatExchange::start(ChatRequest request) {
  RequestOptions options = call.poolOptions(alias);
  // Usage is always asked of the provider (logs, metrics and the key's tpm need it); the client
  // gets the usage chunk only if it asked.
  request.include_usage = true;
  // A provider of the client's dialect streams its own events through unchanged (onChunk); a
  // Responses client's stream is always encoded here.
  options.provider_events = stream && route != Route::Responses;
  const auto self = shared_from_this();
  call.writer.onDisconnect([weak = weak_from_this()] {
    if (auto s = weak.lock()) s->onDisconnect();
  });
  ClientPool& pool = *call.generation->pool;
  RequestHandle h =
      stream ? pool.stream(
                   std::move(request), std::move(options),
                   [self](const ChatChunk& chunk) { return self->onChunk(chunk); },
                   [self](Result<ChatResponse> r) { self->onDone(std::move(r)); })
             : pool.complete(std::move(request), std::move(options),
                             [self](Result<ChatResponse> r) { self->onDone(std::move(r)); });
  bool cancel_now = false;
  {
    std::lock_guard lock(mu);
    handle = h;
    cancel_now = disconnected && !done;
  }
  if (cancel_now) h.cancel();  // the client left before the handle existed
}

void ChatExchange::onDisconnect() {
  RequestHandle h;
  {
    std::lock_guard lock(mu);
    if (done || disconnected) return;
    disconnected = true;
    h = handle;
  }
  call.shared.metrics.clientDisconnect();
  h.cancel();  // outside the lock: the pool may complete synchronously into onDone
}

void ChatExchange::sendStreamHead(const std::string& deployment, std::optional<int> attempts,
                                  std::string_view request_id) {
  server::ResponseHead head;
  head.result(http::status::ok);
  head.version(11);
  head.set(http::field::content_type, "text/event-stream");
  head.set(http::field::cache_control, "no-cache");
  if (!deployment.empty()) head.set("x-llmpool-deployment", deployment);
  if (attempts) head.set("x-llmpool-attempts", std::to_string(*attempts));
  setUpstreamRequestIdHeader(head, request_id);
  head.set("x-request-id", call.request_id);
  upstream_request_id = request_id;
  call.writer.startStream(std::move(head));
  head_sent = true;
}

bool ChatExchange::onChunk(const ChatChunk& chunk) {
  std::lock_guard lock(mu);
  if (done || disconnected || call.writer.clientGone()) return false;  // cancels upstream
  if (!head_sent) {
    ttft = MonotonicClock::now() - call.started;
    call.shared.metrics.timeToFirstChunk(route, *ttft);
    // The pool names the deployment on the first chunk; for a completer that does not, it is
    // inferred from the chunk's model.
    if (!chunk.deployment.empty()) {
      sendStreamHead(chunk.deployment, chunk.attempts, chunk.provider_request_id);
    } else {
      sendStreamHead(deploymentForModel(call.generation->config, alias, chunk.model), std::nullopt,
                     chunk.provider_request_id);
    }
  }
  if (route == Route::Responses) {
    if (chunk.only_event) return true;
    std::string events = responsesEncoder().encode(chunk);
    if (!events.empty()) call.writer.writeChunk(std::move(events));
    return true;
  }
  if (dialect == Dialect::Anthropic) {
    if (chunk.provider_dialect == WireDialect::Anthropic) {
      // The provider's event as it came: thinking and signature deltas, citations and pings,
      // which the chunk does not model, reach the client.
      raw_events = true;
      call.writer.writeChunk(providers::sseEventText(chunk.provider_event, chunk.provider_data));
      return true;
    }
    if (chunk.only_event) return true;
    std::string events = encoder().encode(chunk);
    if (!events.empty()) call.writer.writeChunk(std::move(events));
    return true;
  }
  if (chunk.only_event) return true;       // another dialect's event, with nothing to translate
  const bool strip_usage = !client_usage;  // usage is always asked of the provider
  if (chunk.usage && strip_usage) {
    if (!chunk.hasDelta()) return true;  // the usage chunk the client did not ask for
  }
  if (chunk.usage && !strip_usage) usage_sent = true;
  // The provider's own event when it has one (OpenAI dialect), so that what the chunk does not
  // model (logprobs and the like) reaches the client; else the chunk re-encoded.
  const std::string_view own =
      chunk.provider_dialect == WireDialect::OpenAI ? chunk.provider_data : std::string_view();
  std::string data = strip_usage ? withoutUsage(own) : std::string(own);
  if (data.empty() && strip_usage && chunk.usage) {
    ChatChunk stripped = chunk;
    stripped.usage.reset();
    data = dumpJson(providers::toOpenAIChunk(stripped));
  } else if (data.empty()) {
    data = dumpJson(providers::toOpenAIChunk(chunk));
  }
  call.writer.writeChunk("data: " + data + "\n\n");
  return true;
}

void ChatExchange::onDone(Result<ChatResponse> result) {
  std::unique_lock lock(mu);
  if (done) return;
  done = true;
  const bool gone = disconnected || call.writer.clientGone();
  if (!result) {
    const Error& e = result.error();
    unsigned status = kClientClosedRequest;
    if (!gone) {
      if (!head_sent) {
        server::Response r = errorResponse(dialect, e, ErrorOrigin::Upstream);
        status = r.result_int();
        call.respond(std::move(r));
      } else {
        // The status line went out with the first chunk; the failure travels in the stream.
        status = 200;
        call.writer.writeChunk(route == Route::Responses ? responsesEncoder().fail(e)
                                                         : streamErrorEvent(dialect, e));
        call.writer.finish();
      }
    }
    lock.unlock();
    lease.settle(MonotonicClock::now(), 0);
    std::string_view deployment;
    for (const auto& a : e.attempts) {
      if (!a.skipped) deployment = a.deployment;
    }
    finishLog(status, deployment, attemptsSent(e.attempts), Usage{}, errorCodeName(e.code));
    return;
  }
  ChatResponse& r = *result;
  if (upstream_request_id.empty()) upstream_request_id = r.provider_request_id;
  unsigned status = gone ? kClientClosedRequest : 200;
  if (!gone && !stream) {
    server::Response response = jsonResponse(
        route == Route::Responses ? dumpJson(providers::toResponsesResponse(r, responses_echo))
                                  : replyBody(dialect, r));
    setSuccessTrailHeaders(response.base(), r.deployment, r.attempts, r.attempt_trail);
    setUpstreamRequestIdHeader(response.base(), r.provider_request_id);
    if (!cache_key.empty()) {
      response.set("x-llmpool-cache", "miss");
      const size_t evicted = call.generation->cache->store(
          std::move(cache_key),
          CachedReply{response.body(), r.deployment, r.provider_request_id, r.usage},
          MonotonicClock::now());
      call.shared.metrics.cacheEvicted(evicted);
    }
    call.respond(std::move(response));
  } else if (!gone) {
    if (!head_sent) {  // nothing was streamed
      sendStreamHead(r.deployment, r.attempts, r.provider_request_id);
    }
    // An SSE comment (ignored by clients) carries the final trail for anyone reading raw.
    std::string tail =
        ": llmpool deployment=" + r.deployment + " attempts=" + std::to_string(r.attempts) + "\n\n";
    if (route == Route::Responses) {
      ChatChunk last;
      last.id = r.id;
      last.model = r.model;
      last.created = r.created;
      last.usage = r.usage;  // cumulative; response.completed reports it
      std::string events = responsesEncoder().encode(last);
      events += responsesEncoder().finish();
      call.writer.writeChunk(std::move(events) + tail);
    } else if (dialect == Dialect::Anthropic && raw_events) {
      // The provider's message_delta and message_stop went out as they came (the pool hands on
      // a last event that ended the body without its closing blank line too).
      call.writer.writeChunk(std::move(tail));
    } else if (dialect == Dialect::Anthropic) {
      ChatChunk last;
      last.id = r.id;
      last.model = r.model;
      last.usage = r.usage;  // cumulative; message_delta reports it
      std::string events = encoder().encode(last);
      events += encoder().finish();
      call.writer.writeChunk(std::move(events) + tail);
    } else {
      if (client_usage && !usage_sent) {
        ChatChunk usage;
        usage.id = r.id;
        usage.model = r.model;
        usage.created = r.created;
        usage.usage = r.usage;
        tail = "data: " + dumpJson(providers::toOpenAIChunk(usage)) + "\n\n" + tail;
      }
      call.writer.writeChunk(tail + "data: [DONE]\n\n");
    }
    call.writer.finish();
  }
  lock.unlock();
  lease.settle(MonotonicClock::now(), r.usage.prompt_tokens + r.usage.completion_tokens);
  lease.charge(std::chrono::system_clock::now(), r.cost_usd);
  finishLog(status, r.deployment, r.attempts, r.usage, "");
}

void ChatExchange::finishLog(unsigned status, std::string_view deployment, int attempts,
                             const Usage& usage, std::string_view error_code) {
  const Duration took = MonotonicClock::now() - call.started;
  call.shared.metrics.requestFinished(route, status, took, stream);
  RequestRecord rec;
  rec.route = routeName(route);
  rec.status = status;
  rec.key_name = lease.keyName();
  rec.alias = alias;
  rec.deployment = deployment;
  rec.upstream_request_id = upstream_request_id;
  rec.request_id = call.request_id;
  rec.attempts = attempts;
  rec.stream = stream;
  rec.duration = took;
  rec.ttft = ttft;
  rec.prompt_tokens = usage.prompt_tokens;
  rec.completion_tokens = usage.completion_tokens;
  rec.error_code = error_code;
  rec.remote = call.writer.remoteAddress();
  call.shared.logger.request(rec);
}

// Answers a request refused before it reached the pool, and accounts for it; the log names
// `log_code` (a key check's reason) or else the error's code.
void refuse(ModelCall& call, Dialect dialect, Route route, const Error& error,
            const std::string& alias, std::string_view key_name, std::string_view log_code = {});

// What the reply cache does for one request: `key` is "" when the reply is not stored (no cache,
// a stream, or Cache-Control: no-store); `lookup` is false when a stored reply must not answer it
// (Cache-Control: no-cache asks for a fresh reply, which is then stored).
struct CachePlan {
  std::string key;
  bool lookup = false;
};

// Whether a Cache-Control value has `directive` (lower-case), in any case.
bool hasDirective(std::string_view header, std::string_view directive) {
  for (size_t i = 0; i + directive.size() <= header.size(); ++i) {
    bool same = true;
    for (size_t j = 0; j < directive.size() && same; ++j) {
      same = std::tolower(static_cast<unsigned char>(header[i + j])) == directive[j];
    }
    if (same) return true;
  }
  return false;
}

CachePlan cachePlan(const ModelCall& call, Route route, const server::Request& request,
                    bool stream) {
  CachePlan plan;
  if (!call.generation->cache || stream) return plan;
  const std::string_view control = request[http::field::cache_control];
  if (hasDirective(control, "no-store")) return plan;
  plan.lookup = !hasDirective(control, "no-cache");
  // Headers that change the reply (Anthropic's beta features are asked for in one).
  const std::string_view beta = request["anthropic-beta"];
  plan.key = ReplyCache::keyOf(call.key ? std::string_view(call.key->name) : std::string_view(),
                               routeName(route), beta, request.body());
  return plan;
}

// Answers from the cache: no pool admission, no provider call, no tokens charged.
void serveCached(ModelCall& call, Route route, KeyLease& lease, const std::string& alias,
                 const CachedReply& hit) {
  server::Response response = jsonResponse(hit.body);
  response.set("x-llmpool-cache", "hit");
  // Who served the stored reply; nothing was sent this time.
  if (!hit.deployment.empty()) response.set("x-llmpool-deployment", hit.deployment);
  response.set("x-llmpool-attempts", "0");
  setUpstreamRequestIdHeader(response.base(), hit.upstream_request_id);
  const std::string& remote = call.writer.remoteAddress();  // the connection's, outlives send
  call.respond(std::move(response));
  const MonotonicTime now = MonotonicClock::now();
  lease.settle(now, 0);
  const Duration took = now - call.started;
  call.shared.metrics.requestFinished(route, 200, took, false);
  RequestRecord rec;
  rec.route = routeName(route);
  rec.status = 200;
  rec.key_name = lease.keyName();
  rec.alias = alias;
  rec.deployment = hit.deployment;
  rec.upstream_request_id = hit.upstream_request_id;
  rec.request_id = call.request_id;
  rec.cache_hit = true;
  rec.duration = took;
  rec.remote = remote;
  call.shared.logger.request(rec);
}

// Answers from the cache when the plan allows a lookup and a reply is there; false otherwise.
bool answeredFromCache(const CachePlan& plan, ModelCall& call, Route route, KeyLease& lease,
                       const std::string& alias) {
  if (!plan.lookup) return false;
  auto hit = call.generation->cache->find(plan.key, MonotonicClock::now());
  call.shared.metrics.cacheLookup(hit != nullptr);
  if (hit) serveCached(call, route, lease, alias, *hit);
  return hit != nullptr;
}

// Admits `chat` on the caller's key, answers it from the cache when the plan allows and a reply
// is there, else starts its exchange; `prepare` sets what the route adds to the exchange.
template <typename Prepare>
void admitAndStart(ModelCall call, Dialect dialect, Route route, ChatRequest chat, CachePlan plan,
                   Prepare&& prepare) {
  auto lease = KeyRing::admit(call.key, chat.model, MonotonicClock::now(), estimateTokens(chat));
  if (!lease) {
    call.shared.metrics.authFailure(lease.error().reason);
    return refuse(call, dialect, route, lease.error().error, chat.model,
                  call.key ? call.key->name : "", authFailureName(lease.error().reason));
  }
  if (answeredFromCache(plan, call, route, *lease, chat.model)) return;
  auto exchange = std::make_shared<ChatExchange>(std::move(call), dialect);
  exchange->cache_key = std::move(plan.key);
  exchange->lease = std::move(*lease);
  exchange->route = route;
  exchange->stream = chat.stream;
  exchange->client_usage = chat.include_usage;
  exchange->alias = chat.model;
  prepare(*exchange);
  exchange->start(std::move(chat));
}

// Answers a request refused before it reached the pool, and accounts for it.
void refuse(ModelCall& call, Dialect dialect, Route route, const Error& error,
            const std::string& alias, std::string_view key_name, std::string_view log_code) {
  server::Response r = errorResponse(dialect, error, ErrorOrigin::Gateway);
  const unsigned status = r.result_int();
  const std::string& remote = call.writer.remoteAddress();  // the connection's, outlives send
  call.respond(std::move(r));
  const Duration took = MonotonicClock::now() - call.started;
  call.shared.metrics.requestFinished(route, status, took, false);
  RequestRecord rec;
  rec.route = routeName(route);
  rec.status = status;
  rec.key_name = key_name;
  rec.alias = alias;
  rec.duration = took;
  rec.error_code = log_code.empty() ? errorCodeName(error.code) : log_code;
  rec.request_id = call.request_id;
  rec.remote = remote;
  call.shared.logger.request(rec);
}

}  // namespace

void serveChat(Dialect dialect, server::Request&& request, ModelCall call) {
  const Route route = routeOf(dialect);
  call.shared.metrics.requestStarted();
  Error error;
  // The common OpenAI request is read straight from the text; anything else (and every error)
  // goes through the DOM parser, whose messages name the offending field.
  std::optional<ChatRequest> fast;
  if (dialect == Dialect::OpenAI) fast = providers::parseOpenAIChatRequestText(request.body());
  if (!fast) {
    auto body = parseBody(request, error);
    if (!body) return refuse(call, dialect, route, error, "", call.key ? call.key->name : "");
    auto parsed = dialect == Dialect::Anthropic ? providers::parseAnthropicRequest(*body)
                                                : providers::parseOpenAIChatRequest(*body);
    if (!parsed) {
      return refuse(call, dialect, route, parsed.error(), "", call.key ? call.key->name : "");
    }
    fast = std::move(*parsed);
  }
  ChatRequest chat = std::move(*fast);
  // An Anthropic client's stream from an OpenAI-dialect provider learns its input tokens only at
  // the end; its message_start reports this estimate. Counted only where such a provider may
  // serve (the body is read once more).
  int64_t input_estimate = 0;
  if (dialect == Dialect::Anthropic && chat.stream &&
      mayTranslate(call.generation->config, chat.model)) {
    input_estimate = estimateInputTokens(request.body()).value_or(0);
  }
  CachePlan plan = cachePlan(call, route, request, chat.stream);
  // A provider of the client's dialect is sent the client's own body (forwarded_body.h); parsed,
  // it is not read here again.
  chat.source_body = std::move(request.body());
  if (dialect == Dialect::Anthropic) {
    // Beta features (interleaved thinking, longer contexts, ...) are asked for in a header.
    if (auto beta = request.find("anthropic-beta"); beta != request.end()) {
      chat.source_headers.emplace_back("anthropic-beta", std::string(beta->value()));
    }
  }
  chat.source_dialect = wireDialectOf(dialect);
  admitAndStart(std::move(call), dialect, route, std::move(chat), std::move(plan),
                [&](ChatExchange& exchange) { exchange.input_estimate = input_estimate; });
}

void serveResponses(const server::Request& request, ModelCall call) {
  constexpr Route route = Route::Responses;
  call.shared.metrics.requestStarted();
  const std::string key_name = call.key ? call.key->name : "";
  Error error;
  auto body = parseBody(request, error);
  if (!body) return refuse(call, Dialect::OpenAI, route, error, "", key_name);
  auto parsed = providers::parseResponsesRequest(*body);
  if (!parsed) return refuse(call, Dialect::OpenAI, route, parsed.error(), "", key_name);
  // Translated for every provider: no provider is sent the client's body (source_body stays
  // empty), since none is asked for the Responses API.
  CachePlan plan = cachePlan(call, route, request, parsed->stream);
  admitAndStart(
      std::move(call), Dialect::OpenAI, route, std::move(*parsed), std::move(plan),
      [&](ChatExchange& exchange) { exchange.responses_echo = providers::responsesEcho(*body); });
}

// ---------------------------------------------------------------------------------------------
// Embeddings

void serveEmbeddings(const server::Request& request, ModelCall call) {
  constexpr Route route = Route::Embeddings;
  call.shared.metrics.requestStarted();
  const std::string key_name = call.key ? call.key->name : "";
  Error error;
  auto body = parseBody(request, error);
  if (!body) return refuse(call, Dialect::OpenAI, route, error, "", key_name);
  auto parsed = providers::parseOpenAIEmbeddingRequest(*body);
  if (!parsed) return refuse(call, Dialect::OpenAI, route, parsed.error(), "", key_name);
  EmbeddingRequest req = std::move(*parsed);
  std::size_t chars = 0;
  for (const auto& s : req.input) chars += s.size();
  auto lease = KeyRing::admit(call.key, req.model, MonotonicClock::now(),
                              static_cast<int64_t>(chars / 4 + 1));
  if (!lease) {
    call.shared.metrics.authFailure(lease.error().reason);
    return refuse(call, Dialect::OpenAI, route, lease.error().error, req.model, key_name,
                  authFailureName(lease.error().reason));
  }
  CachePlan plan = cachePlan(call, route, request, false);
  if (answeredFromCache(plan, call, route, *lease, req.model)) return;
  struct State {
    ModelCall call;
    KeyLease lease;
    std::string alias;
    bool base64 = false;
    std::string cache_key;
  };
  auto state = std::make_shared<State>(State{std::move(call), std::move(*lease), req.model,
                                             req.encoding_format == "base64", std::move(plan.key)});
  // The provider is always asked for floats; base64 is the gateway's own encoding.
  req.encoding_format.clear();
  RequestOptions options = state->call.poolOptions(state->alias);
  ClientPool& pool = *state->call.generation->pool;
  RequestHandle handle =
      pool.embed(std::move(req), std::move(options), [state](Result<EmbeddingResponse> r) {
        const bool gone = state->call.writer.clientGone();
        unsigned status = 499;
        RequestRecord rec;
        if (r) {
          if (!gone) {
            server::Response response =
                jsonResponse(dumpJson(providers::toOpenAIEmbeddingResponse(*r, state->base64)));
            setSuccessTrailHeaders(response.base(), r->deployment, r->attempts, {});
            if (!state->cache_key.empty()) {
              response.set("x-llmpool-cache", "miss");
              const Usage usage{r->usage.prompt_tokens, 0, r->usage.total_tokens};
              state->call.shared.metrics.cacheEvicted(state->call.generation->cache->store(
                  std::move(state->cache_key),
                  CachedReply{response.body(), r->deployment, "", usage}, MonotonicClock::now()));
            }
            state->call.respond(std::move(response));
            status = 200;
          }
          state->lease.settle(MonotonicClock::now(), r->usage.total_tokens);
          state->lease.charge(std::chrono::system_clock::now(), r->cost_usd);
          rec.deployment = r->deployment;
          rec.attempts = r->attempts;
          rec.prompt_tokens = r->usage.prompt_tokens;
        } else {
          if (!gone) {
            server::Response response =
                errorResponse(Dialect::OpenAI, r.error(), ErrorOrigin::Upstream);
            status = response.result_int();
            state->call.respond(std::move(response));
          }
          state->lease.settle(MonotonicClock::now(), 0);
          rec.attempts = attemptsSent(r.error().attempts);
          rec.error_code = errorCodeName(r.error().code);
        }
        const Duration took = MonotonicClock::now() - state->call.started;
        state->call.shared.metrics.requestFinished(route, status, took, false);
        rec.route = routeName(route);
        rec.status = status;
        rec.key_name = state->lease.keyName();
        rec.request_id = state->call.request_id;
        rec.alias = state->alias;
        rec.duration = took;
        rec.remote = state->call.writer.remoteAddress();
        state->call.shared.logger.request(rec);
      });
  // A client that leaves cancels the embedding too.
  auto& shared = state->call.shared;
  state->call.writer.onDisconnect([handle, &shared] {
    shared.metrics.clientDisconnect();
    handle.cancel();
  });
}

}  // namespace llmpool::gateway
