#pragma once
// Keeps the nodes of a node-based map (std::map, std::unordered_map) for reuse. Maps that see one
// insert and one erase per request (live calls, in-flight transfers, timers) would otherwise pay
// a heap allocation and a free each time; with a few spare nodes kept, they pay none. Not
// thread-safe: guard it with the map's own lock.

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

namespace llmpool {

template <class Map>
class NodeCache {
 public:
  using Key = typename Map::key_type;
  using Value = typename Map::mapped_type;

  /** Keeps at most `limit` spare nodes (beyond that, erased nodes are freed as usual). */
  explicit NodeCache(size_t limit) : limit_(limit) {}

  /** Inserts `key` -> `value` into `map`, on a kept node when there is one. `key` must not be in
   *  `map` already (an insert that finds it leaves `map` unchanged). */
  void insert(Map& map, const Key& key, Value value) {
    if (spares_.empty()) {
      map.emplace(key, std::move(value));
      return;
    }
    auto node = std::move(spares_.back());
    spares_.pop_back();
    node.key() = key;
    node.mapped() = std::move(value);
    map.insert(std::move(node));
  }

  /** Removes `key` from `map` and returns its value (nullopt when absent), keeping the node. */
  std::optional<Value> take(Map& map, const Key& key) {
    auto node = map.extract(key);
    if (node.empty()) return std::nullopt;
    std::optional<Value> value(std::move(node.mapped()));
    keep(std::move(node));
    return value;
  }

  /** Removes `key` from `map` (destroying its value); false when absent. */
  bool erase(Map& map, const Key& key) {
    auto node = map.extract(key);
    if (node.empty()) return false;
    keep(std::move(node));
    return true;
  }

  void clear() { spares_.clear(); }

 private:
  void keep(typename Map::node_type node) {
    // The value is reset now, not when the node is reused: whatever it owns is released on time.
    node.mapped() = Value();
    if (spares_.size() < limit_) spares_.push_back(std::move(node));
  }

  size_t limit_;
  std::vector<typename Map::node_type> spares_;
};

}  // namespace llmpool
