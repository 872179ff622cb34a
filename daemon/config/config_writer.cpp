// to_yaml(): the effective configuration, every key present (for --check-config output and the
// round-trip test).
#include <yaml-cpp/yaml.h>

#include <charconv>

#include "config/config.h"
#include "config/units.h"

namespace cowwatch::config {
namespace {

std::string number_text(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

void hooks(YAML::Emitter& out, const std::set<cw_hook>& set) {
  out << YAML::Flow << YAML::BeginSeq;
  for (cw_hook hook : set) out << config_hook_name(hook);
  out << YAML::EndSeq;
}

void rule(YAML::Emitter& out, const alerts::RuleConfig& r) {
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << r.name;
  out << YAML::Key << "kind" << YAML::Value << alerts::rule_kind_name(r.kind);
  out << YAML::Key << "scope" << YAML::Value << alerts::scope_name(r.scope);
  out << YAML::Key << "threshold" << YAML::Value
      << (r.kind == alerts::RuleKind::kForkCowBlowup
              ? format_size(static_cast<uint64_t>(r.threshold))
              : number_text(r.threshold));
  if (r.kind == alerts::RuleKind::kExtraRefCopies) {
    out << YAML::Key << "min_copies" << YAML::Value << r.min_copies;
  }
  out << YAML::Key << "window" << YAML::Value << format_duration(r.window);
  out << YAML::Key << "for" << YAML::Value << format_duration(r.for_duration);
  out << YAML::Key << "cooldown" << YAML::Value << format_duration(r.cooldown);
  out << YAML::Key << "severity" << YAML::Value << alerts::severity_name(r.severity);
  out << YAML::Key << "labels" << YAML::Value << YAML::Flow << YAML::BeginMap;
  for (const auto& [name, value] : r.labels) out << YAML::Key << name << YAML::Value << value;
  out << YAML::EndMap;
  out << YAML::EndMap;
}

}  // namespace

std::string to_yaml(const Config& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;

  out << YAML::Key << "daemon" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "poll_interval" << YAML::Value << format_duration(c.daemon.poll_interval);
  out << YAML::Key << "drain_interval" << YAML::Value << format_duration(c.daemon.drain_interval);
  out << YAML::Key << "log_level" << YAML::Value << log_level_name(c.daemon.log_level);
  out << YAML::EndMap;

  out << YAML::Key << "metrics" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "listen" << YAML::Value << YAML::DoubleQuoted << c.metrics.listen;
  out << YAML::Key << "web_config_file" << YAML::Value << YAML::DoubleQuoted << c.metrics.web_config_file;
  out << YAML::Key << "top_k_processes" << YAML::Value << c.metrics.top_k_processes;
  out << YAML::Key << "max_cgroups" << YAML::Value << c.metrics.max_cgroups;
  out << YAML::Key << "max_comms" << YAML::Value << c.metrics.max_comms;
  out << YAML::EndMap;

  out << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "max_tracked_processes" << YAML::Value << c.limits.max_tracked_processes;
  out << YAML::EndMap;

  out << YAML::Key << "bpf" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "events" << YAML::Value << event_detail_name(c.bpf.events);
  out << YAML::Key << "sample_every" << YAML::Value << c.bpf.sample_every;
  out << YAML::Key << "ring_buffer_size" << YAML::Value << format_size(c.bpf.ring_buffer_size);
  out << YAML::Key << "control_ring_size" << YAML::Value << format_size(c.bpf.control_ring_size);
  out << YAML::EndMap;

  out << YAML::Key << "probes" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "required" << YAML::Value;
  hooks(out, c.probes.required);
  out << YAML::Key << "disabled" << YAML::Value;
  hooks(out, c.probes.disabled);
  out << YAML::Key << "prefer" << YAML::Value << probe_rung_name(c.probes.prefer);
  out << YAML::EndMap;

  out << YAML::Key << "control_socket" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "path" << YAML::Value << c.control_socket.path;
  out << YAML::Key << "group" << YAML::Value << YAML::DoubleQuoted << c.control_socket.group;
  out << YAML::Key << "max_request_bytes" << YAML::Value << c.control_socket.max_request_bytes;
  out << YAML::Key << "client_timeout" << YAML::Value << format_duration(c.control_socket.client_timeout);
  out << YAML::EndMap;

  out << YAML::Key << "alertmanager" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "url" << YAML::Value << YAML::DoubleQuoted << c.alertmanager.url;
  out << YAML::Key << "timeout" << YAML::Value << format_duration(c.alertmanager.timeout);
  out << YAML::Key << "resend_interval" << YAML::Value << format_duration(c.alertmanager.resend_interval);
  out << YAML::EndMap;

  out << YAML::Key << "alerts" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
  for (const auto& r : c.alerts.rules) rule(out, r);
  out << YAML::EndSeq;
  out << YAML::EndMap;

  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace cowwatch::config
