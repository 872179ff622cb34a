// Human units in the config file: durations ("50ms", "1s", "5m", "1h30m") and byte sizes
// ("16MiB", "4GiB", "65536").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cowwatch::config {

// One or more <number><unit> terms, unit one of ns us ms s m h; the number may have a fraction
// ("1.5s"). A bare "0" is zero. Returns nullopt for anything else, negatives, or > ~292 years.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);
// The shortest exact spelling: "50ms", "90s", "5m", "0s".
std::string format_duration(std::chrono::nanoseconds d);

// <number>[unit], unit one of B KiB MiB GiB TiB (powers of 1024) or kB MB GB TB (powers of 1000);
// no unit means bytes. A fraction is allowed ("1.5GiB") and rounds to the nearest byte.
std::optional<uint64_t> parse_size(std::string_view text);
// The largest binary unit that divides exactly: "16MiB", "4GiB", "1000B".
std::string format_size(uint64_t bytes);

}  // namespace cowwatch::config
