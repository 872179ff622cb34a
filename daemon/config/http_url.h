// A plain-HTTP URL as used by alertmanager.url: http://host[:port][/prefix].
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/result.h"

namespace cowwatch::config {

struct HttpUrl {
  std::string host;    // name or address; IPv6 without brackets
  uint16_t port = 80;
  std::string prefix;  // path prefix without a trailing slash, "" or "/alertmanager"
  bool operator==(const HttpUrl&) const = default;
};

// Errors name what is wrong ("https is not supported ..."), not where: callers add the location.
Result<HttpUrl> parse_http_url(std::string_view url);

}  // namespace cowwatch::config
