#pragma once
// `gateway.listen` / `--listen`: "HOST:PORT", "[IPv6]:PORT" or ":PORT", and whether a host is a
// loopback address (a gateway without keys may only listen there unless explicitly allowed).

#include <cstdint>
#include <string>
#include <string_view>

#include "llmpool/error.h"

namespace llmpool::gateway {

struct ListenAddress {
  std::string host;  // without brackets; "" in the input means 0.0.0.0
  uint16_t port = 0;
};

/** Parses HOST:PORT; InvalidConfig naming the text when it is malformed. */
Result<ListenAddress> parseListenAddress(std::string_view text);

/** 127.0.0.0/8, ::1 and "localhost". */
bool isLoopbackHost(std::string_view host);

}  // namespace llmpool::gateway
