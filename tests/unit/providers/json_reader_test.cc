// The pull reader must accept exactly what the nlohmann parser accepts (the decoders fall back to
// the DOM path on any rejection, so accepting more would let broken bodies through) and decode
// strings to the same bytes.

#include "providers/json_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "llmpool/chat.h"

namespace llmpool::providers {
namespace {

bool readerAccepts(std::string_view text) {
  JsonReader r(text);
  return r.skipValue() && r.atEnd();
}

bool domAccepts(std::string_view text) {
  return !Json::parse(text, nullptr, /*allow_exceptions=*/false).is_discarded();
}

TEST(JsonReaderTest, AcceptsExactlyWhatTheDomParserAccepts) {
  const std::vector<std::string> cases = {
      "{}", "[]", " { } ", R"({"a":1})", R"({"a":[1,2,{"b":null}],"c":true,"d":false})", "0", "-0",
      "12", "-12.5e+3", "1E9", "0.5", R"("x")", R"("\u00e9\ud83d\ude00\n\t\/")",
      "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"",
      // Rejected by both:
      "", "{", "}", R"({"a":1,})", "[1,]", "[,1]", R"({"a" 1})", R"({a:1})", R"({"a":1 "b":2})",
      "01", "1.", ".5", "-", "+1", "1e", "1e+", "--1", "tru", "nul", "truex", "{} x", "[1] [2]",
      R"("abc)", "\"a\x01b\"", R"("\x")", R"("\u12")", R"("\ud800")", R"("\udc00")",
      R"("\ud800\u0041")", "\"\xC0\x80\"", "\"\xED\xA0\x80\"", "\"\xF5\x80\x80\x80\"",
      "\"\xE2\x82\"", "\"\x80\"", R"({"a":})", R"({"a":1}})", R"([1,2)", "nan", "[01]"};
  for (const auto& text : cases) {
    EXPECT_EQ(readerAccepts(text), domAccepts(text)) << "input: " << text;
  }
}

TEST(JsonReaderTest, EveryTruncationOfADocumentIsRejectedLikeTheDom) {
  const std::string doc =
      R"({"id":"x\"y","n":[1,-2.5e3,true,false,null],"o":{"k":"\u00e9\ud83d\ude00"},"z":0})";
  for (size_t cut = 0; cut <= doc.size(); ++cut) {
    const std::string part = doc.substr(0, cut);
    EXPECT_EQ(readerAccepts(part), domAccepts(part)) << "prefix of length " << cut;
  }
}

TEST(JsonReaderTest, StringsDecodeToTheDomsBytes) {
  const std::vector<std::string> cases = {R"("plain")",
                                          R"("q\"b\\s\/")",
                                          R"("\b\f\n\r\t")",
                                          R"("\u0000\u001f\u0041")",
                                          R"("\u00e9\u20ac")",
                                          R"("\ud83d\ude00")",
                                          "\"\xF0\x9F\x98\x80 raw\""};
  for (const auto& text : cases) {
    JsonReader r(text);
    std::string got;
    ASSERT_TRUE(r.readString(got)) << text;
    EXPECT_EQ(got, Json::parse(text).get<std::string>()) << text;
  }
}

TEST(JsonReaderTest, WalksObjectsAndArrays) {
  JsonReader r(R"( {"a" : [1, 2] , "b\n" : {"c": "d"}, "e": -9223372036854775808} )");
  ASSERT_TRUE(r.enterObject());
  std::string_view name;
  ASSERT_TRUE(r.nextMember(name));
  EXPECT_EQ(name, "a");
  ASSERT_TRUE(r.enterArray());
  std::vector<int64_t> values;
  while (r.nextElement()) {
    int64_t v = 0;
    ASSERT_TRUE(r.readInt(v));
    values.push_back(v);
  }
  EXPECT_EQ(values, (std::vector<int64_t>{1, 2}));
  ASSERT_TRUE(r.nextMember(name));
  EXPECT_EQ(name, "b\n");
  ASSERT_TRUE(r.skipValue());
  ASSERT_TRUE(r.nextMember(name));
  EXPECT_EQ(name, "e");
  int64_t e = 0;
  ASSERT_TRUE(r.readInt(e));
  EXPECT_EQ(e, INT64_MIN);
  EXPECT_FALSE(r.nextMember(name));
  EXPECT_FALSE(r.failed());
  EXPECT_TRUE(r.atEnd());
}

TEST(JsonReaderTest, ReadIntRefusesFractionsOverflowAndOtherKinds) {
  for (const char* text : {"1.5", "1e3", "1E3", "-1.0", "9223372036854775808",
                           "-9223372036854775809", "99999999999999999999", "\"1\"", "null"}) {
    JsonReader r(text);
    int64_t v = 0;
    EXPECT_FALSE(r.readInt(v)) << text;
    EXPECT_TRUE(r.failed()) << text;
  }
}

TEST(JsonReaderTest, ReadIntAcceptsTheWholeRange) {
  const std::pair<const char*, int64_t> cases[] = {{"0", 0},
                                                   {"-0", 0},
                                                   {"7", 7},
                                                   {"-42", -42},
                                                   {"9223372036854775807", INT64_MAX},
                                                   {"-9223372036854775808", INT64_MIN},
                                                   {"1795839751", 1795839751}};
  for (const auto& [text, expected] : cases) {
    JsonReader r(text);
    int64_t v = 1;
    ASSERT_TRUE(r.readInt(v)) << text;
    EXPECT_EQ(v, expected) << text;
    EXPECT_TRUE(r.atEnd()) << text;
  }
}

TEST(JsonReaderTest, DeepNestingIsRefusedNotAStackOverflow) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  JsonReader r(deep);
  EXPECT_FALSE(r.skipValue());
  EXPECT_TRUE(r.failed());
}

}  // namespace
}  // namespace llmpool::providers
