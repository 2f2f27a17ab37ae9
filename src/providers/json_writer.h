#pragma once
// Writes JSON text straight into a string, without building a DOM first. The request path of
// every attempt encodes a body; building an nlohmann tree and dumping it costs several
// allocations per field, this costs none beyond the output buffer.

#include <cstdint>
#include <string>
#include <string_view>

#include "llmpool/chat.h"

namespace llmpool::providers {

/**
 * Appends compact JSON to `out`. Commas are placed automatically; the caller keeps the nesting
 * balanced. Strings are escaped as nlohmann's dump() does (UTF-8 kept, control characters
 * escaped) and invalid UTF-8 is replaced by U+FFFD, like dumpJson().
 */
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void beginObject();
  void endObject();
  void beginArray();
  void endArray();
  /** The next member's name; a value call must follow. */
  void key(std::string_view name);

  void string(std::string_view text);
  void integer(int64_t value);
  /** Shortest round-trip form; always has a '.' or exponent like nlohmann's; NaN/Inf -> null. */
  void number(double value);
  void boolean(bool value);
  void null();
  /** An nlohmann value, dumped in place. */
  void json(const Json& value);
  /** A value that is already compact JSON text (another writer's output), copied as is. */
  void raw(std::string_view json_text) {
    separate();
    out_.append(json_text);
    need_comma_ = true;
  }

 private:
  void separate() {
    if (need_comma_) out_.push_back(',');
    need_comma_ = false;
  }

  std::string& out_;
  bool need_comma_ = false;
};

/** Appends `text` as a quoted JSON string (see JsonWriter::string). */
void appendJsonString(std::string& out, std::string_view text);

}  // namespace llmpool::providers
