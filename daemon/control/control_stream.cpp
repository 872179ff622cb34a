#include "control/control_stream.h"

#include <unistd.h>

#include <utility>

namespace cowwatch::control {

bool EventFilter::matches(const cw_event& e) const {
  if (pid && e.tgid != *pid && e.actor_tgid != *pid && e.pid != *pid &&
      !(e.type == CW_EV_FORK && e.aux2 == *pid)) {
    return false;
  }
  if (hook && e.hook != *hook) return false;
  if (reason && e.reason != *reason) return false;
  return true;
}

StreamQueue::StreamQueue(EventFilter filter, bool want_samples, size_t capacity, int wake_fd)
    : filter_(std::move(filter)), want_samples_(want_samples), capacity_(capacity),
      wake_fd_(wake_fd) {}

void StreamQueue::on_event(const cw_event& event) {
  if (!filter_.matches(event)) return;
  StreamItem item;
  item.event = event;
  push(std::move(item));
}

void StreamQueue::on_sample(const ingest::KernelSample& sample) {
  if (!want_samples_) return;
  StreamItem item;
  item.kind = StreamItem::kSample;
  item.sample = std::make_shared<const ingest::KernelSample>(sample);
  push(std::move(item));
}

void StreamQueue::on_exit_flush(const cw_proc_key& key, const cw_counters& final_counters) {
  if (!want_samples_) return;
  StreamItem item;
  item.kind = StreamItem::kExitFlush;
  item.exit_flush = {key, final_counters};
  push(std::move(item));
}

void StreamQueue::push(StreamItem item) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (items_.size() - head_ >= capacity_) {
      ++lost_;
      return;
    }
    wake = items_.size() == head_;
    items_.push_back(std::move(item));
  }
  if (wake && wake_fd_ >= 0) {
    uint64_t one = 1;
    // An eventfd write only fails when the counter would overflow: it is then readable anyway.
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  }
}

std::vector<StreamItem> StreamQueue::take(size_t max_items, uint64_t* lost) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<StreamItem> out;
  size_t n = std::min(max_items, items_.size() - head_);
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(std::move(items_[head_ + i]));
  head_ += n;
  if (head_ == items_.size()) {
    items_.clear();
    head_ = 0;
  } else if (head_ > 4096 && head_ * 2 > items_.size()) {
    items_.erase(items_.begin(), items_.begin() + static_cast<ptrdiff_t>(head_));
    head_ = 0;
  }
  *lost = lost_;
  lost_ = 0;
  return out;
}

bool StreamQueue::empty() const {
  std::lock_guard<std::mutex> lock(mu_);
  return items_.size() == head_;
}

}  // namespace cowwatch::control
