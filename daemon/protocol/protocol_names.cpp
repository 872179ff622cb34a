#include "protocol/protocol_names.h"

#include <array>
#include <span>

namespace cowwatch::control {
namespace {

constexpr std::array<std::string_view, CW_HOOK_COUNT> kHooks{
    "wp_fault", "cow_copy", "cow_reuse", "gup_unshare", "swap_add", "fork", "exit"};

constexpr std::array<std::string_view, CW_REASON_COUNT + 1> kReasons{
    "unshare", "zero_page", "file", "ksm", "pinned", "shared", "extra_ref", "large_folio", "other",
    "none"};

constexpr std::array<std::string_view, CW_DECISION_COUNT> kDecisions{
    "copy", "reuse", "unshare_noop", "shared_mapping", "incomplete"};

constexpr std::array<std::string_view, CW_EV_TYPE_COUNT> kEventTypes{
    "fault", "fork", "exit", "swap_add", "pinned_swap_skip", "exec", "rename", "cgroup_move"};

constexpr std::array<std::string_view, CW_C_COUNT> kCounters{
    "wp_write",         "wp_unshare",          "wp_shared_mapping", "wp_incomplete",
    "wp_remote",        "copy_unshare",        "copy_zero_page",    "copy_file",
    "copy_ksm",         "copy_pinned",         "copy_shared",       "copy_extra_ref",
    "copy_large_folio", "copy_other",          "reuse_exclusive",   "reuse_sole_ref",
    "unshare_noop",     "swap_add",            "swap_add_pinned",   "pinned_swap_skip",
    "fork",             "fork_mm_has_pinned",  "fork_longterm_pins", "wp_approx",
    "fork_pinned_copies", "selfcheck_copy_mismatch", "ksm_unmerge_copy", "ksm_unmerge_noop"};

constexpr std::array<std::string_view, CW_DROP_COUNT> kDropCauses{
    "ring_full", "ctl_ring_full", "proc_map_full", "stash_miss"};

constexpr std::array<std::string_view, 5> kStrategies{
    "fentry", "kprobe", "derived", "tracepoint", "unavailable"};

static_assert(CW_C_COPY_FIRST == 5 && CW_C_REUSE_EXCLUSIVE == 14 && CW_C_COUNT == 28,
              "cw_counter changed: update kCounters");
static_assert(CW_HOOK_COUNT == 7 && CW_REASON_COUNT == 9 && CW_DECISION_COUNT == 5 &&
                  CW_EV_TYPE_COUNT == 8 && CW_DROP_COUNT == 4,
              "an enum in cowwatch.h changed: update the name tables");

std::string_view label(std::span<const std::string_view> names, int value) {
  if (value < 0 || static_cast<size_t>(value) >= names.size()) return "unknown";
  return names[static_cast<size_t>(value)];
}

std::optional<int> parse(std::span<const std::string_view> names, std::string_view name) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view hook_label(int hook) { return label(kHooks, hook); }
std::string_view reason_label(int reason) { return label(kReasons, reason); }
std::string_view decision_label(int decision) { return label(kDecisions, decision); }
std::string_view event_type_label(int type) { return label(kEventTypes, type); }
std::string_view counter_label(int counter) { return label(kCounters, counter); }
std::string_view drop_cause_label(int cause) { return label(kDropCauses, cause); }
std::string_view strategy_label(probe::Strategy s) { return label(kStrategies, static_cast<int>(s)); }

std::optional<int> parse_hook(std::string_view name) { return parse(kHooks, name); }
std::optional<int> parse_reason(std::string_view name) { return parse(kReasons, name); }
std::optional<int> parse_decision(std::string_view name) { return parse(kDecisions, name); }
std::optional<int> parse_event_type(std::string_view name) { return parse(kEventTypes, name); }
std::optional<int> parse_counter(std::string_view name) { return parse(kCounters, name); }
std::optional<int> parse_drop_cause(std::string_view name) { return parse(kDropCauses, name); }

std::optional<probe::Strategy> parse_strategy(std::string_view name) {
  auto v = parse(kStrategies, name);
  if (!v) return std::nullopt;
  return static_cast<probe::Strategy>(*v);
}

}  // namespace cowwatch::control
