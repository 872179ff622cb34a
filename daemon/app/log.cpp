#include "app/log.h"

#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace cowwatch::app {
namespace {

std::mutex g_mutex;
Level g_min = Level::kInfo;

bool under_journal() {
  static const bool journal = getenv("JOURNAL_STREAM") != nullptr;
  return journal;
}

}  // namespace

void set_log_level(Level min_level) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_min = min_level;
}

void log(Level level, const std::string& message) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (static_cast<int>(level) > static_cast<int>(g_min)) return;
  if (under_journal())
    fprintf(stderr, "<%d>%s\n", static_cast<int>(level), message.c_str());
  else
    fprintf(stderr, "cowwatchd: %s\n", message.c_str());
  fflush(stderr);
}

void log_structured(Level level, const std::string& message,
                    const std::vector<std::pair<std::string, std::string>>& fields) {
  // MESSAGE and PRIORITY among the fields replace the message and level given: a journal entry
  // carries each once (twice, journalctl -o json shows an array and -p matches either).
  auto own = [](const std::string& key) { return key == "MESSAGE" || key == "PRIORITY"; };
  if (under_journal()) {
    std::vector<std::string> lines;
    bool has_message = false, has_priority = false;
    for (const auto& [k, v] : fields) {
      has_message = has_message || k == "MESSAGE";
      has_priority = has_priority || k == "PRIORITY";
    }
    if (!has_message) lines.push_back("MESSAGE=" + message);
    if (!has_priority) lines.push_back("PRIORITY=" + std::to_string(static_cast<int>(level)));
    lines.push_back("SYSLOG_IDENTIFIER=cowwatchd");
    for (const auto& [k, v] : fields) lines.push_back(k + "=" + v);
    std::vector<struct iovec> iov;
    for (auto& l : lines) iov.push_back({l.data(), l.size()});
    if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) == 0) return;
  }
  std::string line = message;
  for (const auto& [k, v] : fields)
    if (!own(k)) line += " " + k + "=" + v;
  log(level, line);
}

}  // namespace cowwatch::app
