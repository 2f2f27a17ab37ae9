#pragma once
// A scripted Transport on a FakeExecutor: each request's outcome comes from the test's script
// and completes after the scripted delay of fake time, so pool logic (retries, backoff,
// deadlines, breakers) is tested deterministically without sockets.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/executor.h"
#include "http/transport.h"

namespace llmpool::testing {

struct FakeReply {
  int status = 200;
  std::string body;
  http::Headers headers;
  std::optional<Error> error;       // transport failure instead of a response
  Duration delay{0};                // fake time until completion (or until the first chunk)
  bool hang = false;                // never completes unless cancelled or timed out
  std::vector<std::string> chunks;  // streamed body pieces (delivered `chunk_gap` apart)
  Duration chunk_gap{0};
};

class FakeTransport final : public http::Transport {
 public:
  using Script = std::function<FakeReply(const http::HttpRequest&)>;

  explicit FakeTransport(Executor& executor) : executor_(executor) {}
  void setScript(Script script) { script_ = std::move(script); }

  http::RequestId send(http::HttpRequest request, http::ResponseCallbacks callbacks) override {
    const http::RequestId id = ++next_id_;
    FakeReply reply = script_ ? script_(request) : FakeReply{};
    sent_.push_back(request);
    sent_at_.push_back(executor_.clock().now());
    Pending& p = pending_[id];
    p.callbacks = std::move(callbacks);
    ++stats_.requests_started;
    ++stats_.in_flight;
    if (reply.hang) return id;
    const auto timeout = request.timeouts.total;
    const MonotonicTime start = executor_.clock().now();
    if (timeout.count() > 0 && reply.delay >= timeout) {
      p.timer = executor_.runAt(start + timeout, [this, id] {
        finish(id, std::unexpected(Error(ErrorCode::Timeout, "fake timeout")));
      });
      return id;
    }
    p.timer = executor_.runAt(start + reply.delay,
                              [this, id, reply = std::move(reply)] { deliver(id, reply); });
    return id;
  }

  void cancel(http::RequestId id) override {
    executor_.post(
        [this, id] { finish(id, std::unexpected(Error(ErrorCode::Cancelled, "cancelled"))); });
  }

  http::TransportStats stats() const override { return stats_; }

  const std::vector<http::HttpRequest>& sent() const { return sent_; }
  const std::vector<MonotonicTime>& sentAt() const { return sent_at_; }
  size_t inFlight() const { return pending_.size(); }
  size_t cancelled() const { return cancelled_; }

 private:
  struct Pending {
    http::ResponseCallbacks callbacks;
    TimerId timer = 0;
  };

  void deliver(http::RequestId id, const FakeReply& reply) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    if (reply.error) {
      finish(id, std::unexpected(*reply.error));
      return;
    }
    auto& cb = it->second.callbacks;
    if (cb.on_head) cb.on_head(http::HttpResponseHead{reply.status, reply.headers});
    if (cb.on_data) {
      if (!reply.body.empty() && !cb.on_data(reply.body)) {
        finish(id, std::unexpected(Error(ErrorCode::Cancelled, "aborted by on_data")));
        return;
      }
      deliverChunks(id, reply, 0);
      return;
    }
    http::HttpResponse response;
    response.status = reply.status;
    response.headers = reply.headers;
    response.body = reply.body;
    finish(id, std::move(response));
  }

  void deliverChunks(http::RequestId id, FakeReply reply, size_t next) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    if (next >= reply.chunks.size()) {
      http::HttpResponse response;
      response.status = reply.status;
      response.headers = reply.headers;
      finish(id, std::move(response));
      return;
    }
    if (!it->second.callbacks.on_data(reply.chunks[next])) {
      finish(id, std::unexpected(Error(ErrorCode::Cancelled, "aborted by on_data")));
      return;
    }
    it->second.timer =
        executor_.runAt(executor_.clock().now() + reply.chunk_gap,
                        [this, id, reply, next] { deliverChunks(id, reply, next + 1); });
  }

  void finish(http::RequestId id, Result<http::HttpResponse> result) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    auto callbacks = std::move(it->second.callbacks);
    executor_.cancelTimer(it->second.timer);
    pending_.erase(it);
    --stats_.in_flight;
    ++stats_.requests_completed;
    if (!result && result.error().code == ErrorCode::Cancelled) ++cancelled_;
    if (callbacks.on_complete) callbacks.on_complete(std::move(result));
  }

  Executor& executor_;
  Script script_;
  http::RequestId next_id_ = 0;
  std::map<http::RequestId, Pending> pending_;
  std::vector<http::HttpRequest> sent_;
  std::vector<MonotonicTime> sent_at_;
  http::TransportStats stats_;
  size_t cancelled_ = 0;
};

}  // namespace llmpool::testing
