#include "alerts/alert_input.h"

#include <algorithm>
#include <stdexcept>

namespace cowwatch::alerts {

void SubjectView::add_label(std::string_view name, std::string_view value) {
  if (map_ || count_ == kMaxLabels) throw std::logic_error("SubjectView: no room for label " + std::string(name));
  own_[count_++] = {name, value};
}

std::map<std::string, std::string> SubjectView::labels() const {
  if (map_) return *map_;
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < count_; ++i) out.emplace(own_[i].first, own_[i].second);
  return out;
}

bool SubjectView::has_labels(const std::map<std::string, std::string>& labels) const {
  if (map_) return *map_ == labels;
  if (labels.size() != count_) return false;
  return std::all_of(own_.begin(), own_.begin() + static_cast<std::ptrdiff_t>(count_), [&](const auto& label) {
    const auto it = labels.find(std::string(label.first));
    return it != labels.end() && it->second == label.second;
  });
}

}  // namespace cowwatch::alerts
