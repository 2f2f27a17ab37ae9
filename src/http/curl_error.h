#pragma once
// The one place where libcurl result codes become llmpool Errors. Nothing else in the code base
// looks at a CURLcode or CURLMcode.

#include <curl/curl.h>

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

/** A failed curl_multi_* call: always Internal, with the call that failed named. */
Error curlMultiError(CURLMcode code, std::string_view call);

}  // namespace llmpool::http
