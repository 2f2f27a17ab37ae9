#include "providers/sse_decoder.h"

#include <cstdint>

namespace llmpool::providers {

std::string sseEventText(std::string_view name, std::string_view data) {
  std::string out;
  out.reserve(name.size() + data.size() + 16);
  if (!name.empty()) out.append("event: ").append(name).push_back('\n');
  for (;;) {
    const size_t eol = data.find('\n');
    out.append("data: ").append(data.substr(0, eol)).push_back('\n');
    if (eol == std::string_view::npos) break;
    data.remove_prefix(eol + 1);
  }
  out.push_back('\n');
  return out;
}

Result<void> SseDecoder::feed(std::string_view bytes, const Emit& emit) {
  if (failed_) return fail(ErrorCode::Protocol, "SSE event exceeds the size limit");
  size_t pos = 0;
  if (last_was_cr_ && !bytes.empty() && bytes.front() == '\n') {
    pos = 1;  // the LF completing a CRLF split across two feeds
  }
  last_was_cr_ = false;
  while (pos < bytes.size()) {
    size_t brk = bytes.find_first_of("\r\n", pos);
    if (brk == std::string_view::npos) {
      line_.append(bytes.substr(pos));
      break;
    }
    std::string_view piece = bytes.substr(pos, brk - pos);
    if (line_.empty()) {
      processLine(piece, emit);  // common case: the whole line is in this feed, no copy
    } else {
      line_.append(piece);
      processLine(line_, emit);
      line_.clear();
    }
    if (bytes[brk] == '\r') {
      if (brk + 1 < bytes.size()) {
        pos = bytes[brk + 1] == '\n' ? brk + 2 : brk + 1;
      } else {
        last_was_cr_ = true;
        pos = brk + 1;
      }
    } else {
      pos = brk + 1;
    }
  }
  if (line_.size() + data_.size() > max_event_bytes_) {
    failed_ = true;
    line_.clear();
    data_.clear();
    return fail(ErrorCode::Protocol, "SSE event exceeds the size limit");
  }
  return {};
}

void SseDecoder::finish(const Emit& emit) {
  if (failed_) return;
  if (!line_.empty()) {
    std::string line = std::move(line_);
    line_.clear();
    processLine(line, emit);
  }
  dispatch(emit);
  last_was_cr_ = false;
}

void SseDecoder::processLine(std::string_view line, const Emit& emit) {
  if (first_line_) {
    first_line_ = false;
    if (line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
  }
  if (line.empty()) {
    dispatch(emit);
    return;
  }
  if (line.front() == ':') return;  // comment (keep-alive)
  std::string_view field = line;
  std::string_view value;
  if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (field == "retry") {
    if (!value.empty() && value.size() <= 18 &&
        value.find_first_not_of("0123456789") == std::string_view::npos) {
      int64_t ms = 0;
      for (char c : value) ms = ms * 10 + (c - '0');
      retry_ = std::chrono::milliseconds(ms);
    }
  }
  // Other fields are ignored, as the spec requires.
}

void SseDecoder::dispatch(const Emit& emit) {
  if (!has_data_) {
    event_.clear();  // an event without data is not dispatched
    return;
  }
  SseEvent ev{std::move(event_), std::move(data_), last_id_};
  event_.clear();
  data_.clear();
  has_data_ = false;
  emit(std::move(ev));
}

}  // namespace llmpool::providers
