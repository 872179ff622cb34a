// Parses cowwatch.yaml over the embedded default. Every key is read explicitly (no
// as<T>(fallback)); unknown keys, wrong types and out-of-range values stop the load with
// "<file>:<line>:<col>: <key path>: <what>" (line and column 1-based, from yaml-cpp's Mark).
#include <yaml-cpp/yaml.h>

#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <unistd.h>

#include "config/config.h"
#include "config/default_config.h"
#include "config/http_url.h"
#include "config/units.h"

namespace cowwatch::config {
namespace {

using namespace std::chrono_literals;

// Thrown inside this file only; load_config_string() turns it into a Result.
struct ConfigError {
  std::string message;
};

const char* node_type_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "an empty value";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "nothing";
  }
}

std::string join(std::initializer_list<std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

bool valid_identifier(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

class Reader;

// One value in the file: its node, its key path and where it is.
class Field {
 public:
  Field(const Reader& reader, YAML::Node node, std::string path, YAML::Mark key_mark)
      : reader_(reader), node_(std::move(node)), path_(std::move(path)), key_mark_(key_mark) {}

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  YAML::Mark mark() const;
  [[noreturn]] void fail(const std::string& what) const;

  std::string scalar(const char* expected) const;  // the scalar text, else a type error
  std::string string() const;                       // null reads as ""
  std::chrono::nanoseconds duration(std::chrono::nanoseconds min, std::chrono::nanoseconds max) const;
  uint64_t size(uint64_t min, uint64_t max) const;
  uint64_t integer(uint64_t min, uint64_t max) const;
  double number(double min, double max, bool min_exclusive = false) const;
  template <class Enum>
  Enum choice(std::optional<Enum> (*parse)(std::string_view),
              std::initializer_list<std::string_view> names) const {
    const std::string text = scalar("a name");
    auto value = parse(text);
    if (!value) fail("invalid value '" + text + "' (expected one of: " + join(names) + ")");
    return *value;
  }

 private:
  const Reader& reader_;
  YAML::Node node_;
  std::string path_;
  YAML::Mark key_mark_;
};

class Reader {
 public:
  Reader(std::string file, bool require_all) : file_(std::move(file)), require_all_(require_all) {}

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& path,
                         const std::string& what) const {
    std::string message = file_;
    if (mark.line >= 0) {
      message += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    }
    message += ": ";
    if (!path.empty()) message += path + ": ";
    throw ConfigError{message + what};
  }

  // Calls `visit` for every key of the mapping `node` (null = empty mapping). Keys outside
  // `allowed` and duplicate keys are errors. In require_all mode (the embedded default), every
  // allowed key except `optional` ones must be present.
  void for_each_key(const Field& map, std::initializer_list<std::string_view> allowed,
                    const std::function<void(std::string_view, const Field&)>& visit,
                    std::initializer_list<std::string_view> optional = {}) const {
    const YAML::Node& node = map.node();
    if (!node.IsNull() && !node.IsMap()) map.fail(std::string("expected a mapping, got ") + node_type_name(node));
    std::set<std::string> seen;
    if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Mark key_mark = it->first.Mark();
        if (!it->first.IsScalar()) fail(key_mark, map.path(), "keys must be scalars");
        const std::string key = it->first.Scalar();
        const std::string path = map.path().empty() ? key : map.path() + "." + key;
        bool known = false;
        for (std::string_view name : allowed) known = known || name == key;
        if (!known) {
          fail(key_mark, "", "unknown key '" + path + "' (expected one of: " + join(allowed) + ")");
        }
        if (!seen.insert(key).second) fail(key_mark, path, "duplicate key");
        visit(key, Field(*this, it->second, path, key_mark));
      }
    }
    if (require_all_) {
      for (std::string_view name : allowed) {
        bool is_optional = false;
        for (std::string_view o : optional) is_optional = is_optional || o == name;
        if (!is_optional && !seen.count(std::string(name))) {
          map.fail("missing key '" + std::string(name) + "'");
        }
      }
    }
  }

 private:
  std::string file_;
  bool require_all_;
};

YAML::Mark Field::mark() const {
  // An empty value's own mark points at the next token; its key is the better place.
  if (!node_.IsDefined() || node_.IsNull()) return key_mark_;
  const YAML::Mark mark = node_.Mark();
  return mark.line >= 0 ? mark : key_mark_;
}

