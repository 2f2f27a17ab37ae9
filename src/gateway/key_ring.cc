#include "gateway/key_ring.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <utility>

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
      digest(sha256(key.key)) {
  if (key.rpm || key.tpm) limiter = std::make_unique<resilience::RateLimiter>(key.rpm, key.tpm);
}

bool KeyEntry::allows(std::string_view alias) const {
  return models.empty() || std::find(models.begin(), models.end(), alias) != models.end();
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

std::string_view KeyLease::keyName() const { return key_ ? std::string_view(key_->name) : ""; }

KeyRing::KeyRing(const std::vector<GatewayKey>& keys) {
  entries_.reserve(keys.size());
  for (const auto& k : keys) entries_.push_back(std::make_unique<KeyEntry>(k));
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
                                                   MonotonicTime now, int64_t token_estimate) {
  if (!key) return KeyLease{};
  if (!key->allows(alias)) {
    return std::unexpected(denied(AuthFailure::ModelNotAllowed, ErrorCode::AuthFailed,
                                  "this key may not use model \"" + std::string(alias) + "\"",
                                  403));
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

}  // namespace llmpool::gateway
