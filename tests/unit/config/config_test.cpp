#include "config/config.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "config/default_config.h"
#include "config/http_url.h"

namespace cowwatch::config {
namespace {

using namespace std::chrono_literals;
using alerts::RuleKind;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The error text of loading `yaml`, which must fail.
std::string error_of(const std::string& yaml) {
  auto result = load_config_string(yaml, "test.yaml");
  EXPECT_FALSE(result.ok()) << "expected an error for:\n" << yaml;
  return result.error();
}

// ---- the embedded default ----------------------------------------------------------------

TEST(DefaultConfig, EmbeddedTextIsTheShippedFile) {
  EXPECT_EQ(default_config_yaml(), read_text(COWWATCH_SHIPPED_CONFIG));
}

TEST(DefaultConfig, ParsesWithTheDocumentedValues) {
  const Config& c = default_config();
  EXPECT_EQ(c.daemon.poll_interval, 1s);
  EXPECT_EQ(c.daemon.drain_interval, 50ms);
  EXPECT_EQ(c.daemon.log_level, LogLevel::kInfo);
  EXPECT_EQ(c.metrics.listen, "127.0.0.1:9479");
  EXPECT_EQ(c.metrics.top_k_processes, 20u);
  EXPECT_EQ(c.metrics.max_cgroups, 500u);
  EXPECT_EQ(c.metrics.max_comms, 200u);
  EXPECT_EQ(c.limits.max_tracked_processes, 32768u);
  EXPECT_EQ(c.bpf.events, EventDetail::kAnomalies);
  EXPECT_EQ(c.bpf.sample_every, 1000u);
  EXPECT_EQ(c.bpf.ring_buffer_size, 16u << 20);
  EXPECT_EQ(c.bpf.control_ring_size, 1u << 20);
  EXPECT_EQ(c.probes.required, std::set<cw_hook>{CW_HOOK_WP_FAULT});
  EXPECT_TRUE(c.probes.disabled.empty());
  EXPECT_EQ(c.control_socket.path, "/run/cowwatch/cowwatch.sock");
  EXPECT_EQ(c.control_socket.group, "");
  EXPECT_EQ(c.control_socket.max_request_bytes, 65536u);
  EXPECT_EQ(c.control_socket.client_timeout, 5s);
  EXPECT_EQ(c.alertmanager.url, "");
  EXPECT_EQ(c.alertmanager.timeout, 2s);
  EXPECT_EQ(c.alertmanager.resend_interval, 1min);

  ASSERT_EQ(c.alerts.rules.size(), 6u);
  std::set<RuleKind> kinds;
  for (const auto& rule : c.alerts.rules) kinds.insert(rule.kind);
  EXPECT_EQ(kinds.size(), 6u) << "one default rule per kind";
  const auto& pinned = c.alerts.rules[0];
  EXPECT_EQ(pinned.name, "pinned_cow_copy");
  EXPECT_EQ(pinned.severity, alerts::Severity::kCritical);
  EXPECT_EQ(pinned.threshold, 1);
  const auto& extra = c.alerts.rules[4];
  EXPECT_EQ(extra.kind, RuleKind::kExtraRefCopies);
  EXPECT_EQ(extra.threshold, 0.5);
  EXPECT_EQ(extra.min_copies, 1000u);
  EXPECT_EQ(extra.severity, alerts::Severity::kInfo);
  EXPECT_EQ(c.alerts.rules[5].threshold, 4.0 * (1ull << 30));
}

TEST(DefaultConfig, RoundTripsThroughToYaml) {
  const std::string text = to_yaml(default_config());
  auto again = load_config_string(text, "round-trip");
  ASSERT_TRUE(again.ok()) << again.error() << "\n" << text;
  EXPECT_EQ(again.value(), default_config());
}

TEST(DefaultConfig, EmptyFileYieldsTheDefault) {
  auto empty = load_config_string("", "empty.yaml");
  ASSERT_TRUE(empty.ok()) << empty.error();
  EXPECT_EQ(empty.value(), default_config());
  auto comments = load_config_string("# nothing here\n", "comments.yaml");
  ASSERT_TRUE(comments.ok()) << comments.error();
  EXPECT_EQ(comments.value(), default_config());
}

// Every leaf key of the schema appears in the shipped file and in docs/configuration.md.
TEST(DefaultConfig, EveryKeyIsDocumented) {
  const std::string shipped = read_text(COWWATCH_SHIPPED_CONFIG);
  const std::string doc = read_text(COWWATCH_CONFIG_DOC);
  ASSERT_FALSE(doc.empty()) << COWWATCH_CONFIG_DOC;
  const YAML::Node root = YAML::Load(to_yaml(default_config()));
  for (auto section = root.begin(); section != root.end(); ++section) {
    const std::string name = section->first.Scalar();
    for (auto key = section->second.begin(); key != section->second.end(); ++key) {
      const std::string leaf = key->first.Scalar();
      EXPECT_NE(shipped.find("  " + leaf + ":"), std::string::npos) << name << "." << leaf;
      EXPECT_NE(doc.find("`" + name + "." + leaf + "`"), std::string::npos)
          << name << "." << leaf << " missing from docs/configuration.md";
    }
  }
  for (const char* rule_key : {"name", "kind", "scope", "threshold", "min_copies", "window", "for",
                               "cooldown", "severity", "labels"}) {
    EXPECT_NE(shipped.find(std::string("#   ") + rule_key), std::string::npos) << rule_key;
    EXPECT_NE(doc.find(std::string("`") + rule_key + "`"), std::string::npos) << rule_key;
  }
}

// ---- overlay ------------------------------------------------------------------------------

TEST(LoadConfig, OverlaysTheDefaultKeyByKey) {
  auto result = load_config_string(
      "daemon:\n"
      "  poll_interval: 250ms\n"
      "bpf:\n"
      "  ring_buffer_size: 64MiB\n"
      "probes:\n"
      "  required: [wp_fault, fork]\n"
      "  disabled: [swap_add]\n"
      "alertmanager:\n"
      "  url: http://127.0.0.1:9093\n",
      "overlay.yaml");
  ASSERT_TRUE(result.ok()) << result.error();
  const Config& c = result.value();
  EXPECT_EQ(c.daemon.poll_interval, 250ms);
  EXPECT_EQ(c.daemon.drain_interval, 50ms) << "untouched keys keep the default";
  EXPECT_EQ(c.bpf.ring_buffer_size, 64u << 20);
  EXPECT_EQ(c.probes.required, (std::set<cw_hook>{CW_HOOK_WP_FAULT, CW_HOOK_FORK}));
  EXPECT_EQ(c.probes.disabled, std::set<cw_hook>{CW_HOOK_SWAP_ADD});
  EXPECT_EQ(c.alertmanager.url, "http://127.0.0.1:9093");
  EXPECT_EQ(c.alerts.rules.size(), 6u);
}

TEST(LoadConfig, RulesReplaceTheDefaultListAndOptionalKeysDefault) {
  auto result = load_config_string(
      "alerts:\n"
      "  rules:\n"
      "    - name: big_fork\n"
      "      kind: fork_cow_blowup\n"
      "      scope: cgroup\n"
      "      threshold: 512MiB\n"
      "      window: 30s\n"
      "      severity: critical\n"
      "      labels: {team: storage}\n",
      "rules.yaml");
  ASSERT_TRUE(result.ok()) << result.error();
  ASSERT_EQ(result.value().alerts.rules.size(), 1u);
  const auto& rule = result.value().alerts.rules[0];
  EXPECT_EQ(rule.name, "big_fork");
  EXPECT_EQ(rule.kind, RuleKind::kForkCowBlowup);
  EXPECT_EQ(rule.scope, alerts::Scope::kCgroup);
  EXPECT_EQ(rule.threshold, 512.0 * (1 << 20));
  EXPECT_EQ(rule.window, 30s);
  EXPECT_EQ(rule.for_duration, 0s);
  EXPECT_EQ(rule.cooldown, 0s);
  EXPECT_EQ(rule.labels, (std::map<std::string, std::string>{{"team", "storage"}}));
}

// ---- error messages: file, key path, line and column ----------------------------------------

TEST(ConfigErrors, InvalidUtf8NamesLineAndColumn) {
  // Found by fuzz_config: the byte used to load and then not round-trip through to_yaml().
  EXPECT_EQ(error_of("alertmanager:\n  url: \"http://127.0.0\xff.1:9093/prefix\"\n"),
            "test.yaml:2:23: invalid UTF-8 byte 0xff (a configuration file is UTF-8 text)");
  EXPECT_EQ(error_of("daemon:\n  log_level: \xc0\xafinfo\n"),
            "test.yaml:2:14: invalid UTF-8 byte 0xc0 (a configuration file is UTF-8 text)");
  EXPECT_TRUE(load_config_string("# caf\xc3\xa9 \xe2\x9c\x93\ndaemon:\n  log_level: info\n", "t").ok());
  // Found by the long fuzz_config campaign (docs/reliability.md): well-formed bytes that still are
  // not UTF-8: above U+10FFFF (lead byte 0xf6), a surrogate, overlong 3- and 4-byte forms.
  EXPECT_EQ(error_of("metrics:\n  listen: \"[::1]\xf6\x9c\x90\x91:9479\"\n"),
            "test.yaml:2:17: invalid UTF-8 byte 0xf6 (a configuration file is UTF-8 text)");
  EXPECT_FALSE(load_config_string("# \xed\xa0\x80\n", "t").ok());
  EXPECT_FALSE(load_config_string("# \xe0\x80\xaf\n", "t").ok());
  EXPECT_FALSE(load_config_string("# \xf0\x80\x80\xaf\n", "t").ok());
  EXPECT_TRUE(load_config_string("# \xf4\x8f\xbf\xbf \xf0\x9f\x90\x84\n", "t").ok());
}

TEST(ConfigErrors, UnknownTopLevelKey) {
  EXPECT_EQ(error_of("daemon:\n  poll_interval: 1s\ndeamon: {}\n"),
            "test.yaml:3:1: unknown key 'deamon' (expected one of: daemon, metrics, limits, bpf, "
            "probes, control_socket, alertmanager, alerts)");
}

TEST(ConfigErrors, UnknownNestedKeyNamesPathLineAndColumn) {
  EXPECT_EQ(error_of("daemon:\n  poll_interval: 1s\n  pol_interval: 2s\n"),
            "test.yaml:3:3: unknown key 'daemon.pol_interval' (expected one of: poll_interval, "
            "drain_interval, log_level)");
}

TEST(ConfigErrors, UnknownKeyInARule) {
  const std::string e = error_of(
      "alerts:\n  rules:\n    - name: a\n      kind: pinned_cow_copy\n      scope: process\n"
      "      threshold: 1\n      window: 1m\n      severity: critical\n      treshold: 2\n");
  EXPECT_EQ(e.substr(0, e.find(" (")), "test.yaml:9:7: unknown key 'alerts.rules[0].treshold'");
}

TEST(ConfigErrors, DuplicateKey) {
  EXPECT_EQ(error_of("metrics:\n  max_comms: 10\n  max_comms: 20\n"),
            "test.yaml:3:3: metrics.max_comms: duplicate key");
}

TEST(ConfigErrors, WrongTypes) {
  EXPECT_EQ(error_of("daemon: 5\n"), "test.yaml:1:9: daemon: expected a mapping, got a scalar");
  EXPECT_EQ(error_of("metrics:\n  top_k_processes: [1, 2]\n"),
            "test.yaml:2:20: metrics.top_k_processes: expected an integer, got a list");
  EXPECT_EQ(error_of("metrics:\n  top_k_processes: twenty\n"),
            "test.yaml:2:20: metrics.top_k_processes: invalid integer 'twenty' (expected a whole "
            "number >= 0)");
  EXPECT_EQ(error_of("metrics:\n  max_cgroups: -5\n"),
            "test.yaml:2:16: metrics.max_cgroups: invalid integer '-5' (expected a whole number >= 0)");
  EXPECT_EQ(error_of("probes:\n  required: wp_fault\n"),
            "test.yaml:2:13: probes.required: expected a list of hook names, got a scalar");
  EXPECT_EQ(error_of("alerts:\n  rules: {}\n"),
            "test.yaml:2:10: alerts.rules: expected a list of rules, got a mapping");
  EXPECT_EQ(error_of("daemon:\n  poll_interval:\n"),
            "test.yaml:2:3: daemon.poll_interval: expected a duration (e.g. 50ms, 1s, 5m), got an "
            "empty value");
}

TEST(ConfigErrors, BadDuration) {
  EXPECT_EQ(error_of("daemon:\n  poll_interval: 5 minutes\n"),
            "test.yaml:2:18: daemon.poll_interval: invalid duration '5 minutes' (expected e.g. "
            "50ms, 1s, 5m, 1h30m)");
}

TEST(ConfigErrors, BadSize) {
  EXPECT_EQ(error_of("bpf:\n  ring_buffer_size: 16MB2\n"),
            "test.yaml:2:21: bpf.ring_buffer_size: invalid size '16MB2' (expected e.g. 4096, "
            "64KiB, 16MiB, 1GiB)");
}

TEST(ConfigErrors, BadEnum) {
  EXPECT_EQ(error_of("daemon:\n  log_level: verbose\n"),
            "test.yaml:2:14: daemon.log_level: invalid value 'verbose' (expected one of: debug, "
            "info, warning, error)");
  EXPECT_EQ(error_of("bpf:\n  events: some\n"),
            "test.yaml:2:11: bpf.events: invalid value 'some' (expected one of: anomalies, sample, all)");
  EXPECT_EQ(error_of("probes:\n  disabled: [fork, wp_falt]\n"),
            "test.yaml:2:20: probes.disabled[1]: unknown hook 'wp_falt' (expected one of: wp_fault, "
            "cow_copy, cow_reuse, gup_unshare, swap_add, fork, exit)");
}

TEST(ConfigErrors, OutOfRange) {
  EXPECT_EQ(error_of("metrics:\n  top_k_processes: 10001\n"),
            "test.yaml:2:20: metrics.top_k_processes: value 10001 out of range (0..10000)");
  EXPECT_EQ(error_of("bpf:\n  ring_buffer_size: 2KiB\n"),
            "test.yaml:2:21: bpf.ring_buffer_size: size 2KiB out of range (4KiB..1GiB)");
  EXPECT_EQ(error_of("bpf:\n  ring_buffer_size: 12KiB\n"),
            "test.yaml:2:21: bpf.ring_buffer_size: size 12KiB must be a power of two");
  EXPECT_EQ(error_of("daemon:\n  poll_interval: 1ms\n"),
            "test.yaml:2:18: daemon.poll_interval: duration 1ms out of range (10ms..1h)");
  EXPECT_EQ(error_of("bpf:\n  sample_every: 0\n"),
            "test.yaml:2:17: bpf.sample_every: value 0 out of range (1..1000000)");
  EXPECT_EQ(error_of("metrics:\n  listen: localhost\n"),
            "test.yaml:2:11: metrics.listen: expected host:port, got 'localhost'");
  EXPECT_EQ(error_of("metrics:\n  listen: \"127.0.0.1:99999\"\n"),
            "test.yaml:2:11: metrics.listen: port in '127.0.0.1:99999' must be 1..65535");
  EXPECT_EQ(error_of("metrics:\n  listen: \"[::1monbl]:9479\"\n"),
            "test.yaml:2:11: metrics.listen: host in '[::1monbl]:9479' must be an IPv4 address, a host "
            "name or [IPv6 address]");
  EXPECT_EQ(error_of("metrics:\n  listen: \"a..b:9479\"\n"),
            "test.yaml:2:11: metrics.listen: host in 'a..b:9479' must be an IPv4 address, a host name "
            "or [IPv6 address]");
  for (const char* ok : {"0.0.0.0:9479", "[::]:9479", "[::1]:1", "localhost:9479", "node-1.example:80"}) {
    EXPECT_TRUE(load_config_string(std::string("metrics:\n  listen: \"") + ok + "\"\n", "t").ok()) << ok;
  }
  EXPECT_EQ(error_of("control_socket:\n  path: run/cw.sock\n"),
            "test.yaml:2:9: control_socket.path: must be an absolute path");
}

TEST(ConfigErrors, CrossFieldChecks) {
  EXPECT_EQ(error_of("probes:\n  disabled: [wp_fault]\n"),
            "test.yaml:2:3: probes: hook 'wp_fault' is both required and disabled");
  EXPECT_EQ(error_of("alertmanager:\n  url: https://am.example:9093\n"),
            "test.yaml:2:8: alertmanager.url: https is not supported (the client speaks plain "
            "HTTP/1.1; reach Alertmanager over loopback or a local proxy)");
}

const char* kRuleHead =
    "alerts:\n"
    "  rules:\n"
    "    - name: r1\n";

TEST(ConfigErrors, RuleMissingRequiredKey) {
  EXPECT_EQ(error_of(std::string(kRuleHead) +
                     "      kind: unshare_storm\n      scope: process\n      threshold: 10\n"
                     "      severity: warning\n"),
            "test.yaml:3:7: alerts.rules[0]: missing required key 'window'");
  EXPECT_EQ(error_of(std::string(kRuleHead) +
                     "      kind: extra_ref_copies\n      scope: host\n      threshold: 0.5\n"
                     "      window: 1m\n      severity: info\n"),
            "test.yaml:3:7: alerts.rules[0]: missing required key 'min_copies'");
}

TEST(ConfigErrors, RuleValues) {
  const std::string tail = "      scope: process\n      window: 1m\n      severity: warning\n";
  EXPECT_EQ(error_of(std::string(kRuleHead) + "      kind: cow_storm\n      threshold: 1\n" + tail),
            "test.yaml:4:13: alerts.rules[0].kind: invalid value 'cow_storm' (expected one of: "
            "pinned_cow_copy, fork_with_pins, unshare_storm, pinned_swap_attempt, "
            "extra_ref_copies, fork_cow_blowup)");
  EXPECT_EQ(error_of(std::string(kRuleHead) + "      kind: extra_ref_copies\n      threshold: 1.5\n" +
                     "      min_copies: 10\n" + tail),
            "test.yaml:5:18: alerts.rules[0].threshold: value 1.5 out of range (> 0..1)");
  EXPECT_EQ(error_of(std::string(kRuleHead) + "      kind: fork_cow_blowup\n      threshold: lots\n" + tail),
            "test.yaml:5:18: alerts.rules[0].threshold: invalid size 'lots' (expected e.g. 4096, "
            "64KiB, 16MiB, 1GiB)");
  EXPECT_EQ(error_of(std::string(kRuleHead) + "      kind: pinned_cow_copy\n      threshold: 1\n" +
                     "      min_copies: 3\n" + tail),
            "test.yaml:6:19: alerts.rules[0].min_copies: only applies to kind extra_ref_copies");
  EXPECT_EQ(error_of(std::string(kRuleHead) + "      kind: pinned_cow_copy\n      threshold: 1\n" +
                     "      labels: {severity: page}\n" + tail),
            "test.yaml:6:16: alerts.rules[0].labels.severity: label name is set by cowwatch itself");
  EXPECT_EQ(error_of(std::string(kRuleHead) + "      kind: pinned_cow_copy\n      threshold: 1\n" + tail +
                     "    - name: r1\n      kind: pinned_cow_copy\n      threshold: 1\n" + tail),
            "test.yaml:9:13: alerts.rules[1].name: duplicate rule name 'r1'");
}

TEST(ConfigErrors, YamlSyntaxError) {
  const std::string e = error_of("daemon:\n  poll_interval: [1s\n");
  EXPECT_EQ(e.rfind("test.yaml:3:1: YAML syntax error: ", 0), 0u) << e;
}

TEST(ConfigErrors, MissingFile) {
  auto result = load_config_file("/nonexistent/cowwatch.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), "/nonexistent/cowwatch.yaml: cannot open: No such file or directory");
}

TEST(ConfigErrors, FileErrorsNameTheFile) {
  char path[] = "/tmp/cowwatch-config-test-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "daemon:\n  log_level: loud\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  auto result = load_config_file(path);
  unlink(path);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), std::string(path) +
                                ":2:14: daemon.log_level: invalid value 'loud' (expected one of: "
                                "debug, info, warning, error)");
}

TEST(ConfigErrors, ReadsAGoodFile) {
  char path[] = "/tmp/cowwatch-config-test-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "daemon:\n  log_level: debug\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  auto result = load_config_file(path);
  unlink(path);
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result.value().daemon.log_level, LogLevel::kDebug);
}

// ---- URL ------------------------------------------------------------------------------------

TEST(HttpUrl, Parses) {
  auto u = parse_http_url("http://127.0.0.1:9093");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u.value(), (HttpUrl{"127.0.0.1", 9093, ""}));
  u = parse_http_url("http://am.local/prefix/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u.value(), (HttpUrl{"am.local", 80, "/prefix"}));
  u = parse_http_url("http://[::1]:9093/x");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u.value(), (HttpUrl{"::1", 9093, "/x"}));
  EXPECT_FALSE(parse_http_url("http://:9093").ok());
  EXPECT_FALSE(parse_http_url("http://host:0").ok());
  EXPECT_FALSE(parse_http_url("http://host:").ok());
  EXPECT_FALSE(parse_http_url("ftp://host").ok());
  EXPECT_FALSE(parse_http_url("http://u:p@host").ok());
}

}  // namespace
}  // namespace cowwatch::config
