// A streaming client's side of a subscription: filters events, queues them (bounded) until the
// server thread writes them out, and counts what it had to drop. on_event/on_sample run on the
// backend's thread; take() on the server thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "control/control_backend.h"

namespace cowwatch::control {

struct EventFilter {
  std::optional<uint32_t> pid;     // owner tgid, acting tgid, thread id, or a fork's child
  std::optional<uint8_t> hook;     // enum cw_hook
  std::optional<uint8_t> reason;   // enum cw_copy_reason
  bool matches(const cw_event& e) const;
};

struct StreamItem {
  enum Kind { kEvent, kSample, kExitFlush } kind = kEvent;
  cw_event event{};                                     // kEvent
  std::shared_ptr<const ingest::KernelSample> sample;   // kSample
  ingest::ProcessCounters exit_flush{};                 // kExitFlush
};

class StreamQueue : public StreamListener {
 public:
  // wake_fd: an eventfd the server polls; written once when the queue becomes non-empty.
  StreamQueue(EventFilter filter, bool want_samples, size_t capacity, int wake_fd);

  void on_event(const cw_event& event) override;
  void on_sample(const ingest::KernelSample& sample) override;
  void on_exit_flush(const cw_proc_key& key, const cw_counters& final_counters) override;

  // Moves out up to max_items queued items; *lost receives the count dropped since last call.
  std::vector<StreamItem> take(size_t max_items, uint64_t* lost);
  bool empty() const;

 private:
  void push(StreamItem item);

  const EventFilter filter_;
  const bool want_samples_;
  const size_t capacity_;
  const int wake_fd_;
  mutable std::mutex mu_;
  std::vector<StreamItem> items_;
  size_t head_ = 0;
  uint64_t lost_ = 0;
};

}  // namespace cowwatch::control
