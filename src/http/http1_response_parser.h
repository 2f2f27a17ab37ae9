#pragma once
// Incremental parser of the HTTP/1.1 responses a client connection receives (RFC 9112): status
// line, header fields, and a body framed by Content-Length, by the chunked transfer coding, or by
// the end of the connection. Bytes arrive in arbitrary pieces; body bytes are handed on as views
// into the caller's buffer (no copy), with the chunk framing removed. Interim 1xx responses are
// skipped. One parser serves one connection, reset() before each response.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/transport.h"

namespace llmpool::http {

class Http1ResponseParser {
 public:
  /** Receives what the parser finds, in order: onHead once, then onBody zero or more times. */
  class Handler {
   public:
    virtual ~Handler() = default;
    /** The final response's status line and header fields are complete. Names are lower-cased,
     *  values trimmed of surrounding whitespace; the handler may move `headers` away. Returning
     *  false stops parsing (feed returns Aborted). */
    virtual bool onHead(int status, Headers& headers) = 0;
    /** A piece of the body, after chunk decoding; never empty. Returning false stops parsing. */
    virtual bool onBody(std::string_view piece) = 0;
  };

  enum class Status {
    NeedMore,  // every byte consumed; the response is not complete yet
    Done,      // the response is complete (see `consumed` for how many bytes it used)
    Aborted,   // a handler returned false
    Invalid,   // the bytes are not a valid HTTP/1.x response; error() says why
  };

  /** Longest response head (status line + header fields) accepted. */
  static constexpr size_t kMaxHeadBytes = 64 * 1024;

  /** Prepares for the response to the next request. `head_request`: the request was HEAD, so the
   *  response has no body whatever its headers say. */
  void reset(bool head_request);

  /** Consumes bytes of the response. Stops at the end of the response (Done), at a handler's
   *  false (Aborted), or at invalid input (Invalid). `consumed` is set to the number of bytes of
   *  `input` used; after Done any remaining bytes do not belong to this response. */
  Status feed(std::string_view input, Handler& handler, size_t& consumed);

  /** The peer closed the connection (no more bytes will come). Returns true when that completes
   *  the response (a body delimited by the connection's end; calls nothing), false when the
   *  response is truncated or never began. */
  bool finishAtEof();

  /** At least one byte of the response was consumed. */
  bool started() const { return started_; }
  /** The final response's head has been reported. */
  bool headDone() const { return head_done_; }
  /** After Done: whether the connection may carry another request. False for "Connection:
   *  close", HTTP/1.0 without "Connection: keep-alive", a body delimited by the connection's end,
   *  or a response with both Transfer-Encoding and Content-Length. */
  bool keepAlive() const { return keep_alive_; }
  /** Status of the final response (0 before its head is complete). */
  int status() const { return status_; }
  /** After Invalid: what was wrong, for an error message (never contains header values). */
  const std::string& error() const { return error_; }

 private:
  enum class State {
    StatusLine,
    HeaderLines,
    BodyLength,    // Content-Length bytes left in remaining_
    ChunkSize,     // reading a chunk-size line (with optional extensions)
    ChunkData,     // remaining_ bytes of chunk data left
    ChunkDataEnd,  // expecting the CRLF after chunk data
    Trailers,      // reading trailer lines until the empty line
    BodyUntilEof,  // everything until the connection closes
    Complete,      // the response ended; feed() keeps answering Done
    Aborted,       // a handler returned false; feed() keeps answering Aborted
    Failed,        // invalid input; feed() keeps answering Invalid
  };
  enum class LineResult { Line, Partial, TooLong };

  Status fail(std::string message);
  /** Takes the next whole line (line ending removed) from input[pos..], or buffers the partial
   *  rest in line_. Lines of one group (head, chunk-size line, trailers) share kMaxHeadBytes. */
  LineResult nextLine(std::string_view input, size_t& pos, std::string_view& line);
  /** Handles one complete line of the head (without its line ending). */
  Status headLine(std::string_view line, Handler& handler);
  Status statusLine(std::string_view line);
  Status headerField(std::string_view line);
  Status headComplete(Handler& handler);

  State state_ = State::StatusLine;
  bool head_request_ = false;
  bool started_ = false;
  bool head_done_ = false;
  bool keep_alive_ = false;
  bool http10_ = false;
  bool chunked_ = false;
  bool has_transfer_encoding_ = false;
  bool has_length_ = false;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  bool chunk_cr_ = false;        // ChunkDataEnd: the CR was seen, the LF is due
  int block_status_ = 0;         // of the block being parsed (interim or final)
  int status_ = 0;               // of the final response, set when its head is complete
  uint64_t content_length_ = 0;  // valid when has_length_
  uint64_t remaining_ = 0;       // BodyLength / ChunkData
  size_t head_bytes_ = 0;        // bytes of the current head / chunk line / trailers so far
  std::string line_;             // a line split across feed() calls
  Headers headers_;
  std::string error_;
};

}  // namespace llmpool::http
