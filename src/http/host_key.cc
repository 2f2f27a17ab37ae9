#include "http/transport.h"

namespace llmpool::http {

std::string_view authorityOf(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const size_t authority_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  return url.substr(0, url.find_first_of("/?#", authority_start));
}

std::string hostKey(std::string_view url) {
  std::string key(authorityOf(url));
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

}  // namespace llmpool::http
