#include "providers/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "providers/wire_util.h"

namespace llmpool::providers {
namespace {

TEST(JsonWriterTest, StringsEscapeExactlyLikeNlohmannDump) {
  std::string every_ascii;
  for (int c = 0; c < 0x80; ++c) every_ascii.push_back(static_cast<char>(c));
  for (const std::string& s :
       {every_ascii, std::string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), std::string(""),
        std::string("\"\\/")}) {
    std::string out;
    appendJsonString(out, s);
    EXPECT_EQ(out, Json(s).dump()) << s;
  }
}

TEST(JsonWriterTest, InvalidUtf8BecomesTheReplacementCharacter) {
  for (const std::string& bad : {std::string("a\xC0\x80z"), std::string("\xED\xA0\x80"),
                                 std::string("x\xE2\x82"), std::string("\xFF")}) {
    std::string out;
    appendJsonString(out, bad);
    const Json parsed = Json::parse(out);  // well-formed UTF-8 JSON, or this throws
    EXPECT_NE(parsed.get<std::string>().find("\xEF\xBF\xBD"), std::string::npos) << out;
  }
}

TEST(JsonWriterTest, RunsBetweenEscapesAreKeptAndAppendedAfterExistingText) {
  std::string out = "prefix:";
  appendJsonString(out, std::string("ab\xFF"
                                    "cd\"e\\\n\xC3\xA9z"));
  EXPECT_EQ(out, std::string("prefix:\"ab\xEF\xBF\xBD"
                             "cd\\\"e\\\\\\n\xC3\xA9z\""));
}

TEST(JsonWriterTest, KeysThatNeedEscapesOrAreLongTakeTheGeneralPath) {
  const std::string long_name(100, 'k');
  std::string out;
  JsonWriter w(out);
  w.beginObject();
  w.key("plain");
  w.integer(1);
  w.key("q\"uote\n");
  w.integer(2);
  w.key(long_name);
  w.integer(3);
  w.key("caf\xC3\xA9");
  w.integer(4);
  w.endObject();
  const Json parsed = Json::parse(out);
  EXPECT_EQ(parsed.at("plain"), 1);
  EXPECT_EQ(parsed.at("q\"uote\n"), 2);
  EXPECT_EQ(parsed.at(long_name), 3);
  EXPECT_EQ(parsed.at("caf\xC3\xA9"), 4);
  EXPECT_EQ(out.substr(0, 13), R"({"plain":1,"q)");
}

TEST(JsonWriterTest, StructureCommasAndValues) {
  std::string out;
  JsonWriter w(out);
  w.beginObject();
  w.key("a");
  w.beginArray();
  w.integer(-3);
  w.number(0.7);
  w.number(1.0);
  w.number(1e300);
  w.number(std::numeric_limits<double>::quiet_NaN());
  w.boolean(true);
  w.null();
  w.beginObject();
  w.endObject();
  w.endArray();
  w.key("b");
  w.json(Json{{"x", {1, 2}}});
  w.key("c");
  w.string("d");
  w.endObject();
  EXPECT_EQ(out, R"({"a":[-3,0.7,1.0,1e+300,null,true,null,{}],"b":{"x":[1,2]},"c":"d"})");
}

TEST(JsonWriterTest, DoublesRoundTrip) {
  for (double v : {0.1, 0.7, 1.0 / 3.0, 2.5e-8, 123456789.125, -0.0}) {
    std::string out;
    JsonWriter(out).number(v);
    EXPECT_EQ(Json::parse(out).get<double>(), v) << out;
    EXPECT_TRUE(Json::parse(out).is_number_float()) << out;
  }
}

}  // namespace
}  // namespace llmpool::providers
