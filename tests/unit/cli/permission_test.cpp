// The CLI run by an unprivileged user: permission denied at connect (socket mode 0660) and by
// the daemon's peer check (socket mode 0666) both exit with code 4 and say so. Needs root to
// fork a child as nobody; exits 77 with a reason otherwise.
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "cli/exit_codes.h"
#include "cli/replay.h"
#include "cli_runner.h"
#include "export/control_server.h"
#include "synthetic_recording.h"
#include "../socket/temp_dir.h"

namespace cowwatch::cli {
namespace {

using control::testing::TempDir;

// Runs `cowwatch --socket PATH status` as nobody; returns its exit code, or 90+ on setup failure.
int status_as_nobody(const std::string& socket, bool* said_permission) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return 95;
  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(90);
    auto r = testing::run_cowwatch({"--socket", socket, "status"});
    char ok = r.err.find("permission denied") != std::string::npos ? 'y' : 'n';
    if (write(pipefd[1], &ok, 1) != 1) _exit(91);
    _exit(r.code);
  }
  close(pipefd[1]);
  char ok = 'n';
  if (read(pipefd[0], &ok, 1) != 1) ok = '?';
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  *said_permission = ok == 'y';
  return WIFEXITED(status) ? WEXITSTATUS(status) : 92;
}

class PermissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      std::printf("skip: needs root to run the CLI as another user\n");
      std::fflush(stdout);
      std::_Exit(77);
    }
    std::string error;
    ASSERT_TRUE(testing::write_synthetic_recording(dir_.file("r.cwrec"), &error)) << error;
    ASSERT_TRUE(load_recording(dir_.file("r.cwrec"), &rec_, &error)) << error;
  }
  TempDir dir_;
  LoadedRecording rec_;
};

TEST_F(PermissionTest, SocketModeKeepsOthersOut) {
  control::ServerOptions o;
  o.socket_path = dir_.file("cw.sock");
  control::ControlServer server(o, rec_.session->backend());
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  bool said = false;
  EXPECT_EQ(status_as_nobody(o.socket_path, &said), kExitPermission);
  EXPECT_TRUE(said);
}

TEST_F(PermissionTest, DaemonPeerCheckRefusesOthers) {
  control::ServerOptions o;
  o.socket_path = dir_.file("cw.sock");
  o.socket_mode = 0666;
  control::ControlServer server(o, rec_.session->backend());
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  bool said = false;
  EXPECT_EQ(status_as_nobody(o.socket_path, &said), kExitPermission);
  EXPECT_TRUE(said);
  EXPECT_EQ(server.stats().rejected_peers, 1u);
}

}  // namespace
}  // namespace cowwatch::cli
