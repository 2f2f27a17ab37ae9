#include "mock/mock_provider.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/field.hpp>
#include <charconv>
#include <ctime>

#include "mock/mock_wire.h"

namespace llmpool::mock {

namespace http = boost::beast::http;
using server::Response;
using server::ResponseHead;
using server::ResponseWriter;
using namespace std::chrono_literals;

namespace {

std::string_view pathOf(std::string_view target) { return target.substr(0, target.find('?')); }

boost::beast::string_view bsv(std::string_view s) { return {s.data(), s.size()}; }

Response jsonResponse(unsigned status, std::string body) {
  Response response{static_cast<http::status>(status), 11};
  response.set(http::field::content_type, "application/json");
  response.body() = std::move(body);
  return response;
}

std::string adminError(std::string_view message) {
  return errorBody(Endpoint::ChatCompletions, 400, message, "");
}

}  // namespace

// ---- One model request ---------------------------------------------------------------------

// Everything about one model request, from arrival to the end of its response. Lives on the
// connection's I/O thread only (handler, timers and disconnect callbacks all run there).
struct MockProvider::Call : std::enable_shared_from_this<Call> {
  Call(MockProvider& m, ResponseWriter w) : mock(m), writer(std::move(w)) {}

  MockProvider& mock;
  ResponseWriter writer;
  std::optional<boost::asio::steady_timer> timer;  // only for delays and pacing
  Endpoint endpoint = Endpoint::ChatCompletions;
  std::string request_id;   // "req_<hex>"
  std::string response_id;  // "chatcmpl-<hex>" / "msg_<hex>"
  int64_t created = 0;
  std::optional<FaultRule> fault;
  std::optional<std::string> invalid;  // why the request could not be served (400)
  ChatPrompt prompt;
  LoggedHeaders headers;  // for the request log
  MockReply reply;
  EmbeddingsPrompt embeddings;
  StreamScript script;
  std::size_t next_event = 0;
  std::size_t end_event = 0;
  bool waited_for_pace = false;
  bool done = false;
  bool watching_disconnect = false;

  bool faultIs(FaultKind kind) const { return fault && fault->kind == kind; }

  /** in_flight goes down exactly once, whichever of answer / reset / client exit comes first. */
  void finish() {
    if (done) return;
    done = true;
    mock.stats_.onDone();
  }

  void watchDisconnect() {
    if (watching_disconnect) return;
    watching_disconnect = true;
    writer.onDisconnect([weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        if (self->timer) self->timer->cancel();
        self->finish();
      }
    });
  }

  void wait(std::chrono::nanoseconds delay, void (Call::*next)()) {
    waitUntil(std::chrono::steady_clock::now() + delay, next);
  }

  void waitUntil(std::chrono::steady_clock::time_point due, void (Call::*next)()) {
    if (!timer) timer.emplace(writer.executor());
    watchDisconnect();
    timer->expires_at(due);
    timer->async_wait([self = shared_from_this(), next](boost::system::error_code ec) {
      if (ec || self->done) return;
      ((*self).*next)();
    });
  }

  Response response(unsigned status, std::string body) const {
    Response r = jsonResponse(status, std::move(body));
    r.set("x-request-id", request_id);
    if (isAnthropic(endpoint)) r.set("request-id", request_id);
    return r;
  }

  void sendError(int status, std::string_view message) {
    Response r =
        response(static_cast<unsigned>(status), errorBody(endpoint, status, message, request_id));
    if (fault && fault->retry_after) r.set(http::field::retry_after, bsv(*fault->retry_after));
    if (fault && fault->retry_after_ms) r.set("retry-after-ms", bsv(*fault->retry_after_ms));
    writer.send(std::move(r));
  }

  /** Answers (after any delay). */
  void act() {
    if (fault) {
      switch (fault->kind) {
        case FaultKind::Status:
          sendError(fault->status, "mock fault: injected status " + std::to_string(fault->status));
          return finish();
        case FaultKind::Reset:
          writer.abort();
          return finish();
        case FaultKind::Hang:
          // Never answer. The callback holds this call (and so the writer) until the client
          // leaves; dropping the writer would make the server answer 500.
          writer.onDisconnect([self = shared_from_this()] { self->finish(); });
          return;
        case FaultKind::Malformed:
          writer.send(response(200, R"({"id":"mock","choices":[{"message": this is not JSON)"));
          return finish();
        default:
          break;
      }
    }
    if (invalid) {
      sendError(400, *invalid);
      return finish();
    }
    switch (endpoint) {
      case Endpoint::Models:
        writer.send(response(200, modelsBody()));
        return finish();
      case Endpoint::Embeddings:
        writer.send(response(200, embeddingsBody(embeddings, mock.options_.embedding_dim)));
        return finish();
      case Endpoint::ChatCompletions:
      case Endpoint::Messages:
        break;
    }
    if (prompt.stream) return startStream();
    const WireContext ctx{response_id, prompt.model, created};
    std::string body = endpoint == Endpoint::Messages ? anthropicMessage(ctx, reply)
                                                      : openaiCompletion(ctx, reply);
    if (faultIs(FaultKind::ResetMidStream)) {
      // Not a stream: send half the body, then reset (a response cut short mid-body).
      ResponseHead head = response(200, "").base();
      writer.startStream(std::move(head));
      writer.writeChunk(body.substr(0, body.size() / 2));
      writer.abort();
      return finish();
    }
    if (faultIs(FaultKind::Truncate)) body.resize(body.size() / 2);  // complete, but not JSON
    writer.send(response(200, std::move(body)));
    finish();
  }

