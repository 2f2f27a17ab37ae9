#pragma once
// The gateway's reply cache (docs/gateway.md, "Reply cache"): whole replies to non-streamed
// model requests and embeddings, found again by the exact request (the same key, route, body bytes
// and the headers that change a reply), for `ttl`; least recently used entries go first when the
// entry or byte bound is reached. One per configuration generation, so a reload starts it empty
// with the new settings. Thread-safe (one mutex; the gateway asks it only when caching is on).

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "llmpool/chat.h"
#include "llmpool/clock.h"
#include "llmpool/config.h"

namespace llmpool::gateway {

struct CachedReply {
  std::string body;  // the reply's JSON, as it was sent
  std::string deployment;
  std::string upstream_request_id;
  Usage usage;
};

class ReplyCache {
 public:
  explicit ReplyCache(const GatewayCacheConfig& config);

  /** The key of a request: each part length-prefixed, so no two requests share one. `scope` is
   *  the gateway key's name (entries are never shared between keys: a hit would tell one key
   *  what another asked), `headers` those of the request's headers that change its reply. */
  static std::string keyOf(std::string_view scope, std::string_view route, std::string_view headers,
                           std::string_view body);

  /** The reply stored under `key`, unless it expired (then it is dropped); null otherwise. */
  std::shared_ptr<const CachedReply> find(const std::string& key, MonotonicTime now);

  /** Stores (or replaces) the reply under `key`, evicting the least recently used entries until
   *  the bounds hold. A reply larger than a quarter of max_bytes is not kept (one entry must not
   *  empty the cache). Returns how many entries were evicted. */
  size_t store(std::string key, CachedReply reply, MonotonicTime now);

  size_t entries() const;
  size_t bytes() const;

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const CachedReply> reply;
    MonotonicTime expires;
    size_t bytes = 0;
  };
  using Lru = std::list<Entry>;  // most recently used first

  void erase(Lru::iterator it);  // caller holds mu_

  const Duration ttl_;
  const size_t max_entries_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  Lru lru_;                                                    // guarded by mu_
  std::unordered_map<std::string_view, Lru::iterator> index_;  // views of Entry::key; mu_
  size_t bytes_ = 0;                                           // guarded by mu_
};

}  // namespace llmpool::gateway
