// The daemon's log: one line per message on stderr. Under systemd (JOURNAL_STREAM set) each line
// starts with the sd-daemon priority prefix (<3>..<7>) so journald records the level; structured
// records (alerts) go to the journal with their own fields.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cowwatch::app {

enum class Level { kDebug = 7, kInfo = 6, kWarning = 4, kError = 3 };

void set_log_level(Level min_level);
void log(Level level, const std::string& message);
inline void log_info(const std::string& m) { log(Level::kInfo, m); }
inline void log_warning(const std::string& m) { log(Level::kWarning, m); }
inline void log_error(const std::string& m) { log(Level::kError, m); }
inline void log_debug(const std::string& m) { log(Level::kDebug, m); }

// A message with extra journal fields (KEY=value, keys upper-case). MESSAGE or PRIORITY among the
// fields replace message and level in the journal entry. Without a journal, the other fields are
// appended to the line (message, at level) as key=value pairs.
void log_structured(Level level, const std::string& message,
                    const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace cowwatch::app
