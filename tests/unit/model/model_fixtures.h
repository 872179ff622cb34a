// Helpers for model tests: a fake /proc and cgroup2 tree in a temporary directory, and builders
// for kernel samples and ring records.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <utility>

#include "cowwatch.h"
#include "ingest/kernel_sample.h"
#include "model/aggregator.h"

namespace cowwatch::model::testing {

namespace fs = std::filesystem;

class TempTree {
 public:
  TempTree() {
    std::string pattern = (fs::temp_directory_path() / "cowwatch-model-XXXXXX").string();
    root_ = mkdtemp(pattern.data());
    fs::create_directories(proc());
    fs::create_directories(cgroup());
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  fs::path proc() const { return root_ / "proc"; }
  fs::path cgroup() const { return root_ / "cgroup"; }

  static void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }

  static uint64_t ns_per_tick() { return 1000000000ull / uint64_t(sysconf(_SC_CLK_TCK)); }

  // A process in the fake /proc. start_ns should be a multiple of ns_per_tick().
  void add_process(uint32_t pid, uint64_t start_ns, const std::string& comm,
                   const std::string& cgroup_path = "/", uint64_t rss_anon_kib = 0) const {
    fs::path dir = proc() / std::to_string(pid);
    write(dir / "comm", comm + "\n");
    write(dir / "cgroup", "0::" + cgroup_path + "\n");
    write(dir / "stat", std::to_string(pid) + " (" + comm +
                            ") S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 " +
                            std::to_string(start_ns / ns_per_tick()) + " 1000 100\n");
    write(dir / "status", "Name:\t" + comm + "\nRssAnon:\t" + std::to_string(rss_anon_kib) +
                              " kB\nRssFile:\t 0 kB\n");
  }
  void remove_process(uint32_t pid) const { fs::remove_all(proc() / std::to_string(pid)); }

  // Creates a cgroup directory and returns its id (the directory's inode number).
  uint64_t add_cgroup(const std::string& relative) const {
    fs::path dir = cgroup() / relative;
    fs::create_directories(dir);
    struct stat st {};
    ::stat(dir.c_str(), &st);
    return st.st_ino;
  }

  AggregatorOptions options() const {
    AggregatorOptions options;
    options.proc_root = proc().string();
    options.cgroup_root = cgroup().string();
    return options;
  }

 private:
  fs::path root_;
};

inline constexpr uint64_t kSecond = 1000000000ull;
inline constexpr int kShared = int(CW_C_COPY_FIRST) + CW_REASON_SHARED;

inline cw_counters counters(std::initializer_list<std::pair<int, uint64_t>> values) {
  cw_counters c{};
  for (auto [index, value] : values) c.c[index] = value;
  return c;
}

inline cw_proc_key key(uint32_t tgid, uint64_t start_ns) {
  cw_proc_key k{};
  k.tgid = tgid;
  k.start_ns = start_ns;
  return k;
}

struct SampleBuilder {
  ingest::KernelSample sample;
  explicit SampleBuilder(uint64_t mono_ns) { sample.mono_ns = mono_ns; }
  SampleBuilder& host(cw_counters c) {
    sample.host = c;
    return *this;
  }
  SampleBuilder& process(uint32_t tgid, uint64_t start_ns, cw_counters c) {
    sample.processes.push_back({key(tgid, start_ns), c});
    return *this;
  }
  operator const ingest::KernelSample&() const { return sample; }
};

inline cw_event event(cw_event_type type, uint32_t tgid, uint64_t start_ns, const char* comm) {
  cw_event e{};
  e.type = uint8_t(type);
  e.tgid = tgid;
  e.pid = tgid;
  e.actor_tgid = tgid;
  e.start_ns = start_ns;
  e.reason = CW_REASON_COUNT;
  std::memcpy(e.comm, comm, std::min<size_t>(std::strlen(comm), CW_COMM_LEN - 1));
  return e;
}

inline cw_event fork_event(uint32_t parent, uint64_t parent_start, uint32_t child, uint64_t child_start,
                           const char* comm, uint64_t ts_ns) {
  cw_event e = event(CW_EV_FORK, parent, parent_start, comm);
  e.aux0 = child_start;
  e.aux2 = child;
  e.ts_ns = ts_ns;
  return e;
}

// The comm row of a snapshot (nullptr when absent).
inline const GroupRow* find_row(const std::vector<GroupRow>& rows, const std::string& name) {
  for (const GroupRow& row : rows)
    if (row.name == name) return &row;
  return nullptr;
}

}  // namespace cowwatch::model::testing
