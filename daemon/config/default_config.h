#pragma once
#include <string_view>

namespace cowwatch::config {
// config/cowwatch.yaml as shipped, compiled into the binary.
std::string_view default_config_yaml();
}  // namespace cowwatch::config
