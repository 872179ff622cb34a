#include "config/http_url.h"

#include <charconv>

namespace cowwatch::config {

Result<HttpUrl> parse_http_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.starts_with("https://")) {
    return Result<HttpUrl>::failure(
        "https is not supported (the client speaks plain HTTP/1.1; reach Alertmanager over "
        "loopback or a local proxy)");
  }
  if (!url.starts_with(kScheme)) {
    return Result<HttpUrl>::failure("URL must start with http://");
  }
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (path.ends_with('/')) path.remove_suffix(1);
  if (path.find_first_of("?# ") != std::string_view::npos) {
    return Result<HttpUrl>::failure("URL path must not contain a query, fragment or space");
  }
  if (authority.find('@') != std::string_view::npos) {
    return Result<HttpUrl>::failure("URL must not contain credentials");
  }

  HttpUrl parsed;
  parsed.prefix = std::string(path);
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Result<HttpUrl>::failure("unterminated [ in URL host");
    parsed.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Result<HttpUrl>::failure("unexpected text after ] in URL host");
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (parsed.host.empty()) return Result<HttpUrl>::failure("URL has no host");
  if (!port_text.empty() || authority.ends_with(':')) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return Result<HttpUrl>::failure("URL port must be 1..65535");
    }
    parsed.port = static_cast<uint16_t>(port);
  }
  return Result<HttpUrl>::success(std::move(parsed));
}

}  // namespace cowwatch::config
