#include "config/web_config.h"

#include <gtest/gtest.h>

namespace cowwatch::config {
namespace {

const char* kHash = "$2y$10$nvZIAIdWLojvLf.sd1RqrOV6wPeRlzeQDGyjkNxnV5s2sB9t53Xp6";

std::string error_of(const std::string& text) {
  auto result = parse_web_config(text, "web.yml");
  EXPECT_FALSE(result.ok()) << text;
  return result.error();
}

TEST(WebConfig, EmptyFileMeansPlainHttpWithoutAuth) {
  auto result = parse_web_config("", "web.yml");
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_FALSE(result.value().tls);
  EXPECT_TRUE(result.value().basic_auth_users.empty());
}

TEST(WebConfig, NodeExporterStyleFileParses) {
  auto result = parse_web_config(std::string("tls_server_config:\n"
                                             "  cert_file: /etc/tls/server.crt\n"
                                             "  key_file: /etc/tls/server.key\n"
                                             "  client_auth_type: RequireAndVerifyClientCert\n"
                                             "  client_ca_file: /etc/tls/ca.crt\n"
                                             "  min_version: TLS13\n"
                                             "basic_auth_users:\n"
                                             "  prometheus: ") + kHash + "\n",
                                 "web.yml");
  ASSERT_TRUE(result.ok()) << result.error();
  const WebConfig& w = result.value();
  ASSERT_TRUE(w.tls);
  EXPECT_EQ(w.tls->cert_file, "/etc/tls/server.crt");
  EXPECT_EQ(w.tls->key_file, "/etc/tls/server.key");
  EXPECT_EQ(w.tls->client_auth, ClientAuth::kRequireAndVerify);
  EXPECT_EQ(w.tls->client_ca_file, "/etc/tls/ca.crt");
  EXPECT_EQ(w.tls->min_version, 13);
  EXPECT_EQ(w.basic_auth_users.at("prometheus"), kHash);
}

TEST(WebConfig, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of("tls_server_config:\n  cert_file: /a\n"),
            "web.yml:2:3: tls_server_config: cert_file and key_file are both required for TLS");
  EXPECT_EQ(error_of("basic_auth_users:\n  bob: secret\n"),
            "web.yml:2:8: basic_auth_users.bob: not a bcrypt hash ($2y$/$2b$/$2a$, 60 characters)");
  EXPECT_EQ(error_of("tls_config:\n  cert_file: /a\n"), "web.yml:1:1: tls_config: unknown key");
  EXPECT_EQ(error_of("http_server_config:\n  http2: false\n"),
            "web.yml:1:1: http_server_config: not supported by cowwatch (remove it)");
  EXPECT_EQ(error_of("tls_server_config:\n  cert_file: /a\n  key_file: /b\n  min_version: TLS10\n"),
            "web.yml:4:16: tls_server_config.min_version: 'TLS10': cowwatch serves TLS12 or TLS13");
  EXPECT_NE(error_of("tls_server_config:\n  cert_file: /a\n  key_file: /b\n"
                     "  client_auth_type: RequireAndVerifyClientCert\n")
                .find("needs client_ca_file"),
            std::string::npos);
  EXPECT_NE(error_of("tls_server_config:\n  cert_file: /a\n  key_file: /b\n  client_auth_type: RequestClientCert\n")
                .find("is not supported"),
            std::string::npos);
  EXPECT_NE(error_of("basic_auth_users: [a, b]\n").find("expected a mapping"), std::string::npos);
  EXPECT_NE(error_of("tls_server_config: {cert_file: /a\n").find("web.yml:"), std::string::npos);
}

TEST(WebConfig, MissingFileIsAnErrorNamingIt) {
  auto result = load_web_config("/nonexistent/web.yml");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), "/nonexistent/web.yml: cannot read the web config file");
}

}  // namespace
}  // namespace cowwatch::config
