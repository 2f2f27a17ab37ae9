#include "providers/json_reader.h"

#include <array>
#include <charconv>

#include "common/json_depth.h"
#include "providers/utf8.h"

namespace llmpool::providers {
namespace {

constexpr int kMaxDepth = kMaxJsonDepth;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Bytes a string copies verbatim: printable ASCII other than '"' and '\\' (a table lookup per
// byte keeps the common case to one branch).
constexpr auto kPlain = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[static_cast<size_t>(c)] = c != '"' && c != '\\';
  return plain;
}();

}  // namespace

void JsonReader::skipSpace() {
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
    ++pos_;
  }
}

JsonReader::Kind JsonReader::peek() {
  skipSpace();
  if (failed_ || pos_ >= text_.size()) return Kind::Invalid;
  const char c = text_[pos_];
  switch (c) {
    case '{':
      return Kind::Object;
    case '[':
      return Kind::Array;
    case '"':
      return Kind::String;
    case 't':
    case 'f':
      return Kind::Bool;
    case 'n':
      return Kind::Null;
    default:
      return c == '-' || isDigit(c) ? Kind::Number : Kind::Invalid;
  }
}

bool JsonReader::enterObject() {
  if (peek() != Kind::Object) return fail();
  ++pos_;
  fresh_ = true;
  return true;
}

bool JsonReader::enterArray() {
  if (peek() != Kind::Array) return fail();
  ++pos_;
  fresh_ = true;
  return true;
}

bool JsonReader::nextMember(std::string_view& name) {
  if (failed_) return false;
  skipSpace();
  if (pos_ >= text_.size()) return fail();
  if (text_[pos_] == '}') {
    ++pos_;
    fresh_ = false;
    return false;
  }
  if (!fresh_) {
    if (text_[pos_] != ',') return fail();
    ++pos_;
    skipSpace();
  }
  fresh_ = false;
  if (pos_ >= text_.size() || text_[pos_] != '"') return fail();
  // Member names are short and almost never escaped: such a name is returned as a view of the
  // text, without a copy. An escaped one is decoded into key_buffer_.
  const size_t begin = pos_ + 1;
  size_t end = begin;
  while (end < text_.size() && kPlain[static_cast<unsigned char>(text_[end])]) ++end;
  if (end < text_.size() && text_[end] == '"') {
    name = text_.substr(begin, end - begin);
    pos_ = end + 1;
  } else {
    key_buffer_.clear();
    if (!scanString(&key_buffer_)) return false;
    name = key_buffer_;
  }
  skipSpace();
  if (pos_ >= text_.size() || text_[pos_] != ':') return fail();
  ++pos_;
  return true;
}

bool JsonReader::nextElement() {
  if (failed_) return false;
  skipSpace();
  if (pos_ >= text_.size()) return fail();
  if (text_[pos_] == ']') {
    ++pos_;
    fresh_ = false;
    return false;
  }
  if (fresh_) {
    fresh_ = false;
    return true;
  }
  if (text_[pos_] != ',') return fail();
  ++pos_;
  return true;
}

bool JsonReader::readString(std::string& out) {
  if (peek() != Kind::String) return fail();
  out.clear();
  fresh_ = false;
  return scanString(&out);
}

bool JsonReader::numberText(std::string_view& text) {
  if (peek() != Kind::Number) return fail();
  fresh_ = false;
  const size_t start = pos_;
  if (!scanNumber()) return false;
  text = text_.substr(start, pos_ - start);
  return true;
}

bool JsonReader::readInt(int64_t& out) {
  std::string_view digits;
  if (!numberText(digits)) return false;
  // The grammar is already checked; what is left is "integer, and in range". Accumulated as a
  // negative number, whose range is one larger, so INT64_MIN parses too.
  const bool negative = digits.front() == '-';
  int64_t value = 0;
  for (size_t i = negative ? 1 : 0; i < digits.size(); ++i) {
    const char c = digits[i];
    if (!isDigit(c)) return fail();  // a fraction or an exponent
    const int d = c - '0';
    if (value < (INT64_MIN + d) / 10) return fail();  // value * 10 - d would overflow
    value = value * 10 - d;
  }
  if (!negative) {
    if (value == INT64_MIN) return fail();
    value = -value;
  }
  out = value;
  return true;
}

