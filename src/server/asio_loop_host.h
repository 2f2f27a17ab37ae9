#pragma once
// A LoopHost (common/loop_host.h) on an Asio io_context that one thread runs: the server's
// worker threads run the transport's epoll loops next to their connections (thread-per-core).
//
// A hosted loop runs when its epoll descriptor becomes readable (Asio waits for it alongside the
// connections' sockets), when its next deadline is due (a steady_timer), or when the host thread
// queued work for it (a posted handler). A pass woken by the descriptor takes a batch of events
// and then arms the wait again; arming it re-registers the descriptor with Asio's epoll set, which
// reports it at once if the pass left events behind. Passes for timers and queued work skip the
// epoll_wait: any event since the last polling pass makes the descriptor readable.

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "common/loop_host.h"

namespace llmpool::server {

class AsioLoopHost final : public LoopHost {
 public:
  explicit AsioLoopHost(boost::asio::io_context& context) : context_(context) {}
  AsioLoopHost(const AsioLoopHost&) = delete;
  AsioLoopHost& operator=(const AsioLoopHost&) = delete;

  std::unique_ptr<Attachment> attach(HostedLoop& loop) override;
  bool inHostThread() const override;

  /** The thread that runs the context calls these right before and right after run(). */
  void threadStarted();
  void threadExited();

 private:
  struct Slot;
  class Handle;
  enum class ThreadState { NotStarted, Running, Exited };

  static void start(const std::shared_ptr<Slot>& slot);
  /** One pass of the loop (`poll`: look for events too), then arms what runs the next one. */
  static void run(const std::shared_ptr<Slot>& slot, bool poll);
  /** Queues a pass (at most one at a time; it polls when any request for it asked to). */
  static void post(const std::shared_ptr<Slot>& slot, bool poll);
  /** Runs the loop's `last` and lets go of it: host thread, or any thread when none runs. */
  static void finish(Slot& slot, const std::function<void()>& last);

  boost::asio::io_context& context_;
  std::mutex mu_;
  std::condition_variable changed_;
  ThreadState thread_ = ThreadState::NotStarted;  // guarded by mu_
};

}  // namespace llmpool::server
