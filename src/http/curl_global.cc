#include "http/curl_global.h"

#include <curl/curl.h>

#include <string>

namespace llmpool::http {

Result<void> ensureCurlGlobalInit() {
  // A function-local static is initialised once even when several threads race here (C++11
  // "magic statics"), which gives exactly-once semantics without a separate flag.
  static const CURLcode init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (init_result != CURLE_OK) {
    return fail(ErrorCode::Internal,
                std::string("curl_global_init failed: ") + curl_easy_strerror(init_result));
  }
  return {};
}

}  // namespace llmpool::http
