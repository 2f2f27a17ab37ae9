#pragma once
// A LoopHost (common/loop_host.h) on an Asio io_context that one thread runs: the server's
// worker threads run the transport's epoll loops next to their connections (thread-per-core).
//
// A hosted loop runs when its epoll descriptor becomes readable (Asio waits for it alongside the
// connections' sockets), when its next deadline is due (a steady_timer), or when the host thread
// queued work for it (a posted handler). After handling events it runs again before waiting:
// Asio watches the descriptor edge-triggered, and a level-triggered socket inside the loop's set
// that is still ready would not raise a new edge.

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
  static void run(const std::shared_ptr<Slot>& slot);
  static void post(const std::shared_ptr<Slot>& slot);
  /** Runs the loop's `last` and lets go of it: host thread, or any thread when none runs. */
  static void finish(Slot& slot, const std::function<void()>& last);

  boost::asio::io_context& context_;
  std::mutex mu_;
  std::condition_variable changed_;
  ThreadState thread_ = ThreadState::NotStarted;  // guarded by mu_
};

}  // namespace llmpool::server
