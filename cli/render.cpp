#include "cli/render.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <sstream>
#include <vector>

namespace cowwatch::cli {
namespace {

using nlohmann::json;

// A count from a JSON number; floats saturate to [0, 2^64) rather than overflow the conversion.
uint64_t count_of(const json& v) {
  if (!v.is_number_float()) return v.get<uint64_t>();
  double d = v.get<double>();
  if (!(d > 0)) return 0;
  if (d >= 18446744073709551615.0) return UINT64_MAX;
  return static_cast<uint64_t>(d);
}

uint64_t num(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  return count_of(*it);
}

double real(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::string str(const json& j, const char* key, const std::string& fallback = "") {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->is_string() ? it->get<std::string>() : it->dump();
}

const json& sub(const json& j, const char* key) {
  static const json kEmpty = json::object();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  vsnprintf(buf, sizeof(buf), f, ap);
  va_end(ap);
  return buf;
}

// "a 1  b 2" over an object's numeric members; only non-zero ones when skip_zero.
std::string pairs(const json& obj, bool skip_zero) {
  std::string out;
  if (!obj.is_object()) return out;
  for (const auto& [k, v] : obj.items()) {
    if (!v.is_number()) continue;
    uint64_t n = count_of(v);
    if (skip_zero && n == 0) continue;
    if (!out.empty()) out += "  ";
    out += k + " " + std::to_string(n);
  }
  return out.empty() ? (skip_zero ? "none" : "") : out;
}

uint64_t sum_obj(const json& obj) {
  uint64_t t = 0;
  if (obj.is_object()) {
    for (const auto& [k, v] : obj.items()) {
      if (v.is_number_unsigned() || v.is_number_integer()) t += v.get<uint64_t>();
    }
  }
  return t;
}

std::string alert_line(const json& a) {
  std::string line = "[" + str(a, "severity", "?") + "] " + str(a, "rule", "?") + "  ";
  const json& ann = sub(a, "annotations");
  line += ann.contains("summary") ? str(ann, "summary") : str(a, "subject", "");
  line += "  since " + str(a, "starts_at", "?");
  if (a.contains("state")) line += "  (" + str(a, "state") + ")";
  return line;
}

void counters_block(std::ostringstream& o, const json& c) {
  const json& wp = sub(c, "wp_faults");
  o << "  wp faults     write " << num(wp, "write") << "  unshare " << num(wp, "unshare")
    << "  remote " << num(c, "wp_faults_remote") << "  approx " << num(c, "wp_faults_approx")
    << "\n";
  o << "  decisions     " << pairs(sub(c, "decisions"), true) << "\n";
  o << "  cow copies    " << num(c, "cow_copies_total") << " ("
    << human_bytes(num(c, "cow_copied_bytes")) << ")  by reason: "
    << pairs(sub(c, "cow_copies"), true) << "\n";
  const json& reuse = sub(c, "cow_reuses");
  o << "  reuses        exclusive " << num(reuse, "exclusive") << "  sole_ref "
    << num(reuse, "sole_ref") << "\n";
  const json& unshare = sub(c, "gup_unshares");
  o << "  gup unshares  copy " << num(unshare, "copy") << "  noop " << num(unshare, "noop")
    << "\n";
  const json& unmerge = sub(c, "ksm_unmerges");
  o << "  ksm unmerges  copy " << num(unmerge, "copy") << "  noop " << num(unmerge, "noop") << "\n";
  const json& swap = sub(c, "swap_adds");
  o << "  swap adds     unpinned " << num(swap, "unpinned") << "  pinned " << num(swap, "pinned")
    << "  pinned swap skips " << num(c, "pinned_swap_skips") << "\n";
  const json& forks = sub(c, "forks");
  o << "  forks         none " << num(forks, "none") << "  mm_has_pinned "
    << num(forks, "mm_has_pinned") << "  longterm " << num(forks, "longterm") << "\n";
}

std::string episode_line(const json& e) {
  const json& parent = sub(e, "parent");
  const json& child = sub(e, "child");
  std::string line = "fork #" + str(e, "id", "?") + ": parent " + str(parent, "pid", "?") + " (" +
                     str(e, "parent_comm") + ") -> child " + str(child, "pid", "?") + "  copied " +
                     human_bytes(num(e, "copied_bytes")) + " (parent " +
                     human_bytes(num(e, "parent_copied_bytes")) + ", child " +
                     human_bytes(num(e, "child_copied_bytes")) + ")";
  if (num(e, "projected_bytes") > 0) {
    line += "  projected " + human_bytes(num(e, "projected_bytes")) + " in " +
            human_duration(real(e, "projection_horizon_s"));
  }
  if (e.contains("parent_rss_anon_bytes") && !e["parent_rss_anon_bytes"].is_null()) {
    line += "  parent anon rss " + human_bytes(num(e, "parent_rss_anon_bytes"));
  }
  if (num(e, "parent_pinned_pages") > 0) {
    line += "  pinned pages " + std::to_string(num(e, "parent_pinned_pages"));
  }
  if (e.value("live", false) == false) line += "  (ended)";
  return line;
}

}  // namespace

std::string pad(std::string s, size_t width) {
  if (s.size() > width) s = s.substr(0, width);
  s.resize(width, ' ');
  return s;
}

std::string rpad(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::string human_bytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  return fmt("%.1f %s", v, kUnits[u]);
}

std::string human_count(uint64_t n) {
  if (n < 10000) return std::to_string(n);
  if (n < 10'000'000) return fmt("%.1fk", static_cast<double>(n) / 1e3);
  if (n < 10'000'000'000ull) return fmt("%.1fM", static_cast<double>(n) / 1e6);
  return fmt("%.1fG", static_cast<double>(n) / 1e9);
}

std::string human_duration(double seconds) {
  auto s = static_cast<uint64_t>(seconds + 0.5);
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return fmt("%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
  if (s < 86400) return fmt("%" PRIu64 "h%02" PRIu64 "m", s / 3600, (s % 3600) / 60);
  return fmt("%" PRIu64 "d%02" PRIu64 "h", s / 86400, (s % 86400) / 3600);
}

std::string render_status(const json& st) {
  std::ostringstream o;
  const json& d = sub(st, "daemon");
  o << "cowwatchd " << str(d, "version", "?");
  if (d.contains("source")) o << " (" << str(d, "source") << ")";
  if (d.contains("pid")) o << ", pid " << str(d, "pid");
  if (d.contains("uptime_s")) o << ", up " << human_duration(real(d, "uptime_s"));
  o << "\n";
  o << "kernel      " << str(st, "kernel", "?") << "\n";
  if (d.contains("processes")) o << "processes   " << num(d, "processes") << " tracked\n";
  if (d.contains("events")) {
    o << "events      " << pairs(sub(d, "events"), false) << "\n";
    if (d.contains("rates_per_s")) o << "event rate  " << pairs(sub(d, "rates_per_s"), false) << " /s\n";
  }
  if (d.contains("samples")) {
    o << "data        " << num(d, "samples") << " counter samples, " << num(d, "lost")
      << " events lost by the recorder\n";
  }
  if (d.contains("drops")) {
    uint64_t total = sum_obj(sub(d, "drops"));
    o << "drops       " << (total == 0 ? std::string("none") : pairs(sub(d, "drops"), true))
      << "\n";
  }
  if (st.contains("probes") && st["probes"].is_array()) {
    size_t exact = 0, unavailable = 0;
    for (const auto& h : st["probes"]) {
      if (h.value("exact", false)) ++exact;
      if (str(h, "strategy") == "unavailable") ++unavailable;
    }
    o << "probes      " << st["probes"].size() << " hooks: " << exact << " exact, "
      << st["probes"].size() - exact - unavailable << " approximate, " << unavailable
      << " unavailable\n";
    for (const auto& h : st["probes"]) {
      o << "  " << pad(str(h, "hook"), 12) << " " << pad(str(h, "strategy"), 11) << " "
        << (str(h, "target").empty() ? "-" : str(h, "target"))
        << (h.value("exact", false) || str(h, "strategy") == "unavailable" ? "" : "  (not exact)")
        << "\n";
    }
  }
  const json& alerts = sub(st, "alerts");
  const json& active = alerts.contains("active") ? alerts["active"] : json::array();
  if (active.empty()) {
    o << "alerts      none active\n";
  } else {
    o << "alerts      " << active.size() << " active\n";
    for (const auto& a : active) o << "  " << alert_line(a) << "\n";
  }
  return o.str();
}

std::string render_probes(const json& plan) {
  std::ostringstream o;
  o << "kernel " << str(plan, "kernel_release", "?") << "\n";
  if (!plan.contains("hooks") || !plan["hooks"].is_array()) return o.str();
  o << pad("HOOK", 12) << " " << pad("STRATEGY", 11) << " " << pad("EXACT", 5) << " TARGET\n";
  for (const auto& h : plan["hooks"]) {
    o << pad(str(h, "hook"), 12) << " " << pad(str(h, "strategy"), 11) << " "
      << pad(h.value("exact", false) ? "yes" : "no", 5) << " "
      << (str(h, "target").empty() ? "-" : str(h, "target")) << "\n";
    if (!str(h, "accuracy").empty()) o << "    accuracy: " << str(h, "accuracy") << "\n";
    if (h.contains("ladder") && h["ladder"].is_array()) {
      for (const auto& r : h["ladder"]) {
        std::string target = str(r, "target", "-");
        o << "    " << (r.value("chosen", false) ? "* " : "  ") << pad(str(r, "strategy"), 11)
          << " " << (target.size() < 28 ? pad(target, 28) : target) << " " << str(r, "outcome")
          << "\n";
      }
    }
  }
  return o.str();
}

std::string render_top(const json& top) {
  std::ostringstream o;
  std::string by = str(top, "by", "process");
  o << "top " << (top.contains("rows") ? top["rows"].size() : 0) << " by " << by
    << ", sorted by " << str(top, "sort", "copies");
  if (real(top, "interval_s") > 0) o << fmt(", last interval %.1fs", real(top, "interval_s"));
  o << "\n";
  if (by == "process") {
    o << rpad("PID", 7) << " " << pad("COMM", 16) << " " << pad("CGROUP", 24);
  } else {
    o << pad(by == "cgroup" ? "CGROUP" : "COMM", 32) << " " << rpad("PROCS", 5);
  }
  o << " " << rpad("FAULTS", 8) << " " << rpad("COPIES", 8) << " " << rpad("COPIED", 10) << " "
    << rpad("UNSHARES", 8) << " " << rpad("SWAPADDS", 8) << " " << rpad("RATE/s", 10) << "\n";
  if (!top.contains("rows") || !top["rows"].is_array()) return o.str();
  for (const auto& row : top["rows"]) {
    const json& c = sub(row, "counters");
    if (by == "process") {
      o << rpad(str(row, "pid"), 7) << " " << pad(str(row, "comm"), 16) << " "
        << pad(str(row, "cgroup", "-").empty() ? "-" : str(row, "cgroup", "-"), 24);
    } else {
      o << pad(str(row, by.c_str()), 32) << " " << rpad(std::to_string(num(row, "processes")), 5);
    }
    uint64_t faults = sum_obj(sub(c, "wp_faults")) + num(c, "wp_faults_approx");
    o << " " << rpad(human_count(faults), 8) << " " << rpad(human_count(num(c, "cow_copies_total")), 8)
      << " " << rpad(human_bytes(num(c, "cow_copied_bytes")), 10) << " "
      << rpad(human_count(sum_obj(sub(c, "gup_unshares"))), 8) << " "
      << rpad(human_count(sum_obj(sub(c, "swap_adds"))), 8) << " "
      << rpad(str(top, "sort") == "copied_bytes"
                  ? human_bytes(static_cast<uint64_t>(real(row, "rate_per_s")))
                  : fmt("%.1f", real(row, "rate_per_s")),
              10)
      << "\n";
  }
  return o.str();
}

std::string render_query(const json& q) {
  std::ostringstream o;
  std::string scope = str(q, "scope", "pid");
  if (scope == "pid") {
    o << "pid " << str(q, "pid") << " (" << str(q, "comm", "?") << ")  cgroup "
      << (str(q, "cgroup").empty() ? "?" : str(q, "cgroup"))
      << (q.value("exited", false) ? "  [exited]" : "") << "\n";
  } else {
    o << scope << " " << str(q, scope.c_str()) << "  (" << num(q, "live_processes")
      << " live processes)\n";
  }
  counters_block(o, sub(q, "counters"));
  if (q.contains("rates_per_s") && real(q, "interval_s") > 0) {
    const json& r = sub(q, "rates_per_s");
    o << fmt("  rates /s      faults %.1f  copies %.1f  copied %s/s  unshares %.1f  swap adds %.1f\n",
             real(r, "wp_faults"), real(r, "copies"),
             human_bytes(static_cast<uint64_t>(real(r, "copied_bytes"))).c_str(),
             real(r, "unshares"), real(r, "swap_adds"));
  }
  if (scope == "pid" && num(q, "anomaly_events") > 0) {
    o << "  anomalies     " << num(q, "anomaly_events") << " anomaly events\n";
  }
  const json& fork = sub(q, "fork");
  std::vector<json> episodes;
  if (fork.contains("as_child") && fork["as_child"].is_object()) episodes.push_back(fork["as_child"]);
  for (const char* key : {"as_parent", "episodes"}) {
    if (fork.contains(key) && fork[key].is_array()) {
      for (const auto& e : fork[key]) episodes.push_back(e);
    }
  }
  if (scope == "comm" && fork.contains("copied_bytes_total")) {
    o << "fork cost     " << human_bytes(num(fork, "copied_bytes_total"))
      << " copied by forks of this comm\n";
  } else if (scope == "pid" && num(q, "fork_copied_bytes") > 0) {
    o << "fork cost     " << human_bytes(num(q, "fork_copied_bytes")) << " copied, projected "
      << human_bytes(num(q, "fork_projected_bytes")) << "\n";
  }
  for (const auto& e : episodes) o << "  " << episode_line(e) << "\n";
  if (q.contains("processes") && q["processes"].is_array() && !q["processes"].empty()) {
    o << "processes\n";
    for (const auto& p : q["processes"]) {
      const json& c = sub(p, "counters");
      o << "  " << rpad(str(p, "pid"), 7) << " " << pad(str(p, "comm"), 16) << " copies "
        << num(c, "cow_copies_total") << " (" << human_bytes(num(c, "cow_copied_bytes")) << ")\n";
    }
  }
  if (q.contains("alerts") && q["alerts"].is_array()) {
    if (q["alerts"].empty()) {
      o << "alerts        none active\n";
    } else {
      o << "alerts\n";
      for (const auto& a : q["alerts"]) o << "  " << alert_line(a) << "\n";
    }
  }
  return o.str();
}

std::string render_alerts(const json& alerts) {
  std::ostringstream o;
  const json active = alerts.contains("active") ? alerts["active"] : json::array();
  if (active.empty()) {
    o << "no active alerts\n";
  } else {
    o << active.size() << " active alert" << (active.size() == 1 ? "" : "s") << "\n";
    for (const auto& a : active) o << "  " << alert_line(a) << "\n";
  }
  if (alerts.contains("recent") && alerts["recent"].is_array()) {
    o << "recent (newest first)\n";
    if (alerts["recent"].empty()) o << "  none\n";
    for (const auto& a : alerts["recent"]) o << "  " << alert_line(a) << "\n";
  }
  return o.str();
}

std::string render_event(const json& e) {
  std::string type = str(e, "type");
  std::string line = fmt("%.6f ", static_cast<double>(num(e, "ts_ns")) / 1e9) + pad(type, 6) +
                     " " + pad(str(e, "hook"), 11) + " pid " + str(e, "tgid");
  if (num(e, "pid") != num(e, "tgid")) line += "/" + str(e, "pid");
  line += " " + str(e, "comm");
  if (num(e, "actor_tgid") != num(e, "tgid")) line += " by " + str(e, "actor_tgid");
  if (type == "fault") {
    line += "  " + str(e, "decision");
    if (str(e, "reason") != "none") line += " " + str(e, "reason");
    line += fmt("  addr 0x%" PRIx64 " ref %d map %d", num(e, "address"),
                e.value("refcount", 0), e.value("mapcount", 0));
    if (num(e, "folio_order") > 0) line += " order " + str(e, "folio_order");
    uint64_t ff = num(e, "fault_flags");
    line += std::string("  ") + ((ff & 0x02) ? "unshare" : "write") + ((ff & 0x04) ? " remote" : "") +
            ((ff & 0x08) ? " ksm_unmerge" : "");
    uint64_t pf = num(e, "page_flags");
    static const char* kPageFlags[] = {"anon", "ksm", "swapcache", "exclusive",
                                       "pinned", "large", "zero", "mm_pinned"};
    std::string flags;
    for (int b = 0; b < 8; ++b) {
      if (pf & (1u << b)) flags += (flags.empty() ? "" : ",") + std::string(kPageFlags[b]);
    }
    if (!flags.empty()) line += " [" + flags + "]";
  } else if (type == "fork") {
    line += "  child " + str(e, "aux2") + "  parent pinned_vm " + str(e, "aux1") + " pages";
  } else if (type == "exit") {
    line += "  exit_code " + str(e, "aux1");
  } else if (type == "swap_add" || type == "pinned_swap_skip") {
    line += "  memcg " + str(e, "aux0");
  }
  if (num(e, "anomaly") != 0) line += "  ANOMALY";
  return line;
}

}  // namespace cowwatch::cli
