#pragma once
// A scripted ChatCompleter. Answers come from a script (or an echo of the last user message) and
// are delivered on the fake's own thread, never inside complete(), as the contract demands.
// Gated mode holds every call until the test releases it, so tests decide exactly when each
// completion happens (no sleeps). Cancelling a held call answers it with ErrorCode::Cancelled.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "llmpool/completer.h"

namespace llmpool::testing {

class FakeCompleter final : public ChatCompleter {
 public:
  struct Call {
    ChatRequest request;
    RequestOptions options;
    std::thread::id caller;  // the thread that called complete()
  };
  using Responder = std::function<Result<ChatResponse>(const ChatRequest&, size_t call_index)>;

  FakeCompleter() : worker_([this](std::stop_token st) { loop(st); }) {}
  ~FakeCompleter() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  /** Holds calls until release()/releaseAll() when true. */
  void setGated(bool gated) {
    std::lock_guard lock(mu_);
    gated_ = gated;
  }
  /** The next calls get these outcomes, in order; afterwards the responder/echo answers. */
  void script(Result<ChatResponse> outcome) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(outcome));
  }
  void setResponder(Responder responder) {
    std::lock_guard lock(mu_);
    responder_ = std::move(responder);
  }

  RequestHandle complete(ChatRequest request, RequestOptions options, ChatCallback done) override {
    uint64_t id = 0;
    {
      std::lock_guard lock(mu_);
      id = ++next_id_;
      Result<ChatResponse> outcome = answerLocked(request);
      calls_.push_back(Call{std::move(request), std::move(options), std::this_thread::get_id()});
      Held held{id, std::move(outcome), std::move(done)};
      if (gated_) {
        held_.push_back(std::move(held));
      } else {
        ready_.push_back(std::move(held));
      }
    }
    cv_.notify_all();
    return RequestHandle([this, id] { cancelCall(id); });
  }

  /** Lets the oldest `n` held calls complete. */
  void release(size_t n = 1) {
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < n && !held_.empty(); ++i) {
        ready_.push_back(std::move(held_.front()));
        held_.pop_front();
      }
    }
    cv_.notify_all();
  }
  void releaseAll() { release(SIZE_MAX); }

  /** Waits (bounded, as a safety net) until `n` calls were made in total. */
  bool waitForCalls(size_t n, std::chrono::seconds limit = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return calls_.size() >= n; });
  }
  /** Waits (bounded) until `n` calls are held by the gate. */
  bool waitForHeld(size_t n, std::chrono::seconds limit = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return held_.size() >= n; });
  }

  /** Waits (bounded) until `n` held calls were cancelled. A cancel may reach the fake after
   *  cancel() returned (the handle is attached once complete() returns). */
  bool waitForCancels(size_t n, std::chrono::seconds limit = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return cancels_ >= n; });
  }

  /** The thread every `done` callback runs on. */
  std::thread::id answerThread() const { return worker_.get_id(); }

  size_t callCount() const {
    std::lock_guard lock(mu_);
    return calls_.size();
  }
  size_t heldCount() const {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  size_t cancelCount() const {
    std::lock_guard lock(mu_);
    return cancels_;
  }
  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  /** The content of the last message of each call, in call order. */
  std::vector<std::string> contents() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& c : calls_) {
      out.push_back(c.request.messages.empty() ? "" : c.request.messages.back().content);
    }
    return out;
  }

  static ChatResponse echo(const ChatRequest& request) {
    ChatResponse r;
    r.id = "fake-1";
    r.model = request.model;
    ChatChoice choice;
    choice.content = "echo:" + (request.messages.empty() ? "" : request.messages.back().content);
    choice.finish_reason = "stop";
    r.choices.push_back(std::move(choice));
    r.usage = {.prompt_tokens = 3, .completion_tokens = 2, .total_tokens = 5};
    return r;
  }

 private:
  struct Held {
    uint64_t id;
    Result<ChatResponse> outcome;
    ChatCallback done;
  };

  Result<ChatResponse> answerLocked(const ChatRequest& request) {
    if (!script_.empty()) {
      auto outcome = std::move(script_.front());
      script_.pop_front();
      return outcome;
    }
    if (responder_) return responder_(request, calls_.size());
    return echo(request);
  }

  void cancelCall(uint64_t id) {
    {
      std::lock_guard lock(mu_);
      for (auto it = held_.begin(); it != held_.end(); ++it) {
        if (it->id != id) continue;
        ++cancels_;
        it->outcome = std::unexpected(Error(ErrorCode::Cancelled, "cancelled by caller"));
        ready_.push_back(std::move(*it));
        held_.erase(it);
        break;
      }
    }
    cv_.notify_all();
  }

  void loop(std::stop_token) {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
      if (ready_.empty() && stopping_) return;
      Held h = std::move(ready_.front());
      ready_.pop_front();
      lock.unlock();
      h.done(std::move(h.outcome));
      lock.lock();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool gated_ = false;
  bool stopping_ = false;
  uint64_t next_id_ = 0;
  size_t cancels_ = 0;
  std::deque<Result<ChatResponse>> script_;
  Responder responder_;
  std::vector<Call> calls_;
  std::deque<Held> held_;
  std::deque<Held> ready_;
  std::jthread worker_;  // declared last: started after, and joined before, the state above
};

}  // namespace llmpool::testing
