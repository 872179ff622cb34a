#include "config/web_config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace cowwatch::config {
namespace {

struct WebConfigError {
  std::string message;
};

class Parser {
 public:
  explicit Parser(std::string name) : name_(std::move(name)) {}

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& key, const std::string& what) const {
    std::string message = name_;
    if (mark.line >= 0) message += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    throw WebConfigError{message + ": " + (key.empty() ? "" : key + ": ") + what};
  }

  std::string scalar(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node.Mark(), key, "expected a string");
    return node.Scalar();
  }

  // Visits each key of a mapping (null: none); keys outside `known` are errors.
  template <class Visit>
  void each(const YAML::Node& map, const std::string& where, const std::set<std::string>& known, Visit visit) const {
    if (map.IsNull()) return;
    if (!map.IsMap()) fail(map.Mark(), where, "expected a mapping");
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string key = scalar(it->first, where);
      const std::string path = where.empty() ? key : where + "." + key;
      if (!seen.insert(key).second) fail(it->first.Mark(), path, "duplicate key");
      if (!known.count(key)) fail(it->first.Mark(), path, unknown_key_reason(key));
      visit(key, path, it->second);
    }
  }

  WebConfig parse(const YAML::Node& root) const {
    WebConfig out;
    each(root, "", {"tls_server_config", "basic_auth_users"},
         [&](const std::string& key, const std::string& path, const YAML::Node& value) {
           if (key == "tls_server_config") out.tls = tls(value, path);
           if (key == "basic_auth_users") users(value, path, out.basic_auth_users);
         });
    return out;
  }

 private:
  static std::string unknown_key_reason(const std::string& key) {
    static const std::set<std::string> unsupported = {
        "http_server_config", "cipher_suites", "curve_preferences", "max_version",
        "prefer_server_cipher_suites", "client_allowed_sans", "cert", "key", "rate_limit"};
    if (unsupported.count(key)) return "not supported by cowwatch (remove it)";
    return "unknown key";
  }

  TlsServerConfig tls(const YAML::Node& map, const std::string& where) const {
    TlsServerConfig t;
    std::string auth = "NoClientCert";
    YAML::Mark auth_mark = map.Mark();
    each(map, where, {"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version"},
         [&](const std::string& key, const std::string& path, const YAML::Node& value) {
           if (key == "cert_file") t.cert_file = scalar(value, path);
           if (key == "key_file") t.key_file = scalar(value, path);
           if (key == "client_ca_file") t.client_ca_file = scalar(value, path);
           if (key == "client_auth_type") {
             auth = scalar(value, path);
             auth_mark = value.Mark();
           }
           if (key == "min_version") {
             const std::string v = scalar(value, path);
             if (v == "TLS12") t.min_version = 12;
             else if (v == "TLS13") t.min_version = 13;
             else fail(value.Mark(), path, "'" + v + "': cowwatch serves TLS12 or TLS13");
           }
         });
    if (t.cert_file.empty() || t.key_file.empty()) {
      fail(map.Mark(), where, "cert_file and key_file are both required for TLS");
    }
    const std::string auth_key = where + ".client_auth_type";
    if (auth == "NoClientCert") t.client_auth = ClientAuth::kNone;
    else if (auth == "VerifyClientCertIfGiven") t.client_auth = ClientAuth::kVerifyIfGiven;
    else if (auth == "RequireAndVerifyClientCert") t.client_auth = ClientAuth::kRequireAndVerify;
    else if (auth == "RequestClientCert" || auth == "RequireAnyClientCert")
      fail(auth_mark, auth_key, "'" + auth + "' (a client certificate that is not verified) is not supported: "
                                "use VerifyClientCertIfGiven or RequireAndVerifyClientCert");
    else fail(auth_mark, auth_key, "invalid value '" + auth + "' (expected NoClientCert, "
                                   "VerifyClientCertIfGiven or RequireAndVerifyClientCert)");
    if (t.client_auth != ClientAuth::kNone && t.client_ca_file.empty()) {
      fail(auth_mark, auth_key, auth + " needs client_ca_file");
    }
    return t;
  }

  void users(const YAML::Node& map, const std::string& where, std::map<std::string, std::string>& out) const {
    if (map.IsNull()) return;
    if (!map.IsMap()) fail(map.Mark(), where, "expected a mapping of user: bcrypt hash");
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string user = scalar(it->first, where);
      const std::string path = where + "." + user;
      if (user.empty() || user.find(':') != std::string::npos) fail(it->first.Mark(), path, "invalid user name");
      const std::string hash = scalar(it->second, path);
      const bool bcrypt = hash.size() == 60 && hash[0] == '$' && hash[1] == '2' &&
                          (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y') && hash[3] == '$';
      if (!bcrypt) fail(it->second.Mark(), path, "not a bcrypt hash ($2y$/$2b$/$2a$, 60 characters)");
      if (!out.emplace(user, hash).second) fail(it->first.Mark(), path, "duplicate user");
    }
  }

  std::string name_;
};

}  // namespace

Result<WebConfig> parse_web_config(const std::string& text, const std::string& name) {
  try {
    return Result<WebConfig>::success(Parser(name).parse(YAML::Load(text)));
  } catch (const WebConfigError& e) {
    return Result<WebConfig>::failure(e.message);
  } catch (const YAML::Exception& e) {
    std::string where = name;
    if (e.mark.line >= 0) where += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    return Result<WebConfig>::failure(where + ": " + e.msg);
  }
}

Result<WebConfig> load_web_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Result<WebConfig>::failure(path + ": cannot read the web config file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_web_config(text.str(), path);
}

}  // namespace cowwatch::config
