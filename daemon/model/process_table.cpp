#include "model/process_table.h"

#include <algorithm>
#include <limits>

namespace cowwatch::model {

Tallies Process::delta_of(uint64_t poll) const {
  Tallies delta{};
  if (delta_poll == poll) std::copy(last_delta.begin(), last_delta.end(), delta.begin());
  return delta;
}

ProcessTable::ProcessTable(size_t max_processes, size_t max_tombstones)
    : max_processes_(std::max<size_t>(1, max_processes)), max_tombstones_(max_tombstones) {
  processes_.reserve(std::min<size_t>(max_processes_, 1 << 16));
}

Process* ProcessTable::find(const ProcKey& key) {
  auto it = processes_.find(key);
  return it == processes_.end() ? nullptr : &it->second;
}

const Process* ProcessTable::find(const ProcKey& key) const {
  auto it = processes_.find(key);
  return it == processes_.end() ? nullptr : &it->second;
}

Process* ProcessTable::find_or_create(const ProcKey& key, uint64_t poll,
                                      std::vector<Process>* evicted) {
  if (Process* found = find(key)) return found;
  Tallies baseline{};
  if (auto it = tombstones_.find(key); it != tombstones_.end()) {
    if (it->second.exited) return nullptr;
    baseline = it->second.baseline;
    tombstones_.erase(it);  // its entry in tombstone_order_ is skipped when it comes up
  }
  if (processes_.size() >= max_processes_) evict_batch(evicted);
  Process& process = processes_[key];
  process.key = key;
  process.counters = Baseline(baseline);
  process.last_active_poll = poll;
  return &process;
}

void ProcessTable::evict_batch(std::vector<Process>* evicted) {
  size_t batch = std::max<size_t>(1, max_processes_ / 64);
  std::vector<std::pair<uint64_t, ProcKey>> order;
  order.reserve(processes_.size());
  for (const auto& [key, process] : processes_) order.emplace_back(process.last_active_poll, key);
  batch = std::min(batch, order.size());
  auto older = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second.start_ns < b.second.start_ns;
  };
  std::nth_element(order.begin(), order.begin() + (batch - 1), order.end(), older);
  for (size_t i = 0; i < batch; ++i) {
    Process gone = remove(order[i].second, false);
    if (evicted) evicted->push_back(std::move(gone));
  }
}

Process ProcessTable::remove(const ProcKey& key, bool exited) {
  auto node = processes_.extract(key);
  if (node.empty()) return Process{};
  bury(key, Tombstone{exited ? Tallies{} : node.mapped().totals(), exited});
  return std::move(node.mapped());
}

void ProcessTable::bury(const ProcKey& key, Tombstone tombstone) {
  if (max_tombstones_ == 0) return;
  tombstone.sequence = ++tombstone_sequence_;
  tombstones_[key] = tombstone;
  tombstone_order_.emplace_back(key, tombstone.sequence);
  while (tombstone_order_.size() > max_tombstones_) {
    auto [old_key, sequence] = tombstone_order_.front();
    tombstone_order_.pop_front();
    auto it = tombstones_.find(old_key);
    if (it != tombstones_.end() && it->second.sequence == sequence) tombstones_.erase(it);
  }
}

bool ProcessTable::exited_recently(const ProcKey& key) const {
  auto it = tombstones_.find(key);
  return it != tombstones_.end() && it->second.exited;
}

const Tallies* ProcessTable::tombstone_baseline(const ProcKey& key) const {
  auto it = tombstones_.find(key);
  return it != tombstones_.end() && !it->second.exited ? &it->second.baseline : nullptr;
}

void ProcessTable::clear() {
  processes_.clear();
  tombstones_.clear();
  tombstone_order_.clear();
}

}  // namespace cowwatch::model
