#include "gateway/reply_cache.h"

namespace llmpool::gateway {

namespace {

// What an entry holds beyond its strings: list node, map slot, shared control block.
constexpr size_t kEntryOverhead = 256;

void appendPart(std::string& key, std::string_view part) {
  key += std::to_string(part.size());
  key += ':';
  key += part;
}

}  // namespace

ReplyCache::ReplyCache(const GatewayCacheConfig& config)
    : ttl_(config.ttl), max_entries_(config.max_entries), max_bytes_(config.max_bytes) {}

std::string ReplyCache::keyOf(std::string_view scope, std::string_view route,
                              std::string_view headers, std::string_view body) {
  std::string key;
  key.reserve(scope.size() + route.size() + headers.size() + body.size() + 32);
  appendPart(key, scope);
  appendPart(key, route);
  appendPart(key, headers);
  appendPart(key, body);
  return key;
}

std::shared_ptr<const CachedReply> ReplyCache::find(const std::string& key, MonotonicTime now) {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  Lru::iterator entry = it->second;
  if (now >= entry->expires) {
    erase(entry);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, entry);
  return entry->reply;
}

size_t ReplyCache::store(std::string key, CachedReply reply, MonotonicTime now) {
  const size_t size = key.size() + reply.body.size() + reply.deployment.size() +
                      reply.upstream_request_id.size() + kEntryOverhead;
  if (size > max_bytes_ / 4) return 0;
  std::lock_guard lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) erase(it->second);
  size_t evicted = 0;
  while (!lru_.empty() && (lru_.size() + 1 > max_entries_ || bytes_ + size > max_bytes_)) {
    erase(std::prev(lru_.end()));
    ++evicted;
  }
  lru_.push_front(Entry{std::move(key), std::make_shared<const CachedReply>(std::move(reply)),
                        now + ttl_, size});
  index_.emplace(lru_.front().key, lru_.begin());
  bytes_ += size;
  return evicted;
}

void ReplyCache::erase(Lru::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(it->key);
  lru_.erase(it);
}

size_t ReplyCache::entries() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

size_t ReplyCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace llmpool::gateway
