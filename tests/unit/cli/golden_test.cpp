// Golden output of every data command, text and JSON, from a synthetic recording replayed through
// the real aggregator and alert engine (`cowwatch replay`), and the same commands over a real
// control socket served from that replay: both paths must print byte-identical output.
// Regenerate after an intended change: COWWATCH_UPDATE_GOLDEN=1 ctest -R Golden
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/replay.h"
#include "cli_runner.h"
#include "control/control_server.h"
#include "synthetic_recording.h"
#include "../socket/temp_dir.h"

namespace cowwatch::cli {
namespace {

using control::testing::TempDir;
using testing::run_cowwatch;

struct Case {
  const char* name;                 // golden file stem
  std::vector<std::string> args;    // the command as run against the daemon
  std::vector<std::string> replay;  // the same report as replay options
};

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {"status", {"status"}, {"--report", "status"}},
      {"probes", {"probes"}, {"--report", "probes"}},
      {"top", {"top", "--once"}, {"--report", "top"}},
      {"top_comm_copied_bytes", {"top", "--once", "--by", "comm", "--sort", "copied_bytes"},
       {"--report", "top", "--by", "comm", "--sort", "copied_bytes"}},
      {"top_cgroup_faults", {"top", "--once", "--by", "cgroup", "--sort", "faults"},
       {"--report", "top", "--by", "cgroup", "--sort", "faults"}},
      {"top_swap_adds_limit2", {"top", "--once", "--sort", "swap_adds", "-n", "2"},
       {"--report", "top", "--sort", "swap_adds", "-n", "2"}},
      {"query_pid_redis", {"query", "--pid", "5000100"}, {"--report", "query", "--pid", "5000100"}},
      {"query_pid_rdma", {"query", "--pid", "5000300"}, {"--report", "query", "--pid", "5000300"}},
      {"query_comm_python", {"query", "--comm", "python3"}, {"--report", "query", "--comm", "python3"}},
      {"query_comm_redis", {"query", "--comm", "redis-server"},
       {"--report", "query", "--comm", "redis-server"}},
      {"alerts", {"alerts"}, {"--report", "alerts"}},
      {"alerts_all", {"alerts", "--all"}, {"--report", "alerts", "--all"}},
  };
  return kCases;
}

std::string golden_path(const std::string& stem) { return std::string(COWWATCH_GOLDEN_DIR) + "/" + stem; }

void expect_golden(const std::string& stem, const std::string& actual) {
  std::string path = golden_path(stem);
  if (std::getenv("COWWATCH_UPDATE_GOLDEN") != nullptr) {
    std::ofstream file(path);
    file << actual;
    ASSERT_TRUE(file.flush()) << "cannot write " << path;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path << " (COWWATCH_UPDATE_GOLDEN=1 creates it)";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(expected.str(), actual) << "golden " << path << " differs";
}

class GoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(testing::write_synthetic_recording(recording_, &error)) << error;
  }
  TempDir dir_;
  std::string recording_ = dir_.file("synthetic.cwrec");
};

TEST_F(GoldenTest, ReplayReportsMatchGoldenText) {
  for (const Case& c : cases()) {
    std::vector<std::string> args = {"replay", recording_};
    args.insert(args.end(), c.replay.begin(), c.replay.end());
    auto r = run_cowwatch(args);
    ASSERT_EQ(r.code, 0) << c.name << ": " << r.err;
    expect_golden(std::string(c.name) + ".txt", r.out);
  }
}

TEST_F(GoldenTest, ReplayReportsMatchGoldenJson) {
  for (const Case& c : cases()) {
    std::vector<std::string> args = {"replay", recording_, "--json"};
    args.insert(args.end(), c.replay.begin(), c.replay.end());
    auto r = run_cowwatch(args);
    ASSERT_EQ(r.code, 0) << c.name << ": " << r.err;
    ASSERT_FALSE(nlohmann::json::parse(r.out, nullptr, false).is_discarded()) << c.name;
    expect_golden(std::string(c.name) + ".json", r.out);
  }
}

TEST_F(GoldenTest, DaemonCommandsOverTheSocketPrintTheSameAsReplay) {
  LoadedRecording rec;
  std::string error;
  ASSERT_TRUE(load_recording(recording_, &rec, &error)) << error;
  control::ServerOptions options;
  options.socket_path = dir_.file("cw.sock");
  control::ControlServer server(options, rec.session->backend());
  ASSERT_TRUE(server.start(&error)) << error;
  for (const Case& c : cases()) {
    for (bool json : {false, true}) {
      std::vector<std::string> args = {"--socket", options.socket_path};
      args.insert(args.end(), c.args.begin(), c.args.end());
      if (json) args.push_back("--json");
      auto r = run_cowwatch(args);
      ASSERT_EQ(r.code, 0) << c.name << ": " << r.err;
      expect_golden(std::string(c.name) + (json ? ".json" : ".txt"), r.out);
    }
  }
}

TEST_F(GoldenTest, ReplayCountsWhatTheRecordingHolds) {
  LoadedRecording rec;
  std::string error;
  ASSERT_TRUE(load_recording(recording_, &rec, &error)) << error;
  EXPECT_EQ(rec.events, 6u);
  EXPECT_EQ(rec.samples, 3u);
  EXPECT_EQ(rec.exits, 1u);
  EXPECT_EQ(rec.lost, 2u);
  EXPECT_EQ(rec.header.kernel_release, "6.1.0-21-cloud-amd64");
  ASSERT_EQ(rec.session->anomalies().size(), 1u);
  EXPECT_EQ(rec.session->anomalies()[0].tgid, 5000300u);
  // Host totals are the kernel's exact counters: the exited child's copies are in them.
  auto snapshot = rec.session->aggregator().metrics_snapshot();
  EXPECT_EQ(model::copies(snapshot->host), 140u + 300u + 5u + 40u + 1u);
}

}  // namespace
}  // namespace cowwatch::cli
