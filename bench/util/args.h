// Command-line helpers shared by the benchmarks.
#pragma once

#include <string>
#include <vector>

namespace cowwatch::bench {

// "a,b,,c" -> {"a", "b", "c"}: the items of a comma-separated list, empty ones dropped.
std::vector<std::string> split_commas(const std::string& s);

}  // namespace cowwatch::bench
