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
#include "control/control_server.h"
#include "synthetic_recording.h"
#include "../socket/temp_dir.h"

namespace cowwatch::cli {
namespace {

using control::testing::TempDir;

// `cowwatch --socket PATH status` run as nobody in a child forked before the server's thread
// exists: a child forked from a threaded process can block forever on a lock another thread held
// at the fork (seen: the ASan allocator's). The child drops to nobody, reads the socket path from
// a pipe, runs the CLI and reports whether it said "permission denied".
class NobodyCli {
 public:
  NobodyCli() {
    if (pipe(to_child_) != 0 || pipe(from_child_) != 0) return;
    pid_ = fork();
    if (pid_ == 0) child();
    close(to_child_[0]);
    close(from_child_[1]);
  }

  ~NobodyCli() {  // a test that stopped early: the child reads EOF, fails to connect, exits
    if (pid_ <= 0) return;
    close(to_child_[1]);
    close(from_child_[0]);
    waitpid(pid_, nullptr, 0);
  }

  // Its exit code, or 90+ on setup failure.
  int status(const std::string& socket, bool* said_permission) {
    if (pid_ <= 0) return 95;
    const bool sent = write(to_child_[1], socket.data(), socket.size()) == static_cast<ssize_t>(socket.size());
    close(to_child_[1]);
    char ok = 'n';
    if (read(from_child_[0], &ok, 1) != 1) ok = '?';
    close(from_child_[0]);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    *said_permission = ok == 'y';
    if (!sent) return 96;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 92;
  }

 private:
  [[noreturn]] void child() {
    close(to_child_[1]);
    close(from_child_[0]);
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(90);
    std::string socket;
    char buf[256];
    for (ssize_t n; (n = read(to_child_[0], buf, sizeof buf)) > 0;) socket.append(buf, static_cast<size_t>(n));
    auto r = testing::run_cowwatch({"--socket", socket, "status"});
    char ok = r.err.find("permission denied") != std::string::npos ? 'y' : 'n';
    if (write(from_child_[1], &ok, 1) != 1) _exit(91);
    _exit(r.code);
  }

  int to_child_[2] = {-1, -1};
  int from_child_[2] = {-1, -1};
  pid_t pid_ = -1;
};

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
  NobodyCli nobody;
  control::ServerOptions o;
  o.socket_path = dir_.file("cw.sock");
  control::ControlServer server(o, rec_.session->backend());
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  bool said = false;
  EXPECT_EQ(nobody.status(o.socket_path, &said), kExitPermission);
  EXPECT_TRUE(said);
}

TEST_F(PermissionTest, DaemonPeerCheckRefusesOthers) {
  NobodyCli nobody;
  control::ServerOptions o;
  o.socket_path = dir_.file("cw.sock");
  o.socket_mode = 0666;
  control::ControlServer server(o, rec_.session->backend());
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  bool said = false;
  EXPECT_EQ(nobody.status(o.socket_path, &said), kExitPermission);
  EXPECT_TRUE(said);
  EXPECT_EQ(server.stats().rejected_peers, 1u);
}

}  // namespace
}  // namespace cowwatch::cli
