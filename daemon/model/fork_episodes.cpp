#include "model/fork_episodes.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace cowwatch::model {

uint64_t ForkEpisode::projected_bytes(double horizon_s) const {
  double projected = double(copied_bytes()) + std::max(0.0, rate_bytes_per_s) * horizon_s;
  if (parent_rss_anon_bytes) projected = std::min(projected, double(*parent_rss_anon_bytes));
  // A rate from counters near 2^64 (bad records) must saturate, not convert out of range.
  constexpr double kTwoTo64 = 18446744073709551616.0;
  if (!(projected < kTwoTo64)) return std::isnan(projected) ? copied_bytes() : UINT64_MAX;
  return std::max<uint64_t>(copied_bytes(), uint64_t(projected));
}

ForkEpisode& ForkEpisodes::start(const ProcKey& parent, const ProcKey& child, uint64_t started_ns) {
  end_child(child, started_ns);  // a repeated fork record for the same child replaces it
  uint64_t id = next_id_++;
  ForkEpisode& episode = live_[id];
  episode.id = id;
  episode.parent = parent;
  episode.child = child;
  episode.started_ns = started_ns;
  by_child_[child] = id;
  by_parent_[parent].push_back(id);
  return episode;
}

ForkEpisode* ForkEpisodes::newest_for(const ProcKey& process) {
  uint64_t newest = 0;
  if (auto it = by_child_.find(process); it != by_child_.end()) newest = it->second;
  if (auto it = by_parent_.find(process); it != by_parent_.end() && !it->second.empty())
    newest = std::max(newest, it->second.back());
  if (newest == 0) return nullptr;
  return &live_.at(newest);
}

const ForkEpisode* ForkEpisodes::charge(const ProcKey& process, uint64_t bytes) {
  ForkEpisode* episode = newest_for(process);
  if (!episode) return nullptr;
  if (episode->child == process)
    episode->child_copied_bytes += bytes;
  else
    episode->parent_copied_bytes += bytes;
  episode->poll_bytes += bytes;
  return episode;
}

std::optional<ForkEpisode> ForkEpisodes::end_child(const ProcKey& child, uint64_t now_ns) {
  auto it = by_child_.find(child);
  if (it == by_child_.end()) return std::nullopt;
  uint64_t id = it->second;
  by_child_.erase(it);
  auto node = live_.extract(id);
  ForkEpisode episode = std::move(node.mapped());
  auto parent_it = by_parent_.find(episode.parent);
  if (parent_it != by_parent_.end()) {
    auto& ids = parent_it->second;
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
    if (ids.empty()) by_parent_.erase(parent_it);
  }
  episode.live = false;
  episode.ended_ns = now_ns;
  if (max_ended_ > 0) {
    ended_.push_back(episode);
    if (ended_.size() > max_ended_) ended_.pop_front();
  }
  return episode;
}

void ForkEpisodes::end_parent(const ProcKey& parent, uint64_t now_ns) {
  auto it = by_parent_.find(parent);
  if (it == by_parent_.end()) return;
  std::vector<ProcKey> children;
  for (uint64_t id : it->second) children.push_back(live_.at(id).child);
  for (const ProcKey& child : children) end_child(child, now_ns);  // also drops by_parent_[parent]
}

void ForkEpisodes::update_rates(double interval_s) {
  if (interval_s <= 0) return;
  for (auto& [id, episode] : live_) {
    double instant = double(episode.poll_bytes) / interval_s;
    episode.rate_bytes_per_s =
        episode.rate_known ? 0.5 * episode.rate_bytes_per_s + 0.5 * instant : instant;
    episode.rate_known = true;
    episode.poll_bytes = 0;
  }
}

void ForkEpisodes::clear() {
  live_.clear();
  by_child_.clear();
  by_parent_.clear();
  ended_.clear();
}

const ForkEpisode* ForkEpisodes::newest_as_parent(const ProcKey& process) const {
  auto it = by_parent_.find(process);
  if (it == by_parent_.end() || it->second.empty()) return nullptr;
  return &live_.at(it->second.back());
}

const ForkEpisode* ForkEpisodes::as_child(const ProcKey& process) const {
  auto it = by_child_.find(process);
  return it == by_child_.end() ? nullptr : &live_.at(it->second);
}

}  // namespace cowwatch::model
