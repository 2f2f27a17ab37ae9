#pragma once
// Thread-per-core: a thread that drives another component's event loop next to its own. The
// gateway's server threads host the transport's epoll loops, so a request read on a server thread
// is admitted, sent upstream, answered and written back on that same thread, with no wake-up of
// another thread in between (docs/transport.md, "Hosted loops").
//
// The loop stays what it is (an epoll set with its own timers and queues); the host only decides
// when it runs: when its descriptor is readable, when its next deadline is due, or when the host
// thread itself queued work for it.

#include <functional>
#include <memory>

namespace llmpool {

/** An event loop that a LoopHost runs instead of a thread of its own. */
class HostedLoop {
 public:
  virtual ~HostedLoop() = default;
  /** Readable whenever the loop has events to handle (an epoll descriptor). */
  virtual int readyFd() const = 0;
  /** Runs what is due without blocking; host thread only. `poll`: readyFd() became readable, so
   *  look for events too; without it only queued work and timers run. Returns how long the host
   *  may wait for readyFd() before calling again: 0 at once (with `poll`: events are still
   *  coming in), < 0 only when readyFd() is readable.
   *
   *  A polling pass may leave events behind (a socket not read to its end), which keep
   *  readyFd() readable without raising a new edge. So after a polling pass the host's wait for
   *  readyFd() must report a descriptor that is readable already (a level check when the wait
   *  is armed, as Asio's async_wait does), and no polling pass may run while such a wait is
   *  armed. */
  virtual int pump(bool poll) = 0;
};

class LoopHost {
 public:
  /** One loop run by the host. */
  class Attachment {
   public:
    virtual ~Attachment() = default;
    /** Host thread: run the loop soon (the host thread queued work for it outside pump()).
     *  Cheap when already scheduled. */
    virtual void pumpSoon() = 0;
    /** Stops running the loop. `last` runs on the host thread, or on the caller's when the
     *  host thread is not running (not started yet, or exited); returns once it has run. After
     *  that the host never touches the loop again. Never call it from the host thread. */
    virtual void detach(std::function<void()> last) = 0;
  };

  virtual ~LoopHost() = default;
  /** Starts running `loop` on the host thread (thread-safe; returns at once). `loop` must stay
   *  alive until the attachment's detach() returned. */
  virtual std::unique_ptr<Attachment> attach(HostedLoop& loop) = 0;
  /** True on the host thread. */
  virtual bool inHostThread() const = 0;
};

}  // namespace llmpool
