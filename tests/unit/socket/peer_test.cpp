// Peer credential checks with real unprivileged peers: needs root (fork + setuid). Exits 77
// with a reason when not root, so ctest reports a skip.
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <functional>

#include "control/control_server.h"
#include "fake_backend.h"
#include "socket_client.h"
#include "temp_dir.h"

namespace cowwatch::control {
namespace {

using nlohmann::json;
using testing::FakeBackend;
using testing::TempDir;
using testing::TestClient;

constexpr uid_t kNobody = 65534;
constexpr gid_t kOperatorGroup = 54321;  // the configured group; no name needed

// Runs `body` in a child that dropped to uid nobody with primary group `gid` and the given
// supplementary groups; returns the child's exit status (body's return value).
int run_as_nobody(gid_t gid, std::vector<gid_t> groups, const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(groups.size(), groups.data()) != 0 || setgid(gid) != 0 ||
        setuid(kNobody) != 0) {
      _exit(90);
    }
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 91;
}

// 0: served; 1: rejected with permission_denied then closed; 2: connect EACCES; 3+: other.
int try_status(const std::string& path) {
  TestClient c(path);
  if (!c.connected()) return c.error() == EACCES ? 2 : 3;
  json r = c.call("status");
  if (r.contains("result")) return 0;
  if (r["error"]["code"] == "permission_denied" && c.wait_eof(std::chrono::seconds(2))) return 1;
  return 4;
}

class PeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      std::printf("skip: needs root to fork a peer with another uid\n");
      std::fflush(stdout);
      std::_Exit(77);
    }
  }
  std::unique_ptr<ControlServer> start(ServerOptions o) {
    o.socket_path = dir_.file("cw.sock");
    auto s = std::make_unique<ControlServer>(o, backend_);
    std::string error;
    EXPECT_TRUE(s->start(&error)) << error;
    return s;
  }
  TempDir dir_;
  FakeBackend backend_;
};

TEST_F(PeerTest, UnprivilegedPeerIsRejectedBySoPeercred) {
  ServerOptions o;
  o.socket_mode = 0666;  // let connect() succeed so that the credential check decides
  auto server = start(o);
  std::string path = server->options().socket_path;
  EXPECT_EQ(run_as_nobody(kNobody, {}, [&] { return try_status(path); }), 1);
  EXPECT_EQ(server->stats().rejected_peers, 1u);
  // Root is still served.
  EXPECT_EQ(try_status(path), 0);
}

TEST_F(PeerTest, DefaultSocketModeKeepsOthersOutAtConnect) {
  auto server = start({});
  std::string path = server->options().socket_path;
  EXPECT_EQ(run_as_nobody(kNobody, {}, [&] { return try_status(path); }), 2);
}

TEST_F(PeerTest, MemberOfTheConfiguredGroupIsServed) {
  ServerOptions o;
  o.group = kOperatorGroup;
  auto server = start(o);
  std::string path = server->options().socket_path;
  // The socket file belongs to the group, mode 0660: members can connect and are served.
  EXPECT_EQ(run_as_nobody(kNobody, {kOperatorGroup}, [&] { return try_status(path); }), 0);
  EXPECT_EQ(run_as_nobody(kOperatorGroup, {}, [&] { return try_status(path); }), 0);
  // Not a member: kept out.
  EXPECT_EQ(run_as_nobody(kNobody, {}, [&] { return try_status(path); }), 2);
}

}  // namespace
}  // namespace cowwatch::control
