#pragma once
// An append-only JSONL file that remembers which keys it holds, so a line is never written twice,
// even across crashes and reruns (the resume protocol in docs/run.md):
//  - open() takes an exclusive advisory lock (one runner per file), cuts a torn last line left by
//    a crash (bytes after the last '\n'), and reads the key of every complete line;
//  - append() buffers a line (serializeLine() form) unless its key is already present;
//  - flush() writes the buffer; sync() also fdatasync()s. A crash loses at most the unflushed (for
//    a process crash) or unsynced (machine crash) lines, and those are rewritten on the next run
//    from the results stored in the state database.
// Not thread-safe: one owner thread.

#include <functional>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "llmpool/chat.h"
#include "llmpool/error.h"

namespace llmpool::batch {

class JsonlAppender {
 public:
  /** Returns the key of an existing line, or nullopt to leave it unkeyed. Also sees every line
   *  (e.g. to count earlier results). */
  using KeyOf = std::function<std::optional<std::string>(const Json& line)>;

  /**
   * Opens or creates `path`. Fails (InvalidConfig) when it cannot be opened, read or locked (a
   * second run on the same file). Complete lines that are not JSON are left alone and counted in
   * foreignLines().
   */
  static Result<std::unique_ptr<JsonlAppender>> open(const std::string& path, const KeyOf& key_of);
  ~JsonlAppender();
  JsonlAppender(const JsonlAppender&) = delete;
  JsonlAppender& operator=(const JsonlAppender&) = delete;

  bool contains(std::string_view key) const { return keys_.contains(key); }
  /** Appends `line` (buffered) unless `key` is present. @return true when appended. */
  bool append(const std::string& key, const Json& line);
  /** The same with the line already serialized (one line of text, no newline). */
  bool appendText(const std::string& key, std::string_view text);
  /** Hands the buffer to the OS (survives a crash of this process, not of the machine). */
  Result<void> flush();
  /** flush(), then forces the file to disk. */
  Result<void> sync();

  const std::string& path() const { return path_; }
  size_t existingLines() const { return existing_lines_; }
  size_t foreignLines() const { return foreign_lines_; }
  /** Bytes cut from a torn last line at open (0 normally). */
  size_t truncatedBytes() const { return truncated_bytes_; }
  size_t size() const { return keys_.size(); }

 private:
  JsonlAppender(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Result<void> load(const KeyOf& key_of);
  Result<void> writeBuffer();
  /** Adds `key` (copied into the arena); false when it is present already. */
  bool insertKey(std::string_view key);

  std::string path_;
  int fd_ = -1;
  // The keys and the set's nodes live in one arena: at the end of a run an index of 100,000 keys
  // goes in a few block frees instead of one free per key (was ~25 ms of the run's teardown).
  // Keys are never removed. The arena is declared first, so it outlives the set.
  std::pmr::monotonic_buffer_resource key_arena_;
  std::pmr::unordered_set<std::string_view> keys_{&key_arena_};
  std::string buffer_;
  size_t existing_lines_ = 0;
  size_t foreign_lines_ = 0;
  size_t truncated_bytes_ = 0;
};

}  // namespace llmpool::batch
