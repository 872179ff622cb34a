// The exporter web configuration (the format of Prometheus exporter-toolkit's --web.config.file,
// used by node_exporter): TLS for the metrics endpoint and HTTP basic auth with bcrypt hashes.
//
//   tls_server_config:
//     cert_file: /etc/cowwatch/tls/server.crt     # PEM; both or neither of cert_file/key_file
//     key_file: /etc/cowwatch/tls/server.key
//     client_auth_type: RequireAndVerifyClientCert  # or NoClientCert (default), VerifyClientCertIfGiven
//     client_ca_file: /etc/cowwatch/tls/clients-ca.crt  # required by the verifying types
//     min_version: TLS12                           # TLS12 (default) or TLS13
//   basic_auth_users:
//     prometheus: $2y$10$...                        # bcrypt hashes only
//
// Keys of the format that cowwatch cannot honour (cipher_suites, curve_preferences,
// RequestClientCert, http_server_config, ...) are errors naming the key, never silently ignored.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "config/result.h"

namespace cowwatch::config {

enum class ClientAuth { kNone, kVerifyIfGiven, kRequireAndVerify };

struct TlsServerConfig {
  std::string cert_file;
  std::string key_file;
  ClientAuth client_auth = ClientAuth::kNone;
  std::string client_ca_file;  // set when client_auth != kNone
  int min_version = 12;        // 12: TLS 1.2, 13: TLS 1.3
  bool operator==(const TlsServerConfig&) const = default;
};

struct WebConfig {
  std::optional<TlsServerConfig> tls;
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash
  bool operator==(const WebConfig&) const = default;
};

// Parses a web config file; errors read "<file>:<line>:<col>: <key>: <what>".
Result<WebConfig> load_web_config(const std::string& path);
Result<WebConfig> parse_web_config(const std::string& text, const std::string& name);

}  // namespace cowwatch::config
