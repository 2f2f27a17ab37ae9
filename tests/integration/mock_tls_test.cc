// `llmpool mock --tls-cert --tls-key`: HTTPS on loopback with a throwaway self-signed
// certificate, checked by libcurl with and without the CA file.

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "subprocess.h"

namespace llmpool::testing {
namespace {

size_t collect(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// GET url with libcurl; returns {CURLcode, status, body}.
struct Fetched {
  CURLcode code;
  long status = 0;
  std::string body;
};

Fetched fetch(const std::string& url, const std::string& ca_file) {
  Fetched out{CURLE_OK};
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  if (!ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  out.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  curl_easy_cleanup(curl);
  return out;
}

class MockTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("llmpool-mock-tls-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    cert_ = (dir_ / "cert.pem").string();
    key_ = (dir_ / "key.pem").string();
    const std::string command =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " +
        key_ + " -out " + cert_ + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << "openssl could not make a certificate";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string cert_;
  std::string key_;
};

TEST_F(MockTlsTest, ServesHttpsTrustedWithTheCaFileOnly) {
  MockProvider mock({"--tls-cert", cert_, "--tls-key", key_});
  const std::string url = "https://127.0.0.1:" + std::to_string(mock.port()) + "/health";
  Fetched trusted = fetch(url, cert_);
  EXPECT_EQ(trusted.code, CURLE_OK) << curl_easy_strerror(trusted.code);
  EXPECT_EQ(trusted.status, 200);
  EXPECT_EQ(trusted.body, R"({"status":"ok"})");
  Fetched untrusted = fetch(url, "");
  EXPECT_EQ(untrusted.code, CURLE_PEER_FAILED_VERIFICATION);
}

TEST_F(MockTlsTest, MissingKeyFileIsAUsageError) {
  Subprocess bad({llmpoolBinary(), "mock", "--listen", "127.0.0.1:0", "--tls-cert", cert_,
                  "--tls-key", (dir_ / "absent.pem").string()},
                 "/dev/null");
  auto status = bad.wait(std::chrono::seconds(5));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 2);
}

}  // namespace
}  // namespace llmpool::testing
