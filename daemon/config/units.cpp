#include "config/units.h"

#include <array>
#include <cctype>
#include <cmath>
#include <utility>

namespace cowwatch::config {
namespace {

// Splits a leading decimal number ("12", "1.5") off `text`; returns its value or nullopt.
std::optional<long double> take_number(std::string_view& text) {
  size_t i = 0;
  long double value = 0;
  bool digits = false;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    value = value * 10 + (text[i] - '0');
    digits = true;
    ++i;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    long double scale = 0.1L;
    bool fraction_digits = false;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      value += (text[i] - '0') * scale;
      scale /= 10;
      fraction_digits = true;
      ++i;
    }
    if (!fraction_digits) return std::nullopt;
  }
  if (!digits) return std::nullopt;
  text.remove_prefix(i);
  return value;
}

std::string_view take_unit(std::string_view& text) {
  size_t i = 0;
  while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
  std::string_view unit = text.substr(0, i);
  text.remove_prefix(i);
  return unit;
}

constexpr std::array<std::pair<std::string_view, int64_t>, 6> kDurationUnits = {{
    {"h", 3600'000'000'000LL},
    {"m", 60'000'000'000LL},
    {"s", 1'000'000'000LL},
    {"ms", 1'000'000LL},
    {"us", 1'000LL},
    {"ns", 1LL},
}};

constexpr std::array<std::pair<std::string_view, uint64_t>, 9> kSizeUnits = {{
    {"TiB", 1ULL << 40},
    {"GiB", 1ULL << 30},
    {"MiB", 1ULL << 20},
    {"KiB", 1ULL << 10},
    {"TB", 1'000'000'000'000ULL},
    {"GB", 1'000'000'000ULL},
    {"MB", 1'000'000ULL},
    {"kB", 1'000ULL},
    {"B", 1ULL},
}};

constexpr long double kMaxNanoseconds = 9.2e18L;
constexpr long double kMaxBytes = 1.8e19L;

}  // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  if (text == "0") return std::chrono::nanoseconds{0};
  if (text.empty()) return std::nullopt;
  long double total = 0;
  while (!text.empty()) {
    auto number = take_number(text);
    if (!number) return std::nullopt;
    std::string_view unit = take_unit(text);
    int64_t scale = 0;
    for (const auto& [name, ns] : kDurationUnits) {
      if (unit == name) scale = ns;
    }
    if (scale == 0) return std::nullopt;
    total += *number * scale;
    if (total > kMaxNanoseconds) return std::nullopt;
  }
  return std::chrono::nanoseconds{static_cast<int64_t>(total + 0.5L)};  // nearest ns
}

std::string format_duration(std::chrono::nanoseconds d) {
  const int64_t ns = d.count();
  if (ns == 0) return "0s";
  for (const auto& [name, scale] : kDurationUnits) {
    if (ns % scale == 0) return std::to_string(ns / scale) + std::string(name);
  }
  return std::to_string(ns) + "ns";
}

std::optional<uint64_t> parse_size(std::string_view text) {
  auto number = take_number(text);
  if (!number) return std::nullopt;
  std::string_view unit = take_unit(text);
  if (!text.empty()) return std::nullopt;
  uint64_t scale = unit.empty() ? 1 : 0;
  for (const auto& [name, bytes] : kSizeUnits) {
    if (unit == name) scale = bytes;
  }
  if (scale == 0) return std::nullopt;
  long double total = *number * scale;
  if (total > kMaxBytes) return std::nullopt;
  return static_cast<uint64_t>(total + 0.5L);  // nearest byte
}

std::string format_size(uint64_t bytes) {
  if (bytes == 0) return "0B";
  for (const auto& [name, scale] : kSizeUnits) {
    if (name.find('i') == std::string_view::npos) continue;  // binary units only
    if (bytes % scale == 0) return std::to_string(bytes / scale) + std::string(name);
  }
  return std::to_string(bytes) + "B";
}

}  // namespace cowwatch::config
