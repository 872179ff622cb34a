// Stable names of the enums in bpf/cowwatch.h as they appear on the control socket and in
// recordings. Keep in sync with bpf/cowwatch.h, docs/metrics.md (label values) and
// daemon/probe/plan.cpp (hook_name, strategy_name). Own tables so that cowwatch_protocol and the
// CLI need not link the kernel library.
#pragma once

#include <optional>
#include <string_view>

#include "cowwatch.h"
#include "probe/plan.h"

namespace cowwatch::control {

std::string_view hook_label(int hook);              // "wp_fault", ...; "unknown" out of range
std::string_view reason_label(int reason);          // "shared", ...; "none" for CW_REASON_COUNT
std::string_view decision_label(int decision);      // "copy", "reuse", ...
std::string_view event_type_label(int type);        // "fault", "fork", "exit", "swap_add", ...
std::string_view counter_label(int counter);        // "wp_write", "copy_shared", ...
std::string_view drop_cause_label(int cause);       // "ring_full", ...
std::string_view strategy_label(probe::Strategy s); // "fentry", ...

std::optional<int> parse_hook(std::string_view name);
std::optional<int> parse_reason(std::string_view name);   // "none" -> CW_REASON_COUNT
std::optional<int> parse_decision(std::string_view name);
std::optional<int> parse_event_type(std::string_view name);
std::optional<int> parse_counter(std::string_view name);
std::optional<int> parse_drop_cause(std::string_view name);
std::optional<probe::Strategy> parse_strategy(std::string_view name);

}  // namespace cowwatch::control
