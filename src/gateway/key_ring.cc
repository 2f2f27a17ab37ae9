#include "gateway/key_ring.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <utility>

#include "config/config_loader.h"
#include "metrics/prometheus_text.h"

namespace llmpool::gateway {

namespace {

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

AuthDenied denied(AuthFailure reason, ErrorCode code, std::string message,
                  std::optional<int> status = std::nullopt) {
  Error e(code, std::move(message));
  e.http_status = status;
  return AuthDenied{reason, std::move(e)};
}

// The refusal of a key whose budget is spent for the period holding `now`, or nullopt. Requests
// already in flight when the budget runs out still finish (their cost is known only at their
// end), so the spend may pass the budget by what they cost.
std::optional<AuthDenied> budgetSpent(KeyEntry& key, SystemTime now) {
  const double spent = key.account->spent(key.budget_period, now);
  if (spent < *key.max_budget) return std::nullopt;
  const PeriodBounds bounds = periodAt(key.budget_period, now);
  char figures[96];
  std::snprintf(figures, sizeof figures, "$%.4f of its $%.2f", spent, *key.max_budget);
  std::string message = "the budget of this key is spent: " + std::string(figures);
  const bool resets = key.budget_period != BudgetPeriod::None;
  message += resets ? " for this " + std::string(config::budgetPeriodName(key.budget_period)) +
                          " (it resets at " + isoUtc(bounds.end) + ")"
                    : " (it does not reset)";
  AuthDenied d = denied(AuthFailure::KeyBudget, ErrorCode::RateLimited, std::move(message));
  d.error.should_retry = false;  // not transient: the SDKs must not retry it
  if (resets) {
    const int64_t now_s =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    d.error.retry_after = std::chrono::seconds(std::max<int64_t>(bounds.end - now_s, 1));
  }
  return d;
}

}  // namespace

std::string_view authFailureName(AuthFailure reason) {
  switch (reason) {
    case AuthFailure::Missing:
      return "missing_key";
    case AuthFailure::Invalid:
      return "invalid_key";
    case AuthFailure::ModelNotAllowed:
      return "model_not_allowed";
    case AuthFailure::KeyRateLimited:
      return "key_rate_limited";
    case AuthFailure::KeyConcurrency:
      return "key_concurrency";
    case AuthFailure::KeyBudget:
      return "key_budget";
  }
  return "unknown";
}

std::string_view presentedKey(std::string_view authorization, std::string_view x_api_key) {
  authorization = trim(authorization);
  if (authorization.size() > 7 && iequals(authorization.substr(0, 7), "bearer ")) {
    return trim(authorization.substr(7));
  }
  return trim(x_api_key);
}

KeyEntry::KeyEntry(const GatewayKey& key)
    : name(key.name),
      models(key.models),
      max_concurrent(key.max_concurrent),
      digest(sha256(key.key)),
      max_budget(key.max_budget),
      budget_period(key.budget_period) {
  if (key.rpm || key.tpm) limiter = std::make_unique<resilience::RateLimiter>(key.rpm, key.tpm);
}

bool KeyEntry::allows(std::string_view alias) const {
  return models.empty() || std::any_of(models.begin(), models.end(), [&](const std::string& m) {
           return aliasMatches(m, alias);
         });
}

KeyLease::KeyLease(KeyLease&& other) noexcept
    : key_(std::exchange(other.key_, nullptr)), reservation_(std::move(other.reservation_)) {}

KeyLease& KeyLease::operator=(KeyLease&& other) noexcept {
  if (this != &other) {
    release();
    key_ = std::exchange(other.key_, nullptr);
    reservation_ = std::move(other.reservation_);
  }
  return *this;
}

KeyLease::~KeyLease() { release(); }

void KeyLease::release() {
  if (key_ && key_->max_concurrent) key_->in_flight.fetch_sub(1, std::memory_order_acq_rel);
  key_ = nullptr;
}

void KeyLease::settle(MonotonicTime now, int64_t tokens) {
  if (key_ && key_->limiter && reservation_) key_->limiter->settle(now, *reservation_, tokens);
}

void KeyLease::charge(SystemTime now, double cost_usd) {
  if (key_ && key_->account) key_->account->charge(key_->budget_period, now, cost_usd);
}

std::string_view KeyLease::keyName() const { return key_ ? std::string_view(key_->name) : ""; }

KeyRing::KeyRing(const std::vector<GatewayKey>& keys, BudgetLedger* ledger, SystemTime now) {
  entries_.reserve(keys.size());
  for (const auto& k : keys) {
    auto& entry = entries_.emplace_back(std::make_unique<KeyEntry>(k));
    if (k.max_budget && ledger) entry->account = ledger->account(k.name, k.budget_period, now);
  }
}

std::expected<KeyEntry*, AuthDenied> KeyRing::authenticate(std::string_view authorization,
                                                           std::string_view x_api_key) const {
  if (entries_.empty()) return nullptr;
  const std::string_view presented = presentedKey(authorization, x_api_key);
  if (presented.empty()) {
    return std::unexpected(denied(AuthFailure::Missing, ErrorCode::AuthFailed,
                                  "missing API key: send Authorization: Bearer <key> or "
                                  "x-api-key: <key>"));
  }
  const auto digest = sha256(presented);
  // Compare against every key, always: the loop's duration must not depend on which one (if
  // any) matches.
  KeyEntry* found = nullptr;
  for (const auto& entry : entries_) {
    const bool match = CRYPTO_memcmp(entry->digest.data(), digest.data(), digest.size()) == 0;
    found = match ? entry.get() : found;
  }
  if (!found) {
    return std::unexpected(denied(AuthFailure::Invalid, ErrorCode::AuthFailed, "invalid API key"));
  }
  return found;
}

std::expected<KeyLease, AuthDenied> KeyRing::admit(KeyEntry* key, std::string_view alias,
                                                   MonotonicTime now, int64_t token_estimate,
                                                   SystemTime wall) {
  if (!key) return KeyLease{};
  if (!key->allows(alias)) {
    return std::unexpected(denied(AuthFailure::ModelNotAllowed, ErrorCode::AuthFailed,
                                  "this key may not use model \"" + std::string(alias) + "\"",
                                  403));
  }
  if (key->account) {
    if (auto spent = budgetSpent(*key, wall)) return std::unexpected(std::move(*spent));
  }
  if (key->max_concurrent) {
    const int before = key->in_flight.fetch_add(1, std::memory_order_acq_rel);
    if (before >= *key->max_concurrent) {
      key->in_flight.fetch_sub(1, std::memory_order_acq_rel);
      auto d = denied(AuthFailure::KeyConcurrency, ErrorCode::RateLimited,
                      "too many concurrent requests for this key (max_concurrent " +
                          std::to_string(*key->max_concurrent) + ")");
      d.error.retry_after = std::chrono::milliseconds(1'000);
      return std::unexpected(std::move(d));
    }
  }
  std::optional<resilience::RateLimiter::Reservation> reservation;
  if (key->limiter) {
    auto decision = key->limiter->reserve(now, token_estimate);
    if (!decision.granted()) {
      if (key->max_concurrent) key->in_flight.fetch_sub(1, std::memory_order_acq_rel);
      auto d = denied(AuthFailure::KeyRateLimited, ErrorCode::RateLimited,
                      "rate limit of this key reached (rpm/tpm)");
      d.error.retry_after =
          std::max(std::chrono::milliseconds(1),
                   std::chrono::ceil<std::chrono::milliseconds>(decision.retry_at - now));
      return std::unexpected(std::move(d));
    }
    reservation = decision.reservation;
  }
  return KeyLease(key, reservation);
}

void KeyRing::writeBudgetMetrics(std::string& out, SystemTime now) const {
  metrics::PrometheusText p;
  bool any = false;
  for (const auto& e : entries_) {
    if (!e->account) continue;
    if (!any) {
      p.family("llmpool_gateway_key_budget_usd", "gauge",
               "A gateway key's max_budget, in USD per its budget_period.");
      any = true;
    }
    p.sample("llmpool_gateway_key_budget_usd", {{"key", e->name}}, *e->max_budget);
  }
  if (!any) return;
  p.family("llmpool_gateway_key_spend_usd", "gauge",
           "What a gateway key with a budget has spent in its current budget period, in USD.");
  for (const auto& e : entries_) {
    if (e->account) {
      p.sample("llmpool_gateway_key_spend_usd", {{"key", e->name}},
               e->account->spent(e->budget_period, now));
    }
  }
  out += p.take();
}

}  // namespace llmpool::gateway
