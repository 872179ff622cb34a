#include "model/proc_reader.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace cowwatch::model {
namespace {

// Reads a small /proc file whole; nullopt when it cannot be opened. Plain read(2): the reaper
// reads every tracked process's stat, and stdio's FILE and buffer were two more allocations each.
std::optional<std::string> read_small_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return text;
}

uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

}  // namespace

ProcReader::ProcReader(std::string proc_root) : root_(std::move(proc_root)) {
  long ticks = sysconf(_SC_CLK_TCK);
  ns_per_tick_ = ticks > 0 ? 1000000000ull / uint64_t(ticks) : 10000000ull;
}

std::string ProcReader::path(uint32_t tgid, const char* file) const {
  return root_ + "/" + std::to_string(tgid) + "/" + file;
}

std::optional<std::string> ProcReader::comm(uint32_t tgid) const {
  auto text = read_small_file(path(tgid, "comm"));
  if (!text) return std::nullopt;
  while (!text->empty() && text->back() == '\n') text->pop_back();
  if (text->size() >= CW_COMM_LEN) text->resize(CW_COMM_LEN - 1);
  return text;
}

std::optional<std::string> parse_cgroup_v2_path(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("0::", 0) != 0) continue;
    std::string path = line.substr(3);
    while (!path.empty() && path.front() == '/') path.erase(0, 1);
    return path.empty() ? std::string("/") : path;
  }
  return std::nullopt;
}

std::optional<std::string> ProcReader::cgroup(uint32_t tgid) const {
  auto text = read_small_file(path(tgid, "cgroup"));
  if (!text) return std::nullopt;
  return parse_cgroup_v2_path(*text);
}

std::optional<uint64_t> ProcReader::start_ns(uint32_t tgid) const {
  auto text = read_small_file(path(tgid, "stat"));
  if (!text) return std::nullopt;
  // The comm field may hold spaces and parentheses: fields resume after the last ')'.
  size_t close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  // After ')': field 3 (state) ... field 22 (starttime) is the 20th space-separated token.
  const char* p = text->c_str() + close + 1;
  const char* token = nullptr;
  for (int i = 0; i < 20; ++i) {
    while (*p == ' ') ++p;
    if (*p == '\0' || *p == '\n') return std::nullopt;
    token = p;
    while (*p != '\0' && *p != ' ' && *p != '\n') ++p;
  }
  char* end = nullptr;
  unsigned long long ticks = std::strtoull(token, &end, 10);
  if (end != p || !std::isdigit(static_cast<unsigned char>(*token))) return std::nullopt;
  return uint64_t(ticks) * ns_per_tick_;
}

std::optional<uint64_t> ProcReader::rss_anon_bytes(uint32_t tgid) const {
  auto text = read_small_file(path(tgid, "status"));
  if (!text) return std::nullopt;
  size_t at = text->find("\nRssAnon:");
  if (at == std::string::npos) return std::nullopt;
  unsigned long long kib = 0;
  if (std::sscanf(text->c_str() + at + 9, " %llu kB", &kib) != 1) return std::nullopt;
  return uint64_t(kib) * 1024;
}

Liveness ProcReader::liveness(const ProcKey& key) const {
  auto proc_start = start_ns(key.tgid);
  if (!proc_start) return Liveness::kGone;
  uint64_t now_boot = clock_ns(CLOCK_BOOTTIME), now_mono = clock_ns(CLOCK_MONOTONIC);
  uint64_t suspended = now_boot > now_mono ? now_boot - now_mono : 0;
  uint64_t low = key.start_ns > 2 * ns_per_tick_ ? key.start_ns - 2 * ns_per_tick_ : 0;
  uint64_t high = key.start_ns + suspended + 2 * ns_per_tick_;
  return *proc_start >= low && *proc_start <= high ? Liveness::kSame : Liveness::kDifferent;
}

std::map<std::string, uint64_t> ProcReader::selfcheck_vmstat() const {
  std::map<std::string, uint64_t> out;
  auto text = read_small_file(root_ + "/vmstat");
  if (!text) return out;
  std::istringstream lines(*text);
  std::string name;
  unsigned long long value;
  while (lines >> name >> value) {
    if (name == "pgreuse" || name == "pswpout" || name == "nr_foll_pin_acquired" ||
        name == "nr_foll_pin_released")
      out[name] = value;
  }
  return out;
}

}  // namespace cowwatch::model
