#pragma once
// Settings and counters of the shared HTTP server (server.h).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace llmpool::server {

struct ServerOptions {
  /** IP address to bind ("127.0.0.1", "0.0.0.0", "::1"; "localhost" means 127.0.0.1). */
  std::string host = "127.0.0.1";
  /** 0 binds an ephemeral port; Server::port() tells which. */
  uint16_t port = 0;
  /** I/O threads, each running its own io_context (see server.h for why). */
  int threads = 1;
  /** Largest accepted request body; larger requests get 413 and the connection is closed. */
  std::size_t max_body_bytes = 8u << 20;
  /** Largest accepted request head (request line + headers); larger get 431. */
  std::size_t max_header_bytes = 16u << 10;
  /** From the moment the server waits for a request (a fresh connection, or keep-alive idle after
   *  a response) until that request is completely read. Bounds idle keep-alive connections and
   *  slow senders (slowloris) alike. Also bounds the TLS handshake. */
  std::chrono::milliseconds read_timeout{60'000};
  /** A single write that makes no complete progress for this long closes the connection (a
   *  client that stops reading cannot pin the server's memory forever). */
  std::chrono::milliseconds write_timeout{60'000};
  /** A streamed response whose unsent bytes pass this (the client reads slower than the stream
   *  is produced, or not at all) closes the connection, which fires the exchange's disconnect
   *  callbacks (the gateway then cancels the upstream stream). Without it, one client that stops
   *  reading holds the whole rest of the stream in memory until write_timeout. */
  std::size_t max_buffered_bytes = 16u << 20;
  /** Connections beyond this are accepted and closed at once (counted as rejected). */
  std::size_t max_connections = 10'000;
  /** Scheduler slice an I/O thread asks for while it is busy (server/thread_slice.h,
   *  Worker::adaptSlice); 0 leaves the kernel's always. */
  std::chrono::microseconds thread_slice{0};
  /** Ask the kernel to timestamp arriving data (SO_TIMESTAMPNS) on plain-TCP connections, so
   *  ResponseWriter::arrivedAt() is when a request's first bytes reached the socket, not when a
   *  busy I/O thread got around to reading them. Costs nothing extra per request (the first read
   *  of a request is a recvmsg either way). */
  bool receive_timestamps = false;
  /** Both set: serve HTTPS with this PEM certificate chain and private key. */
  std::string tls_cert_file;
  std::string tls_key_file;
};

/** A snapshot of the server's counters. */
struct ServerStats {
  uint64_t connections_accepted = 0;  // TCP connections accepted since start (incl. rejected)
  uint64_t connections_open = 0;      // currently open
  uint64_t connections_rejected = 0;  // closed at once because max_connections was reached
  uint64_t accept_pauses = 0;         // accepting paused because the process ran out of descriptors
};

}  // namespace llmpool::server
