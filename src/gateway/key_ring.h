#pragma once
// Gateway keys (gateway.keys): who may call, which aliases, how fast. A key is presented as
// `Authorization: Bearer <key>` (OpenAI SDKs) or `x-api-key: <key>` (Anthropic SDKs) and compared
// in constant time: both sides are hashed with SHA-256 and every configured digest is compared
// with CRYPTO_memcmp, without an early exit, so timing reveals neither which key matched nor
// how long the keys are. Keys are never logged; logs and metrics use the key's `name`.

#include <array>
#include <atomic>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/budget_ledger.h"
#include "llmpool/clock.h"
#include "llmpool/config.h"
#include "llmpool/error.h"
#include "resilience/rate_limiter.h"

namespace llmpool::gateway {

/** Why a request was refused before reaching the pool (a metrics label). */
enum class AuthFailure {
  Missing,
  Invalid,
  ModelNotAllowed,
  KeyRateLimited,
  KeyConcurrency,
  KeyBudget,  // the key's max_budget is spent for this period
};
inline constexpr std::size_t kAuthFailureCount = 6;
std::string_view authFailureName(AuthFailure reason);

/** One configured key and its live limits. Owned by a KeyRing; thread-safe. */
struct KeyEntry {
  explicit KeyEntry(const GatewayKey& key);
  KeyEntry(const KeyEntry&) = delete;
  KeyEntry& operator=(const KeyEntry&) = delete;

  bool allows(std::string_view alias) const;

  std::string name;
  std::vector<std::string> models;  // empty = every alias
  std::optional<int> max_concurrent;
  std::array<unsigned char, 32> digest{};
  std::unique_ptr<resilience::RateLimiter> limiter;  // null without rpm/tpm
  std::atomic<int> in_flight{0};
  std::optional<double> max_budget;  // USD per budget_period
  BudgetPeriod budget_period = BudgetPeriod::None;
  BudgetAccount* account = nullptr;  // the ledger's, when max_budget is set
};

struct AuthDenied {
  AuthFailure reason;
  Error error;  // AuthFailed (401/403) or RateLimited, in the caller's terms
};

/** A request's hold on its key: one concurrency slot and one rate reservation. Move-only; the
 *  slot is returned on destruction, the token charge is corrected by settle(). */
class KeyLease {
 public:
  KeyLease() = default;
  KeyLease(KeyEntry* key, std::optional<resilience::RateLimiter::Reservation> reservation)
      : key_(key), reservation_(reservation) {}
  KeyLease(KeyLease&& other) noexcept;
  KeyLease& operator=(KeyLease&& other) noexcept;
  KeyLease(const KeyLease&) = delete;
  KeyLease& operator=(const KeyLease&) = delete;
  ~KeyLease();

  /** Charges the key's tpm with the tokens actually used (prompt + completion). */
  void settle(MonotonicTime now, int64_t tokens);
  /** Adds what the request cost to the key's budget, if it has one. */
  void charge(SystemTime now, double cost_usd);
  /** "" when the gateway runs without keys. */
  std::string_view keyName() const;

 private:
  void release();
  KeyEntry* key_ = nullptr;
  std::optional<resilience::RateLimiter::Reservation> reservation_;
};

class KeyRing {
 public:
  /** `ledger` records the spend of keys with a budget; it must outlive the ring (nullptr: no
   *  key has one). */
  explicit KeyRing(const std::vector<GatewayKey>& keys, BudgetLedger* ledger = nullptr,
                   SystemTime now = std::chrono::system_clock::now());

  /** False when no keys are configured: every request is let through (loopback only). */
  bool enabled() const { return !entries_.empty(); }

  /** Finds the key presented by the headers. nullptr (success) when auth is disabled. */
  std::expected<KeyEntry*, AuthDenied> authenticate(std::string_view authorization,
                                                    std::string_view x_api_key) const;

  /** Admits one request of `key` for `alias`: allowed aliases, budget (at `wall`),
   *  max_concurrent, rpm/tpm (with `token_estimate` tokens). `key` may be nullptr (auth
   *  disabled). */
  static std::expected<KeyLease, AuthDenied> admit(
      KeyEntry* key, std::string_view alias, MonotonicTime now, int64_t token_estimate,
      SystemTime wall = std::chrono::system_clock::now());

  /** Appends the budget gauges (llmpool_gateway_key_budget_usd, ..._key_spend_usd) of the keys
   *  that have a budget; nothing when none has. */
  void writeBudgetMetrics(std::string& out, SystemTime now) const;

 private:
  std::vector<std::unique_ptr<KeyEntry>> entries_;
};

/** The credential in `Authorization: Bearer X` (scheme case-insensitive) or else `x-api-key`. */
std::string_view presentedKey(std::string_view authorization, std::string_view x_api_key);

}  // namespace llmpool::gateway
