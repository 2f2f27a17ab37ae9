#include "gateway/key_ring.h"

#include <gtest/gtest.h>

namespace llmpool::gateway {
namespace {

using std::chrono::seconds;

GatewayKey key(std::string k, std::string name) {
  GatewayKey g;
  g.key = std::move(k);
  g.name = std::move(name);
  return g;
}

TEST(KeyRingTest, NoKeysMeansOpen) {
  KeyRing ring({});
  EXPECT_FALSE(ring.enabled());
  auto r = ring.authenticate("", "");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(nullptr, *r);
}

TEST(KeyRingTest, BearerOrXApiKeyFindTheRightKey) {
  KeyRing ring({key("sk-aaa", "a"), key("sk-bbb", "b")});
  auto a = ring.authenticate("Bearer sk-aaa", "");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ("a", (*a)->name);
  auto b = ring.authenticate("", "sk-bbb");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ("b", (*b)->name);
  auto lower = ring.authenticate("bearer   sk-bbb ", "");
  ASSERT_TRUE(lower.has_value());
  EXPECT_EQ("b", (*lower)->name);
}

TEST(KeyRingTest, MissingAndWrongKeysAreRefusedWithoutEchoingThem) {
  KeyRing ring({key("sk-aaa", "a")});
  auto missing = ring.authenticate("", "");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(AuthFailure::Missing, missing.error().reason);
  auto wrong = ring.authenticate("Bearer sk-secret-guess", "");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(AuthFailure::Invalid, wrong.error().reason);
  EXPECT_EQ(ErrorCode::AuthFailed, wrong.error().error.code);
  EXPECT_EQ(std::string::npos, wrong.error().error.message.find("sk-secret-guess"));
  auto prefix = ring.authenticate("Bearer sk-aa", "");  // a prefix is not the key
  EXPECT_FALSE(prefix.has_value());
}

TEST(KeyRingTest, AllowedModels) {
  GatewayKey k = key("sk", "k");
  k.models = {"chat"};
  KeyRing ring({k});
  KeyEntry* e = *ring.authenticate("Bearer sk", "");
  EXPECT_TRUE(KeyRing::admit(e, "chat", MonotonicClock::now(), 1).has_value());
  auto no = KeyRing::admit(e, "other", MonotonicClock::now(), 1);
  ASSERT_FALSE(no.has_value());
  EXPECT_EQ(AuthFailure::ModelNotAllowed, no.error().reason);
  EXPECT_EQ(403, no.error().error.http_status);
}

TEST(KeyRingTest, ConcurrencyLimitReleasesOnLeaseEnd) {
  GatewayKey k = key("sk", "k");
  k.max_concurrent = 1;
  KeyRing ring({k});
  KeyEntry* e = *ring.authenticate("Bearer sk", "");
  const auto now = MonotonicClock::now();
  {
    auto first = KeyRing::admit(e, "chat", now, 1);
    ASSERT_TRUE(first.has_value());
    auto second = KeyRing::admit(e, "chat", now, 1);
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(AuthFailure::KeyConcurrency, second.error().reason);
    EXPECT_EQ(ErrorCode::RateLimited, second.error().error.code);
    KeyLease moved = std::move(*first);  // moving keeps exactly one slot
    EXPECT_EQ(1, e->in_flight.load());
  }
  EXPECT_EQ(0, e->in_flight.load());
  EXPECT_TRUE(KeyRing::admit(e, "chat", now, 1).has_value());
}

TEST(KeyRingTest, RpmLimitRefusesWithRetryAfter) {
  GatewayKey k = key("sk", "k");
  k.rpm = 2;
  KeyRing ring({k});
  KeyEntry* e = *ring.authenticate("Bearer sk", "");
  const auto now = MonotonicClock::now();
  EXPECT_TRUE(KeyRing::admit(e, "chat", now, 0).has_value());
  EXPECT_TRUE(KeyRing::admit(e, "chat", now, 0).has_value());
  auto third = KeyRing::admit(e, "chat", now, 0);
  ASSERT_FALSE(third.has_value());
  EXPECT_EQ(AuthFailure::KeyRateLimited, third.error().reason);
  ASSERT_TRUE(third.error().error.retry_after.has_value());
  EXPECT_GT(*third.error().error.retry_after, std::chrono::milliseconds(0));
  // The bucket refills at rpm/60 per second: one request after 30 s.
  EXPECT_TRUE(KeyRing::admit(e, "chat", now + seconds(31), 0).has_value());
}

TEST(KeyRingTest, TpmIsChargedWithActualUsage) {
  GatewayKey k = key("sk", "k");
  k.tpm = 1000;
  KeyRing ring({k});
  KeyEntry* e = *ring.authenticate("Bearer sk", "");
  const auto now = MonotonicClock::now();
  {
    auto lease = KeyRing::admit(e, "chat", now, 10);
    ASSERT_TRUE(lease.has_value());
    lease->settle(now, 5000);  // far more than estimated: the key is now in debt
  }
  EXPECT_FALSE(KeyRing::admit(e, "chat", now, 10).has_value());
}

TEST(KeyRingTest, PresentedKeyPrefersBearer) {
  EXPECT_EQ("a", presentedKey("Bearer a", "b"));
  EXPECT_EQ("b", presentedKey("Basic xyz", "b"));
  EXPECT_EQ("", presentedKey("", ""));
}

}  // namespace
}  // namespace llmpool::gateway
