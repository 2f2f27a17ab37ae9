#include "http/curl_transfer.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "http/curl_error.h"

namespace llmpool::http {
namespace {

// Socket accounting: every socket libcurl opens or closes for a connection passes through these,
// which makes "connections opened" an exact count of pool misses. SOCK_CLOEXEC keeps the sockets
// out of child processes (tests spawn servers).
// The open argument is the Transfer whose connect opens the socket: a failure's errno is kept
// there (see Transfer::socket_errno), and its HostCounters (set per request) count the socket.
// The close argument is the HostCounters itself: libcurl keeps it with the connection, so a
// close is counted for the host that opened it even when it happens later, from the cache.
curl_socket_t openSocket(void* clientp, curlsocktype /*purpose*/, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(clientp);
  const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd < 0) {
    if (t) t->socket_errno = errno;
    return CURL_SOCKET_BAD;
  }
  if (t) t->socket_errno = 0;  // a later address worked: an earlier failure is not the cause
  if (HostCounters* host = t ? t->host : nullptr) {
    host->opened.fetch_add(1);
    host->total->connections_opened.fetch_add(1);
  }
  return fd;
}

int closeSocket(void* clientp, curl_socket_t fd) {
  if (auto* host = static_cast<HostCounters*>(clientp)) {
    host->closed.fetch_add(1);
    host->total->connections_closed.fetch_add(1);
  }
  return ::close(fd);
}

bool isHttpsUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.size() < kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    const char c = url[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) return false;
  }
  return true;
}

long toLong(std::chrono::milliseconds d) { return static_cast<long>(d.count()); }

// Collects the first failing setopt so prepare/make can report it once, by option name.
class OptionSetter {
 public:
  explicit OptionSetter(CURL* easy) : easy_(easy) {}
  template <class T>
  void set(CURLoption option, T value, const char* name) {
    if (first_error_ != CURLE_OK) return;
    const CURLcode code = curl_easy_setopt(easy_, option, value);
    if (code != CURLE_OK) {
      first_error_ = code;
      failed_option_ = name;
    }
  }
  Result<void> result() const {
    if (first_error_ == CURLE_OK) return {};
    Error error = curlError(first_error_, "");
    error.message = std::string("setting ") + failed_option_ + ": " + error.message;
    return std::unexpected(std::move(error));
  }

 private:
  CURL* easy_;
  CURLcode first_error_ = CURLE_OK;
  const char* failed_option_ = "";
};

#define LLMPOOL_SETOPT(setter, option, value) (setter).set(option, value, #option)

constexpr size_t kExpectThreshold = 1024;

/** The curl list of `headers` ("name: value" lines), plus "Expect:" (suppressing
 *  "Expect: 100-continue") when `suppress_expect`. An empty list is a valid null handle. */
Result<HeaderList> buildHeaderList(const Headers& headers, bool suppress_expect) {
  HeaderList list;
  std::string line;
  const auto append = [&](const char* text) {
    curl_slist* grown = curl_slist_append(list.get(), text);
    if (!grown) return false;
    (void)list.release();  // `grown` is the same list, one node longer
    list.reset(grown);
    return true;
  };
  for (const auto& [name, value] : headers) {
    line.assign(name).append(": ").append(value);
    if (!append(line.c_str())) {
      return fail(ErrorCode::Internal, "out of memory building request headers");
    }
  }
  if (suppress_expect) append("Expect:");
  return list;
}

}  // namespace

void Transfer::clearRequest() {
  id = 0;
  request = HttpRequest{};
  callbacks = ResponseCallbacks{};
  response = HttpResponse{};
  saw_first_byte = false;
  head_done = false;
  local_error.reset();
  socket_errno = 0;
  total_timer = 0;
  first_byte_timer = 0;
  idle_timer = 0;
  error_buffer[0] = '\0';
}

