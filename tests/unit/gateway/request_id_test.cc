#include "gateway/request_id.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "gateway/request_log.h"

namespace llmpool::gateway {
namespace {

// xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx, lower-case hex, y one of 8 9 a b. (Checked by hand:
// std::regex trips GCC 12's uninitialised-use warning in the sanitizer build.)
bool isUuid4(const std::string& id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return id[14] == '4' && std::string("89ab").find(id[19]) != std::string::npos;
}

TEST(RequestIdTest, AClientsUsableIdIsKept) {
  EXPECT_EQ("req-123_abc:xyz/9", requestIdFor("req-123_abc:xyz/9"));
  EXPECT_EQ(std::string(128, 'a'), requestIdFor(std::string(128, 'a')));
}

TEST(RequestIdTest, AnUnusableIdIsReplacedWithANewOne) {
  for (const std::string& bad :
       {std::string(), std::string(129, 'a'), std::string("has space"), std::string("quote\"d"),
        std::string("back\\slash"), std::string("new\nline"), std::string("caf\xc3\xa9")}) {
    const std::string id = requestIdFor(bad);
    EXPECT_TRUE(isUuid4(id)) << "for [" << bad << "]: " << id;
  }
}

TEST(RequestIdTest, NewIdsAreVersion4UuidsAndDiffer) {
  EXPECT_FALSE(isUuid4("0d5e2a4c-51f4-3e0b-9a53-3b8f3f0a9c11"));  // the checker checks
  EXPECT_FALSE(isUuid4("0d5e2a4c-51f4-4e0b-7a53-3b8f3f0a9c11"));
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = newRequestId();
    ASSERT_TRUE(isUuid4(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(1000u, seen.size());
}

TEST(RequestIdTest, TheLogLineCarriesIt) {
  RequestRecord r;
  r.route = "/v1/chat/completions";
  r.status = 200;
  r.request_id = "req-1";
  EXPECT_NE(std::string::npos, Logger::formatRequest(r).find("request_id=req-1"))
      << Logger::formatRequest(r);
}

}  // namespace
}  // namespace llmpool::gateway
