#include "loader/libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <regex>

namespace cowwatch::loader {
namespace {

std::mutex g_mutex;
std::function<void(const std::string&)> g_sink = [](const std::string& m) { std::cerr << m << "\n"; };
bool g_verbose = false;
std::vector<std::string> g_messages;

int print_fn(enum libbpf_print_level level, const char* format, va_list args) {
  // Verifier logs come as one message (libbpf's "-- BEGIN PROG LOAD LOG --"): keep it whole.
  char buf[1024];
  va_list again;
  va_copy(again, args);
  int n = vsnprintf(buf, sizeof(buf), format, args);
  std::string msg(buf);
  if (n >= int(sizeof(buf))) {
    msg.assign(size_t(n) + 1, '\0');
    vsnprintf(msg.data(), msg.size(), format, again);
    msg.resize(size_t(n));
  }
  va_end(again);
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  std::lock_guard<std::mutex> lock(g_mutex);
  // Debug lines (a CO-RE line per relocation: thousands per load) must not crowd out the
  // warnings that name a failed program.
  if (level == LIBBPF_DEBUG ? g_messages.size() < 2048 : g_messages.size() < 8192) g_messages.push_back(msg);
  if (level != LIBBPF_DEBUG || g_verbose) g_sink("libbpf: " + msg);
  return 0;
}

}  // namespace

void set_libbpf_log_sink(std::function<void(const std::string&)> sink, bool verbose) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_sink = std::move(sink);
    g_verbose = verbose;
  }
  libbpf_set_print(print_fn);
}

void capture_libbpf_messages() { libbpf_set_print(print_fn); }

std::vector<std::string> take_libbpf_messages() {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::vector<std::string> out;
  out.swap(g_messages);
  return out;
}

std::vector<std::string> failed_programs(const std::vector<std::string>& messages) {
  // libbpf: "prog 'cw_fexit_swap_add': failed to load: -22" / "... BPF program load failed"
  static const std::regex re("prog '([A-Za-z0-9_]+)': (failed|BPF program load failed|.*relo.*fail)");
  std::vector<std::string> out;
  for (const auto& m : messages) {
    std::smatch match;
    if (std::regex_search(m, match, re)) {
      bool seen = false;
      for (const auto& o : out) seen |= o == match[1];
      if (!seen) out.push_back(match[1]);
    }
  }
  return out;
}

namespace {

// Helpers added after 5.10 whose absence the verifier reports as "unknown#<id>".
std::string helper_feature(int id) {
  switch (id) {
    case 156: case 157: return "task storage (5.11+)";
    case 158: return "bpf_get_current_task_btf (5.11+)";
    case 181: return "bpf_loop (5.17+)";
    case 183: case 184: return "bpf_get_func_arg/ret (5.17+)";
    default: return "";
  }
}

bool is_log_trailer(const std::string& line) {
  for (const char* p : {"processed ", "verification time", "stack depth", "-- END", "mark_precise"})
    if (line.rfind(p, 0) == 0) return true;
  return line.empty();
}

}  // namespace

std::string program_failure(const std::vector<std::string>& messages, const std::string& program) {
  const std::string prefix = "prog '" + program + "': ";
  std::string poisoned_map;
  for (const auto& m : messages) {
    if (m.rfind(prefix, 0) != 0) continue;
    std::smatch match;
    static const std::regex poison("poisoning insn #\\d+ that loads map #\\d+ '([A-Za-z0-9_]+)'");
    if (std::regex_search(m, match, poison)) poisoned_map = match[1];
    if (m.find("BEGIN PROG LOAD LOG") == std::string::npos) continue;
    std::vector<std::string> lines;
    size_t start = 0;
    while (start <= m.size()) {
      size_t nl = m.find('\n', start);
      lines.push_back(m.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
      if (is_log_trailer(*it)) continue;
      std::string why = "verifier: " + *it;
      static const std::regex unknown("unknown#(\\d+)");
      if (std::regex_search(*it, match, unknown)) {
        std::string feature = helper_feature(std::stoi(match[1]));
        if (!feature.empty()) why += " (" + feature + " missing)";
      }
      // 5.10's check of every instruction before verifying (resolve_pseudo_ldimm64): an atomic
      // that returns the old value (BPF_FETCH) came in 5.12.
      if (it->find("BPF_STX uses reserved fields") != std::string::npos)
        why += " (atomic fetch-and-add (5.12+) missing)";
      if (!poisoned_map.empty()) why += "; uses map " + poisoned_map + ", which was not created";
      return why;
    }
  }
  if (!poisoned_map.empty()) return "uses map " + poisoned_map + ", which was not created";
  return "";
}

std::string map_not_created(const std::vector<std::string>& messages) {
  static const std::regex re("map '([A-Za-z0-9_.]+)': failed to create");
  for (const auto& m : messages) {
    std::smatch match;
    if (std::regex_search(m, match, re)) return match[1];
  }
  return "";
}

}  // namespace cowwatch::loader
