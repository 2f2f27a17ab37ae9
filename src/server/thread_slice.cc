#include "server/thread_slice.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace llmpool::server {

namespace {

// struct sched_attr of sched_setattr(2); glibc 2.36 has no wrapper or declaration for it.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

bool readAttr(SchedAttr& attr) {
  attr = {};
  return ::syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) == 0;
}

// Writes `runtime_ns` as the calling thread's slice request (0: the kernel's default).
bool writeSlice(uint64_t runtime_ns) {
  SchedAttr attr;
  if (!readAttr(attr) || attr.sched_policy != SCHED_OTHER) return false;
  attr.size = sizeof attr;
  attr.sched_flags = 0;
  attr.sched_runtime = runtime_ns;
  attr.sched_deadline = attr.sched_period = 0;
  // sched_nice and the policy are written back as read: an operator's `nice` stays.
  return ::syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
}

}  // namespace

bool requestSchedulerSlice(std::chrono::microseconds slice) {
  if (slice.count() <= 0) return false;
  return writeSlice(static_cast<uint64_t>(slice.count()) * 1000);  // nanoseconds
}

bool restoreDefaultSchedulerSlice() { return writeSlice(0); }

std::chrono::microseconds currentSchedulerSlice() {
  SchedAttr attr;
  if (!readAttr(attr)) return std::chrono::microseconds(0);
  return std::chrono::microseconds(attr.sched_runtime / 1000);
}

}  // namespace llmpool::server