Result<std::unique_ptr<Transfer>> makeTransfer(const CurlTransportOptions& options,
                                               TransferCallbacks callbacks, CurlMultiLoop* loop) {
  auto t = std::make_unique<Transfer>();
  t->easy.reset(curl_easy_init());
  if (!t->easy) return fail(ErrorCode::Internal, "curl_easy_init failed");
  t->loop = loop;
  CURL* easy = t->easy.get();

  char* default_ca = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_CAINFO, &default_ca) == CURLE_OK && default_ca) {
    t->default_ca_file = default_ca;
  }

  OptionSetter s(easy);
  LLMPOOL_SETOPT(s, CURLOPT_PRIVATE, static_cast<void*>(t.get()));
  LLMPOOL_SETOPT(s, CURLOPT_WRITEFUNCTION, callbacks.on_write);
  LLMPOOL_SETOPT(s, CURLOPT_WRITEDATA, static_cast<void*>(t.get()));
  LLMPOOL_SETOPT(s, CURLOPT_HEADERFUNCTION, callbacks.on_header);
  LLMPOOL_SETOPT(s, CURLOPT_HEADERDATA, static_cast<void*>(t.get()));
  LLMPOOL_SETOPT(s, CURLOPT_ERRORBUFFER, t->error_buffer.data());
  // Several loop threads use curl: signals (the default timeout mechanism of the synchronous
  // resolver) must stay off.
  LLMPOOL_SETOPT(s, CURLOPT_NOSIGNAL, 1L);
  LLMPOOL_SETOPT(s, CURLOPT_OPENSOCKETFUNCTION, &openSocket);
  LLMPOOL_SETOPT(s, CURLOPT_OPENSOCKETDATA, static_cast<void*>(t.get()));
  LLMPOOL_SETOPT(s, CURLOPT_CLOSESOCKETFUNCTION, &closeSocket);
  LLMPOOL_SETOPT(s, CURLOPT_TCP_NODELAY, options.tcp_nodelay ? 1L : 0L);
  LLMPOOL_SETOPT(s, CURLOPT_TCP_KEEPALIVE, options.tcp_keepalive ? 1L : 0L);
  if (options.tcp_keepalive) {
    LLMPOOL_SETOPT(s, CURLOPT_TCP_KEEPIDLE, static_cast<long>(options.tcp_keepalive_idle.count()));
    LLMPOOL_SETOPT(s, CURLOPT_TCP_KEEPINTVL,
                   static_cast<long>(options.tcp_keepalive_interval.count()));
  }
  // 0 means no idle limit here; libcurl would read it as "not reusable after a second idle".
  constexpr long kNoIdleLimit = 10L * 365 * 24 * 3600;
  LLMPOOL_SETOPT(s, CURLOPT_MAXAGE_CONN,
                 options.connection_idle_timeout.count() > 0
                     ? static_cast<long>(options.connection_idle_timeout.count())
                     : kNoIdleLimit);
  LLMPOOL_SETOPT(s, CURLOPT_MAXLIFETIME_CONN,
                 static_cast<long>(options.connection_max_lifetime.count()));
  LLMPOOL_SETOPT(s, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  if (options.proxy) LLMPOOL_SETOPT(s, CURLOPT_PROXY, options.proxy->c_str());
  if (auto r = s.result(); !r) return std::unexpected(std::move(r.error()));
  return t;
}

