// The control server on a real Unix socket in a temp directory, with a fake backend.
#include "control/control_server.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "fake_backend.h"
#include "socket_client.h"
#include "temp_dir.h"

namespace cowwatch::control {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testing::FakeBackend;
using testing::TempDir;
using testing::TestClient;

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = {}) {
    options.socket_path = dir_.file("cw.sock");
    server_ = std::make_unique<ControlServer>(options, backend_);
    std::string error;
    ASSERT_TRUE(server_->start(&error)) << error;
  }
  std::string path() const { return dir_.file("cw.sock"); }

  // Waits (bounded) for a condition the server thread brings about.
  template <typename F>
  bool eventually(F f, milliseconds limit = milliseconds(3000)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (f()) return true;
      std::this_thread::sleep_for(milliseconds(2));
    }
    return f();
  }

  TempDir dir_;
  FakeBackend backend_;
  std::unique_ptr<ControlServer> server_;
};

cw_event event_for(uint32_t tgid, uint8_t hook, uint8_t reason) {
  cw_event e{};
  e.tgid = e.pid = e.actor_tgid = tgid;
  e.hook = hook;
  e.reason = reason;
  e.type = CW_EV_FAULT;
  e.ts_ns = 1000 + tgid;
  std::strcpy(e.comm, "worker");
  return e;
}

TEST_F(ServerTest, AnswersEveryQueryMethodWithItsId) {
  start();
  TestClient c(path());
  ASSERT_TRUE(c.connected());

  json status = c.call("status", json::object(), 11);
  EXPECT_EQ(status["v"], 1);
  EXPECT_EQ(status["id"], 11);
  EXPECT_EQ(status["result"]["daemon"]["version"], "0.1.0");
  EXPECT_EQ(status["result"]["kernel"], "6.1.0-test");
  ASSERT_EQ(status["result"]["probes"].size(), CW_HOOK_COUNT);
  EXPECT_EQ(status["result"]["probes"][0]["hook"], "wp_fault");
  EXPECT_EQ(status["result"]["probes"][0]["strategy"], "tracepoint");
  EXPECT_EQ(status["result"]["alerts"]["all"], false);

  json probes = c.call("probes", json::object(), 12);
  EXPECT_EQ(probes["id"], 12);
  EXPECT_EQ(probes["result"]["hooks"][3]["hook"], "gup_unshare");
  EXPECT_EQ(probes["result"]["hooks"][3]["ladder"][0]["outcome"], "no BTF FUNC");

  json top = c.call("top", {{"sort", "swap_adds"}, {"by", "cgroup"}, {"limit", 5}}, 13);
  EXPECT_EQ(top["result"]["sort"], "swap_adds");
  EXPECT_EQ(top["result"]["by"], "cgroup");
  EXPECT_EQ(top["result"]["rows"][0]["copies"], 7);
  EXPECT_EQ(backend_.last_top.limit, 5u);
  EXPECT_EQ(backend_.last_top.sort, TopSort::kSwapAdds);

  json query = c.call("query", {{"comm", "redis-server"}}, 14);
  EXPECT_EQ(query["result"]["scope"], "comm");
  EXPECT_EQ(backend_.last_query.name, "redis-server");

  json missing = c.call("query", {{"pid", 404}}, 15);
  EXPECT_EQ(missing["error"]["code"], "not_found");

  json alerts = c.call("alerts", {{"all", true}}, "text-id");
  EXPECT_EQ(alerts["id"], "text-id");
  EXPECT_EQ(alerts["result"]["all"], true);
}

TEST_F(ServerTest, GarbageGetsAnErrorAndTheConnectionStaysUsable) {
  start();
  TestClient c(path());
  ASSERT_TRUE(c.send_raw("this is not json\n"));
  auto r = c.read_json();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["error"]["code"], "bad_request");
  EXPECT_TRUE((*r)["id"].is_null());

  ASSERT_TRUE(c.send_raw("[1,2,3]\n{\"v\":1,\"id\":2}\n{\"v\":9,\"id\":3,\"method\":\"status\"}\n"));
  EXPECT_EQ((*c.read_json())["error"]["code"], "bad_request");
  auto no_method = c.read_json();
  EXPECT_EQ((*no_method)["error"]["code"], "bad_request");
  EXPECT_EQ((*no_method)["id"], 2);
  EXPECT_EQ((*c.read_json())["error"]["code"], "unsupported_version");

  EXPECT_EQ(c.call("status")["result"]["kernel"], "6.1.0-test");
}