bool JsonReader::readNumber(double& out) {
  std::string_view digits;
  if (!numberText(digits)) return false;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  if (ec != std::errc() || end != digits.data() + digits.size()) return fail();
  return true;
}

bool JsonReader::readBool(bool& out) {
  if (peek() != Kind::Bool) return fail();
  fresh_ = false;
  out = text_[pos_] == 't';
  return literal(out ? "true" : "false");
}

bool JsonReader::readNull() {
  if (peek() != Kind::Null) return fail();
  fresh_ = false;
  return literal("null");
}

bool JsonReader::skipValue() { return skipNested(0); }

bool JsonReader::rawValue(std::string_view& text) {
  skipSpace();
  const size_t start = pos_;
  if (!skipNested(0)) return false;
  text = text_.substr(start, pos_ - start);
  return true;
}

bool JsonReader::atEnd() {
  skipSpace();
  return !failed_ && pos_ == text_.size();
}

bool JsonReader::literal(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word) return fail();
  pos_ += word.size();
  return true;
}

bool JsonReader::scanString(std::string* out) {
  ++pos_;  // the opening quote
  size_t run = pos_;
  const auto flush = [&] {
    if (out) out->append(text_.data() + run, pos_ - run);
  };
  while (pos_ < text_.size()) {
    const auto c = static_cast<unsigned char>(text_[pos_]);
    if (kPlain[c]) {
      ++pos_;
      continue;
    }
    if (c == '"') {
      flush();
      ++pos_;
      return true;
    }
    if (c < 0x20) return fail();
    if (c >= 0x80) {
      const size_t len = utf8SequenceLength(text_, pos_);
      if (len == 0) return fail();
      pos_ += len;
      continue;
    }
    flush();
    if (++pos_ >= text_.size()) return fail();
    const char e = text_[pos_++];
    char plain = 0;
    switch (e) {
      case '"':
      case '\\':
      case '/':
        plain = e;
        break;
      case 'b':
        plain = '\b';
        break;
      case 'f':
        plain = '\f';
        break;
      case 'n':
        plain = '\n';
        break;
      case 'r':
        plain = '\r';
        break;
      case 't':
        plain = '\t';
        break;
      case 'u': {
        const auto hex4 = [&](uint32_t& v) {
          if (pos_ + 4 > text_.size()) return false;
          v = 0;
          for (int k = 0; k < 4; ++k) {
            const int h = hexValue(text_[pos_++]);
            if (h < 0) return false;
            v = v * 16 + static_cast<uint32_t>(h);
          }
          return true;
        };
        uint32_t cp = 0;
        if (!hex4(cp)) return fail();
        if (cp >= 0xDC00 && cp <= 0xDFFF) return fail();  // a low surrogate first
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t low = 0;
          if (text_.substr(pos_, 2) != "\\u") return fail();
          pos_ += 2;
          if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return fail();
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (out) appendUtf8(*out, cp);
        break;
      }
      default:
        return fail();
    }
    if (plain && out) out->push_back(plain);
    run = pos_;
  }
  return fail();  // no closing quote
}

bool JsonReader::scanNumber() {
  const auto digits = [&] {
    const size_t start = pos_;
    while (pos_ < text_.size() && isDigit(text_[pos_])) ++pos_;
    return pos_ > start;
  };
  if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
  if (pos_ >= text_.size()) return fail();
  if (text_[pos_] == '0') {
    ++pos_;
  } else if (!digits()) {
    return fail();
  }
  if (pos_ < text_.size() && text_[pos_] == '.') {
    ++pos_;
    if (!digits()) return fail();
  }
  if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
    if (!digits()) return fail();
  }
  return true;
}

bool JsonReader::skipNested(int depth) {
  if (depth > kMaxDepth) return fail();
  std::string_view name;
  switch (peek()) {
    case Kind::Object:
      enterObject();
      while (nextMember(name)) {
        if (!skipNested(depth + 1)) return false;
      }
      return !failed_;
    case Kind::Array:
      enterArray();
      while (nextElement()) {
        if (!skipNested(depth + 1)) return false;
      }
      return !failed_;
    case Kind::String:
      fresh_ = false;
      return scanString(nullptr);
    case Kind::Number:
      fresh_ = false;
      return scanNumber();
    case Kind::Bool: {
      bool ignored = false;
      return readBool(ignored);
    }
    case Kind::Null:
      return readNull();
    case Kind::Invalid:
      break;
  }
  return fail();
}

}  // namespace llmpool::providers
