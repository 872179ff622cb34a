// Identities in a recording (comm and cgroup read from /proc by the recorder) name the processes
// of a replay on another host, where those pids do not exist.
#include <gtest/gtest.h>

#include <fstream>

#include "cli/replay.h"
#include "cli_runner.h"
#include "synthetic_recording.h"
#include "../socket/temp_dir.h"

namespace cowwatch::cli {
namespace {

using control::testing::TempDir;
using testing::run_cowwatch;

TEST(IdentityTest, RecordedIdentitiesNameProcessesAndCgroupsInAReplay) {
  TempDir dir;
  std::string rec = dir.file("r.cwrec"), error;
  ASSERT_TRUE(testing::write_synthetic_recording(rec, &error)) << error;

  // Without identities the redis parent's first poll has no name yet.
  auto before = run_cowwatch({"replay", rec, "--by", "comm"});
  ASSERT_EQ(before.code, 0) << before.err;
  EXPECT_NE(before.out.find("_unknown"), std::string::npos) << before.out;

  std::ofstream(rec, std::ios::app)
      << R"({"identity":{"tgid":5000100,"start_ns":1000000000,"comm":"redis-server","cgroup":"system.slice/redis.service"}})"
      << "\n"
      << R"({"identity":{"tgid":5000200,"start_ns":2000000000,"comm":"python3","cgroup":"/"}})"
      << "\n";
  LoadedRecording loaded;
  ASSERT_TRUE(load_recording(rec, &loaded, &error)) << error;
  EXPECT_EQ(loaded.identified, 2u);

  auto by_comm = run_cowwatch({"replay", rec, "--by", "comm", "--json"});
  ASSERT_EQ(by_comm.code, 0) << by_comm.err;
  auto rows = nlohmann::json::parse(by_comm.out)["rows"];
  for (const auto& row : rows) EXPECT_NE(row["comm"], "_unknown") << row.dump();

  auto by_cgroup = run_cowwatch({"replay", rec, "--by", "cgroup"});
  EXPECT_NE(by_cgroup.out.find("system.slice/redis.service"), std::string::npos) << by_cgroup.out;
  auto query = run_cowwatch({"replay", rec, "--report", "query", "--cgroup", "system.slice/redis.service"});
  ASSERT_EQ(query.code, 0) << query.err;
  // The parent's 150 faults and its forked child's 300 (a child starts in its parent's cgroup).
  EXPECT_NE(query.out.find("wp faults     write 450"), std::string::npos) << query.out;
}

}  // namespace
}  // namespace cowwatch::cli
