// trace and record against a real control socket: what the daemon streams is what the user
// sees, and a recording made over the socket replays to the same reports as the original.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "cli/replay.h"
#include "cli_runner.h"
#include "control/control_server.h"
#include "streaming_backend.h"
#include "synthetic_recording.h"
#include "../socket/temp_dir.h"

namespace cowwatch::cli {
namespace {

using control::testing::TempDir;
using testing::run_cowwatch;

template <typename F>
bool eventually(F f) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return f();
}

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(testing::write_synthetic_recording(original_, &error)) << error;
    ASSERT_TRUE(load_recording(original_, &loaded_, &error)) << error;
    backend_ = std::make_unique<testing::StreamingBackend>(loaded_.session->backend());
    control::ServerOptions o;
    o.socket_path = dir_.file("cw.sock");
    server_ = std::make_unique<control::ControlServer>(o, *backend_);
    ASSERT_TRUE(server_->start(&error)) << error;
  }
  std::string socket() const { return dir_.file("cw.sock"); }

  TempDir dir_;
  std::string original_ = dir_.file("original.cwrec");
  LoadedRecording loaded_;
  std::unique_ptr<testing::StreamingBackend> backend_;
  std::unique_ptr<control::ControlServer> server_;
};

TEST_F(StreamTest, TracePrintsTheFilteredEventsOneLineEach) {
  testing::CliRun text, json;
  std::thread t1([&] { text = run_cowwatch({"--socket", socket(), "trace", "--pid", "5000101"}); });
  std::thread t2([&] {
    json = run_cowwatch({"--socket", socket(), "trace", "--reason", "pinned", "--json"});
  });
  ASSERT_TRUE(eventually([&] { return backend_->subscribers() == 2; }));
  std::string error;
  ASSERT_TRUE(backend_->emit_recording(original_, &error)) << error;
  server_->stop();  // the daemon goes away: both traces end after what was streamed
  t1.join();
  t2.join();

  EXPECT_EQ(text.code, 1);
  EXPECT_NE(text.err.find("closed the connection"), std::string::npos) << text.err;
  EXPECT_EQ(text.out,
            "10.200000 fork   fork        pid 5000100 redis-server  child 5000101  parent pinned_vm "
            "0 pages\n"
            "10.300000 fault  wp_fault    pid 5000101 redis-rdb-bgsav  copy shared  addr "
            "0x7f0000001000 ref 2 map 2  write [anon]\n"
            "11.500000 exit   exit        pid 5000101 redis-rdb-bgsav  exit_code 0\n");
  auto line = nlohmann::json::parse(json.out);
  EXPECT_EQ(line["tgid"], 5000300);
  EXPECT_EQ(line["reason"], "pinned");
  EXPECT_EQ(line["anomaly"], 1);
  EXPECT_EQ(line["page_flags"], CW_PF_ANON | CW_PF_MAYBE_PINNED | CW_PF_MM_HAS_PINNED);
}

TEST_F(StreamTest, RecordingOverTheSocketReplaysToTheSameReports) {
  std::string copy = dir_.file("copy.cwrec");
  testing::CliRun rec;
  std::thread t([&] {
    rec = run_cowwatch({"--socket", socket(), "record", "-o", copy, "--duration", "1500ms"});
  });
  ASSERT_TRUE(eventually([&] { return backend_->subscribers() == 1; }));
  std::string error;
  ASSERT_TRUE(backend_->emit_recording(original_, &error)) << error;
  t.join();
  ASSERT_EQ(rec.code, 0) << rec.err;
  EXPECT_EQ(rec.err, "cowwatch: recorded 6 events, 3 samples to " + copy + "\n");

  LoadedRecording replayed;
  ASSERT_TRUE(load_recording(copy, &replayed, &error)) << error;
  EXPECT_EQ(replayed.events, 6u);
  EXPECT_EQ(replayed.samples, 3u);
  EXPECT_EQ(replayed.exits, 1u);
  EXPECT_EQ(replayed.header.kernel_release, "6.1.0-21-cloud-amd64");
  EXPECT_EQ(replayed.header.raw["source"], "daemon");
  for (std::vector<std::string> report :
       {std::vector<std::string>{"--report", "top"}, {"--report", "top", "--by", "comm"},
        {"--report", "query", "--pid", "5000100", "--json"}, {"--report", "probes", "--json"}}) {
    std::vector<std::string> a = {"replay", original_}, b = {"replay", copy};
    a.insert(a.end(), report.begin(), report.end());
    b.insert(b.end(), report.begin(), report.end());
    auto ra = run_cowwatch(a), rb = run_cowwatch(b);
    ASSERT_EQ(ra.code, 0) << ra.err;
    EXPECT_EQ(ra.out, rb.out) << report[1];
  }
}

}  // namespace
}  // namespace cowwatch::cli
