#include "providers/json_writer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "providers/utf8.h"
#include "providers/wire_util.h"

namespace llmpool::providers {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The escape a byte below 0x80 needs, or nullptr: the short forms JSON has, \u00XX for the other
// control characters (lowercase hex, as nlohmann writes them).
const char* escapeOf(unsigned char c) {
  static const char* const kControl[0x20] = {
      "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
      "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
      "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
      "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f"};
  if (c < 0x20) return kControl[c];
  if (c == '"') return "\\\"";
  if (c == '\\') return "\\\\";
  return nullptr;
}

// Bytes written as they are: printable ASCII other than the quote and the backslash.
constexpr auto kVerbatim = [] {
  std::array<bool, 256> verbatim{};
  for (int c = 0x20; c < 0x80; ++c) verbatim[static_cast<size_t>(c)] = c != '"' && c != '\\';
  return verbatim;
}();

bool isVerbatim(std::string_view text) {
  for (const char c : text) {
    if (!kVerbatim[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

}  // namespace

void appendJsonString(std::string& out, std::string_view text) {
  // A table lookup per byte finds the next byte that needs an escape; the run before it is
  // copied in one piece.
  const auto plainUpTo = [&](size_t i) {
    while (i < text.size() && kVerbatim[static_cast<unsigned char>(text[i])]) ++i;
    return i;
  };
  size_t i = plainUpTo(0);
  if (i == text.size()) {
    // Most strings (every member name, most values) need no escape at all: one write.
    // (Not resize_and_overwrite: GCC 12's passes the grown capacity, not the size asked for.)
    const size_t at = out.size();
    out.resize(at + text.size() + 2);
    char* p = out.data() + at;
    p[0] = '"';
    std::memcpy(p + 1, text.data(), text.size());
    p[text.size() + 1] = '"';
    return;
  }
  out.reserve(out.size() + text.size() + 2);
  out.push_back('"');
  size_t run = 0;  // start of the pending run of bytes copied verbatim
  while (true) {
    i = plainUpTo(i);
    if (i == text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t len = utf8SequenceLength(text, i);
      if (len > 0) {
        i += len;
        continue;
      }
      out.append(text.data() + run, i - run);
      out.append(kReplacement);
    } else {
      out.append(text.data() + run, i - run);
      out.append(escapeOf(c));
    }
    run = ++i;
  }
  out.append(text.data() + run, text.size() - run);
  out.push_back('"');
}

void JsonWriter::beginObject() {
  separate();
  out_.push_back('{');
}

void JsonWriter::endObject() {
  out_.push_back('}');
  need_comma_ = true;
}

void JsonWriter::beginArray() {
  separate();
  out_.push_back('[');
}

void JsonWriter::endArray() {
  out_.push_back(']');
  need_comma_ = true;
}

void JsonWriter::key(std::string_view name) {
  // Names are short and plain (written by this code base, not by users): the separator, the
  // quoted name and the colon go out in one append, the common case of every document written.
  char piece[64];
  if (name.size() <= sizeof piece - 4 && isVerbatim(name)) {
    size_t n = 0;
    if (need_comma_) piece[n++] = ',';
    piece[n++] = '"';
    std::memcpy(piece + n, name.data(), name.size());
    n += name.size();
    piece[n++] = '"';
    piece[n++] = ':';
    out_.append(piece, n);
    need_comma_ = false;
    return;
  }
  separate();
  appendJsonString(out_, name);
  out_.push_back(':');
}

void JsonWriter::string(std::string_view text) {
  separate();
  appendJsonString(out_, text);
  need_comma_ = true;
}

void JsonWriter::integer(int64_t value) {
  separate();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out_.append(buf, static_cast<size_t>(end - buf));
  need_comma_ = true;
}

void JsonWriter::number(double value) {
  if (!std::isfinite(value)) {
    null();
    return;
  }
  separate();
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  std::string_view text(buf, static_cast<size_t>(end - buf));
  out_.append(text);
  // 1.0 must stay a float on the wire (some servers type-check temperature and top_p).
  if (text.find_first_of(".e") == std::string_view::npos) out_.append(".0");
  need_comma_ = true;
}

void JsonWriter::boolean(bool value) {
  separate();
  out_.append(value ? "true" : "false");
  need_comma_ = true;
}

void JsonWriter::null() {
  separate();
  out_.append("null");
  need_comma_ = true;
}

void JsonWriter::json(const Json& value) {
  separate();
  out_.append(dumpJson(value));
  need_comma_ = true;
}

}  // namespace llmpool::providers
