// The embedded default configuration: config/cowwatch.yaml, verbatim.
#include "config/default_config.h"

namespace cowwatch::config {

std::string_view default_config_yaml() {
  static constexpr const char kYaml[] =
#include "default_config.inc"
      ;
  return kYaml;
}

}  // namespace cowwatch::config
