// Text forms of the daemon's answers, for people. Every function takes the JSON result exactly
// as the control socket returns it (docs/protocol.md, docs/model-json.md) and tolerates missing
// keys, so an older or newer daemon still prints what both understand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace cowwatch::cli {

std::string render_status(const nlohmann::json& status);
std::string render_probes(const nlohmann::json& plan);
std::string render_top(const nlohmann::json& top);
std::string render_query(const nlohmann::json& query);
std::string render_alerts(const nlohmann::json& alerts);
std::string render_event(const nlohmann::json& event);  // one line, no newline

std::string pad(std::string s, size_t width);          // left-aligned, cut to width
std::string rpad(const std::string& s, size_t width);  // right-aligned
std::string human_bytes(uint64_t bytes);   // "0 B", "4.0 KiB", "1.5 GiB"
std::string human_count(uint64_t n);       // "999", "12.3k", "4.1M"
std::string human_duration(double seconds);  // "42s", "3m05s", "2h01m", "3d04h"

}  // namespace cowwatch::cli
