#pragma once
// Uses up this process's file descriptors for the lifetime of the object, so that the next
// socket() anywhere in the process fails with EMFILE: the soft RLIMIT_NOFILE is lowered and every
// free descriptor below it is taken. Both are restored on destruction. Only the test's own
// process is affected (child processes started before keep their limits).

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace llmpool::testing {

class DescriptorExhaustion {
 public:
  DescriptorExhaustion() {
    if (::getrlimit(RLIMIT_NOFILE, &saved_) != 0) return;
    rlimit low = saved_;
    low.rlim_cur = std::min<rlim_t>(saved_.rlim_cur, kLimit);
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) return;
    lowered_ = true;
    const int first = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (first < 0) {
      exhausted_ = errno == EMFILE;
      return;
    }
    held_.push_back(first);
    for (size_t i = 0; i < kLimit; ++i) {  // bounded: the limit is at most kLimit
      const int fd = ::fcntl(first, F_DUPFD_CLOEXEC, 0);
      if (fd < 0) {
        exhausted_ = errno == EMFILE;
        return;
      }
      held_.push_back(fd);
    }
  }
  ~DescriptorExhaustion() {
    for (int fd : held_) ::close(fd);
    if (lowered_) ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  DescriptorExhaustion(const DescriptorExhaustion&) = delete;
  DescriptorExhaustion& operator=(const DescriptorExhaustion&) = delete;

  /** Every descriptor is taken: a new one fails with EMFILE. */
  bool exhausted() const { return exhausted_; }

 private:
  static constexpr rlim_t kLimit = 512;
  rlimit saved_{};
  bool lowered_ = false;
  bool exhausted_ = false;
  std::vector<int> held_;
};

}  // namespace llmpool::testing
