#include "storm/overload.h"

#include <cstdio>
#include <optional>
#include <string>

#include "storm/storm.h"

namespace cowwatch::bench {
namespace {

struct OverloadRun {
  uint32_t ring_bytes = 0;
  uint64_t child_records = 0;    // fault records delivered for the storm child
  uint64_t fault_records = 0;    // fault records delivered, any process
  uint64_t ring_drops = 0;       // CW_DROP_RING_FULL during the storm
  uint64_t host_wp_faults = 0;   // host wp faults (write + unshare) during the storm
  uint64_t recursion_misses = 0; // program runs the kernel skipped (recursion protection)
  uint64_t stash_misses = 0;     // exits that found no entry state (decided without it)
  std::optional<cw_counters> child;  // the child's counters, taken at its exit
};

uint64_t host_wp(const cw_counters& c) { return c.c[CW_C_WP_WRITE] + c.c[CW_C_WP_UNSHARE]; }

// Every wp fault ends in exactly one decision counter.
uint64_t decisions(const cw_counters& c) {
  uint64_t n = c.c[CW_C_WP_SHARED_MAPPING] + c.c[CW_C_WP_INCOMPLETE] + c.c[CW_C_REUSE_EXCLUSIVE] +
               c.c[CW_C_REUSE_SOLE_REF] + c.c[CW_C_UNSHARE_NOOP];
  for (int r = 0; r < CW_REASON_COUNT; r++) n += c.c[CW_C_COPY_FIRST + r];
  return n;
}

uint64_t copies(const cw_counters& c) {
  uint64_t n = 0;
  for (int r = 0; r < CW_REASON_COUNT; r++) n += c.c[CW_C_COPY_FIRST + r];
  return n;
}

bool run_once(loader::KernelOptions options, uint32_t ring_bytes, size_t pages, int cpu, OverloadRun* out,
              std::string* error) {
  options.event_mode = 2;  // every event on the ring
  options.ring_bytes = ring_bytes;
  auto session = loader::KernelSession::open(options, error);
  if (!session) return false;
  out->ring_bytes = ring_bytes;
  session->drain([](const cw_event&) {});
  ingest::KernelSample before = session->sample();
  StormResult storm = run_storm(pages, cpu);  // nothing drains while it runs
  if (!storm.ok) {
    *error = storm.error;
    return false;
  }
  // Sample first, then drain: a fault by another process in between adds a record, never a
  // count, so delivered + drops >= host faults is the exact-accounting check.
  ingest::KernelSample after = session->sample();
  std::optional<cw_proc_key> child_key;
  session->drain([&](const cw_event& e) {
    if (e.type == CW_EV_FAULT) {
      out->fault_records++;
      if (e.tgid == storm.child_pid) out->child_records++;
    }
    if (e.type == CW_EV_EXIT && e.tgid == storm.child_pid) child_key = cw_proc_key{e.tgid, 0, e.start_ns};
  });
  out->ring_drops = after.drops[CW_DROP_RING_FULL] - before.drops[CW_DROP_RING_FULL];
  out->stash_misses = after.drops[CW_DROP_STASH_MISS] - before.drops[CW_DROP_STASH_MISS];
  for (const auto& p : after.programs) out->recursion_misses += p.recursion_misses;
  for (const auto& p : before.programs) out->recursion_misses -= p.recursion_misses;
  out->host_wp_faults = host_wp(after.host) - host_wp(before.host);
  cw_counters c;
  if (child_key && session->take_process(*child_key, &c)) out->child = c;
  return true;
}

}  // namespace

bool run_overload_check(const loader::KernelOptions& base, size_t pages, int cpu) {
  // A record is sizeof(cw_event) + an 8 B ring header. "Holds it": the whole storm twice over;
  // "overloaded": the power of two nearest a tenth of the storm.
  const uint64_t storm_bytes = uint64_t(pages) * (sizeof(cw_event) + 8);
  uint32_t big = 4096, small = 4096;
  while (big < 2 * storm_bytes) big <<= 1;
  while (uint64_t(small) * 2 <= storm_bytes / 10) small <<= 1;
  std::printf("== per-process counters at ring overload (bpf.events: all, no drain during the storm) ==\n");
  std::printf("%-10s %10s %12s %12s %12s %12s %12s %12s %10s %10s\n", "ring", "overload", "child recs", "ring drops",
              "host wp", "recs+drops", "child wp", "child copies", "recursion", "stash miss");
  OverloadRun runs[2];
  uint32_t sizes[2] = {big, small};
  std::string error;
  for (int i = 0; i < 2; i++) {
    if (!run_once(base, sizes[i], pages, cpu, &runs[i], &error)) {
      std::printf("FAILED: ring %u B: %s\n", sizes[i], error.c_str());
      return false;
    }
    const OverloadRun& r = runs[i];
    double overload = r.child_records ? double(r.child ? r.child->c[CW_C_WP_WRITE] : 0) / double(r.child_records) : 0;
    std::printf("%-10s %9.1fx %12llu %12llu %12llu %12llu %12llu %12llu %10llu %10llu\n",
                (std::to_string(r.ring_bytes >> 10) + " KiB").c_str(), overload,
                (unsigned long long)r.child_records, (unsigned long long)r.ring_drops,
                (unsigned long long)r.host_wp_faults, (unsigned long long)(r.fault_records + r.ring_drops),
                (unsigned long long)(r.child ? r.child->c[CW_C_WP_WRITE] : 0),
                (unsigned long long)(r.child ? copies(*r.child) : 0), (unsigned long long)r.recursion_misses,
                (unsigned long long)r.stash_misses);
  }
  bool ok = runs[0].child && runs[1].child;
  if (!ok) {
    std::printf("FAILED: the storm child's counters were not found at its exit\n");
    return false;
  }
  // The storm's own pages are a fixed count; a few libc/stack pages may be copied or reused
  // depending on whether the parent touched them first, so copies are compared to the storm size.
  const cw_counters& over = *runs[1].child;
  bool same = runs[0].child->c[CW_C_WP_WRITE] == over.c[CW_C_WP_WRITE] && copies(over) >= pages &&
              decisions(over) == host_wp(over);
  bool accounted = runs[1].fault_records + runs[1].ring_drops >= runs[1].host_wp_faults;
  bool overloaded = runs[1].ring_drops > 0;
  std::printf("child's wp faults equal with and without overload, >= %zu copies, one decision per fault: %s\n",
              pages, same ? "yes" : "NO");
  std::printf("counts exact under overload: %s; every fault delivered or counted as a drop: %s; ring overflowed: %s\n",
              same ? "yes" : "NO", accounted ? "yes" : "NO", overloaded ? "yes" : "NO");
  return same && accounted && overloaded;
}

}  // namespace cowwatch::bench
