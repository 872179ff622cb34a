// The daemon's configuration: one YAML file (default /etc/cowwatch/cowwatch.yaml) laid over the
// embedded default (config/cowwatch.yaml, default_config.h). Every key is documented in that file
// and in docs/configuration.md. Unknown keys, wrong types and out-of-range values are errors that
// name the file, the key path, the line and the column.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/alert_rule.h"
#include "config/result.h"
#include "cowwatch.h"

namespace cowwatch::config {

inline constexpr const char* kDefaultConfigPath = "/etc/cowwatch/cowwatch.yaml";

using Duration = std::chrono::nanoseconds;

enum class LogLevel { kDebug, kInfo, kWarning, kError };
// bpf.events: which detail records the BPF side puts on the ring buffer
// (cw_bpf_config.event_mode: 0, 1, 2).
enum class EventDetail { kAnomalies = 0, kSample = 1, kAll = 2 };
// The rung the do_wp_page hooks (and the exact copy marker) try first.
// auto: kprobe where the kernel preempts BPF programs (preemption model full, lazy or rt), else fentry.
enum class ProbeRung { kAuto = 0, kFentry = 1, kKprobe = 2 };

struct DaemonConfig {
  Duration poll_interval{};   // per-process counters read from BPF maps this often
  Duration drain_interval{};  // ring-buffer timer drain
  LogLevel log_level = LogLevel::kInfo;
  bool operator==(const DaemonConfig&) const = default;
};

struct MetricsConfig {
  std::string listen;             // "host:port" or "[v6]:port" of the Prometheus exposer
  std::string web_config_file;    // exporter web config (TLS, basic auth); "" = plain HTTP
  uint32_t top_k_processes = 0;   // per-process series for this many processes
  uint32_t max_cgroups = 0;       // per-cgroup series; the rest fold into cgroup="_other"
  uint32_t max_comms = 0;         // per-comm series; the rest fold into comm="_other"
  bool operator==(const MetricsConfig&) const = default;
};

struct LimitsConfig {
  uint32_t max_tracked_processes = 0;  // BPF per-process map capacity and daemon-side cap
  bool operator==(const LimitsConfig&) const = default;
};

struct BpfConfig {
  EventDetail events = EventDetail::kAnomalies;
  uint32_t sample_every = 0;       // for events: sample
  uint64_t ring_buffer_size = 0;   // bytes, power of two >= 4096
  uint64_t control_ring_size = 0;  // bytes, power of two >= 4096
  bool operator==(const BpfConfig&) const = default;
};

struct ProbesConfig {
  std::set<cw_hook> required;  // hooks that --strict requires
  std::set<cw_hook> disabled;  // hooks never attached
  ProbeRung prefer = ProbeRung::kAuto;
  bool operator==(const ProbesConfig&) const = default;
};

struct ControlSocketConfig {
  std::string path;                // absolute path of the Unix socket
  std::string group;               // besides root, members may connect ("" = root only)
  uint32_t max_request_bytes = 0;
  Duration client_timeout{};
  bool operator==(const ControlSocketConfig&) const = default;
};

struct AlertmanagerConfig {
  std::string url;        // "http://host:port[/prefix]"; "" = disabled
  Duration timeout{};     // per POST
  Duration resend_interval{};  // active alerts are re-sent this often
  bool operator==(const AlertmanagerConfig&) const = default;
};

struct AlertsConfig {
  std::vector<alerts::RuleConfig> rules;
  bool operator==(const AlertsConfig&) const = default;
};

struct Config {
  DaemonConfig daemon;
  MetricsConfig metrics;
  LimitsConfig limits;
  BpfConfig bpf;
  ProbesConfig probes;
  ControlSocketConfig control_socket;
  AlertmanagerConfig alertmanager;
  AlertsConfig alerts;
  bool operator==(const Config&) const = default;
};

// The embedded default alone (config/cowwatch.yaml as shipped). Always valid: a unit test
// checks it, and the build embeds the file verbatim.
const Config& default_config();

// Reads `path` and lays it over the embedded default: mappings merge key by key, scalars and
// lists (including alerts.rules) replace. An empty file yields the default.
Result<Config> load_config_file(const std::string& path);
// Same for text already in memory; `name` is used in error messages in place of a file name.
Result<Config> load_config_string(std::string_view text, std::string_view name);

// The complete configuration as YAML, every key present; load_config_string(to_yaml(c)) == c.
std::string to_yaml(const Config& config);

// Names used in the file (keep hook names in sync with daemon/probe/plan.cpp hook_name()).
const char* log_level_name(LogLevel level);
const char* event_detail_name(EventDetail detail);
const char* config_hook_name(cw_hook hook);
const char* probe_rung_name(ProbeRung rung);
std::optional<ProbeRung> parse_probe_rung(std::string_view name);
std::optional<LogLevel> parse_log_level(std::string_view name);
std::optional<EventDetail> parse_event_detail(std::string_view name);
std::optional<cw_hook> parse_config_hook(std::string_view name);

}  // namespace cowwatch::config