TEST_F(ServerTest, UnknownMethodAndBadParamsAreErrors) {
  start();
  TestClient c(path());
  EXPECT_EQ(c.call("reboot")["error"]["code"], "unknown_method");
  EXPECT_EQ(c.call("top", {{"sort", "bogus"}})["error"]["code"], "bad_params");
  EXPECT_EQ(c.call("top", {{"limit", 0}})["error"]["code"], "bad_params");
  EXPECT_EQ(c.call("top", {{"srot", "copies"}})["error"]["code"], "bad_params");
  EXPECT_EQ(c.call("query", {{"pid", 1}, {"comm", "x"}})["error"]["code"], "bad_params");
  EXPECT_EQ(c.call("query", json::object())["error"]["code"], "bad_params");
  EXPECT_EQ(c.call("alerts", {{"all", "yes"}})["error"]["code"], "bad_params");
  EXPECT_EQ(c.call("trace", {{"hook", "nope"}})["error"]["code"], "bad_params");
  EXPECT_EQ(c.call("trace", {{"reason", "none"}})["error"]["code"], "bad_params");
  c.send_raw("{\"v\":1,\"id\":5,\"method\":\"status\",\"params\":[1]}\n");
  EXPECT_EQ((*c.read_json())["error"]["code"], "bad_params");
}

TEST_F(ServerTest, OversizedRequestIsRejectedAndClosed) {
  ServerOptions o;
  o.max_request_bytes = 1024;
  start(o);
  TestClient big(path());
  TestClient other(path());
  ASSERT_TRUE(big.send_raw(std::string(4096, 'x')));  // no newline: never a complete request
  auto r = big.read_json();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["error"]["code"], "request_too_large");
  EXPECT_TRUE(big.wait_eof(milliseconds(2000)));
  EXPECT_EQ(server_->stats().oversized, 1u);
  EXPECT_EQ(other.call("status")["result"]["kernel"], "6.1.0-test");

  // A line exactly at the limit is still parsed (as a bad request here, not as oversized).
  TestClient edge(path());
  edge.send_raw(std::string(1024, ' ') + "\n");
  EXPECT_EQ((*edge.read_json())["error"]["code"], "bad_request");
}

TEST_F(ServerTest, SlowLorisIsClosedAfterTheTimeoutWhileOthersAreServed) {
  ServerOptions o;
  o.read_timeout = milliseconds(400);
  start(o);
  auto t0 = std::chrono::steady_clock::now();
  TestClient slow(path());
  ASSERT_TRUE(slow.send_raw("{\"v\":1,\"id\":1,\"meth"));

  // Another client is served promptly, request after request, until the slow one is cut off.
  TestClient fast(path());
  std::optional<json> slow_reply;
  int served = 0;
  while (!slow_reply && std::chrono::steady_clock::now() - t0 < milliseconds(3000)) {
    auto t = std::chrono::steady_clock::now();
    EXPECT_EQ(fast.call("status", json::object(), served)["id"], served);
    EXPECT_LT(std::chrono::steady_clock::now() - t, milliseconds(200));
    ++served;
    // Keeps trickling bytes: that must not extend its deadline.
    if (served == 3) {
      ASSERT_TRUE(slow.send_raw("od\":"));
    }
    slow_reply = slow.read_json(milliseconds(40));
  }
  ASSERT_TRUE(slow_reply);
  EXPECT_EQ((*slow_reply)["error"]["code"], "timeout");
  EXPECT_TRUE(slow.wait_eof(milliseconds(2000)));
  auto closed_after = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(closed_after, milliseconds(350));
  EXPECT_LT(closed_after, milliseconds(2500));
  EXPECT_GE(served, 5);
  EXPECT_EQ(server_->stats().timeouts, 1u);
  EXPECT_EQ(fast.call("status", json::object(), 99)["id"], 99);
}

TEST_F(ServerTest, IdleConnectionIsClosedAfterTheTimeout) {
  ServerOptions o;
  o.read_timeout = milliseconds(150);
  start(o);
  TestClient idle(path());
  ASSERT_EQ(idle.call("status")["id"], 1);
  auto r = idle.read_json(milliseconds(2000));
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["error"]["code"], "timeout");
  EXPECT_TRUE(idle.wait_eof(milliseconds(1000)));
}

