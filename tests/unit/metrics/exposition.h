// Renders collectables as Prometheus text, for assertions on specific lines.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/text_serializer.h>

namespace cowwatch::metrics::testing {

inline std::string exposition(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

inline std::string exposition(const prometheus::Collectable& collectable) {
  return exposition(collectable.Collect());
}

// Whether `text` holds `line` as a whole line.
inline bool has_line(const std::string& text, const std::string& line) {
  std::istringstream lines(text);
  std::string current;
  while (std::getline(lines, current))
    if (current == line) return true;
  return false;
}

// Number of sample lines of a metric name (exact name, any labels).
inline size_t count_series(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  std::string current;
  size_t count = 0;
  while (std::getline(lines, current)) {
    if (current.rfind(name, 0) == 0 && current.size() > name.size() &&
        (current[name.size()] == '{' || current[name.size()] == ' '))
      ++count;
  }
  return count;
}

}  // namespace cowwatch::metrics::testing
