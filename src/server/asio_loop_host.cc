#include "server/asio_loop_host.h"

#include <fcntl.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>

namespace llmpool::server {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

/** One hosted loop. Touched on the host thread only, or under mu_ when no thread runs the
 *  context; handlers hold it, so it outlives them all. */
struct AsioLoopHost::Slot {
  Slot(AsioLoopHost& h, HostedLoop& l) : host(h), loop(&l) {}
  AsioLoopHost& host;
  HostedLoop* loop;  // null once detached
  std::optional<asio::posix::stream_descriptor> ready;
  std::optional<asio::steady_timer> timer;
  Clock::time_point timer_at = Clock::time_point::max();  // the armed deadline; max: none
  bool waiting = false;                                   // a wait for `ready` is pending
  bool posted = false;                                    // a run is queued
  bool poll_posted = false;                               // ... and it must poll
};

class AsioLoopHost::Handle final : public LoopHost::Attachment {
 public:
  explicit Handle(std::shared_ptr<Slot> slot) : slot_(std::move(slot)) {}
  void pumpSoon() override { post(slot_, false); }
  void detach(std::function<void()> last) override;

 private:
  std::shared_ptr<Slot> slot_;
};

std::unique_ptr<LoopHost::Attachment> AsioLoopHost::attach(HostedLoop& loop) {
  auto slot = std::make_shared<Slot>(*this, loop);
  asio::post(context_, [slot] { start(slot); });
  return std::make_unique<Handle>(std::move(slot));
}

bool AsioLoopHost::inHostThread() const { return context_.get_executor().running_in_this_thread(); }

void AsioLoopHost::threadStarted() {
  std::lock_guard lock(mu_);
  thread_ = ThreadState::Running;
}

void AsioLoopHost::threadExited() {
  {
    std::lock_guard lock(mu_);
    thread_ = ThreadState::Exited;
  }
  changed_.notify_all();
}

void AsioLoopHost::start(const std::shared_ptr<Slot>& s) {
  if (s->loop == nullptr) return;  // detached before the host thread got to it
  // Asio owns (and closes) a duplicate, so the loop's own descriptor is never closed twice.
  const int fd = ::fcntl(s->loop->readyFd(), F_DUPFD_CLOEXEC, 0);
  // Out of descriptors, there is no waiting on readiness: run() polls at a short interval
  // instead. Rare, and it keeps every request answered.
  if (fd >= 0) s->ready.emplace(s->host.context_, fd);
  s->timer.emplace(s->host.context_);
  run(s, true);
}

void AsioLoopHost::post(const std::shared_ptr<Slot>& s, bool poll) {
  s->poll_posted = s->poll_posted || poll;
  if (s->posted) return;
  s->posted = true;
  asio::post(s->host.context_, [s] {
    const bool must_poll = s->poll_posted;
    s->posted = s->poll_posted = false;
    if (s->loop != nullptr) run(s, must_poll);
  });
}

void AsioLoopHost::run(const std::shared_ptr<Slot>& s, bool poll) {
  // Without a descriptor to wait for, every pass looks for events itself.
  poll = poll || !s->ready;
  int wait_ms = s->loop->pump(poll);
  if (wait_ms == 0) {
    post(s, poll);  // the wait stays unarmed while a polling pass is due
    return;
  }
  if (!s->ready) {
    constexpr int kPollWithoutDescriptorMs = 5;
    wait_ms = wait_ms < 0 ? kPollWithoutDescriptorMs : std::min(wait_ms, kPollWithoutDescriptorMs);
  } else if (poll && !s->waiting) {
    // A polling pass only ever runs with no wait armed (waits are armed here, after one), and
    // Asio re-registers the descriptor when a wait starts, which reports it at once if the pass
    // left events behind: what HostedLoop::pump asks of the host.
    s->waiting = true;
    s->ready->async_wait(asio::posix::descriptor_base::wait_read,
                         [s](const boost::system::error_code& ec) {
                           s->waiting = false;
                           if (ec == asio::error::operation_aborted || s->loop == nullptr) return;
                           // A wait that fails (it does not, short of a kernel bug) would never
                           // fire again: poll on the timer instead, as without a descriptor.
                           if (ec) s->ready.reset();
                           run(s, true);
                         });
  }
  if (wait_ms < 0) return;
  // A timer armed for an earlier deadline stays: it runs the loop, which re-arms it for the
  // next one. Re-arming only for an earlier deadline keeps timer churn off the hot path.
  const Clock::time_point at = Clock::now() + std::chrono::milliseconds(wait_ms);
  if (at >= s->timer_at) return;
  s->timer_at = at;
  s->timer->expires_at(at);
  s->timer->async_wait([s](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed or detached
    s->timer_at = Clock::time_point::max();
    if (s->loop != nullptr) run(s, false);
  });
}

void AsioLoopHost::finish(Slot& s, const std::function<void()>& last) {
  last();
  s.loop = nullptr;
  // Cancels the pending waits; their handlers see the null loop.
  s.ready.reset();
  s.timer.reset();
}

void AsioLoopHost::Handle::detach(std::function<void()> last) {
  Slot& s = *slot_;
  AsioLoopHost& host = s.host;
  std::unique_lock lock(host.mu_);
  if (host.thread_ != ThreadState::Running) {
    // No thread runs the context, and none starts while mu_ is held: do it here.
    finish(s, last);
    return;
  }
  auto done = std::make_shared<bool>(false);  // guarded by mu_
  asio::post(host.context_, [slot = slot_, last, done] {
    finish(*slot, last);
    {
      std::lock_guard inner(slot->host.mu_);
      *done = true;
    }
    slot->host.changed_.notify_all();
  });
  host.changed_.wait(lock, [&] { return *done || host.thread_ == ThreadState::Exited; });
  // The thread exited before it got to the handler (the server stopped first): the context
  // runs no more, so finishing here cannot race with it.
  if (!*done) finish(s, last);
}

}  // namespace llmpool::server