TEST_F(ServerTest, MaxClientsRefusesTheExtraConnection) {
  ServerOptions o;
  o.max_clients = 2;
  start(o);
  TestClient a(path()), b(path());
  ASSERT_EQ(a.call("status")["id"], 1);
  ASSERT_EQ(b.call("status")["id"], 1);
  TestClient c(path());
  auto r = c.read_json();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["error"]["code"], "too_many_clients");
  EXPECT_TRUE(c.wait_eof(milliseconds(2000)));
  EXPECT_EQ(a.call("status", json::object(), 2)["id"], 2);
}

TEST_F(ServerTest, TraceStreamsMatchingEventsUntilTheClientLeaves) {
  start();
  {
    TestClient c(path());
    json r = c.call("trace", {{"pid", 100}, {"hook", "wp_fault"}}, 7);
    ASSERT_EQ(r["result"]["streaming"], true);
    ASSERT_TRUE(eventually([&] { return backend_.subscribers() == 1; }));
    backend_.emit(event_for(100, CW_HOOK_WP_FAULT, CW_REASON_SHARED));
    backend_.emit(event_for(200, CW_HOOK_WP_FAULT, CW_REASON_SHARED));  // other pid
    backend_.emit(event_for(100, CW_HOOK_FORK, CW_REASON_COUNT));        // other hook
    backend_.emit(event_for(100, CW_HOOK_WP_FAULT, CW_REASON_ZERO_PAGE));
    backend_.emit(ingest::KernelSample{});  // trace does not want samples

    auto first = c.read_json();
    auto second = c.read_json();
    ASSERT_TRUE(first && second);
    EXPECT_EQ((*first)["id"], 7);
    EXPECT_EQ((*first)["event"]["tgid"], 100);
    EXPECT_EQ((*first)["event"]["reason"], "shared");
    EXPECT_EQ((*first)["event"]["comm"], "worker");
    EXPECT_EQ((*second)["event"]["reason"], "zero_page");
    EXPECT_FALSE(c.read_line(milliseconds(100)));

    // A request on a streaming connection is refused, the stream goes on.
    c.send_raw("{\"v\":1,\"id\":8,\"method\":\"status\"}\n");
    EXPECT_EQ((*c.read_json())["error"]["code"], "bad_request");
  }
  EXPECT_TRUE(eventually([&] { return backend_.subscribers() == 0; }));
}

TEST_F(ServerTest, RecordStreamsHeaderEventsAndSamples) {
  start();
  TestClient c(path());
  json r = c.call("record", json::object(), 3);
  ASSERT_TRUE(r.contains("result")) << r;
  EXPECT_EQ(r["result"]["format"], "cowwatch-recording");
  EXPECT_EQ(r["result"]["schema_version"], CW_SCHEMA_VERSION);
  EXPECT_EQ(r["result"]["kernel_release"], "6.1.0-test");
  EXPECT_EQ(r["result"]["counters"].size(), CW_C_COUNT);
  ASSERT_TRUE(eventually([&] { return backend_.subscribers() == 1; }));
  ingest::KernelSample s;
  s.mono_ns = 5;
  s.host.c[CW_C_FORK] = 3;
  backend_.emit(event_for(1, CW_HOOK_SWAP_ADD, CW_REASON_COUNT));
  backend_.emit(s);
  cw_counters final_counters{};
  final_counters.c[CW_C_WP_WRITE] = 9;
  backend_.emit_exit(cw_proc_key{77, 0, 1234}, final_counters);
  auto ev = c.read_json();
  auto sample = c.read_json();
  auto exit_flush = c.read_json();
  ASSERT_TRUE(ev && sample && exit_flush);
  EXPECT_EQ((*exit_flush)["exit"]["tgid"], 77);
  EXPECT_EQ((*exit_flush)["exit"]["start_ns"], 1234);
  EXPECT_EQ((*exit_flush)["exit"]["c"][CW_C_WP_WRITE], 9);
  EXPECT_EQ((*ev)["event"]["hook"], "swap_add");
  EXPECT_EQ((*ev)["event"]["reason"], "none");
  EXPECT_EQ((*sample)["sample"]["mono_ns"], 5);
  EXPECT_EQ((*sample)["sample"]["host"][CW_C_FORK], 3);
}

