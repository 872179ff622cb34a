// Exit codes of the cowwatch command (docs/cli.md). `run` exits with its command's status.
#pragma once

namespace cowwatch::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;          // anything else (daemon error, I/O error)
inline constexpr int kExitUsage = 2;          // bad command line
inline constexpr int kExitNoDaemon = 3;       // socket missing or refusing connections
inline constexpr int kExitPermission = 4;     // socket or daemon denied access
inline constexpr int kExitNotFound = 5;       // query: no such pid/comm/cgroup
inline constexpr int kExitBadRecording = 6;   // replay: unreadable or invalid recording
inline constexpr int kExitKernel = 7;         // probes/run: the kernel side could not be opened

}  // namespace cowwatch::cli
