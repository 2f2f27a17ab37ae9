#pragma once
// The one place where libcurl result codes become llmpool Errors. Nothing else in the code base
// looks at a CURLcode or CURLMcode.

#include <curl/curl.h>

#include <optional>
#include <string_view>

#include "llmpool/error.h"

namespace llmpool::http {

/**
 * Maps a failed transfer's CURLcode to an Error:
 *   Timeout        CURLE_OPERATION_TIMEDOUT
 *   ConnectFailed  resolve/connect failures, and a connection that broke or closed before a
 *                  complete response (send/recv errors, partial body, empty reply, HTTP/2 stream
 *                  reset)
 *   TlsError       handshake, certificate verification, CA bundle problems
 *   Protocol       the server answered something that is not valid HTTP
 *   Cancelled      aborted by a callback
 *   InvalidConfig  malformed URL, unsupported scheme, bad option (retrying cannot help)
 *   Internal       anything else (out of memory, library misuse)
 * `detail` is the transfer's CURLOPT_ERRORBUFFER text (may be empty); the message names the
 * curl code as well so logs can be searched. Never includes the URL (it may carry a key).
 */
Error curlError(CURLcode code, std::string_view detail);

/**
 * A failure that is ours, not the provider's: `os_errno` (of a failed socket() or of the call
 * curl reports through CURLINFO_OS_ERRNO) says the process or the machine ran out of a local
 * resource: EMFILE (the process's open-file limit), ENFILE (the system's file table), ENOBUFS or
 * ENOMEM (kernel memory). Returned as Overloaded, whose message names the limit to raise, so the
 * pool neither counts it against the provider's breaker nor fails over with it (every deployment
 * would fail alike). nullopt for any other errno (0 included).
 */
std::optional<Error> localResourceError(int os_errno);

/** A failed curl_multi_* call: always Internal, with the call that failed named. */
Error curlMultiError(CURLMcode code, std::string_view call);

}  // namespace llmpool::http
