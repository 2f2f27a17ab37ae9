#include "llmpool/direct_provider.h"

#include "http/curl_transport.h"
#include "providers/endpoint.h"
#include "providers/error_classifier.h"
#include "providers/provider_codec.h"

namespace llmpool {
namespace {

class DirectProvider final : public ChatCompleter {
 public:
  DirectProvider(std::unique_ptr<http::CurlTransport> transport, ProviderConfig provider,
                 std::string model, std::chrono::milliseconds timeout)
      : provider_(std::move(provider)),
        endpoint_(providers::Endpoint::fromConfig(provider_)),
        model_(std::move(model)),
        timeout_(timeout),
        transport_(std::move(transport)) {}

  RequestHandle complete(ChatRequest request, RequestOptions options, ChatCallback done) override {
    request.stream = false;
    http::HttpRequest wire = providers::encodeChat(endpoint_, request, model_);
    wire.timeouts.total = options.deadline.value_or(timeout_);
    if (!provider_.ca_file.empty()) wire.ca_file = provider_.ca_file;
    if (!provider_.verify_tls) wire.verify_tls = false;
    const ProviderKind kind = provider_.kind;
    const std::string name = provider_.name;
    http::ResponseCallbacks callbacks;
    callbacks.on_complete = [this, kind, name,
                             done = std::move(done)](Result<http::HttpResponse> r) mutable {
      if (!r) {
        Error e = r.error();
        e.provider = name;
        done(std::unexpected(std::move(e)));
        return;
      }
      if (r->status < 200 || r->status >= 300) {
        Error e = providers::classifyHttpError(kind, r->status, r->headers, r->body,
                                               transport_->clock().systemNow());
        e.provider = name;
        done(std::unexpected(std::move(e)));
        return;
      }
      auto decoded = providers::decodeChat(kind, *r);
      if (decoded) {
        decoded->deployment = name + "/" + model_;
        providers::keepProviderBody(kind, std::move(r->body), *decoded);
      }
      done(std::move(decoded));
    };
    const http::RequestId id = transport_->send(std::move(wire), std::move(callbacks));
    http::CurlTransport* transport = transport_.get();
    return RequestHandle([transport, id] { transport->cancel(id); });
  }

 private:
  ProviderConfig provider_;
  providers::Endpoint endpoint_;
  std::string model_;
  std::chrono::milliseconds timeout_;
  // Declared last so it is destroyed first: its destructor completes in-flight requests, whose
  // callbacks read the members above.
  std::unique_ptr<http::CurlTransport> transport_;
};

}  // namespace

Result<std::shared_ptr<ChatCompleter>> makeDirectProvider(ProviderConfig provider,
                                                          std::string model,
                                                          std::chrono::milliseconds timeout) {
  if (provider.base_url.empty()) {
    return fail(ErrorCode::InvalidConfig, "provider \"" + provider.name + "\": base_url is empty");
  }
  http::CurlTransportOptions options;
  options.max_connections_per_host = provider.max_connections.value_or(5);
  auto transport = http::CurlTransport::create(options);
  if (!transport) return std::unexpected(transport.error());
  return std::shared_ptr<ChatCompleter>(std::make_shared<DirectProvider>(
      std::move(*transport), std::move(provider), std::move(model), timeout));
}

}  // namespace llmpool
