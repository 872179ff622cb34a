// What the control socket asks the daemon. The daemon (daemon/app) implements QueryBackend over
// its model and alert engine; `cowwatch replay` and `cowwatch run` implement it over an
// in-process Aggregator (cli/model_backend.h). The server calls every method from its own
// thread, one call at a time; implementations synchronise with their ingest thread themselves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cowwatch.h"
#include "ingest/kernel_sample.h"
#include "probe/plan.h"

namespace cowwatch::control {

enum class TopSort { kCopies, kCopiedBytes, kUnshares, kSwapAdds, kFaults };
enum class TopGroup { kProcess, kCgroup, kComm };

struct TopParams {
  TopSort sort = TopSort::kCopies;
  TopGroup by = TopGroup::kProcess;
  size_t limit = 20;  // rows; 1..10000
};

enum class QueryScope { kPid, kComm, kCgroup };

struct QueryParams {
  QueryScope scope = QueryScope::kPid;
  uint32_t pid = 0;     // kPid
  std::string name;     // kComm: the comm; kCgroup: the cgroup path ("/" is the root)
};

const char* top_sort_name(TopSort s);      // "copies", "copied_bytes", "unshares", "swap_adds", "faults"
const char* top_group_name(TopGroup g);    // "process", "cgroup", "comm"
const char* query_scope_name(QueryScope s);  // "pid", "comm", "cgroup"
bool parse_top_sort(const std::string& name, TopSort* out);
bool parse_top_group(const std::string& name, TopGroup* out);

// Receives the live stream for `trace` and `record`. Called from the backend's ingest thread;
// must not block (the server only copies into a bounded queue).
class StreamListener {
 public:
  virtual ~StreamListener() = default;
  virtual void on_event(const cw_event& event) = 0;
  // Every counter sample the daemon takes (for recordings: replay needs the exact counters).
  virtual void on_sample(const ingest::KernelSample& sample) = 0;
  // A process's final counters, read and deleted from the kernel map after its exit record
  // (what the daemon passes to Aggregator::on_exit). Recordings need them to replay exactly.
  virtual void on_exit_flush(const cw_proc_key& key, const cw_counters& final_counters) {
    (void)key;
    (void)final_counters;
  }
};

class QueryBackend {
 public:
  virtual ~QueryBackend() = default;

  // Daemon health: docs/protocol.md "status" lists the keys the CLI shows (version, pid,
  // uptime_s, events, drops, processes). The server adds the kernel, plan summary and alerts.
  virtual nlohmann::json status() = 0;
  virtual probe::ProbePlan plan() = 0;
  // Rows for `top` in the model's JSON shape (docs/model-json.md).
  virtual nlohmann::json top(const TopParams& params) = 0;
  // One scope's counters, reasons, fork cost and related alerts; null when the scope is unknown.
  virtual nlohmann::json query(const QueryParams& params) = 0;
  // Active alerts, plus resolved/recent ones when include_recent.
  virtual nlohmann::json alerts(bool include_recent) = 0;

  // After subscribe returns, the listener receives every event and sample until unsubscribe
  // returns; no call is made on it after that.
  virtual void subscribe(StreamListener* listener) = 0;
  virtual void unsubscribe(StreamListener* listener) = 0;
};

}  // namespace cowwatch::control
