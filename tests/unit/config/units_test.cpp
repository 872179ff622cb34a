#include "config/units.h"

#include <gtest/gtest.h>

namespace cowwatch::config {
namespace {

using namespace std::chrono_literals;

TEST(Units, ParsesDurations) {
  EXPECT_EQ(parse_duration("50ms"), 50ms);
  EXPECT_EQ(parse_duration("1s"), 1s);
  EXPECT_EQ(parse_duration("5m"), 5min);
  EXPECT_EQ(parse_duration("1h30m"), 90min);
  EXPECT_EQ(parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(parse_duration("0.1s"), 100ms);
  EXPECT_EQ(parse_duration("250us"), 250us);
  EXPECT_EQ(parse_duration("0"), 0s);
}

TEST(Units, RejectsBadDurations) {
  for (const char* bad : {"", "5", "5 m", "5min", "-1s", "1s ", "s", "1.s", "abc", "1d",
                          "999999999999h"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(Units, FormatsDurationsExactly) {
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(50ms), "50ms");
  EXPECT_EQ(format_duration(90s), "90s");
  EXPECT_EQ(format_duration(2h), "2h");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(std::chrono::nanoseconds(7)), "7ns");
}

TEST(Units, ParsesSizes) {
  EXPECT_EQ(parse_size("16MiB"), 16u << 20);
  EXPECT_EQ(parse_size("1MiB"), 1u << 20);
  EXPECT_EQ(parse_size("65536"), 65536u);
  EXPECT_EQ(parse_size("4KiB"), 4096u);
  EXPECT_EQ(parse_size("1.5GiB"), 3ull << 29);
  EXPECT_EQ(parse_size("2kB"), 2000u);
  EXPECT_EQ(parse_size("3B"), 3u);
}

TEST(Units, RejectsBadSizes) {
  for (const char* bad : {"", "MiB", "16 MiB", "16mib", "16M", "-1", "1e6", "16MiB2"}) {
    EXPECT_FALSE(parse_size(bad).has_value()) << bad;
  }
}

TEST(Units, FormatsSizesInBinaryUnits) {
  EXPECT_EQ(format_size(16u << 20), "16MiB");
  EXPECT_EQ(format_size(4ull << 30), "4GiB");
  EXPECT_EQ(format_size(1000), "1000B");
  EXPECT_EQ(format_size(0), "0B");
}

}  // namespace
}  // namespace cowwatch::config
