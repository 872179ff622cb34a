#include "cli/run_report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

#include "cli/render.h"
#include "model/json_views.h"
#include "model/tallies.h"

namespace cowwatch::cli {
namespace {

using nlohmann::json;

uint64_t at(const json& j, const char* key) { return j.contains(key) ? j[key].get<uint64_t>() : 0; }

uint64_t sum_of(const json& obj) {
  uint64_t total = 0;
  for (const auto& [name, value] : obj.items()) total += value.get<uint64_t>();
  return total;
}

// "shared 64  zero_page 2" (non-zero reasons), "-" when none.
std::string reasons_text(const json& reasons) {
  std::string out;
  for (const auto& [name, value] : reasons.items()) {
    if (value.get<uint64_t>() == 0) continue;
    out += (out.empty() ? "" : " ") + name + "=" + std::to_string(value.get<uint64_t>());
  }
  return out.empty() ? "-" : out;
}

void process_table(std::ostringstream& o, const json& rows, uint64_t root_start_ns, size_t top_n, bool all) {
  std::vector<const json*> order;
  for (const auto& row : rows) order.push_back(&row);
  auto copies = [](const json* r) { return at((*r)["counters"], "cow_copies_total"); };
  auto faults = [](const json* r) {
    return sum_of((*r)["counters"]["wp_faults"]) + at((*r)["counters"], "wp_faults_approx");
  };
  std::stable_sort(order.begin(), order.end(), [&](const json* a, const json* b) {
    return copies(a) != copies(b) ? copies(a) > copies(b) : faults(a) > faults(b);
  });
  size_t shown = all ? order.size() : std::min(top_n, order.size());
  o << (all ? "every process" : "top " + std::to_string(shown) + " processes") << " by copies\n";
  o << rpad("PID", 7) << " " << rpad("START", 9) << " " << pad("COMM", 16) << " "
    << pad("CGROUP", 20) << " " << rpad("FAULTS", 7) << " " << rpad("COPIES", 7) << " "
    << rpad("REUSES", 7) << " " << rpad("UNSHARES", 8) << " " << rpad("SWAPADDS", 8) << " "
    << rpad("FORKCOST", 10) << "  REASONS\n";
  for (size_t i = 0; i < shown; ++i) {
    const json& r = *order[i];
    const json& c = r["counters"];
    char start[32];
    std::snprintf(start, sizeof start, "%+.3fs",
                  (double(r["start_ns"].get<uint64_t>()) - double(root_start_ns)) / 1e9);
    std::string cgroup = r["cgroup"].get<std::string>();
    o << rpad(std::to_string(r["pid"].get<uint32_t>()), 7) << " " << rpad(start, 9) << " "
      << pad(r["comm"].get<std::string>(), 16) << " " << pad(cgroup.empty() ? "?" : cgroup, 20)
      << " " << rpad(human_count(faults(&r)), 7) << " " << rpad(human_count(copies(&r)), 7) << " "
      << rpad(human_count(sum_of(c["cow_reuses"])), 7) << " "
      << rpad(human_count(sum_of(c["gup_unshares"])), 8) << " "
      << rpad(human_count(sum_of(c["swap_adds"])), 8) << " "
      << rpad(human_bytes(at(r, "fork_copied_bytes")), 10) << "  " << reasons_text(c["cow_copies"])
      << "\n";
  }
  if (shown < order.size()) {
    o << "... " << order.size() - shown << " more process(es): --all lists every one\n";
  }
}

}  // namespace

json process_rows_json(const RunTree& tree, const ForkCosts& fork_costs) {
  json rows = json::array();
  for (const auto& [key, m] : tree.members()) {
    auto cost = fork_costs.find(key);
    rows.push_back({{"pid", key.tgid},
                    {"start_ns", key.start_ns},
                    {"parent_pid", m.parent.tgid},
                    {"parent_start_ns", m.parent.start_ns},
                    {"comm", m.comm},
                    {"cgroup", m.cgroup},
                    {"exited", m.exited},
                    {"counters", model::tallies_json(model::tallies_from_counters(m.counters))},
                    {"fork_copied_bytes", cost == fork_costs.end() ? 0 : cost->second}});
  }
  return rows;
}

std::string render_run_report(const json& r, size_t top_n, bool all) {
  std::ostringstream o;
  o << "cowwatch run: " << r["command_line"].get<std::string>() << " (pid " << r["pid"]
    << ") exited with status " << r["exit_status"] << " after "
    << human_duration(r["duration_s"].get<double>()) << "; " << r["processes"]
    << " process(es) in its tree\n";
  json q = {{"scope", "tree"}, {"tree", "command"}, {"counters", r["counters"]}};
  std::string body = render_query(q);
  o << body.substr(body.find('\n') + 1);  // skip the scope line
  const json& rows = r["per_process"];
  uint64_t root_start = rows.empty() ? 0 : rows[0]["start_ns"].get<uint64_t>();
  process_table(o, rows, root_start, top_n, all);
  if (r["anomalies"].empty()) {
    o << "anomalies     none\n";
  } else {
    o << "anomalies     " << r["anomalies"].size() << "\n";
    for (const auto& e : r["anomalies"]) o << "  " << render_event(e) << "\n";
  }
  const auto& recent = r["alerts"].value("recent", json::array());
  for (const auto& a : recent) {
    o << "alert         [" << a.value("severity", "?") << "] " << a.value("rule", "?") << " "
      << a.value("state", "") << ": " << a["annotations"].value("summary", a.value("subject", ""))
      << "\n";
  }
  for (const auto& w : r["probe_warnings"]) {
    o << "note: hook " << w["hook"].get<std::string>() << " is "
      << (w["strategy"] == "unavailable" ? "unavailable on this kernel: it reports nothing"
                                         : "approximate (" + w["strategy"].get<std::string>() + ")")
      << "\n";
  }
  return o.str();
}

}  // namespace cowwatch::cli
