// Fuzz target: the configuration parser (config/load_config_string), as cowwatchd runs it on
// --config, --check-config and every SIGHUP. Any input must give a Config or an error message,
// never a crash, an exception or a hang. Property: a config that loads survives to_yaml() and
// loads again to the same value (the writer and the reader agree).
// Known open finding (docs/reliability.md): text that is not valid UTF-8 is accepted, and to_yaml
// writes U+FFFD for the bad bytes, so the round trip changes the value; the property is checked
// for valid UTF-8 only unless COWWATCH_FUZZ_STRICT=1 (reproducer: open-crashes/config/).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.h"
#include "fuzz_check.h"

namespace {

// Structure only (lead/continuation bytes); overlong forms and surrogates pass.
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : SIZE_MAX;
    if (extra == SIZE_MAX || s.size() - i - 1 < extra) return false;
    for (size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto loaded = cowwatch::config::load_config_string(text, "fuzz.yaml");
  if (!loaded) {
    FUZZ_CHECK(!loaded.error().empty(), "a rejected config must say why");
    return 0;
  }
  if (!fuzz_strict() && !valid_utf8(text)) return 0;
  std::string yaml = cowwatch::config::to_yaml(loaded.value());
  auto again = cowwatch::config::load_config_string(yaml, "fuzz-roundtrip.yaml");
  FUZZ_CHECK(again.ok(), "to_yaml() of a valid config must load again");
  FUZZ_CHECK(again.value() == loaded.value(), "to_yaml() round trip must preserve the config");
  return 0;
}
