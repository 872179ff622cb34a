// What a benchmark needs from the machine: CPU pinning, clocks, RSS, sysctls, a description.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cowwatch::bench {

uint64_t monotonic_ns();
// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID); excludes steal time on a KVM guest.
uint64_t thread_cpu_ns();
// Pins the calling thread to `cpu` (ignored when that CPU does not exist). Returns success.
bool pin_to_cpu(int cpu);
int online_cpus();
// Resident set size of this process (VmRSS), bytes.
uint64_t rss_bytes();
std::optional<std::string> read_file_line(const std::string& path);
bool write_file(const std::string& path, const std::string& value);
// "kernel 6.18.44, 2 CPUs, Intel Xeon ..., load 1.23"
std::string machine_description();

}  // namespace cowwatch::bench
