#pragma once
// Server-sent events decoder (the WHATWG "event stream interpretation"), pure and incremental:
// feed it bytes split anywhere and it emits the same events as for the whole stream at once.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "llmpool/error.h"

namespace llmpool::providers {

struct SseEvent {
  std::string event;  // the `event:` field; "" when absent (the spec's "message")
  std::string data;   // `data:` lines joined with '\n'
  std::string id;     // the last event id seen so far (it persists across events, per the spec)

  bool operator==(const SseEvent&) const = default;
};

/** One event as it goes on the wire: `event: NAME` (none when `name` is empty), a `data:` line
 *  per line of `data`, and the closing blank line. What SseDecoder reads back as {name, data}. */
std::string sseEventText(std::string_view name, std::string_view data);

/**
 * Handles LF, CRLF and CR line endings (a CR at the end of one feed and the LF at the start of the
 * next are one line break), comments (`:` lines), fields with or without a space after the colon,
 * fields without a colon, a leading UTF-8 BOM, and `retry:`. Not thread-safe; one per stream.
 */
class SseDecoder {
 public:
  using Emit = std::function<void(SseEvent&&)>;

  /** @param max_event_bytes bound on one line plus the event being assembled; beyond it feed()
   *  fails (a provider streaming garbage must not grow memory without end). */
  explicit SseDecoder(size_t max_event_bytes = 16 * 1024 * 1024)
      : max_event_bytes_(max_event_bytes) {}

  /** Decodes `bytes`, calling `emit` for every event completed by a blank line.
   *  @return Protocol error when an event exceeds max_event_bytes (the decoder stays failed). */
  Result<void> feed(std::string_view bytes, const Emit& emit);

  /** End of stream. The spec discards an event not closed by a blank line; we dispatch it (an
   *  unterminated last line included) so that a server that omits the final blank line still
   *  delivers its last event. */
  void finish(const Emit& emit);

  /** The last `retry:` value (reconnection time), if any. */
  std::optional<std::chrono::milliseconds> retry() const { return retry_; }

 private:
  void processLine(std::string_view line, const Emit& emit);
  void dispatch(const Emit& emit);

  size_t max_event_bytes_;
  std::string line_;          // the current, not yet terminated line
  bool last_was_cr_ = false;  // the previous byte was CR: a following LF belongs to it
  bool first_line_ = true;    // the BOM may only precede the first line
  std::string event_;
  std::string data_;
  bool has_data_ = false;
  std::string last_id_;
  std::optional<std::chrono::milliseconds> retry_;
  bool failed_ = false;
};

}  // namespace llmpool::providers
