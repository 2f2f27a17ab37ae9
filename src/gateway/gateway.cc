#include "gateway/gateway.h"

#include <algorithm>
#include <ctime>

#include "config/config_loader.h"
#include "gateway/config_diff.h"
#include "gateway/count_tokens.h"
#include "gateway/error_mapping.h"
#include "gateway/model_routes.h"
#include "gateway/request_id.h"
#include "metrics/prometheus_text.h"
#include "pool/hosted_pool.h"
#include "providers/wire_util.h"

namespace llmpool::gateway {

namespace {

namespace http = boost::beast::http;
using std::chrono::milliseconds;

server::Response textResponse(unsigned status, std::string body, std::string_view type) {
  server::Response r{static_cast<http::status>(status), 11};
  r.set(http::field::content_type, type);
  r.body() = std::move(body);
  return r;
}

std::string_view pathOf(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

// UTC "YYYY-MM-DDTHH:MM:SSZ".
std::string rfc3339(int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// An alias as a model object of both dialects: OpenAI's (`object`, `created`, `owned_by`) and
// Anthropic's (`type`, `display_name`, `created_at`); each SDK reads its own members.
Json modelEntry(const std::string& alias, int64_t created) {
  return {{"id", alias},
          {"object", "model"},
          {"created", created},
          {"owned_by", "llmpool"},
          {"type", "model"},
          {"display_name", alias},
          {"created_at", rfc3339(created)}};
}

}  // namespace

PoolConfig withGatewayDefaults(PoolConfig config) {
  if (config.gateway.threads == 0) {
    const int cores = static_cast<int>(std::thread::hardware_concurrency());
    config.gateway.threads = std::clamp(cores, 1, kMaxAutomaticThreads);
  }
  return config;
}

bool hostsPoolLoops(const PoolConfig& config) { return config.pool.io_threads == 0; }

Result<ListenAddress> checkGatewayConfig(const PoolConfig& config,
                                         const std::optional<std::string>& listen_override) {
  auto address = parseListenAddress(listen_override.value_or(config.gateway.listen));
  if (!address) return std::unexpected(address.error());
  if (config.gateway.keys.empty() && !isLoopbackHost(address->host) &&
      !config.gateway.allow_unauthenticated) {
    return fail(ErrorCode::InvalidConfig,
                "no gateway.keys are configured, so the gateway listens on loopback only; "
                "\"" +
                    address->host +
                    "\" is not loopback (add keys, or set "
                    "gateway.allow_unauthenticated: true to serve without them)");
  }
  return address;
}

Gateway::Gateway(GatewayOptions options, std::shared_ptr<GatewayShared> shared)
    : options_(std::move(options)), shared_(std::move(shared)) {}

Result<std::unique_ptr<Gateway>> Gateway::create(GatewayOptions options) {
  options.config = withGatewayDefaults(std::move(options.config));
  auto address = checkGatewayConfig(options.config, options.listen);
  if (!address) return std::unexpected(address.error());
  auto shared = std::make_shared<GatewayShared>();
  const LogLevel level = options.log_level.value_or(
      parseLogLevel(options.config.gateway.log_level).value_or(LogLevel::Info));
  shared->logger.setThreshold(level);

  const GatewayConfig& g = options.config.gateway;
  server::ServerOptions so;
  so.host = address->host;
  so.port = address->port;
  so.threads = g.threads;
  so.thread_slice = std::chrono::microseconds(g.thread_slice_us);
  so.max_body_bytes = g.max_body_bytes;
  so.max_buffered_bytes = g.max_buffered_bytes;
  so.max_header_bytes = g.max_header_bytes;
  so.read_timeout = g.read_timeout;
  so.write_timeout = g.write_timeout;
  so.max_connections = static_cast<std::size_t>(g.max_connections);

  std::unique_ptr<Gateway> gw(new Gateway(std::move(options), shared));
  Gateway* raw = gw.get();
  // The server first: with thread-per-core its threads run the pool's loops.
  auto server = server::Server::create(so, [raw](server::Request&& req, server::ResponseWriter w) {
    raw->handle(std::move(req), std::move(w));
  });
  if (!server) return std::unexpected(server.error());
  gw->server_ = std::move(*server);
  if (auto ledger = gw->openLedger(gw->options_.config); !ledger) {
    return std::unexpected(ledger.error());
  }
  auto pool = gw->createPool(gw->options_.config);
  if (!pool) return std::unexpected(pool.error());
  gw->current_.store(std::make_shared<const Generation>(1, gw->options_.config, std::move(*pool),
                                                        shared->ledger.get()));
  gw->next_generation_ = 2;
  shared->metrics.setConfigGeneration(1);
  return gw;
}

Result<std::unique_ptr<ClientPool>> Gateway::createPool(const PoolConfig& config) {
  return pool::createHostedPool(
      config, hostsPoolLoops(config) ? server_->loopHosts() : std::vector<LoopHost*>{});
}

Result<void> Gateway::openLedger(const PoolConfig& config) {
  const std::string& path = config.gateway.state_file;
  if (path.empty() || shared_->ledger) return {};
  BudgetLedger::Options options;
  options.path = path;
  options.warn = [shared = shared_.get()](const std::string& message) {
    shared->logger.event(LogLevel::Warn, message);
  };
  auto ledger = BudgetLedger::open(std::move(options));
  if (!ledger) return std::unexpected(ledger.error());
  shared_->ledger = std::move(*ledger);
  return {};
}

Gateway::~Gateway() { stop(milliseconds(0)); }

void Gateway::start() { server_->start(); }

std::chrono::milliseconds Gateway::shutdownGrace() const {
  auto gen = current_.load();
  return gen ? gen->config.gateway.shutdown_grace : options_.config.gateway.shutdown_grace;
}

void Gateway::handle(server::Request&& request, server::ResponseWriter writer) {
  const MonotonicTime started = MonotonicClock::now();
  const std::string_view path = pathOf(request.target());
  const bool get = request.method() == http::verb::get || request.method() == http::verb::head;
  const bool post = request.method() == http::verb::post;
  GatewayMetrics& metrics = shared_->metrics;
  auto answer = [&](Route route, server::Response response) {
    metrics.requestFinished(route, response.result_int(), MonotonicClock::now() - started, false);
    writer.send(std::move(response));
  };

  if (path == "/healthz") {
    if (!get)
      return answer(Route::Other,
                    textResponse(405, R"({"error":"method not allowed"})", "application/json"));
    return answer(Route::Healthz, textResponse(200, R"({"status":"ok"})", "application/json"));
  }
  GenerationPtr gen = current_.load();
  if (!gen) {
    // Only during shutdown: the pools are gone.
    Error e(ErrorCode::Cancelled, "the gateway is shutting down");
    return answer(Route::Other, errorResponse(Dialect::OpenAI, e, ErrorOrigin::Gateway));
  }
  if (path == "/readyz") {
    if (gen->pool->ready()) {
      return answer(Route::Readyz, textResponse(200, R"({"status":"ready"})", "application/json"));
    }
    // Which aliases, so whoever reads a failing probe knows where to look.
    const std::vector<std::string> aliases = gen->pool->unavailableAliases();
    Json body = {{"status", "not_ready"},
                 {"reason", aliases.empty() ? "the gateway is stopping"
                                            : "these aliases have no usable deployment (every "
                                              "circuit breaker is open)"},
                 {"aliases", aliases}};
    return answer(Route::Readyz, textResponse(503, providers::dumpJson(body), "application/json"));
  }
  if (path == "/metrics") {
    std::string text;
    gen->pool->writeMetrics(text);
    CacheGauges cache;
    if (gen->cache) cache = {gen->cache->entries(), gen->cache->bytes()};
    metrics.write(text, server_->stats(), cache);
    gen->keys.writeBudgetMetrics(text, std::chrono::system_clock::now());
    return answer(Route::Metrics,
                  textResponse(200, std::move(text), metrics::kPrometheusContentType));
  }

  const bool count_tokens = path == "/v1/messages/count_tokens";
  const bool anthropic = path == "/v1/messages" || count_tokens;
  const Dialect dialect = anthropic ? Dialect::Anthropic : Dialect::OpenAI;
  Route route = Route::Other;
  if (path == "/v1/chat/completions") route = Route::ChatCompletions;
  if (path == "/v1/messages") route = Route::Messages;
  if (count_tokens) route = Route::CountTokens;
  if (path == "/v1/embeddings") route = Route::Embeddings;
  if (path == "/v1/responses") route = Route::Responses;
  if (path == "/v1/models" || path.starts_with("/v1/models/")) route = Route::Models;
  if (route == Route::Other && path.starts_with("/v1/responses/")) {
    // Retrieving, deleting or cancelling a stored response: nothing is stored here.
    Error e(ErrorCode::NotFound,
            "responses are not stored by this gateway (it serves /v1/responses statelessly), so "
            "there is nothing at " +
                std::string(path));
    return answer(Route::Other, errorResponse(dialect, e, ErrorOrigin::Gateway));
  }
  if (route == Route::Other) {
    Error e(ErrorCode::NotFound, "no route for " + std::string(path));
    server::Response r = errorResponse(dialect, e, ErrorOrigin::Gateway);
    return answer(Route::Other, std::move(r));
  }
  if ((route == Route::Models && !get) || (route != Route::Models && !post)) {
    Error e(ErrorCode::InvalidRequest, "method not allowed on " + std::string(path));
    server::Response r = errorResponse(dialect, e, ErrorOrigin::Gateway);
    r.result(http::status::method_not_allowed);
    return answer(Route::Other, std::move(r));
  }

  // Every request from here on has an id (request_id.h), in its response and its log line.
  std::string request_id = requestIdFor(request["x-request-id"]);
  auto answerWithId = [&](Route r, server::Response response) {
    response.set("x-request-id", request_id);
    answer(r, std::move(response));
  };

  // Gateway keys (constant-time match); the key itself goes no further than this call.
  auto key = gen->keys.authenticate(request[http::field::authorization], request["x-api-key"]);
  if (!key) {
    metrics.authFailure(key.error().reason);
    RequestRecord rec;
    rec.request_id = request_id;
    rec.route = routeName(route);
    rec.status = 401;
    rec.error_code = authFailureName(key.error().reason);
    rec.remote = writer.remoteAddress();
    rec.duration = MonotonicClock::now() - started;
    shared_->logger.request(rec);
    if (route != Route::Models) metrics.requestStarted();  // balanced by requestFinished
    return answerWithId(route, errorResponse(dialect, key.error().error, ErrorOrigin::Gateway));
  }
  KeyEntry* entry = *key;

  if (route == Route::Models) {
    const std::string prefix = "/v1/models/";
    if (path.size() > prefix.size()) {
      const std::string id(path.substr(prefix.size()));
      // An alias, or a name an alias pattern takes ("openai/gpt-4o" of "openai/*").
      const bool known = gen->config.findRoute(id) != nullptr && (!entry || entry->allows(id));
      if (!known) {
        Error e(ErrorCode::NotFound, "the model \"" + id + "\" does not exist");
        return answerWithId(route, errorResponse(dialect, e, ErrorOrigin::Gateway));
      }
      return answerWithId(route,
                          textResponse(200, providers::dumpJson(modelEntry(id, gen->loaded_at)),
                                       "application/json"));
    }
    Json data = Json::array();
    for (const auto& alias : gen->pool->aliases()) {
      // A pattern is not a model a client can pick; the names it takes are not known here.
      if (isAliasPattern(alias)) continue;
      if (!entry || entry->allows(alias)) data.push_back(modelEntry(alias, gen->loaded_at));
    }
    // One page, described for Anthropic's paging too.
    Json first = data.empty() ? Json(nullptr) : data.front()["id"];
    Json last = data.empty() ? Json(nullptr) : data.back()["id"];
    Json body = {{"object", "list"},
                 {"data", std::move(data)},
                 {"has_more", false},
                 {"first_id", std::move(first)},
                 {"last_id", std::move(last)}};
    return answerWithId(route, textResponse(200, providers::dumpJson(body), "application/json"));
  }

  if (route == Route::CountTokens) {
    std::string alias;
    auto counted = countInputTokens(request.body(), gen->pool->aliases(), entry, alias);
    server::Response response =
        counted ? textResponse(200, R"({"input_tokens":)" + std::to_string(*counted) + "}",
                               "application/json")
                : errorResponse(dialect, counted.error(), ErrorOrigin::Gateway);
    if (counted) response.set("x-llmpool-token-count", "estimate");
    RequestRecord rec;
    rec.route = routeName(route);
    rec.request_id = request_id;
    rec.status = response.result_int();
    rec.key_name = entry ? std::string_view(entry->name) : std::string_view();
    rec.alias = alias;
    rec.prompt_tokens = counted.value_or(0);
    if (!counted) rec.error_code = errorCodeName(counted.error().code);
    rec.remote = writer.remoteAddress();
    rec.duration = MonotonicClock::now() - started;
    shared_->logger.request(rec);
    return answerWithId(route, std::move(response));
  }

  auto limits = callLimitsOf(request, gen->config.pool);
  if (!limits) {
    metrics.requestStarted();  // balanced by requestFinished
    return answerWithId(route, errorResponse(dialect, limits.error(), ErrorOrigin::Gateway));
  }
  ModelCall call{*shared_, std::move(gen),        entry, std::move(writer),
                 started,  std::move(request_id), {},    *limits};
  // The client's W3C trace context goes upstream as it came, so a provider that traces (a
  // self-hosted server with OpenTelemetry) joins the client's trace.
  for (const char* name : {"traceparent", "tracestate"}) {
    if (auto it = request.find(name); it != request.end() && !it->value().empty()) {
      call.trace_headers.emplace_back(name, std::string(it->value()));
    }
  }
  if (route == Route::Embeddings) return serveEmbeddings(request, std::move(call));
  if (route == Route::Responses) return serveResponses(request, std::move(call));
  serveChat(dialect, std::move(request), std::move(call));
}

Result<std::string> Gateway::reload() {
  std::lock_guard lock(control_mu_);
  if (stopped_) return fail(ErrorCode::Cancelled, "the gateway is stopping");
  if (options_.config_path.empty()) {
    return fail(ErrorCode::InvalidConfig, "no config file to reload (started without --config)");
  }
  auto failed = [&](const Error& e) -> Result<std::string> {
    shared_->metrics.reload(false);
    return std::unexpected(e);
  };
  config::ConfigDiagnostics diags;
  auto next = config::loadConfigFile(options_.config_path, &diags, config::ConfigDefaults::Gateway);
  if (!next) return failed(next.error());
  *next = withGatewayDefaults(std::move(*next));  // before the diff: compare like with like
  if (auto ok = checkGatewayConfig(*next, options_.listen); !ok) return failed(ok.error());
  GenerationPtr old = current_.load();
  const ConfigDiff diff = diffConfigs(old->config, *next);
  if (auto ledger = openLedger(*next); !ledger) return failed(ledger.error());
  auto pool = createPool(*next);
  if (!pool) return failed(pool.error());
  if (!options_.log_level) {
    shared_->logger.setThreshold(parseLogLevel(next->gateway.log_level).value_or(LogLevel::Info));
  }
  const uint64_t number = next_generation_++;
  auto gen = std::make_shared<const Generation>(number, std::move(*next), std::move(*pool),
                                                shared_->ledger.get());
  current_.store(gen);
  shared_->metrics.setConfigGeneration(number);
  shared_->metrics.reload(true);
  retire(std::move(old), gen->config.gateway.shutdown_grace);
  return diff.summary();
}

void Gateway::retire(std::shared_ptr<const Generation> old, milliseconds grace) {
  if (!old) return;
  shared_->metrics.oldPoolsRetiring(1);
  std::lock_guard lock(retire_mu_);
  retiring_.emplace_back([old = std::move(old), grace, shared = shared_]() mutable {
    // In-flight requests of the old pool finish (up to the grace), then the rest are cancelled.
    old->pool->stop(grace);
    // Requests hold the generation until their completion callbacks have run on the pool's
    // threads. The pool must not be destroyed there (it would join its own thread), so wait
    // until this thread holds the last reference and destroy it here.
    const auto give_up = std::chrono::steady_clock::now() + grace + std::chrono::seconds(30);
    while (old.use_count() > 1 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    if (old.use_count() > 1) {
      // A reference is still held somewhere (a bug): leaking the old pool is safer than
      // destroying it on a thread it owns.
      shared->logger.event(LogLevel::Error, "retired pool still referenced; leaking it");
      new std::shared_ptr<const Generation>(std::move(old));  // NOLINT: deliberate leak
    }
    old.reset();
    shared->metrics.oldPoolsRetiring(-1);
  });
}

void Gateway::joinRetired() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(retire_mu_);
    threads.swap(retiring_);
  }
  for (auto& t : threads) t.join();
}

void Gateway::stop(milliseconds grace) {
  {
    std::lock_guard lock(control_mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  // 1. Stop accepting; in-flight exchanges get the grace; the rest are closed, which fires their
  //    disconnect callbacks and so cancels their pool requests. The server threads keep running:
  //    they may host the pools' loops.
  if (server_) server_->stopServing(grace);
  // 2. The current pool retires like a replaced one; a short grace lets cancellations settle.
  retire(current_.exchange(nullptr), milliseconds(1'000));
  joinRetired();
  // 3. No loop is hosted any more.
  if (server_) server_->stop(milliseconds(0));
}

}  // namespace llmpool::gateway
