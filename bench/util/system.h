// What a benchmark needs from the machine: CPU pinning, clocks, RSS, sysctls, a description.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace cowwatch::bench {

uint64_t monotonic_ns();
// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID); excludes steal time on a KVM guest.
uint64_t thread_cpu_ns();
// Pins the calling thread to `cpu` (ignored when that CPU does not exist). Returns success.
bool pin_to_cpu(int cpu);
// Lets the calling thread run on every online CPU again (for children that should not inherit a pin).
bool unpin_cpu();
int online_cpus();
// Resident set size of this process (VmRSS), bytes.
uint64_t rss_bytes();
std::optional<std::string> read_file_line(const std::string& path);
bool write_file(const std::string& path, const std::string& value);
// Touches and frees `bytes` of anonymous memory: after a configuration change that allocated or
// freed kernel memory (loading maps and rings), the guest's free pages may have been handed back
// to the hypervisor (free page reporting), and the next allocations pay for that on every mode.
void settle_memory(size_t bytes);
// A field of /proc/vmstat (e.g. "pswpout") or /proc/meminfo in kB (e.g. "SwapTotal"); 0 if absent.
uint64_t vmstat_value(const std::string& name);
uint64_t meminfo_kb(const std::string& name);
// "kernel 6.18.44, 2 CPUs, Intel Xeon ..., load 1.23"
std::string machine_description();

}  // namespace cowwatch::bench