  void startStream() {
    const WireContext ctx{response_id, prompt.model, created};
    script = endpoint == Endpoint::Messages ? anthropicStream(ctx, reply)
                                            : openaiStream(ctx, reply, prompt.include_usage);
    end_event = script.events.size();
    if (faultIs(FaultKind::ResetMidStream) || faultIs(FaultKind::Truncate)) {
      end_event = script.first_content + static_cast<std::size_t>(std::min<uint64_t>(
                                             fault->after_chunks, script.content_count));
    }
    ResponseHead head = response(200, "").base();
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    writer.startStream(std::move(head));
    pump();
  }

  /** Writes stream events, pausing between content chunks at the configured pace. */
  void pump() {
    const double tps = mock.options_.tokens_per_second;
    while (next_event < end_event) {
      if (writer.clientGone()) return finish();
      const bool content = next_event > script.first_content &&
                           next_event < script.first_content + script.content_count;
      if (content && tps > 0 && !waited_for_pace) {
        waited_for_pace = true;
        return wait(std::chrono::nanoseconds(static_cast<int64_t>(1e9 / tps)), &Call::pump);
      }
      waited_for_pace = false;
      writer.writeChunk(std::move(script.events[next_event++]));
    }
    if (faultIs(FaultKind::ResetMidStream)) {
      writer.abort();
    } else {
      writer.finish();  // Truncate ends here too: cleanly, without [DONE] / message_stop
    }
    finish();
  }
};

// ---- MockProvider --------------------------------------------------------------------------

Result<std::unique_ptr<MockProvider>> MockProvider::create(MockOptions options) {
  if (options.embedding_dim < 1)
    return fail(ErrorCode::InvalidConfig, "embedding-dim must be >= 1");
  if (options.tokens_per_second < 0) {
    return fail(ErrorCode::InvalidConfig, "tokens-per-second must be >= 0");
  }
  options.server.receive_timestamps = true;  // latency counts from arrival (handleModel)
  std::unique_ptr<MockProvider> mock(new MockProvider(std::move(options)));
  auto server = server::Server::create(
      mock->options_.server, [m = mock.get()](server::Request&& request, ResponseWriter writer) {
        m->handle(std::move(request), std::move(writer));
      });
  if (!server) return std::unexpected(server.error());
  mock->server_ = std::move(*server);
  return mock;
}

MockProvider::MockProvider(MockOptions options)
    : options_(std::move(options)), latency_(options_.latency, options_.latency_p99) {
  setFaults(options_.faults);
}

MockProvider::~MockProvider() {
  if (server_) server_->stop(0ms);
}

void MockProvider::start() { server_->start(); }

void MockProvider::stop(std::chrono::milliseconds grace) { server_->stop(grace); }

std::string MockProvider::baseUrl() const {
  const bool tls = !options_.server.tls_cert_file.empty();
  std::string host = options_.server.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return (tls ? "https://" : "http://") + host + ":" + std::to_string(port());
}

void MockProvider::setFaults(std::vector<FaultRule> rules) {
  const bool any = !rules.empty();
  faults_.store(std::make_shared<FaultSet>(std::move(rules), MonotonicClock::now()));
  has_faults_.store(any, std::memory_order_release);
}

MockRandom& MockProvider::random() {
  // One generator per I/O thread: no sharing, no lock. Seeded from --seed and the thread's order
  // of first use.
  struct PerThread {
    const MockProvider* owner = nullptr;
    MockRandom random{0};
  };
  thread_local PerThread state;
  if (state.owner != this) {
    state.owner = this;
    state.random = MockRandom(options_.seed * 0x9E3779B97F4A7C15ull +
                              next_thread_seed_.fetch_add(1, std::memory_order_relaxed));
  }
  return state.random;
}

void MockProvider::handle(server::Request&& request, ResponseWriter writer) {
  const std::string_view path = pathOf({request.target().data(), request.target().size()});
  if (auto endpoint = endpointForPath(path)) {
    const bool get = endpoint == Endpoint::Models;
    const auto method = request.method();
    if ((get && method != http::verb::get) || (!get && method != http::verb::post)) {
      writer.send(jsonResponse(405, errorBody(*endpoint, 405, "method not allowed", "")));
      return;
    }
    return handleModel(*endpoint, request, writer);
  }
  if (path == "/health") {
    writer.send(jsonResponse(200, R"({"status":"ok"})"));
    return;
  }
  if (path.starts_with("/admin/")) return handleAdmin(path, request, writer);
  writer.send(jsonResponse(
      404, errorBody(Endpoint::ChatCompletions, 404, "unknown path " + std::string(path), "")));
}

