#include "http/http1_response_parser.h"

#include <cstring>
#include <utility>

#include "http/http_token.h"

namespace llmpool::http {
namespace {

// Larger chunk sizes are refused: 2^62 bytes is far beyond any real body, and the bound keeps the
// hex accumulation clear of overflow.
constexpr uint64_t kMaxChunkSize = uint64_t{1} << 62;
// A head with more fields than this is hostile or broken; it also bounds headers_ growth.
constexpr size_t kMaxHeaderFields = 256;

bool isBlank(char c) { return c == ' ' || c == '\t'; }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view trimBlanks(std::string_view s) {
  while (!s.empty() && isBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && isBlank(s.back())) s.remove_suffix(1);
  return s;
}

/** ASCII case-insensitive comparison against a lower-case literal. */
bool equalsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

/** Calls fn on each trimmed element of a comma-separated list (empty elements included, so the
 *  caller decides whether they are an error). Stops early when fn returns false. */
template <typename Fn>
bool forEachListElement(std::string_view value, Fn&& fn) {
  while (true) {
    const size_t comma = value.find(',');
    if (!fn(trimBlanks(value.substr(0, comma)))) return false;
    if (comma == std::string_view::npos) return true;
    value.remove_prefix(comma + 1);
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void Http1ResponseParser::reset(bool head_request) {
  state_ = State::StatusLine;
  head_request_ = head_request;
  started_ = false;
  head_done_ = false;
  keep_alive_ = false;
  http10_ = false;
  chunked_ = false;
  has_transfer_encoding_ = false;
  has_length_ = false;
  connection_close_ = false;
  connection_keep_alive_ = false;
  chunk_cr_ = false;
  block_status_ = 0;
  status_ = 0;
  content_length_ = 0;
  remaining_ = 0;
  head_bytes_ = 0;
  line_.clear();
  // The handler may have moved the previous headers away, leaving no capacity behind.
  headers_.clear();
  headers_.reserve(16);
  error_.clear();
}

Http1ResponseParser::Status Http1ResponseParser::fail(std::string message) {
  state_ = State::Failed;
  keep_alive_ = false;
  error_ = std::move(message);
  return Status::Invalid;
}

Http1ResponseParser::LineResult Http1ResponseParser::nextLine(std::string_view input, size_t& pos,
                                                              std::string_view& line) {
  const char* begin = input.data() + pos;
  const size_t avail = input.size() - pos;
  const void* lf = std::memchr(begin, '\n', avail);
  if (lf == nullptr) {
    // Only a line split across feed() calls is copied; whole lines are parsed in place.
    if (head_bytes_ + line_.size() + avail > kMaxHeadBytes) return LineResult::TooLong;
    line_.append(begin, avail);
    pos = input.size();
    return LineResult::Partial;
  }
  const size_t len = static_cast<size_t>(static_cast<const char*>(lf) - begin);  // without LF
  if (head_bytes_ + line_.size() + len + 1 > kMaxHeadBytes) return LineResult::TooLong;
  head_bytes_ += line_.size() + len + 1;
  pos += len + 1;
  if (line_.empty()) {
    line = std::string_view(begin, len);
  } else {
    line_.append(begin, len);
    line = line_;
  }
  // CRLF or a bare LF both end a line (RFC 9112 2.2 lets recipients accept the latter).
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return LineResult::Line;
}

Http1ResponseParser::Status Http1ResponseParser::headLine(std::string_view line, Handler& handler) {
  if (state_ == State::StatusLine) return statusLine(line);
  if (line.empty()) return headComplete(handler);
  return headerField(line);
}

Http1ResponseParser::Status Http1ResponseParser::statusLine(std::string_view line) {
  // "HTTP/1.x SSS" then nothing or " reason".
  if (line.size() < 12 || !line.starts_with("HTTP/") || line[8] != ' ') {
    return fail("malformed status line");
  }
  if (line[5] != '1' || line[6] != '.' || (line[7] != '0' && line[7] != '1')) {
    return fail("unsupported HTTP version");
  }
  if (!isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) ||
      (line.size() > 12 && line[12] != ' ')) {
    return fail("malformed status line");
  }
  const int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (status < 100) return fail("invalid status code");
  if (status == 101) return fail("unexpected 101 Switching Protocols");
  http10_ = line[7] == '0';
  block_status_ = status;
  state_ = State::HeaderLines;
  return Status::NeedMore;
}

Http1ResponseParser::Status Http1ResponseParser::headerField(std::string_view line) {
  // A continuation line would let a value smuggle what looks like another field (RFC 9112 5.2).
  if (isBlank(line.front())) return fail("obsolete line folding in header");
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return fail("header line without colon");
  if (colon == 0) return fail("empty header name");
  if (headers_.size() >= kMaxHeaderFields) return fail("too many header fields");

  // Validate and lower-case the name in one pass; whitespace before the colon is not a tchar.
  std::string name(colon, '\0');
  for (size_t i = 0; i < colon; ++i) {
    char c = line[i];
    if (!kHttpTokenChars[static_cast<unsigned char>(c)]) return fail("invalid header name");
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    name[i] = c;
  }
  const std::string_view value = trimBlanks(line.substr(colon + 1));
  // CR and NUL inside a value are how response splitting is attempted (RFC 9110 5.5).
  for (char c : value) {
    if (c == '\r' || c == '\0') return fail("invalid character in header value");
  }

  // Framing and connection fields matter only for the final response; interim ones are dropped.
  if (block_status_ >= 200) {
    if (name == "content-length") {
      // Duplicates ("5, 5" or a repeated field) are fine as long as they agree (RFC 9112 6.3).
      const char* error = nullptr;
      forEachListElement(value, [&](std::string_view element) {
        bool valid = !element.empty();
        uint64_t length = 0;
        for (char c : element) {
          if (!isDigit(c) || length > (UINT64_MAX - 9) / 10) {  // the latter: would overflow
            valid = false;
            break;
          }
          length = length * 10 + static_cast<uint64_t>(c - '0');
        }
        if (!valid) {
          error = "invalid Content-Length";
        } else if (has_length_ && length != content_length_) {
          error = "conflicting Content-Length values";
        }
        has_length_ = true;
        content_length_ = length;
        return error == nullptr;
      });
      if (error != nullptr) return fail(error);
    } else if (name == "transfer-encoding") {
      has_transfer_encoding_ = true;
      // Only the last coding decides whether the body is chunked (RFC 9112 6.3); a later field
      // continues the list of an earlier one.
      std::string_view last;
      forEachListElement(value, [&](std::string_view element) {
        if (!element.empty()) last = element;
        return true;
      });
      if (!last.empty()) chunked_ = equalsLower(last, "chunked");
    } else if (name == "connection") {
      forEachListElement(value, [&](std::string_view element) {
        if (equalsLower(element, "close")) connection_close_ = true;
        if (equalsLower(element, "keep-alive")) connection_keep_alive_ = true;
        return true;
      });
    }
  }
  headers_.emplace_back(std::move(name), std::string(value));
  return Status::NeedMore;
}

Http1ResponseParser::Status Http1ResponseParser::headComplete(Handler& handler) {
  if (block_status_ < 200) {
    // Interim response (100 Continue, 103 Early Hints, ...): nothing of it is reported.
    headers_.clear();
    state_ = State::StatusLine;
    head_bytes_ = 0;
    return Status::NeedMore;
  }
  status_ = block_status_;
  head_done_ = true;
  keep_alive_ = http10_ ? connection_keep_alive_ && !connection_close_ : !connection_close_;
  // Both framings at once hints at smuggling (RFC 9112 6.3): never reuse such a connection.
  if (has_transfer_encoding_ && has_length_) keep_alive_ = false;
  // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means the framing can't be trusted.
  if (has_transfer_encoding_ && http10_) keep_alive_ = false;

  if (head_request_ || status_ == 204 || status_ == 304) {
    state_ = State::Complete;
  } else if (has_transfer_encoding_) {
    if (chunked_) {
      state_ = State::ChunkSize;
      head_bytes_ = 0;
    } else {
      state_ = State::BodyUntilEof;
      keep_alive_ = false;
    }
  } else if (has_length_) {
    remaining_ = content_length_;
    state_ = remaining_ == 0 ? State::Complete : State::BodyLength;
  } else {
    state_ = State::BodyUntilEof;
    keep_alive_ = false;
  }
  if (!handler.onHead(status_, headers_)) {
    state_ = State::Aborted;
    keep_alive_ = false;
    return Status::Aborted;
  }
  return Status::NeedMore;
}

// After Done, Aborted or Invalid, feed() without reset() consumes nothing and repeats that status,
// so a caller that feeds again by mistake neither loses bytes nor sees a different outcome.
Http1ResponseParser::Status Http1ResponseParser::feed(std::string_view input, Handler& handler,
                                                      size_t& consumed) {
  consumed = 0;
  switch (state_) {
    case State::Complete:
      return Status::Done;
    case State::Aborted:
      return Status::Aborted;
    case State::Failed:
      return Status::Invalid;
    default:
      break;
  }
  if (!input.empty()) started_ = true;

  size_t pos = 0;
  const auto stop = [&](Status status) {
    consumed = pos;
    return status;
  };
  const auto abort = [&] {
    state_ = State::Aborted;
    keep_alive_ = false;
    return stop(Status::Aborted);
  };

  while (true) {
    if (state_ == State::Complete) return stop(Status::Done);
    if (pos == input.size()) return stop(Status::NeedMore);

    switch (state_) {
      case State::StatusLine:
      case State::HeaderLines: {
        std::string_view line;
        const LineResult got = nextLine(input, pos, line);
        if (got == LineResult::Partial) return stop(Status::NeedMore);
        static_assert(kMaxHeadBytes == 64 * 1024, "keep the message below in step");
        if (got == LineResult::TooLong) return stop(fail("response head exceeds 64 KiB"));
        const Status status = headLine(line, handler);
        line_.clear();
        if (status != Status::NeedMore) return stop(status);
        break;
      }

      case State::BodyLength:
      case State::ChunkData: {
        const size_t avail = input.size() - pos;
        const size_t n = remaining_ < avail ? static_cast<size_t>(remaining_) : avail;
        const std::string_view piece = input.substr(pos, n);
        pos += n;
        remaining_ -= n;
        if (remaining_ == 0) {
          if (state_ == State::BodyLength) {
            state_ = State::Complete;
          } else {
            state_ = State::ChunkDataEnd;
            chunk_cr_ = false;
          }
        }
        if (!handler.onBody(piece)) return abort();
        break;
      }

      case State::ChunkDataEnd: {
        // Checked byte by byte so that garbage after the data fails at once instead of being
        // buffered as a line.
        const char c = input[pos];
        if (c == '\r' && !chunk_cr_) {
          chunk_cr_ = true;
          ++pos;
        } else if (c == '\n') {
          ++pos;
          state_ = State::ChunkSize;
          head_bytes_ = 0;
        } else {
          return stop(fail("missing CRLF after chunk data"));
        }
        break;
      }

      case State::ChunkSize: {
        std::string_view line;
        const LineResult got = nextLine(input, pos, line);
        if (got == LineResult::Partial) return stop(Status::NeedMore);
        if (got == LineResult::TooLong) return stop(fail("chunk size line too long"));
        uint64_t size = 0;
        size_t i = 0;
        for (; i < line.size(); ++i) {
          const int digit = hexValue(line[i]);
          if (digit < 0) break;
          if (size > (kMaxChunkSize >> 4)) break;  // would pass the limit below anyway
          size = size * 16 + static_cast<uint64_t>(digit);
        }
        const size_t digits = i;
        const bool too_large = size > kMaxChunkSize || (i < line.size() && hexValue(line[i]) >= 0);
        while (i < line.size() && isBlank(line[i])) ++i;  // BWS before ";ext"
        const bool bad = digits == 0 || (i < line.size() && line[i] != ';');
        line_.clear();
        if (too_large) return stop(fail("chunk size too large"));
        if (bad) return stop(fail("invalid chunk size"));
        if (size == 0) {
          state_ = State::Trailers;
          head_bytes_ = 0;
        } else {
          remaining_ = size;
          state_ = State::ChunkData;
        }
        break;
      }

      case State::Trailers: {
        std::string_view line;
        const LineResult got = nextLine(input, pos, line);
        if (got == LineResult::Partial) return stop(Status::NeedMore);
        if (got == LineResult::TooLong) return stop(fail("trailer section exceeds 64 KiB"));
        // Trailer fields are not reported; only the empty line that ends them matters.
        if (line.empty()) state_ = State::Complete;
        line_.clear();
        break;
      }

      case State::BodyUntilEof: {
        const std::string_view piece = input.substr(pos);
        pos = input.size();
        if (!handler.onBody(piece)) return abort();
        break;
      }

      case State::Complete:
      case State::Aborted:
      case State::Failed:
        // Not reached: Complete is checked at the top of the loop, and the code that enters
        // Aborted or Failed returns at once. Listed so that -Wswitch flags a new state.
        return stop(Status::Done);
    }
  }
}

bool Http1ResponseParser::finishAtEof() {
  if (state_ == State::BodyUntilEof) {
    state_ = State::Complete;
    return true;
  }
  return state_ == State::Complete;
}

}  // namespace llmpool::http