void Field::fail(const std::string& what) const { reader_.fail(mark(), path_, what); }

std::string Field::scalar(const char* expected) const {
  if (!node_.IsScalar()) fail(std::string("expected ") + expected + ", got " + node_type_name(node_));
  return node_.Scalar();
}

std::string Field::string() const {
  if (node_.IsNull()) return "";
  return scalar("a string");
}

std::chrono::nanoseconds Field::duration(std::chrono::nanoseconds min,
                                         std::chrono::nanoseconds max) const {
  const std::string text = scalar("a duration (e.g. 50ms, 1s, 5m)");
  auto value = parse_duration(text);
  if (!value) fail("invalid duration '" + text + "' (expected e.g. 50ms, 1s, 5m, 1h30m)");
  if (*value < min || *value > max) {
    fail("duration " + text + " out of range (" + format_duration(min) + ".." +
         format_duration(max) + ")");
  }
  return *value;
}

uint64_t Field::size(uint64_t min, uint64_t max) const {
  const std::string text = scalar("a size (e.g. 16MiB)");
  auto value = parse_size(text);
  if (!value) fail("invalid size '" + text + "' (expected e.g. 4096, 64KiB, 16MiB, 1GiB)");
  if (*value < min || *value > max) {
    fail("size " + text + " out of range (" + format_size(min) + ".." + format_size(max) + ")");
  }
  return *value;
}

uint64_t Field::integer(uint64_t min, uint64_t max) const {
  const std::string text = scalar("an integer");
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    fail("invalid integer '" + text + "' (expected a whole number >= 0)");
  }
  if (value < min || value > max) {
    fail("value " + text + " out of range (" + std::to_string(min) + ".." + std::to_string(max) + ")");
  }
  return value;
}

std::string format_number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

double Field::number(double min, double max, bool min_exclusive) const {
  const std::string text = scalar("a number");
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    fail("invalid number '" + text + "'");
  }
  if (value < min || value > max || (min_exclusive && value == min)) {
    fail("value " + text + " out of range (" + (min_exclusive ? "> " : "") + format_number(min) +
         ".." + format_number(max) + ")");
  }
  return value;
}

constexpr uint64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;

uint64_t power_of_two_size(const Field& f, uint64_t min, uint64_t max) {
  const uint64_t bytes = f.size(min, max);
  if ((bytes & (bytes - 1)) != 0) f.fail("size " + f.node().Scalar() + " must be a power of two");
  return bytes;
}

std::set<cw_hook> hook_list(const Reader& r, const Field& f) {
  if (!f.node().IsSequence() && !f.node().IsNull()) {
    f.fail(std::string("expected a list of hook names, got ") + node_type_name(f.node()));
  }
  std::string names;
  for (int h = 0; h < CW_HOOK_COUNT; ++h) {
    names += (h ? ", " : "") + std::string(config_hook_name(static_cast<cw_hook>(h)));
  }
  std::set<cw_hook> hooks;
  for (size_t i = 0; i < f.node().size(); ++i) {
    const Field element(r, f.node()[i], f.path() + "[" + std::to_string(i) + "]", f.mark());
    const std::string text = element.scalar("a hook name");
    auto hook = parse_config_hook(text);
    if (!hook) element.fail("unknown hook '" + text + "' (expected one of: " + names + ")");
    if (!hooks.insert(*hook).second) element.fail("hook '" + text + "' listed twice");
  }
  return hooks;
}

// An IPv6 literal in brackets, or an IPv4 literal / DNS name (letters, digits, '-', non-empty
// dot-separated labels): anything else could only fail later, at bind time, far from the file.
bool valid_listen_host(const std::string& host) {
  if (host.front() == '[') {
    in6_addr addr{};
    return host.size() > 2 && host.back() == ']' &&
           inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &addr) == 1;
  }
  bool label_empty = true;
  for (const char c : host) {
    if (c == '.') {
      if (label_empty) return false;
      label_empty = true;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') {
      label_empty = false;
    } else {
      return false;
    }
  }
  return !label_empty;
}

void check_listen(const Field& f, const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) f.fail("expected host:port, got '" + listen + "'");
  const std::string host = listen.substr(0, colon);
  if (host.front() == '[' && host.back() != ']') f.fail("unterminated [ in '" + listen + "'");
  if (!valid_listen_host(host)) {
    f.fail("host in '" + listen + "' must be an IPv4 address, a host name or [IPv6 address]");
  }
  unsigned port = 0;
  const std::string port_text = listen.substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    f.fail("port in '" + listen + "' must be 1..65535");
  }
}

