#include "alerts/annotations.h"

#include <cstdio>

#include "config/units.h"

namespace cowwatch::alerts {
namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string count(double v) { return fixed(v, 0); }

}  // namespace

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return fixed(bytes, unit == 0 || bytes >= 100 ? 0 : 1) + units[unit];
}

std::map<std::string, std::string> describe(const RuleConfig& rule, const std::string& subject,
                                            const Measurement& m) {
  const std::string window = config::format_duration(rule.window);
  std::string summary, description, value;
  switch (rule.kind) {
    case RuleKind::kPinnedCowCopy:
      value = count(m.value);
      summary = "COW copy of a maybe-DMA-pinned page in " + subject;
      description = value + " copy-on-write copies of maybe-DMA-pinned pages in the last " + window +
                    " (threshold " + count(rule.threshold) +
                    "). A device may keep writing to the old page while the process sees the "
                    "copy (GUP-after-fork corruption). Pin with FOLL_LONGTERM and mark pinned "
                    "buffers MADV_DONTFORK before forking.";
      break;
    case RuleKind::kForkWithPins:
      value = count(m.value);
      if (m.approximate) {
        summary = "fork of an mm holding long-term pinned pages in " + subject;
        description = value + " forks in the last " + window +
                      " while the parent held long-term pins (pinned_vm > 0). This kernel does not "
                      "show whether the pinned pages were copied at fork (copy_page_range cannot be "
                      "probed): pages in regions marked MADV_DONTFORK are not.";
        break;
      }
      summary = "fork copied pinned pages in " + subject;
      description = value + " maybe-DMA-pinned pages copied eagerly at fork in the last " + window +
                    " (threshold " + count(rule.threshold) +
                    "): the child could not share pages a device may be writing, so each fork "
                    "paid for a full copy of them. Pinned regions the child does not need can be "
                    "excluded from fork with MADV_DONTFORK (or MADV_WIPEONFORK).";
      break;
    case RuleKind::kUnshareStorm:
      value = fixed(m.value, 1);
      summary = "unshare storm on " + subject + ": " + value + " GUP unshare faults/s";
      description = count(m.window_count) + " GUP unshare faults in the last " + window + " (" + value +
                    "/s, threshold " + fixed(rule.threshold, 1) +
                    "/s): read-only pins (e.g. O_DIRECT reads from a forked worker) are forcing "
                    "copies of shared anonymous pages.";
      break;
    case RuleKind::kPinnedSwapAttempt:
      value = count(m.value);
      summary = "reclaim met pinned pages in " + subject;
      description = value + " times in the last " + window +
                    " reclaim found a maybe-DMA-pinned anonymous folio it could not swap (or "
                    "added one to swap): wasted reclaim work; check long-term pins under memory "
                    "pressure.";
      break;
    case RuleKind::kExtraRefCopies:
      value = fixed(m.value, 3);
      summary = fixed(m.value * 100, 0) + "% of COW copies in " + subject + " were avoidable (extra_ref)";
      description = count(m.window_count) + " of " + count(m.window_total) + " copies in the last " +
                    window +
                    " had reason extra_ref (mapcount 1 but extra references, e.g. swap cache or "
                    "LRU): copies the kernel could have avoided (threshold " +
                    fixed(rule.threshold, 2) + ", at least " + std::to_string(rule.min_copies) +
                    " copies).";
      break;
    case RuleKind::kForkCowBlowup:
      value = fixed(m.value, 0);
      summary = "fork in " + subject + " will copy ~" + human_bytes(m.value);
      description = "child " + std::to_string(m.episode.child_tgid) + ": " +
                    human_bytes(static_cast<double>(m.episode.copied_bytes)) +
                    " copied since the fork, projected " +
                    human_bytes(static_cast<double>(m.episode.projected_bytes)) +
                    " at the current rate" +
                    (m.episode.rss_bound_bytes
                         ? " (bounded by anon RSS at fork " +
                               human_bytes(static_cast<double>(m.episode.rss_bound_bytes)) + ")"
                         : std::string()) +
                    "; threshold " + human_bytes(rule.threshold) + ".";
      break;
  }
  return {{"summary", summary}, {"description", description}, {"value", value}};
}

}  // namespace cowwatch::alerts
