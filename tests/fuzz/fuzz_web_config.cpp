// Fuzz target: the exporter web-config parser (config/parse_web_config), as cowwatchd runs it at
// start-up, on --check-config and whenever metrics.web_config_file changes on disk. Any input must
// give a WebConfig or an error naming the file, never a crash, an exception or a hang. Property:
// what parses has TLS material paired (cert and key) and only bcrypt hashes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/web_config.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = cowwatch::config::parse_web_config(text, "fuzz-web.yml");
  if (!parsed) {
    FUZZ_CHECK(parsed.error().rfind("fuzz-web.yml", 0) == 0, "an error names the file");
    return 0;
  }
  const auto& web = parsed.value();
  if (web.tls) {
    FUZZ_CHECK(!web.tls->cert_file.empty() && !web.tls->key_file.empty(), "TLS needs cert and key");
    FUZZ_CHECK(web.tls->client_auth == cowwatch::config::ClientAuth::kNone || !web.tls->client_ca_file.empty(),
               "client verification needs a CA file");
  }
  for (const auto& [user, hash] : web.basic_auth_users) {
    FUZZ_CHECK(!user.empty() && hash.size() == 60 && hash.rfind("$2", 0) == 0, "users have bcrypt hashes");
  }
  return 0;
}
