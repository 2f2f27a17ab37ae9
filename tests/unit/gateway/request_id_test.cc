#include "gateway/request_id.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "gateway/request_log.h"

namespace llmpool::gateway {
namespace {

TEST(RequestIdTest, AClientsUsableIdIsKept) {
  EXPECT_EQ("req-123_abc:xyz/9", requestIdFor("req-123_abc:xyz/9"));
  EXPECT_EQ(std::string(128, 'a'), requestIdFor(std::string(128, 'a')));
}

TEST(RequestIdTest, AnUnusableIdIsReplacedWithANewOne) {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (const std::string& bad :
       {std::string(), std::string(129, 'a'), std::string("has space"), std::string("quote\"d"),
        std::string("back\\slash"), std::string("new\nline"), std::string("caf\xc3\xa9")}) {
    const std::string id = requestIdFor(bad);
    EXPECT_TRUE(std::regex_match(id, uuid)) << "for [" << bad << "]: " << id;
  }
}

TEST(RequestIdTest, NewIdsAreVersion4UuidsAndDiffer) {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = newRequestId();
    ASSERT_TRUE(std::regex_match(id, uuid)) << id;
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
