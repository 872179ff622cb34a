#include <array>

#include "config/config.h"

namespace cowwatch::config {
namespace {

constexpr std::array<const char*, 4> kLogLevels = {"debug", "info", "warning", "error"};
constexpr std::array<const char*, 3> kEventDetails = {"anomalies", "sample", "all"};
constexpr std::array<const char*, 3> kProbeRungs = {"auto", "fentry", "kprobe"};
// Keep in sync with enum cw_hook (bpf/cowwatch.h) and daemon/probe/plan.cpp hook_name().
constexpr std::array<const char*, CW_HOOK_COUNT> kHooks = {
    "wp_fault", "cow_copy", "cow_reuse", "gup_unshare", "swap_add", "fork", "exit"};

template <class Enum, size_t N>
std::optional<Enum> find_name(const std::array<const char*, N>& names, std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (name == names[i]) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

const char* log_level_name(LogLevel level) { return kLogLevels.at(static_cast<size_t>(level)); }
const char* event_detail_name(EventDetail detail) {
  return kEventDetails.at(static_cast<size_t>(detail));
}
const char* config_hook_name(cw_hook hook) { return kHooks.at(static_cast<size_t>(hook)); }
const char* probe_rung_name(ProbeRung rung) { return kProbeRungs.at(static_cast<size_t>(rung)); }
std::optional<ProbeRung> parse_probe_rung(std::string_view name) { return find_name<ProbeRung>(kProbeRungs, name); }

std::optional<LogLevel> parse_log_level(std::string_view name) {
  return find_name<LogLevel>(kLogLevels, name);
}
std::optional<EventDetail> parse_event_detail(std::string_view name) {
  return find_name<EventDetail>(kEventDetails, name);
}
std::optional<cw_hook> parse_config_hook(std::string_view name) {
  return find_name<cw_hook>(kHooks, name);
}

}  // namespace cowwatch::config
