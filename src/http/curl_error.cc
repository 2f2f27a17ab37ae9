#include "http/curl_error.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

namespace llmpool::http {
namespace {

ErrorCode classify(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorCode::Timeout;

    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
      return ErrorCode::ConnectFailed;

    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return ErrorCode::TlsError;

    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_RANGE_ERROR:
    case CURLE_TOO_MANY_REDIRECTS:
      return ErrorCode::Protocol;

    case CURLE_ABORTED_BY_CALLBACK:
      return ErrorCode::Cancelled;

    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_NOT_BUILT_IN:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_LOGIN_DENIED:
      return ErrorCode::InvalidConfig;

    default:
      return ErrorCode::Internal;
  }
}

}  // namespace

Error curlError(CURLcode code, std::string_view detail) {
  std::string message;
  if (detail.empty()) {
    message = curl_easy_strerror(code);
  } else {
    message.assign(detail);
    // The error buffer sometimes ends with a newline; keep the message on one line.
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
      message.pop_back();
    }
  }
  message += " (curl code " + std::to_string(static_cast<int>(code)) + ")";
  ErrorCode kind = classify(code);
  // Provider URLs are checked to be http(s) when the config loads, so "unsupported protocol"
  // mid-transfer is the server answering without an HTTP status line (curl calls that HTTP/0.9):
  // the provider's fault, not the config's.
  if (code == CURLE_UNSUPPORTED_PROTOCOL && detail.find("HTTP/0.9") != std::string_view::npos) {
    kind = ErrorCode::Protocol;
  }
  return Error(kind, std::move(message));
}

std::optional<Error> localResourceError(int os_errno) {
  const char* what = nullptr;
  switch (os_errno) {
    case EMFILE:
      what =
          "EMFILE: the process reached its open-file limit (RLIMIT_NOFILE); raise it (ulimit -n, "
          "LimitNOFILE=) or lower the connection limits";
      break;
    case ENFILE:
      what = "ENFILE: the system-wide open-file table is full (fs.file-max)";
      break;
    case ENOBUFS:
    case ENOMEM:
      what = "the kernel is out of memory for sockets";
      break;
    default:
      return std::nullopt;
  }
  Error error(ErrorCode::Overloaded,
              std::string("local resource shortage, not a provider failure: cannot open a "
                          "connection: ") +
                  std::strerror(os_errno) + " (" + what + ")");
  // Descriptors free up as other requests finish: a short wait is a fair suggestion.
  error.retry_after = std::chrono::milliseconds(1'000);
  return error;
}

Error curlMultiError(CURLMcode code, std::string_view call) {
  return Error(ErrorCode::Internal, std::string(call) + " failed: " + curl_multi_strerror(code) +
                                        " (curlm code " + std::to_string(static_cast<int>(code)) +
                                        ")");
}

}  // namespace llmpool::http
