#include "http/timer_heap.h"

#include <algorithm>
#include <utility>

namespace llmpool::http {

bool TimerHeap::later(const Entry& a, const Entry& b) {
  // std::push_heap builds a max-heap for the comparator; "later first" turns it into a min-heap.
  if (a.when != b.when) return a.when > b.when;
  return a.seq > b.seq;
}

void TimerHeap::add(TimerId id, MonotonicTime when, std::function<void()> fn) {
  nodes_.insert(live_, id, std::move(fn));
  heap_.push_back(Entry{when, next_seq_++, id});
  std::push_heap(heap_.begin(), heap_.end(), later);
}

bool TimerHeap::cancel(TimerId id) {
  if (!nodes_.erase(live_, id)) return false;
  compactIfMostlyStale();
  return true;
}

void TimerHeap::dropStaleTop() {
  while (!heap_.empty() && !live_.contains(heap_.front().id)) {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
  }
}

std::optional<MonotonicTime> TimerHeap::nextDeadline() {
  dropStaleTop();
  if (heap_.empty()) return std::nullopt;
  return heap_.front().when;
}

std::optional<std::function<void()>> TimerHeap::popDue(MonotonicTime now) {
  dropStaleTop();
  if (heap_.empty() || heap_.front().when > now) return std::nullopt;
  const TimerId id = heap_.front().id;
  std::pop_heap(heap_.begin(), heap_.end(), later);
  heap_.pop_back();
  return nodes_.take(live_, id);
}

void TimerHeap::compactIfMostlyStale() {
  // Rebuilding costs O(n); doing it only when more than half the entries are stale (plus a floor
  // so small heaps never bother) keeps the amortised cost of a cancel O(1).
  if (heap_.size() < 64 || heap_.size() <= 2 * live_.size()) return;
  std::erase_if(heap_, [this](const Entry& e) { return !live_.contains(e.id); });
  std::make_heap(heap_.begin(), heap_.end(), later);
}

void TimerHeap::clear() {
  heap_.clear();
  live_.clear();
}

}  // namespace llmpool::http