void MockProvider::handleModel(Endpoint endpoint, server::Request& request,
                               ResponseWriter& writer) {
  stats_.markModelConnection(writer.connectionData());
  stats_.onArrival();
  auto call = std::make_shared<Call>(*this, std::move(writer));
  call->endpoint = endpoint;
  char id[24];
  auto [end, ec] = std::to_chars(id, id + sizeof id,
                                 next_request_id_.fetch_add(1, std::memory_order_relaxed) + 1, 16);
  (void)ec;
  call->request_id.reserve(20);
  call->request_id.append("req_").append(id, end);
  call->response_id.append(endpoint == Endpoint::Messages ? "msg_" : "chatcmpl-").append(id, end);
  call->created = static_cast<int64_t>(std::time(nullptr));

  // Faults: the request's own header first, then the installed rules.
  if (auto header = request.find("x-mock-fault"); header != request.end()) {
    auto rule = parseFaultRuleText({header->value().data(), header->value().size()});
    if (!rule) {
      call->invalid = "x-mock-fault: " + rule.error().message;
    } else if ((!rule->path || *rule->path == endpoint) &&
               (rule->rate >= 1.0 || random().uniform() < rule->rate)) {
      call->fault = std::move(*rule);
    }
  }
  if (!call->fault && !call->invalid && has_faults_.load(std::memory_order_acquire)) {
    auto set = faults_.load();
    if (const FaultRule* rule = set->match(endpoint, MonotonicClock::now(), random())) {
      call->fault = *rule;
    }
  }

  for (auto [name, out] : {std::pair{"anthropic-beta", &call->headers.anthropic_beta},
                           std::pair{"x-client-request-id", &call->headers.client_request_id},
                           std::pair{"traceparent", &call->headers.traceparent}}) {
    if (auto it = request.find(name); it != request.end()) {
      out->assign(it->value().data(), it->value().size());
    }
  }

  if (!call->invalid) {
    const std::string_view body = request.body();
    if (endpoint == Endpoint::ChatCompletions || endpoint == Endpoint::Messages) {
      if (auto prompt = parseChatRequest(body, endpoint)) {
        call->prompt = std::move(*prompt);
        call->reply = deriveReply(call->prompt);
      } else {
        call->invalid = prompt.error().message;
      }
    } else if (endpoint == Endpoint::Embeddings) {
      if (auto prompt = parseEmbeddingsRequest(body)) {
        call->embeddings = std::move(*prompt);
      } else {
        call->invalid = prompt.error().message;
      }
    }
  }

  // Record the outcome now (arrival order), before any delay.
  int status = call->invalid ? 400 : 200;
  int slot = status;
  std::string_view fault_name;
  if (call->fault) {
    fault_name = faultKindName(call->fault->kind);
    switch (call->fault->kind) {
      case FaultKind::Status:
        status = slot = call->fault->status;
        break;
      case FaultKind::Reset:
        status = 0;
        slot = MockStats::ResetSlot;
        break;
      case FaultKind::Hang:
        status = 0;
        slot = MockStats::HangSlot;
        break;
      case FaultKind::Malformed:
        status = slot = 200;
        break;
      default:
        break;
    }
  }
  stats_.countOutcome(endpoint, slot);
  const std::string_view model =
      endpoint == Endpoint::Embeddings ? call->embeddings.model : call->prompt.model;
  stats_.log(endpoint, model, call->prompt.last_user, status, fault_name, std::move(call->headers));

  std::chrono::nanoseconds delay = latency_.alwaysZero() ? 0ns : latency_.sample(random());
  if (call->faultIs(FaultKind::SlowFirstByte)) delay += call->fault->delay;
  // Counted from the request's arrival at the socket (the server's receive stamp), so the time
  // it waited for a busy I/O thread is part of the delay, not added to it: under a burst of
  // requests the replies still come `delay` after each one arrived.
  if (delay > 0ns) return call->waitUntil(call->writer.arrivedAt() + delay, &Call::act);
  call->act();
}

void MockProvider::handleAdmin(std::string_view path, const server::Request& request,
                               ResponseWriter& writer) {
  const auto method = request.method();
  if (path == "/admin/stats" && method == http::verb::get) {
    writer.send(jsonResponse(200, stats_.statsJson(server_->stats())));
  } else if (path == "/admin/stats/reset" && method == http::verb::post) {
    stats_.reset(server_->stats());
    writer.send(jsonResponse(200, R"({"ok":true})"));
  } else if (path == "/admin/requests" && method == http::verb::get) {
    writer.send(jsonResponse(200, stats_.requestsJson()));
  } else if (path == "/admin/faults" && method == http::verb::post) {
    auto rules = parseFaultList(request.body());
    if (!rules) {
      writer.send(jsonResponse(400, adminError(rules.error().message)));
      return;
    }
    setFaults(std::move(*rules));
    writer.send(jsonResponse(200, R"({"ok":true})"));
  } else {
    writer.send(
        jsonResponse(404, errorBody(Endpoint::ChatCompletions, 404,
                                    "unknown admin call " + std::string(request.method_string()) +
                                        " " + std::string(path),
                                    "")));
  }
}

}  // namespace llmpool::mock