// ---- sections ---------------------------------------------------------------------------

void read_daemon(const Reader& r, const Field& section, DaemonConfig& out) {
  r.for_each_key(section, {"poll_interval", "drain_interval", "log_level"},
                 [&](std::string_view key, const Field& f) {
                   if (key == "poll_interval") out.poll_interval = f.duration(10ms, 1h);
                   if (key == "drain_interval") out.drain_interval = f.duration(1ms, 10s);
                   if (key == "log_level") {
                     out.log_level = f.choice(parse_log_level, {"debug", "info", "warning", "error"});
                   }
                 });
}

void read_metrics(const Reader& r, const Field& section, MetricsConfig& out) {
  r.for_each_key(section, {"listen", "web_config_file", "top_k_processes", "max_cgroups", "max_comms"},
                 [&](std::string_view key, const Field& f) {
                   if (key == "listen") {
                     out.listen = f.scalar("host:port");
                     check_listen(f, out.listen);
                   }
                   if (key == "web_config_file") {
                     out.web_config_file = f.string();
                     if (!out.web_config_file.empty() && out.web_config_file.front() != '/') {
                       f.fail("must be an absolute path (or empty for plain HTTP)");
                     }
                   }
                   if (key == "top_k_processes") out.top_k_processes = f.integer(0, 10000);
                   if (key == "max_cgroups") out.max_cgroups = f.integer(1, 100000);
                   if (key == "max_comms") out.max_comms = f.integer(1, 100000);
                 });
}

void read_limits(const Reader& r, const Field& section, LimitsConfig& out) {
  r.for_each_key(section, {"max_tracked_processes"}, [&](std::string_view key, const Field& f) {
    if (key == "max_tracked_processes") out.max_tracked_processes = f.integer(1024, 4194304);
  });
}

void read_bpf(const Reader& r, const Field& section, BpfConfig& out) {
  r.for_each_key(section, {"events", "sample_every", "ring_buffer_size", "control_ring_size"},
                 [&](std::string_view key, const Field& f) {
                   if (key == "events") {
                     out.events = f.choice(parse_event_detail, {"anomalies", "sample", "all"});
                   }
                   if (key == "sample_every") out.sample_every = f.integer(1, 1000000);
                   if (key == "ring_buffer_size") out.ring_buffer_size = power_of_two_size(f, 4 * kKiB, 1 * kGiB);
                   if (key == "control_ring_size") out.control_ring_size = power_of_two_size(f, 4 * kKiB, 1 * kGiB);
                 });
}

void read_probes(const Reader& r, const Field& section, ProbesConfig& out) {
  r.for_each_key(section, {"required", "disabled", "prefer"}, [&](std::string_view key, const Field& f) {
    if (key == "required") out.required = hook_list(r, f);
    if (key == "disabled") out.disabled = hook_list(r, f);
    if (key == "prefer") out.prefer = f.choice(parse_probe_rung, {"auto", "fentry", "kprobe"});
  });
  for (cw_hook hook : out.required) {
    if (out.disabled.count(hook)) {
      section.fail(std::string("hook '") + config_hook_name(hook) +
                   "' is both required and disabled");
    }
  }
}

void read_control_socket(const Reader& r, const Field& section, ControlSocketConfig& out) {
  r.for_each_key(section, {"path", "group", "max_request_bytes", "client_timeout"},
                 [&](std::string_view key, const Field& f) {
                   if (key == "path") {
                     out.path = f.scalar("an absolute path");
                     if (!out.path.starts_with('/')) f.fail("must be an absolute path");
                     if (out.path.size() > 107) f.fail("longer than a Unix socket path allows (107)");
                   }
                   if (key == "group") out.group = f.string();
                   if (key == "max_request_bytes") out.max_request_bytes = f.size(1 * kKiB, 16 * kMiB);
                   if (key == "client_timeout") out.client_timeout = f.duration(10ms, 10min);
                 });
}

void read_alertmanager(const Reader& r, const Field& section, AlertmanagerConfig& out) {
  r.for_each_key(section, {"url", "timeout", "resend_interval"},
                 [&](std::string_view key, const Field& f) {
                   if (key == "url") {
                     out.url = f.string();
                     if (!out.url.empty()) {
                       auto url = parse_http_url(out.url);
                       if (!url) f.fail(url.error());
                     }
                   }
                   if (key == "timeout") out.timeout = f.duration(10ms, 1min);
                   if (key == "resend_interval") out.resend_interval = f.duration(1s, 1h);
                 });
}

