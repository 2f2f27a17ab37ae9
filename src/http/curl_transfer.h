#pragma once
// One request's state while libcurl works on it, plus the reusable easy handle it runs on.
// CURLOPT_PRIVATE, CURLOPT_WRITEDATA and CURLOPT_HEADERDATA all point at the Transfer, so a
// completion or a callback finds its request in O(1).

#include <curl/curl.h>

#include <array>
#include <memory>
#include <optional>

#include "common/executor.h"
#include "http/curl_handles.h"
#include "http/curl_transport_options.h"
#include "http/transport.h"
#include "http/transport_counters.h"
#include "llmpool/clock.h"
#include "llmpool/error.h"

namespace llmpool::http {

class CurlMultiLoop;

struct Transfer {
  /** The easy handle is reused across requests (connections live in the multi handle's cache,
   *  not here). The loop removes it from the multi handle before a Transfer is destroyed or
   *  recycled, and the loop's transfers are declared after its multi handle so they are destroyed
   *  first. */
  EasyHandle easy;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};
  CurlMultiLoop* loop = nullptr;

  // Per request; cleared by clearRequest().
  RequestId id = 0;
  HttpRequest request;  // keeps the URL and body alive while curl reads them
  ResponseCallbacks callbacks;
  HttpResponse response;
  bool saw_first_byte = false;
  bool head_done = false;
  /** Set when the transfer was ended by us (timeout timer, callback abort) rather than by curl;
   *  it wins over the CURLcode curl reports. */
  std::optional<Error> local_error;
  /** errno of this request's last socket() when it failed (0: it worked or none ran). libcurl only
   *  says "could not connect"; this tells a local descriptor shortage from a provider problem. */
  int socket_errno = 0;
  MonotonicTime started_at{};
  MonotonicTime last_data_at{};
  TimerId total_timer = 0;
  TimerId first_byte_timer = 0;
  TimerId idle_timer = 0;

  // Per handle: the CA bundle currently set on the easy handle ("" = libcurl's default, whose
  // path is kept in default_ca_file so it can be restored after a per-request override).
  std::string applied_ca_file;
  std::string default_ca_file;
  // Per handle: the host its socket accounting points at, and that host's URL prefix as written.
  HostCounters* host = nullptr;
  std::string host_authority;
  // Per handle: the curl header list of the last request and the headers it was built from.
  // Requests to one deployment carry the same headers every time, so the list (one strdup and
  // one node per line) is rebuilt only when they change. It must outlive the transfer that uses
  // it (CURLOPT_HTTPHEADER is not copied).
  HeaderList request_headers;
  Headers request_headers_source;
  bool request_headers_expect = false;  // the list ends with "Expect:" (see prepareTransfer)

  /** Drops everything of the finished request (releasing captured callback state) and keeps
   *  the easy handle. */
  void clearRequest();
};

struct TransferCallbacks {
  curl_write_callback on_write;
  curl_write_callback on_header;
};

/** Creates a Transfer with a fresh easy handle carrying the options that never change between
 *  requests (callbacks, TLS, keep-alive, connection ages, socket accounting). */
Result<std::unique_ptr<Transfer>> makeTransfer(const CurlTransportOptions& options,
                                               TransferCallbacks callbacks, CurlMultiLoop* loop);

/** Applies the per-request options of `t.request` (URL, method, body, headers, timeouts, TLS
 *  overrides, the host whose counters its sockets go to) to the easy handle. */
Result<void> prepareTransfer(Transfer& t, const CurlTransportOptions& options,
                             TransportCounters& counters);

}  // namespace llmpool::http
