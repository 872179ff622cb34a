// Answers queries from a replayed recording and streams to subscribers whatever the test emits,
// as the daemon's ingest thread would.
#pragma once

#include <algorithm>
#include <mutex>
#include <vector>

#include "control/control_backend.h"
#include "recording/recording.h"

namespace cowwatch::cli::testing {

class StreamingBackend : public control::QueryBackend {
 public:
  explicit StreamingBackend(control::QueryBackend& inner) : inner_(inner) {}
  nlohmann::json status() override { return inner_.status(); }
  probe::ProbePlan plan() override { return inner_.plan(); }
  nlohmann::json top(const control::TopParams& p) override { return inner_.top(p); }
  nlohmann::json query(const control::QueryParams& p) override { return inner_.query(p); }
  nlohmann::json alerts(bool all) override { return inner_.alerts(all); }
  void subscribe(control::StreamListener* l) override {
    std::lock_guard<std::mutex> lock(mu_);
    listeners_.push_back(l);
  }
  void unsubscribe(control::StreamListener* l) override {
    std::lock_guard<std::mutex> lock(mu_);
    listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), l), listeners_.end());
  }
  size_t subscribers() {
    std::lock_guard<std::mutex> lock(mu_);
    return listeners_.size();
  }
  // Sends every item of a recording to the subscribers, in order.
  bool emit_recording(const std::string& path, std::string* error) {
    control::RecordingReader reader;
    if (!reader.open(path, error)) return false;
    control::RecordingItem item;
    std::lock_guard<std::mutex> lock(mu_);
    while (reader.next(&item, error)) {
      for (auto* l : listeners_) {
        switch (item.kind) {
          case control::RecordingItemKind::kEvent: l->on_event(item.event); break;
          case control::RecordingItemKind::kSample: l->on_sample(item.sample); break;
          case control::RecordingItemKind::kExitFlush:
            l->on_exit_flush(item.exit_flush.key, item.exit_flush.counters);
            break;
          default: break;
        }
      }
    }
    return error->empty();
  }

 private:
  control::QueryBackend& inner_;
  std::mutex mu_;
  std::vector<control::StreamListener*> listeners_;
};

}  // namespace cowwatch::cli::testing