Result<void> prepareTransfer(Transfer& t, const CurlTransportOptions& options,
                             TransportCounters& counters) {
  CURL* easy = t.easy.get();
  const HttpRequest& req = t.request;
  OptionSetter s(easy);

  LLMPOOL_SETOPT(s, CURLOPT_URL, req.url.c_str());
  // HTTP/2 is only ever negotiated over TLS (ALPN). With it possible, PIPEWAIT makes the requests
  // that arrive during a host's first handshake wait to learn whether it multiplexes, instead of
  // each opening a connection. Plain http:// gets neither: it never multiplexes, and libcurl 7.88
  // re-examines requests parked by PIPEWAIT only when ALPN answers (TLS) or when some transfer
  // completes; on a plain connection the parked requests waited for the first one to end, which
  // with long streams meant waiting for a whole stream (issue 5, slow streams).
  const bool multiplex = options.http2 && isHttpsUrl(req.url);
  LLMPOOL_SETOPT(s, CURLOPT_HTTP_VERSION,
                 multiplex ? static_cast<long>(CURL_HTTP_VERSION_2TLS)
                           : static_cast<long>(CURL_HTTP_VERSION_1_1));
  LLMPOOL_SETOPT(s, CURLOPT_PIPEWAIT, multiplex ? 1L : 0L);
  // Socket accounting per host: the lookup runs only when the handle changes host.
  const std::string_view authority = authorityOf(req.url);
  if (!t.host || authority != t.host_authority) {
    t.host = &counters.forHost(hostKey(authority));
    t.host_authority.assign(authority);
    LLMPOOL_SETOPT(s, CURLOPT_CLOSESOCKETDATA, static_cast<void*>(t.host));
  }

  // Send the body at once: waiting for "100 Continue" costs a round trip (or a second when the
  // server ignores Expect) and buys nothing for JSON bodies. libcurl only asks for it above a
  // size threshold (1 KiB in old releases, 1 MiB since 7.68), so small bodies need no header.
  const bool expect = req.body.size() >= kExpectThreshold;
  if (!t.request_headers || expect != t.request_headers_expect ||
      req.headers != t.request_headers_source) {
    auto list = buildHeaderList(req.headers, expect);
    if (!list) return std::unexpected(std::move(list.error()));
    t.request_headers = std::move(*list);
    t.request_headers_source = req.headers;
    t.request_headers_expect = expect;
  }
  LLMPOOL_SETOPT(s, CURLOPT_HTTPHEADER, t.request_headers.get());

  // The handle is reused: every request sets the method options from scratch.
  LLMPOOL_SETOPT(s, CURLOPT_NOBODY, 0L);
  LLMPOOL_SETOPT(s, CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
  if (req.method == "HEAD") {
    LLMPOOL_SETOPT(s, CURLOPT_NOBODY, 1L);
  } else if (req.method == "GET" && req.body.empty()) {
    LLMPOOL_SETOPT(s, CURLOPT_HTTPGET, 1L);
  } else if (req.method == "POST" || !req.body.empty()) {
    LLMPOOL_SETOPT(s, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    LLMPOOL_SETOPT(s, CURLOPT_POSTFIELDS, req.body.data());
    if (req.method != "POST") LLMPOOL_SETOPT(s, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  } else {
    LLMPOOL_SETOPT(s, CURLOPT_HTTPGET, 1L);
    LLMPOOL_SETOPT(s, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }

  std::chrono::milliseconds connect = options.connect_timeout;
  if (req.timeouts.connect.count() > 0) {
    connect = connect.count() > 0 ? std::min(connect, req.timeouts.connect) : req.timeouts.connect;
  }
  LLMPOOL_SETOPT(s, CURLOPT_CONNECTTIMEOUT_MS, toLong(connect));
  LLMPOOL_SETOPT(s, CURLOPT_TIMEOUT_MS, toLong(req.timeouts.total));

  const bool verify = req.verify_tls.value_or(options.verify_tls);
  LLMPOOL_SETOPT(s, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
  LLMPOOL_SETOPT(s, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
  const std::string& ca = !req.ca_file.empty() ? req.ca_file : options.ca_file;
  if (ca != t.applied_ca_file) {
    // Setting CAINFO to NULL would remove the built-in bundle, so "default" restores its path.
    const std::string& path = ca.empty() ? t.default_ca_file : ca;
    LLMPOOL_SETOPT(s, CURLOPT_CAINFO,
                   path.empty() ? static_cast<const char*>(nullptr) : path.c_str());
    t.applied_ca_file = ca;
  }
  return s.result();
}

}  // namespace llmpool::http
