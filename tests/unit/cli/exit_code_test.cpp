// Documented exit codes and messages (docs/cli.md) for the failures people meet.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "cli/exit_codes.h"
#include "cli/replay.h"
#include "cli_runner.h"
#include "control/control_server.h"
#include "synthetic_recording.h"
#include "../socket/temp_dir.h"

namespace cowwatch::cli {
namespace {

using control::testing::TempDir;
using testing::run_cowwatch;

TEST(ExitCodeTest, MissingSocketSaysTheDaemonIsNotRunning) {
  TempDir dir;
  for (const char* cmd : {"status", "top", "alerts"}) {
    auto r = run_cowwatch({"--socket", dir.file("none.sock"), cmd});
    EXPECT_EQ(r.code, kExitNoDaemon) << cmd;
    EXPECT_NE(r.err.find("cowwatchd is not running: no socket at"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

TEST(ExitCodeTest, StaleSocketSaysTheDaemonIsNotRunning) {
  TempDir dir;
  std::string path = dir.file("stale.sock");
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);
  auto r = run_cowwatch({"--socket", path, "status", "--json"});
  EXPECT_EQ(r.code, kExitNoDaemon);
  EXPECT_NE(r.err.find("refuses connections"), std::string::npos) << r.err;
}

TEST(ExitCodeTest, SocketFromTheEnvironment) {
  TempDir dir;
  setenv("COWWATCH_SOCKET", dir.file("env.sock").c_str(), 1);
  auto r = run_cowwatch({"status"});
  unsetenv("COWWATCH_SOCKET");
  EXPECT_EQ(r.code, kExitNoDaemon);
  EXPECT_NE(r.err.find(dir.file("env.sock")), std::string::npos) << r.err;
}

TEST(ExitCodeTest, UnknownScopeIsNotFound) {
  TempDir dir;
  std::string rec = dir.file("r.cwrec"), error;
  ASSERT_TRUE(testing::write_synthetic_recording(rec, &error)) << error;
  auto r = run_cowwatch({"replay", rec, "--report", "query", "--pid", "4242"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.err, "cowwatch: no pid 4242 known\n");

  LoadedRecording loaded;
  ASSERT_TRUE(load_recording(rec, &loaded, &error));
  control::ServerOptions o;
  o.socket_path = dir.file("cw.sock");
  control::ControlServer server(o, loaded.session->backend());
  ASSERT_TRUE(server.start(&error)) << error;
  auto q = run_cowwatch({"--socket", o.socket_path, "query", "--comm", "nosuchcomm"});
  EXPECT_EQ(q.code, kExitNotFound);
  EXPECT_EQ(q.err, "cowwatch: no comm nosuchcomm known\n");
}

TEST(ExitCodeTest, BadRecordingsAreReportedWithTheirPlace) {
  TempDir dir;
  auto missing = run_cowwatch({"replay", dir.file("nope")});
  EXPECT_EQ(missing.code, kExitBadRecording);
  EXPECT_NE(missing.err.find("cannot open"), std::string::npos) << missing.err;

  std::ofstream(dir.file("text")) << "just text\n";
  auto text = run_cowwatch({"replay", dir.file("text")});
  EXPECT_EQ(text.code, kExitBadRecording);
  EXPECT_NE(text.err.find("not a cowwatch recording"), std::string::npos) << text.err;

  std::string rec = dir.file("r.cwrec"), error;
  ASSERT_TRUE(testing::write_synthetic_recording(rec, &error));
  std::ofstream(rec, std::ios::app) << "{\"event\":{\"tgid\":\"x\"}}\n";
  auto bad = run_cowwatch({"replay", rec});
  EXPECT_EQ(bad.code, kExitBadRecording);
  EXPECT_NE(bad.err.find("line 14"), std::string::npos) << bad.err;
}

TEST(ExitCodeTest, UsageErrors) {
  EXPECT_EQ(run_cowwatch({}).code, kExitUsage);
  EXPECT_EQ(run_cowwatch({"frobnicate"}).code, kExitUsage);
  EXPECT_EQ(run_cowwatch({"query"}).code, kExitUsage);
  EXPECT_EQ(run_cowwatch({"query", "--pid", "1", "--comm", "x"}).code, kExitUsage);
  EXPECT_EQ(run_cowwatch({"top", "--sort", "bogus"}).code, kExitUsage);
  EXPECT_EQ(run_cowwatch({"trace", "--hook", "bogus"}).code, kExitUsage);
  EXPECT_EQ(run_cowwatch({"record"}).code, kExitUsage);
  EXPECT_EQ(run_cowwatch({"record", "-o", "/tmp/x", "--duration", "soon"}).code, kExitUsage);
  EXPECT_EQ(run_cowwatch({"run"}).code, kExitUsage);
}

TEST(ExitCodeTest, HelpHasExamplesAndExitCodes) {
  auto r = run_cowwatch({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos);
  EXPECT_NE(r.out.find("cowwatch run -- "), std::string::npos);
  EXPECT_NE(r.out.find("3 daemon not running"), std::string::npos);
  auto sub = run_cowwatch({"top", "--help"});
  EXPECT_EQ(sub.code, 0);
  EXPECT_NE(sub.out.find("--sort"), std::string::npos);
}

}  // namespace
}  // namespace cowwatch::cli
