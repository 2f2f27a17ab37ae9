#pragma once
// Names the calling thread, so `top -H`, `ps -L`, perf and gdb tell llmpool's threads apart.
// Linux keeps at most 15 bytes; longer names are cut.

#include <pthread.h>

#include <string>
#include <string_view>

namespace llmpool {

inline void setCurrentThreadName(std::string_view name) {
  const std::string cut(name.substr(0, 15));
  pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace llmpool
