#include "util/args.h"

namespace cowwatch::bench {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::string item;
  for (char c : s + ",") {
    if (c != ',') item += c;
    else if (!item.empty()) out.push_back(std::move(item)), item.clear();
  }
  return out;
}

}  // namespace cowwatch::bench
