// Fuzz target: the configuration parser (config/load_config_string), as cowwatchd runs it on
// --config, --check-config and every SIGHUP. Any input must give a Config or an error message,
// never a crash, an exception or a hang. Property: a config that loads survives to_yaml() and
// loads again to the same value (the writer and the reader agree).
// Regression seed: corpus/config/url-invalid-utf8.yaml (a non-UTF-8 byte in a URL was accepted
// and to_yaml wrote U+FFFD for it, so the round trip changed the value; docs/reliability.md) and
// corpus/config/listen-utf8-above-10ffff.yaml (a 4-byte sequence above U+10FFFF passed the same check).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto loaded = cowwatch::config::load_config_string(text, "fuzz.yaml");
  if (!loaded) {
    FUZZ_CHECK(!loaded.error().empty(), "a rejected config must say why");
    return 0;
  }
  std::string yaml = cowwatch::config::to_yaml(loaded.value());
  auto again = cowwatch::config::load_config_string(yaml, "fuzz-roundtrip.yaml");
  FUZZ_CHECK(again.ok(), "to_yaml() of a valid config must load again");
  FUZZ_CHECK(again.value() == loaded.value(), "to_yaml() round trip must preserve the config");
  return 0;
}
