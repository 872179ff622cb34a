// Captures libbpf's messages: they go to the daemon's log through a sink, and the last load's
// messages are kept so a failed load can be attributed to the program that failed.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace cowwatch::loader {

// Where libbpf warnings go (default: stderr). Debug messages are dropped unless verbose.
void set_libbpf_log_sink(std::function<void(const std::string&)> sink, bool verbose);

// Messages captured since the last call, and names of programs libbpf reported failing.
std::vector<std::string> take_libbpf_messages();
std::vector<std::string> failed_programs(const std::vector<std::string>& messages);

}  // namespace cowwatch::loader
