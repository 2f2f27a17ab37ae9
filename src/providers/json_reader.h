#pragma once
// A pull reader over JSON text for the hot decode paths: it walks the document in place and
// copies out only the values asked for, where a DOM parse allocates a node per value. It is
// strict (it rejects everything the nlohmann parser rejects: bad escapes, lone surrogates,
// control characters and ill-formed UTF-8 in strings, numbers outside the grammar, trailing
// commas, trailing garbage), so a decoder may fall back to the DOM path on any failure and the
// DOM path's error is the one users see.

#include <cstdint>
#include <string>
#include <string_view>

namespace llmpool::providers {

/**
 * Which members of one object a fast reader has seen, one bit each: a member seen twice sends the
 * document to the DOM path, which keeps the last one (a fast reader keeping the first would
 * disagree with it).
 */
class SeenMembers {
 public:
  /** True the first time `bit` is seen. */
  bool first(uint32_t bit) {
    if (seen_ & bit) return false;
    seen_ |= bit;
    return true;
  }

 private:
  uint32_t seen_ = 0;
};

class JsonReader {
 public:
  enum class Kind { Object, Array, String, Number, Bool, Null, Invalid };

  explicit JsonReader(std::string_view text) : text_(text) {}

  /** The kind of the next value (Invalid at the end or before a character no value starts with). */
  Kind peek();

  /** Consumes '{' (false if the next value is not an object). */
  bool enterObject();
  /**
   * Moves to the next member of the current object: true with its name, or false at '}' (which is
   * consumed) or on a syntax error (then failed() is true). The name views the text or, when it
   * was escaped, an internal buffer; either way it is
   * valid until the next call.
   */
  bool nextMember(std::string_view& name);
  /** Consumes '['. */
  bool enterArray();
  /** True when another element follows; false at ']' (consumed) or on error (failed()). */
  bool nextElement();

  bool readString(std::string& out);
  /** An integer within int64 (no fraction, no exponent); anything else fails. */
  bool readInt(int64_t& out);
  /** Any JSON number, as the nearest double. */
  bool readNumber(double& out);
  bool readBool(bool& out);
  bool readNull();
  /** Skips one value of any kind, validating it. */
  bool skipValue();
  /** Skips one value like skipValue() and views its text (for a nested document read later). */
  bool rawValue(std::string_view& text);

  /** True when nothing but whitespace is left and no error happened. */
  bool atEnd();
  bool failed() const { return failed_; }

 private:
  void skipSpace();
  bool fail() {
    failed_ = true;
    return false;
  }
  bool literal(std::string_view word);
  /** Reads the string at pos_ (a '"'); appends the decoded text to `out` unless it is null. */
  bool scanString(std::string* out);
  bool scanNumber();
  /** Scans the number at the next value and views its text. */
  bool numberText(std::string_view& text);
  bool skipNested(int depth);

  std::string_view text_;
  size_t pos_ = 0;
  bool fresh_ = false;  // just after '{' or '[': the next member/element needs no comma
  bool failed_ = false;
  std::string key_buffer_;
};

}  // namespace llmpool::providers
