#include "tasks/task_order.h"

#include <algorithm>

namespace llmpool::tasks {

void TaskOrder::add(OrderEntry entry, std::optional<SystemTime> not_before) {
  const auto p = static_cast<size_t>(entry.priority);
  Location loc{.delayed = false, .priority = entry.priority, .seq = entry.seq, .delayed_it = {}};
  std::string id = entry.id;
  if (not_before) {
    loc.delayed = true;
    loc.delayed_it = delayed_.emplace(*not_before, std::move(entry));
  } else {
    ready_[p].emplace(loc.seq, std::move(entry));
  }
  index_[std::move(id)] = loc;
  ++counts_[p];
}

void TaskOrder::promoteDue(SystemTime now) {
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    auto node = delayed_.extract(delayed_.begin());
    OrderEntry& e = node.mapped();
    auto& loc = index_.at(e.id);
    loc.delayed = false;
    ready_[static_cast<size_t>(e.priority)].emplace(e.seq, std::move(e));
  }
}

Priority TaskOrder::effectivePriority(const OrderEntry& e, SystemTime now) const {
  if (aging_after_ <= Duration::zero() || now <= e.enqueued_at) return e.priority;
  const auto waited = std::chrono::duration_cast<Duration>(now - e.enqueued_at);
  const auto steps = waited / aging_after_;  // whole aging periods waited
  const auto aged = std::min<int64_t>(static_cast<int64_t>(e.priority) + steps,
                                      static_cast<int64_t>(Priority::Critical));
  return static_cast<Priority>(aged);
}

OrderEntry TaskOrder::takeReady(Priority p, Ready::iterator it) {
  OrderEntry e = std::move(it->second);
  ready_[static_cast<size_t>(p)].erase(it);
  index_.erase(e.id);
  --counts_[static_cast<size_t>(p)];
  return e;
}

std::optional<OrderEntry> TaskOrder::popBest(SystemTime now) {
  promoteDue(now);
  std::optional<Priority> best_class;
  Priority best_eff = Priority::Low;
  uint64_t best_seq = 0;
  for (int c = kPriorityCount - 1; c >= 0; --c) {
    const auto& q = ready_[static_cast<size_t>(c)];
    if (q.empty()) continue;
    const OrderEntry& head = q.begin()->second;
    const Priority eff = effectivePriority(head, now);
    if (!best_class || eff > best_eff || (eff == best_eff && head.seq < best_seq)) {
      best_class = static_cast<Priority>(c);
      best_eff = eff;
      best_seq = head.seq;
    }
  }
  if (!best_class) return std::nullopt;
  auto& q = ready_[static_cast<size_t>(*best_class)];
  return takeReady(*best_class, q.begin());
}

std::optional<OrderEntry> TaskOrder::popLowestBelow(Priority than) {
  for (int c = 0; c < static_cast<int>(than); ++c) {
    const auto p = static_cast<Priority>(c);
    if (counts_[static_cast<size_t>(c)] == 0) continue;
    // The newest of the class is the cheapest to lose: it has waited least. A delayed (retrying)
    // entry of the class competes by sequence too.
    auto& q = ready_[static_cast<size_t>(c)];
    std::optional<Delayed::iterator> newest_delayed;
    for (auto it = delayed_.begin(); it != delayed_.end(); ++it) {
      if (it->second.priority != p) continue;
      if (!newest_delayed || it->second.seq > (*newest_delayed)->second.seq) newest_delayed = it;
    }
    const bool take_delayed =
        newest_delayed && (q.empty() || (*newest_delayed)->second.seq > q.rbegin()->first);
    if (take_delayed) {
      OrderEntry e = std::move((*newest_delayed)->second);
      delayed_.erase(*newest_delayed);
      index_.erase(e.id);
      --counts_[static_cast<size_t>(c)];
      return e;
    }
    return takeReady(p, std::prev(q.end()));
  }
  return std::nullopt;
}

bool TaskOrder::remove(const std::string& id) {
  auto it = index_.find(id);
  if (it == index_.end()) return false;
  const Location loc = it->second;
  if (loc.delayed) {
    delayed_.erase(loc.delayed_it);
  } else {
    ready_[static_cast<size_t>(loc.priority)].erase(loc.seq);
  }
  index_.erase(it);
  --counts_[static_cast<size_t>(loc.priority)];
  return true;
}

std::vector<OrderEntry> TaskOrder::popAll() {
  std::vector<OrderEntry> out;
  out.reserve(index_.size());
  for (int c = kPriorityCount - 1; c >= 0; --c) {
    for (auto& [seq, e] : ready_[static_cast<size_t>(c)]) out.push_back(std::move(e));
    ready_[static_cast<size_t>(c)].clear();
  }
  for (auto& [when, e] : delayed_) out.push_back(std::move(e));
  delayed_.clear();
  index_.clear();
  counts_.fill(0);
  return out;
}

std::optional<SystemTime> TaskOrder::nextDelayed() const {
  if (delayed_.empty()) return std::nullopt;
  return delayed_.begin()->first;
}

}  // namespace llmpool::tasks
