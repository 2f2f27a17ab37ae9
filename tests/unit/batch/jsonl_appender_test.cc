#include "batch/jsonl_appender.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace llmpool::batch {
namespace {

class JsonlAppenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/appender-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(pattern.data()));
    dir_ = pattern;
    path_ = dir_ + "/out.jsonl";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::optional<std::string> keyOf(const Json& line) {
    auto id = line.find("custom_id");
    if (id == line.end() || !id->is_string()) return std::nullopt;
    return id->get<std::string>();
  }

  std::string read() const {
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  void write(const std::string& text) const {
    std::ofstream out(path_, std::ios::binary);
    out << text;
  }

  std::string dir_, path_;
};

TEST_F(JsonlAppenderTest, AppendsEachKeyOnce) {
  auto file = JsonlAppender::open(path_, keyOf);
  ASSERT_TRUE(file.has_value()) << file.error().message;
  EXPECT_TRUE((*file)->append("a", {{"custom_id", "a"}}));
  EXPECT_FALSE((*file)->append("a", {{"custom_id", "a"}, {"again", true}}));
  EXPECT_TRUE((*file)->append("b", {{"custom_id", "b"}}));
  ASSERT_TRUE((*file)->sync().has_value());
  EXPECT_EQ("{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\"}\n", read());
}

TEST_F(JsonlAppenderTest, ReopeningRemembersKeysAndCutsATornLastLine) {
  write("{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\"}\n{\"custom_id\":\"c\",\"resp");
  std::vector<std::string> seen;
  auto file = JsonlAppender::open(path_, [&](const Json& line) {
    auto key = keyOf(line);
    if (key) seen.push_back(*key);
    return key;
  });
  ASSERT_TRUE(file.has_value()) << file.error().message;
  EXPECT_EQ((std::vector<std::string>{"a", "b"}), seen);
  EXPECT_EQ(2u, (*file)->existingLines());
  EXPECT_GT((*file)->truncatedBytes(), 0u);
  EXPECT_TRUE((*file)->contains("a"));
  EXPECT_FALSE((*file)->contains("c"));
  EXPECT_FALSE((*file)->append("b", {{"custom_id", "b"}}));
  EXPECT_TRUE((*file)->append("c", {{"custom_id", "c"}}));
  ASSERT_TRUE((*file)->sync().has_value());
  EXPECT_EQ("{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\"}\n{\"custom_id\":\"c\"}\n", read());
}

TEST_F(JsonlAppenderTest, ForeignLinesAreCountedNotKeyed) {
  write("hello\n{\"custom_id\":\"a\"}\n");
  auto file = JsonlAppender::open(path_, keyOf);
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(1u, (*file)->foreignLines());
  EXPECT_EQ(1u, (*file)->existingLines());
}

TEST_F(JsonlAppenderTest, SecondOpenOfTheSameFileIsRefused) {
  auto first = JsonlAppender::open(path_, keyOf);
  ASSERT_TRUE(first.has_value());
  auto second = JsonlAppender::open(path_, keyOf);
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(std::string::npos, second.error().message.find("in use")) << second.error().message;
}

TEST_F(JsonlAppenderTest, UnopenablePathIsAnError) {
  auto file = JsonlAppender::open(dir_ + "/missing/dir/out.jsonl", keyOf);
  ASSERT_FALSE(file.has_value());
  EXPECT_NE(std::string::npos, file.error().message.find("cannot open"));
}

}  // namespace
}  // namespace llmpool::batch
