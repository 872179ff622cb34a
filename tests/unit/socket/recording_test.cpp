#include "recording/recording.h"

#include <gtest/gtest.h>

#include <fstream>

#include "control/control_dispatch.h"
#include "temp_dir.h"

namespace cowwatch::control {
namespace {

using nlohmann::json;

probe::ProbePlan test_plan() {
  probe::ProbePlan plan;
  plan.kernel_release = "6.1.0-21-cloud-amd64";
  for (int i = 0; i < CW_HOOK_COUNT; ++i) plan.hooks[i].hook = static_cast<cw_hook>(i);
  plan.hooks[CW_HOOK_WP_FAULT].strategy = probe::Strategy::kFentry;
  plan.hooks[CW_HOOK_WP_FAULT].target = "do_wp_page";
  return plan;
}

TEST(RecordingTest, WritesAndReadsBackEveryItemKind) {
  testing::TempDir dir;
  std::string path = dir.file("rec.cwr");
  RecordingWriter w;
  std::string error;
  ASSERT_TRUE(w.open(path, recording_header(test_plan()), &error)) << error;
  cw_event e{};
  e.tgid = 5;
  e.hook = CW_HOOK_FORK;
  e.type = CW_EV_FORK;
  e.reason = CW_REASON_COUNT;
  ingest::KernelSample s;
  s.mono_ns = 10;
  s.host.c[CW_C_FORK] = 1;
  EXPECT_TRUE(w.write_event(e));
  EXPECT_TRUE(w.write_sample(s));
  EXPECT_TRUE(w.write_exit_flush({{5, 0, 77}, {}}));
  EXPECT_TRUE(w.write_lost(3));
  ASSERT_TRUE(w.close(&error)) << error;

  RecordingReader r;
  ASSERT_TRUE(r.open(path, &error)) << error;
  EXPECT_EQ(r.header().schema_version, CW_SCHEMA_VERSION);
  EXPECT_EQ(r.header().kernel_release, "6.1.0-21-cloud-amd64");
  EXPECT_EQ(r.header().plan.hooks[CW_HOOK_WP_FAULT].target, "do_wp_page");
  RecordingItem item;
  ASSERT_TRUE(r.next(&item, &error)) << error;
  EXPECT_EQ(item.kind, RecordingItemKind::kEvent);
  EXPECT_EQ(item.event.tgid, 5u);
  ASSERT_TRUE(r.next(&item, &error)) << error;
  EXPECT_EQ(item.kind, RecordingItemKind::kSample);
  EXPECT_EQ(item.sample.host.c[CW_C_FORK], 1u);
  ASSERT_TRUE(r.next(&item, &error));
  EXPECT_EQ(item.kind, RecordingItemKind::kExitFlush);
  EXPECT_EQ(item.exit_flush.key.start_ns, 77u);
  ASSERT_TRUE(r.next(&item, &error));
  EXPECT_EQ(item.kind, RecordingItemKind::kLost);
  EXPECT_EQ(item.lost, 3u);
  ASSERT_TRUE(r.next(&item, &error));
  EXPECT_EQ(item.kind, RecordingItemKind::kEnd);
  EXPECT_EQ(item.end["events"], 1);
  EXPECT_EQ(item.end["samples"], 1);
  EXPECT_EQ(item.end["lost"], 3);
  EXPECT_FALSE(r.next(&item, &error));
  EXPECT_TRUE(error.empty());
}

TEST(RecordingTest, RejectsFilesThatAreNotRecordingsOrTooNew) {
  testing::TempDir dir;
  std::string error;
  RecordingReader r;
  EXPECT_FALSE(r.open(dir.file("missing"), &error));
  EXPECT_NE(error.find("cannot open"), std::string::npos);

  std::ofstream(dir.file("text")) << "hello\n";
  EXPECT_FALSE(RecordingReader().open(dir.file("text"), &error));
  EXPECT_NE(error.find("not a cowwatch recording"), std::string::npos);

  json header = recording_header(test_plan());
  header["format_version"] = 99;
  std::ofstream(dir.file("new")) << header.dump() << "\n";
  EXPECT_FALSE(RecordingReader().open(dir.file("new"), &error));
  EXPECT_NE(error.find("format version 99"), std::string::npos);
}

TEST(RecordingTest, ABadLineIsReportedWithItsNumber) {
  testing::TempDir dir;
  std::ofstream(dir.file("bad")) << recording_header(test_plan()).dump() << "\n"
                                 << R"({"event":{"tgid":1}})" << "\n";
  RecordingReader r;
  std::string error;
  ASSERT_TRUE(r.open(dir.file("bad"), &error)) << error;
  RecordingItem item;
  EXPECT_FALSE(r.next(&item, &error));
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
}

TEST(RecordingTest, OlderSchemaColumnsMapByName) {
  testing::TempDir dir;
  json header = recording_header(test_plan());
  header["schema_version"] = 0;
  header["counters"] = json::array({"swap_add", "retired_counter", "fork"});
  std::ofstream(dir.file("old")) << header.dump() << "\n"
                                 << R"({"sample":{"mono_ns":1,"host":[7,8,9]}})" << "\n";
  RecordingReader r;
  std::string error;
  ASSERT_TRUE(r.open(dir.file("old"), &error)) << error;
  RecordingItem item;
  ASSERT_TRUE(r.next(&item, &error)) << error;
  EXPECT_EQ(item.sample.host.c[CW_C_SWAP_ADD], 7u);
  EXPECT_EQ(item.sample.host.c[CW_C_FORK], 9u);
}

}  // namespace
}  // namespace cowwatch::control