std::map<std::string, std::string> read_labels(const Reader& r, const Field& f) {
  std::map<std::string, std::string> labels;
  if (!f.node().IsNull() && !f.node().IsMap()) {
    f.fail(std::string("expected a mapping of label names to values, got ") + node_type_name(f.node()));
  }
  for (auto it = f.node().begin(); f.node().IsMap() && it != f.node().end(); ++it) {
    const std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
    const std::string path = f.path() + "." + name;
    if (!valid_identifier(name) || name.starts_with("__")) {
      r.fail(it->first.Mark(), path, "invalid label name (letters, digits, _; not starting with __)");
    }
    for (const char* reserved : {"alertname", "severity", "scope", "subject"}) {
      if (name == reserved) r.fail(it->first.Mark(), path, "label name is set by cowwatch itself");
    }
    if (labels.count(name)) r.fail(it->first.Mark(), path, "duplicate key");
    labels[name] = Field(r, it->second, path, it->first.Mark()).string();
  }
  return labels;
}

alerts::RuleConfig read_rule(const Reader& r, const Field& f) {
  using alerts::RuleKind;
  std::map<std::string, Field, std::less<>> fields;
  r.for_each_key(
      f,
      {"name", "kind", "scope", "threshold", "window", "for", "cooldown", "severity", "min_copies",
       "labels"},
      [&](std::string_view key, const Field& value) { fields.emplace(std::string(key), value); },
      {"for", "cooldown", "labels", "min_copies"});
  auto required = [&](const char* key) -> const Field& {
    auto it = fields.find(key);
    if (it == fields.end()) f.fail(std::string("missing required key '") + key + "'");
    return it->second;
  };

  alerts::RuleConfig rule;
  const Field& name = required("name");
  rule.name = name.scalar("a rule name");
  if (!valid_identifier(rule.name)) name.fail("invalid rule name '" + rule.name + "' (letters, digits, _)");
  rule.kind = required("kind").choice(alerts::parse_rule_kind,
                                      {"pinned_cow_copy", "fork_with_pins", "unshare_storm",
                                       "pinned_swap_attempt", "extra_ref_copies", "fork_cow_blowup"});
  rule.scope = required("scope").choice(alerts::parse_scope, {"process", "cgroup", "host"});
  rule.severity = required("severity").choice(alerts::parse_severity, {"critical", "warning", "info"});
  rule.window = required("window").duration(1s, 24h * 7);
  if (auto it = fields.find("for"); it != fields.end()) rule.for_duration = it->second.duration(0s, 24h * 7);
  if (auto it = fields.find("cooldown"); it != fields.end()) rule.cooldown = it->second.duration(0s, 24h * 7);
  if (auto it = fields.find("labels"); it != fields.end()) rule.labels = read_labels(r, it->second);

  const Field& threshold = required("threshold");
  switch (rule.kind) {
    case RuleKind::kPinnedCowCopy:
    case RuleKind::kForkWithPins:
    case RuleKind::kPinnedSwapAttempt:
      rule.threshold = threshold.number(1, 1e9);  // events in the window
      break;
    case RuleKind::kUnshareStorm:
      rule.threshold = threshold.number(0, 1e9, /*min_exclusive=*/true);  // faults per second
      break;
    case RuleKind::kExtraRefCopies:
      rule.threshold = threshold.number(0, 1, /*min_exclusive=*/true);  // share of copies
      break;
    case RuleKind::kForkCowBlowup:
      rule.threshold = static_cast<double>(threshold.size(1 * kMiB, 1ULL << 50));  // bytes
      break;
  }
  auto min_copies = fields.find("min_copies");
  if (rule.kind == RuleKind::kExtraRefCopies) {
    rule.min_copies = required("min_copies").integer(1, 1'000'000'000);
  } else if (min_copies != fields.end()) {
    min_copies->second.fail("only applies to kind extra_ref_copies");
  }
  return rule;
}

void read_alerts(const Reader& r, const Field& section, AlertsConfig& out) {
  r.for_each_key(section, {"rules"}, [&](std::string_view, const Field& f) {
    if (!f.node().IsSequence() && !f.node().IsNull()) {
      f.fail(std::string("expected a list of rules, got ") + node_type_name(f.node()));
    }
    std::vector<alerts::RuleConfig> rules;
    for (size_t i = 0; i < f.node().size(); ++i) {
      const YAML::Node element = f.node()[i];
      const Field rule_field(r, element, f.path() + "[" + std::to_string(i) + "]", f.mark());
      alerts::RuleConfig rule = read_rule(r, rule_field);
      for (const auto& earlier : rules) {
        if (earlier.name == rule.name) {
          Field(r, element["name"], rule_field.path() + ".name", rule_field.mark())
              .fail("duplicate rule name '" + rule.name + "'");
        }
      }
      rules.push_back(std::move(rule));
    }
    out.rules = std::move(rules);
  });
}

void read_root(const Reader& r, const YAML::Node& root, Config& config) {
  const Field top(r, root, "", YAML::Mark::null_mark());
  r.for_each_key(top,
                 {"daemon", "metrics", "limits", "bpf", "probes", "control_socket", "alertmanager",
                  "alerts"},
                 [&](std::string_view key, const Field& f) {
                   if (key == "daemon") read_daemon(r, f, config.daemon);
                   if (key == "metrics") read_metrics(r, f, config.metrics);
                   if (key == "limits") read_limits(r, f, config.limits);
                   if (key == "bpf") read_bpf(r, f, config.bpf);
                   if (key == "probes") read_probes(r, f, config.probes);
                   if (key == "control_socket") read_control_socket(r, f, config.control_socket);
                   if (key == "alertmanager") read_alertmanager(r, f, config.alertmanager);
                   if (key == "alerts") read_alerts(r, f, config.alerts);
                 });
}

// Parses `text` over `base`.
// YAML is UTF-8; yaml-cpp passes invalid bytes through, and to_yaml() would then write U+FFFD,
// so a configuration would not read back as itself. Returns "" or "name:line:col: ..." for the
// first invalid sequence.
std::string invalid_utf8(std::string_view text, std::string_view name) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < text.size();) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
    const unsigned c = byte(0);
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = len > 0 && i + len <= text.size();
    uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (size_t k = 1; ok && k < len; k++) {
      ok = (byte(k) & 0xc0) == 0x80;
      cp = (cp << 6) | (byte(k) & 0x3f);
    }
    // The shortest form only, no surrogates, nothing above U+10FFFF (RFC 3629).
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (ok) ok = cp >= kMin[len] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    if (!ok)
      return std::string(name) + ":" + std::to_string(line) + ":" + std::to_string(col) +
             ": invalid UTF-8 byte 0x" + "0123456789abcdef"[c >> 4] + "0123456789abcdef"[c & 0xf] +
             " (a configuration file is UTF-8 text)";
    if (c == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
    i += len;
  }
  return "";
}