TEST_F(ServerTest, SlowStreamReaderLosesEventsButEveryEventIsAccountedFor) {
  ServerOptions o;
  o.stream_queue_items = 8;
  o.max_output_bytes = 4096;  // a handful of event lines
  start(o);
  TestClient c(path());
  ASSERT_EQ(c.call("trace")["result"]["streaming"], true);
  ASSERT_TRUE(eventually([&] { return backend_.subscribers() == 1; }));
  constexpr int kEvents = 5000;
  for (int i = 0; i < kEvents; ++i) backend_.emit(event_for(1, CW_HOOK_WP_FAULT, CW_REASON_SHARED));
  uint64_t received = 0, lost = 0;
  while (received + lost < kEvents) {
    auto line = c.read_json(milliseconds(2000));
    ASSERT_TRUE(line) << "received " << received << " lost " << lost;
    if (line->contains("event")) ++received;
    if (line->contains("lost")) lost += (*line)["lost"].get<uint64_t>();
  }
  EXPECT_EQ(received + lost, static_cast<uint64_t>(kEvents));
  EXPECT_GT(lost, 0u);  // 8 queued + 4 KiB of output can never hold 5000 events
  EXPECT_EQ(server_->stats().stream_lost, lost);
}

TEST_F(ServerTest, ClientThatHalfClosesStillGetsItsAnswer) {
  start();
  TestClient c(path());
  c.send_raw("{\"v\":1,\"id\":4,\"method\":\"probes\"}\n");
  c.shutdown_write();  // like `nc -N` after sending a request
  auto r = c.read_json();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["id"], 4);
}

TEST_F(ServerTest, RefusesToReplaceALiveSocketAndReplacesAStaleOne) {
  start();
  FakeBackend other;
  ServerOptions o;
  o.socket_path = path();
  ControlServer second(o, other);
  std::string error;
  EXPECT_FALSE(second.start(&error));
  EXPECT_NE(error.find("already listening"), std::string::npos) << error;

  server_->stop();
  // Leave a stale socket file behind, as a crashed daemon would.
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path().c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);
  ControlServer third(o, other);
  EXPECT_TRUE(third.start(&error)) << error;
  TestClient c(path());
  EXPECT_EQ(c.call("status")["result"]["kernel"], "6.1.0-test");
}

TEST_F(ServerTest, StopRemovesTheSocketAndEndsStreams) {
  start();
  TestClient c(path());
  ASSERT_EQ(c.call("trace")["result"]["streaming"], true);
  ASSERT_TRUE(eventually([&] { return backend_.subscribers() == 1; }));
  server_->stop();
  EXPECT_EQ(backend_.subscribers(), 0u);
  EXPECT_TRUE(c.wait_eof(milliseconds(1000)));
  TestClient late(path());
  EXPECT_FALSE(late.connected());
  EXPECT_EQ(late.error(), ENOENT);
}

// Socket activation: the service manager bound the socket (its path, mode and group) and passes
// the listening fd. The server serves it as is, admits the file's group when it may write, and
// leaves the file to its owner when it stops.
TEST_F(ServerTest, AdoptsAnInheritedSocketAndLeavesItsFile) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);  // blocking, like systemd passes it
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path().c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(chmod(path().c_str(), 0660), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  struct stat st {};
  ASSERT_EQ(stat(path().c_str(), &st), 0);

  ServerOptions o;
  o.socket_path = "/nonexistent/other.sock";  // the inherited socket's own path wins
  o.inherited_fd = fd;
  server_ = std::make_unique<ControlServer>(o, backend_);
  std::string error;
  ASSERT_TRUE(server_->start(&error)) << error;
  EXPECT_EQ(server_->options().socket_path, path());
  EXPECT_EQ(server_->options().socket_mode, 0660u);
  ASSERT_TRUE(server_->options().group.has_value());
  EXPECT_EQ(*server_->options().group, st.st_gid);

  // Two clients in turn: accepting never blocks the loop although the fd came blocking.
  for (int id : {1, 2}) {
    TestClient c(path());
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.call("status", json::object(), id)["id"], id);
  }
  server_->stop();
  EXPECT_EQ(access(path().c_str(), F_OK), 0) << "the manager's socket file was removed";
}

TEST_F(ServerTest, InheritedSocketWithoutGroupWriteAdmitsNoGroup) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path().c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(chmod(path().c_str(), 0600), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  ServerOptions o;
  o.inherited_fd = fd;
  server_ = std::make_unique<ControlServer>(o, backend_);
  std::string error;
  ASSERT_TRUE(server_->start(&error)) << error;
  EXPECT_FALSE(server_->options().group.has_value());
}

}  // namespace
}  // namespace cowwatch::control
