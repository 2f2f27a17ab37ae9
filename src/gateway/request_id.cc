#include "gateway/request_id.h"

#include <cstdint>
#include <random>

namespace llmpool::gateway {

namespace {

// Ids need to be unique, not secret: a per-thread generator seeded once from the OS.
uint64_t next64() {
  thread_local std::mt19937_64 engine{[] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }()};
  return engine();
}

bool usable(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (const char c : id) {
    if (c <= ' ' || c > '~' || c == '"' || c == '\\') return false;
  }
  return true;
}

}  // namespace

std::string newRequestId() {
  uint64_t hi = next64();
  uint64_t lo = next64();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                         // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t pos = 0;
  const auto put = [&](uint64_t bits, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      if (out[pos] == '-' && (pos == 8 || pos == 13 || pos == 18 || pos == 23)) ++pos;
      out[pos++] = kHex[(bits >> (i * 4)) & 0xF];
    }
  };
  put(hi, 16);
  put(lo, 16);
  return out;
}

std::string requestIdFor(std::string_view client_header) {
  return usable(client_header) ? std::string(client_header) : newRequestId();
}

}  // namespace llmpool::gateway
