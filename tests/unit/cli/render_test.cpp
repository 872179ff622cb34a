#include "cli/render.h"

#include <gtest/gtest.h>

#include "cli/streaming.h"

namespace cowwatch::cli {
namespace {

TEST(RenderTest, HumanUnits) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(4096), "4.0 KiB");
  EXPECT_EQ(human_bytes(3ull << 30), "3.0 GiB");
  EXPECT_EQ(human_count(9999), "9999");
  EXPECT_EQ(human_count(12345), "12.3k");
  EXPECT_EQ(human_count(45'000'000), "45.0M");
  EXPECT_EQ(human_duration(42), "42s");
  EXPECT_EQ(human_duration(185), "3m05s");
  EXPECT_EQ(human_duration(7260), "2h01m");
  EXPECT_EQ(human_duration(3 * 86400 + 4 * 3600), "3d04h");
}

TEST(RenderTest, DurationsForRecord) {
  EXPECT_EQ(parse_duration("30s")->count(), 30000);
  EXPECT_EQ(parse_duration("2")->count(), 2000);
  EXPECT_EQ(parse_duration("250ms")->count(), 250);
  EXPECT_EQ(parse_duration("5m")->count(), 300000);
  EXPECT_EQ(parse_duration("1h")->count(), 3600000);
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("soon"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("3d"));
}

TEST(RenderTest, MissingKeysDoNotThrow) {
  nlohmann::json empty = nlohmann::json::object();
  EXPECT_NO_THROW(render_status(empty));
  EXPECT_NO_THROW(render_probes(empty));
  EXPECT_NO_THROW(render_top(empty));
  EXPECT_NO_THROW(render_query(empty));
  EXPECT_NO_THROW(render_alerts(empty));
  EXPECT_NO_THROW(render_event(empty));
  EXPECT_EQ(render_alerts(empty), "no active alerts\n");
}

}  // namespace
}  // namespace cowwatch::cli
