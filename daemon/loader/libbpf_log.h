// Captures libbpf's messages: they go to the daemon's log through a sink, and the last load's
// messages are kept so a failed load can be attributed to the program that failed.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace cowwatch::loader {

// Where libbpf warnings go (default: stderr). Debug messages are dropped unless verbose.
void set_libbpf_log_sink(std::function<void(const std::string&)> sink, bool verbose);

// Captures libbpf's messages (to the sink set above, default stderr) without changing the sink:
// a loader that was never given one still learns which program failed.
void capture_libbpf_messages();

// Messages captured since the last call, and names of programs libbpf reported failing.
std::vector<std::string> take_libbpf_messages();
std::vector<std::string> failed_programs(const std::vector<std::string>& messages);

// Why `program` failed, from its verifier log or libbpf's lines about it: the verifier's last
// message, with the kernel feature a helper it does not know needs ("invalid func unknown#158:
// bpf_get_current_task_btf (5.11+) missing"), or the map it would use that was not created. ""
// when nothing names it.
std::string program_failure(const std::vector<std::string>& messages, const std::string& program);

// The map libbpf could not create ("map 'X': failed to create"), or "".
std::string map_not_created(const std::vector<std::string>& messages);

}  // namespace cowwatch::loader
