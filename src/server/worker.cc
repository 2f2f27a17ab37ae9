#include "server/worker.h"

#include <algorithm>
#include <vector>

#include "server/connection.h"
#include "server/thread_slice.h"

namespace llmpool::server {

using namespace std::chrono_literals;

Worker::Worker(std::shared_ptr<ServerShared> shared)
    : shared_(std::move(shared)), sweep_timer_(context_) {
  // Deadlines are checked by one periodic sweep per thread rather than a timer per read/write:
  // setting a deadline is then a plain store on the hot path. A quarter of the shortest timeout
  // keeps the enforcement error under 25 % (clamped to [5 ms, 1 s]).
  auto shortest = std::min(shared_->options.read_timeout, shared_->options.write_timeout);
  sweep_interval_ = std::clamp<std::chrono::milliseconds>(shortest / 4, 5ms, 1000ms);
}

void Worker::link(Connection* connection) {
  connection->prev_ = nullptr;
  connection->next_ = head_;
  if (head_) head_->prev_ = connection;
  head_ = connection;
  connection->linked_ = true;
}

void Worker::unlink(Connection* connection) {
  if (!connection->linked_) return;
  if (connection->prev_) connection->prev_->next_ = connection->next_;
  if (connection->next_) connection->next_->prev_ = connection->prev_;
  if (head_ == connection) head_ = connection->next_;
  connection->prev_ = connection->next_ = nullptr;
  connection->linked_ = false;
}

void Worker::startSweep() {
  sweep_timer_.expires_after(sweep_interval_);
  // `this` is safe: the handler is owned by context_, which dies with the worker.
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopping_) return;
    sweep();
    startSweep();
  });
}

void Worker::sweep() {
  const auto now = std::chrono::steady_clock::now();
  // Collect first: closing unlinks from the list being walked. Holding shared_ptrs keeps each
  // connection alive through its close().
  std::vector<std::shared_ptr<Connection>> expired;
  size_t busy = 0;
  for (Connection* c = head_; c; c = c->next_) {
    // A response written by another thread arms the keep-alive deadline only once noted here or
    // by the connection's next I/O event.
    c->collectDirectResponse();
    busy += c->busy();
    if (c->deadline_ > now) continue;
    if (auto alive = c->weak_from_this().lock()) expired.push_back(std::move(alive));
  }
  for (auto& c : expired) c->close(false);
  adaptSlice(busy);
}

// Short slices pay off when a thread has many requests in progress: it then wakes peers (the
// provider, clients) in the middle of a batch of work, and with the default slice a woken peer
// takes the CPU and the rest of the batch waits. With one or two requests there is no batch, and
// the short slice costs instead: the thread, woken by a client's request, preempts that client
// on its CPU and drifts to the client's CPU, the provider's answer then comes in on the other
// one, and the response has to wake the client across CPUs (on a VM, a halted vCPU, tens of
// microseconds; docs/benchmarks.md, Gateway, "...scheduler slices only while busy"). The thread
// therefore asks for the short slice only while busy, sampled at each sweep, with a gap between
// the two thresholds so that a load at the edge does not flip it every sweep.
void Worker::adaptSlice(size_t busy) {
  const auto slice = shared_->options.thread_slice;
  if (slice.count() <= 0) return;
  if (!short_slice_ && busy >= kBusyForShortSlice) {
    short_slice_ = requestSchedulerSlice(slice);
  } else if (short_slice_ && busy <= kBusyForDefaultSlice) {
    restoreDefaultSchedulerSlice();
    short_slice_ = false;
  }
}

void Worker::drainAll() {
  std::vector<std::shared_ptr<Connection>> all;
  for (Connection* c = head_; c; c = c->next_) {
    if (auto alive = c->weak_from_this().lock()) all.push_back(std::move(alive));
  }
  for (auto& c : all) c->drain();
}

void Worker::closeAll() {
  stopping_ = true;
  sweep_timer_.cancel();
  std::vector<std::shared_ptr<Connection>> all;
  for (Connection* c = head_; c; c = c->next_) {
    if (auto alive = c->weak_from_this().lock()) all.push_back(std::move(alive));
  }
  for (auto& c : all) c->close(false);
}

}  // namespace llmpool::server
