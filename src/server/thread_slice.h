#pragma once
// Asks the kernel for short scheduler slices on the calling thread. An event-loop thread wakes
// for a few microseconds of work at a time; on a busy machine, with the default slice, a wake-up
// can wait behind a neighbour's whole slice, and every request of every connection on that
// thread waits with it. Linux 6.12 and later (EEVDF) take `sched_attr.sched_runtime` of a normal
// thread as the slice it asks for (0.1 to 100 ms): a shorter one gets it picked sooner after a
// wake-up, at the cost of more context switches. Older kernels accept and ignore it.

#include <chrono>

namespace llmpool::server {

/** Requests `slice` for the calling thread, keeping its policy and nice value; threads that are
 *  not SCHED_OTHER (an operator's choice) are left alone. Returns false when nothing was set. */
bool requestSchedulerSlice(std::chrono::microseconds slice);

/** Gives the calling thread the kernel's default slice again (a SCHED_OTHER thread only).
 *  Returns false when nothing was set. */
bool restoreDefaultSchedulerSlice();

/** The slice the kernel reports for the calling thread (0 when it keeps none, or on error). */
std::chrono::microseconds currentSchedulerSlice();

}  // namespace llmpool::server
