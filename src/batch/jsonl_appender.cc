#include "batch/jsonl_appender.h"

#include "batch/output_line.h"
#include "common/json_depth.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace llmpool::batch {
namespace {

constexpr size_t kFlushAt = 256 * 1024;  // buffered bytes that trigger a write (not a sync)

std::unexpected<Error> ioError(const std::string& path, const char* what) {
  return fail(ErrorCode::InvalidConfig, path + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

Result<std::unique_ptr<JsonlAppender>> JsonlAppender::open(const std::string& path,
                                                           const KeyOf& key_of) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ioError(path, "cannot open");
  std::unique_ptr<JsonlAppender> file(new JsonlAppender(path, fd));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return fail(ErrorCode::InvalidConfig,
                  path + ": in use by another llmpool run (it holds the file's lock)");
    }
    return ioError(path, "cannot lock");
  }
  if (auto loaded = file->load(key_of); !loaded) return std::unexpected(loaded.error());
  return file;
}

JsonlAppender::~JsonlAppender() {
  if (fd_ < 0) return;
  (void)writeBuffer();  // best effort; callers sync() explicitly where it matters
  ::close(fd_);         // also releases the lock
}

Result<void> JsonlAppender::load(const KeyOf& key_of) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return ioError(path_, "cannot stat");
  std::string content(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < content.size()) {
    const ssize_t n =
        ::pread(fd_, content.data() + got, content.size() - got, static_cast<off_t>(got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ioError(path_, "cannot read");
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  content.resize(got);
  // A crash can leave a partial last line. Only whole lines count; the rest is cut so the next
  // append starts on a fresh line (its task is rewritten from the stored result).
  const size_t end = content.rfind('\n') == std::string::npos ? 0 : content.rfind('\n') + 1;
  if (end < content.size()) {
    truncated_bytes_ = content.size() - end;
    if (::ftruncate(fd_, static_cast<off_t>(end)) != 0) return ioError(path_, "cannot truncate");
    content.resize(end);
  }
  if (::lseek(fd_, 0, SEEK_END) < 0) return ioError(path_, "cannot seek");
  size_t start = 0;
  while (start < content.size()) {
    const size_t nl = content.find('\n', start);
    std::string_view text(content.data() + start, nl - start);
    start = nl + 1;
    if (text.empty()) continue;
    Json line = parseJsonBounded(text);
    if (line.is_discarded() || !line.is_object()) {
      ++foreign_lines_;
      continue;
    }
    ++existing_lines_;
    if (auto key = key_of(line)) insertKey(*key);
  }
  return {};
}

bool JsonlAppender::append(const std::string& key, const Json& line) {
  if (keys_.contains(key)) return false;
  return appendText(key, serializeLine(line));
}

bool JsonlAppender::insertKey(std::string_view key) {
  // Copied first, so the set is searched once; a duplicate (rare: a task answered again after a
  // resume) leaves its few bytes unused in the arena.
  char* copy = static_cast<char*>(key_arena_.allocate(key.empty() ? 1 : key.size(), 1));
  std::copy(key.begin(), key.end(), copy);
  return keys_.insert(std::string_view(copy, key.size())).second;
}

bool JsonlAppender::appendText(const std::string& key, std::string_view text) {
  if (!insertKey(key)) return false;
  buffer_ += text;
  buffer_ += '\n';
  if (buffer_.size() >= kFlushAt) (void)writeBuffer();
  return true;
}

Result<void> JsonlAppender::writeBuffer() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      buffer_.erase(0, done);
      return ioError(path_, "cannot write");
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
  return {};
}

Result<void> JsonlAppender::flush() { return writeBuffer(); }

Result<void> JsonlAppender::sync() {
  if (auto written = writeBuffer(); !written) return written;
  if (::fdatasync(fd_) != 0) return ioError(path_, "cannot sync");
  return {};
}

}  // namespace llmpool::batch
