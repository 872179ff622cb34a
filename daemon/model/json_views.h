// JSON forms of the model's views, for the control socket and `--json` output. The shapes are
// documented in docs/model-json.md; keep the two in sync.
#pragma once

#include <nlohmann/json.hpp>

#include "model/views.h"

namespace cowwatch::model {

nlohmann::json tallies_json(const Tallies& tallies);
nlohmann::json to_json(const TopResult& result);
nlohmann::json to_json(const ForkEpisodeView& view);
nlohmann::json to_json(const ProcessDetail& detail);
nlohmann::json to_json(const GroupDetail& detail);
nlohmann::json to_json(const std::vector<ForkEpisodeView>& episodes);

bool parse_sort_key(const std::string& name, SortKey* out);
bool parse_group_by(const std::string& name, GroupBy* out);

}  // namespace cowwatch::model
