#include "util/system.h"

#include <sched.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace cowwatch::bench {

uint64_t monotonic_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

uint64_t thread_cpu_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

int online_cpus() { return int(sysconf(_SC_NPROCESSORS_ONLN)); }

bool pin_to_cpu(int cpu) {
  if (cpu < 0 || cpu >= online_cpus()) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

bool unpin_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu = 0; cpu < online_cpus() && cpu < CPU_SETSIZE; cpu++) CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

uint64_t rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

std::optional<std::string> read_file_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

bool write_file(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value;
  out.flush();
  return bool(out);
}

void settle_memory(size_t bytes) {
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (mem != MAP_FAILED) munmap(mem, bytes);
}

namespace {
// The number after `name` on its line of a "name value" or "name: value kB" file.
uint64_t field_value(const char* path, const std::string& name) {
  std::ifstream in(path);
  std::string key;
  uint64_t value = 0;
  while (in >> key >> value) {
    if (!key.empty() && key.back() == ':') key.pop_back();
    if (key == name) return value;
    in.ignore(4096, '\n');
  }
  return 0;
}
}  // namespace

uint64_t vmstat_value(const std::string& name) { return field_value("/proc/vmstat", name); }
uint64_t meminfo_kb(const std::string& name) { return field_value("/proc/meminfo", name); }

std::string machine_description() {
  struct utsname u {};
  uname(&u);
  std::string cpu = "unknown CPU";
  std::ifstream info("/proc/cpuinfo");
  std::string line;
  while (std::getline(info, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) cpu = line.substr(colon + 2);
      break;
    }
  }
  std::ostringstream out;
  out << "kernel " << u.release << ", " << online_cpus() << " CPU(s), " << cpu;
  if (auto load = read_file_line("/proc/loadavg")) out << ", loadavg " << load->substr(0, load->find(' '));
  return out.str();
}

}  // namespace cowwatch::bench
