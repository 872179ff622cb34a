// Fuzz target: ring-buffer records as the daemon consumes them. The daemon copies a struct
// cw_event out of every ring record and hands it to the model (Aggregator::on_event); per-process
// counters arrive as samples and exit flushes. Here the bytes of each record are arbitrary, as a
// buggy or newer BPF side (or a corrupted recording) could produce: out-of-range enums, comms
// without a NUL, counters that go backwards, tgid 0, reused pids.
// Input: a sequence of (op byte, sizeof(cw_event) bytes) chunks.
// Properties: event_to_json/event_from_json round-trips every record exactly (comm normalised as
// the kernel writes it: NUL-terminated within CW_COMM_LEN); the model stays queryable.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "protocol/protocol.h"
#include "protocol/protocol_codec.h"
#include "fuzz_check.h"
#include "model/aggregator.h"
#include "synthetic_model.h"

namespace {

using namespace cowwatch;

void check_roundtrip(cw_event e) {
  // The kernel's comm is NUL-terminated within 16 bytes; bytes after the NUL are not part of it.
  e.comm[CW_COMM_LEN - 1] = '\0';
  size_t n = strnlen(e.comm, CW_COMM_LEN);
  std::memset(e.comm + n, 0, CW_COMM_LEN - n);
  nlohmann::json j = control::event_to_json(e);
  std::string line = control::to_line(j);  // must not throw on invalid UTF-8 in comm
  FUZZ_CHECK(!line.empty(), "an event encodes to a line");
  cw_event back{};
  std::string error;
  FUZZ_CHECK(control::event_from_json(j, &back, &error), "an encoded event decodes again");
  FUZZ_CHECK(std::memcmp(&back, &e, sizeof(e)) == 0, "event JSON round trip is exact");
}

ingest::KernelSample sample_from(const cw_event& e, uint64_t poll) {
  ingest::KernelSample s;
  s.mono_ns = e.ts_ns;
  s.process_map_capacity = 64;
  ingest::ProcessCounters pc{};
  pc.key = {e.tgid, 0, e.start_ns};
  pc.counters.c[e.decision % CW_C_COUNT] = e.aux0;
  pc.counters.c[e.reason % CW_C_COUNT] = e.aux1;
  pc.counters.c[CW_C_FORK] = e.aux2;
  s.processes.push_back(pc);
  s.host = pc.counters;
  s.drops[e.type % CW_DROP_COUNT] = poll;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kChunk = 1 + sizeof(cw_event);
  model::Aggregator agg(fuzz::offline_options());
  uint64_t poll = 0;
  cw_event last{};
  for (size_t off = 0; off + kChunk <= size; off += kChunk) {
    uint8_t op = data[off];
    cw_event e;
    std::memcpy(&e, data + off + 1, sizeof(e));  // as the daemon copies a ring record
    check_roundtrip(e);
    switch (op % 4) {
      case 0:
      case 1:
        agg.on_event(e);
        break;
      case 2: {
        cw_counters final_counters{};
        final_counters.c[CW_C_WP_WRITE] = e.aux0;
        final_counters.c[int(CW_C_COPY_FIRST) + e.reason % int(CW_REASON_COUNT)] = e.aux1;
        agg.on_exit({e.tgid, 0, e.start_ns}, final_counters);
        break;
      }
      case 3:
        agg.apply(sample_from(e, ++poll));
        break;
    }
    last = e;
  }
  auto snapshot = agg.metrics_snapshot();
  FUZZ_CHECK(snapshot != nullptr, "a snapshot is always available");
  for (auto group : {model::GroupBy::kProcess, model::GroupBy::kComm, model::GroupBy::kCgroup}) {
    model::TopQuery q;
    q.group = group;
    (void)agg.top(q);
  }
  (void)agg.query_pid(last.tgid);
  last.comm[CW_COMM_LEN - 1] = '\0';
  (void)agg.query_comm(last.comm);
  (void)agg.query_cgroup("/");
  (void)agg.fork_episodes(true);
  FUZZ_CHECK(agg.tracked_processes() <= fuzz::offline_options().max_processes,
             "tracked processes stay within max_tracked_processes");
  return 0;
}