Result<Config> parse_over(Config base, std::string_view text, std::string_view name,
                          bool require_all) {
  if (std::string bad = invalid_utf8(text, name); !bad.empty()) return Result<Config>::failure(bad);
  const Reader reader{std::string(name), require_all};
  try {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::ParserException& e) {
      reader.fail(e.mark, "", "YAML syntax error: " + e.msg);
    }
    read_root(reader, root, base);
  } catch (const ConfigError& e) {
    return Result<Config>::failure(e.message);
  } catch (const YAML::Exception& e) {  // anything yaml-cpp still throws (should not happen)
    return Result<Config>::failure(std::string(name) + ": " + e.what());
  }
  return Result<Config>::success(std::move(base));
}

}  // namespace

const Config& default_config() {
  static const Config config = [] {
    auto parsed = parse_over(Config{}, default_config_yaml(), "<embedded default>", true);
    if (!parsed) throw std::logic_error("embedded default configuration is invalid: " + parsed.error());
    return std::move(parsed).value();
  }();
  return config;
}

Result<Config> load_config_string(std::string_view text, std::string_view name) {
  return parse_over(default_config(), text, name, false);
}

Result<Config> load_config_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Result<Config>::failure(path + ": cannot open: " + std::strerror(errno));
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int saved = errno;
      ::close(fd);
      return Result<Config>::failure(path + ": cannot read: " + std::strerror(saved));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > 16 * kMiB) {
      ::close(fd);
      return Result<Config>::failure(path + ": larger than 16MiB, not a configuration file");
    }
  }
  ::close(fd);
  return load_config_string(text, path);
}

}  // namespace cowwatch::config
