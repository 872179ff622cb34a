// `cowwatch top` in a real terminal: tmux runs it against a control socket served from a
// replayed recording; capture-pane shows the screen, send-keys changes the grouping and `q`
// quits. Exits 77 when tmux is not installed.
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "cli/replay.h"
#include "control/control_server.h"
#include "synthetic_recording.h"
#include "../socket/temp_dir.h"

namespace cowwatch::cli {
namespace {

using control::testing::TempDir;

std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  pclose(p);
  return out;
}

class TmuxTopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (system("command -v tmux >/dev/null 2>&1") != 0) {
      std::printf("skip: tmux is not installed\n");
      std::fflush(stdout);
      std::_Exit(77);
    }
    std::string error;
    ASSERT_TRUE(testing::write_synthetic_recording(dir_.file("r.cwrec"), &error)) << error;
    ASSERT_TRUE(load_recording(dir_.file("r.cwrec"), &rec_, &error)) << error;
    control::ServerOptions o;
    o.socket_path = dir_.file("cw.sock");
    server_ = std::make_unique<control::ControlServer>(o, rec_.session->backend());
    ASSERT_TRUE(server_->start(&error)) << error;
  }
  void TearDown() override { shell(tmux("kill-server") + " 2>/dev/null"); }

  std::string tmux(const std::string& args) const {
    return "tmux -L cwtest-" + std::to_string(getpid()) + " -f /dev/null " + args;
  }
  std::string screen() const { return shell(tmux("capture-pane -p -t top")); }
  // Polls the pane until it shows `text` (bounded).
  bool wait_for(const std::string& text, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (screen().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  TempDir dir_;
  LoadedRecording rec_;
  std::unique_ptr<control::ControlServer> server_;
};

TEST_F(TmuxTopTest, ShowsTheLiveViewChangesGroupingAndQuitsOnQ) {
  std::string cmd = std::string(COWWATCH_BINARY) + " --socket " + dir_.file("cw.sock") +
                    " top; echo cowwatch-exit-$?; sleep 30";
  ASSERT_EQ(system((tmux("new-session -d -s top -x 150 -y 30 '" + cmd + "'")).c_str()), 0);
  ASSERT_TRUE(wait_for("sorted by copies")) << screen();
  std::string first = screen();
  EXPECT_NE(first.find("redis-server"), std::string::npos) << first;
  EXPECT_NE(first.find("q quit"), std::string::npos) << first;
  EXPECT_EQ(first.find("cowwatch-exit"), std::string::npos) << "top must keep running";

  shell(tmux("send-keys -t top m"));
  ASSERT_TRUE(wait_for("by comm")) << screen();
  shell(tmux("send-keys -t top b"));
  ASSERT_TRUE(wait_for("sorted by copied_bytes")) << screen();

  auto t0 = std::chrono::steady_clock::now();
  shell(tmux("send-keys -t top q"));
  ASSERT_TRUE(wait_for("cowwatch-exit-0")) << screen();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST_F(TmuxTopTest, PrintsOneSnapshotWhenStdoutIsNotATerminal) {
  std::string out = shell(std::string(COWWATCH_BINARY) + " --socket " + dir_.file("cw.sock") +
                          " top | cat");
  EXPECT_NE(out.find("sorted by copies"), std::string::npos) << out;
  EXPECT_EQ(out.find("\x1b["), std::string::npos) << "no terminal control sequences";
}

}  // namespace
}  // namespace cowwatch::cli
