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
  char buf[1024];
  vsnprintf(buf, sizeof(buf), format, args);
  std::string msg(buf);
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_messages.size() < 4096) g_messages.push_back(msg);
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

}  // namespace cowwatch::loader
