#include "metrics/metrics_server.h"

#include <crypt.h>
#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <prometheus/exposer.h>

#include "metrics/http_stop.h"

namespace cowwatch::metrics {

using config::ClientAuth;
using config::WebConfig;

namespace {

std::optional<std::string> read_file(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot read";
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Checks that cert_file holds a certificate and key_file the private key that matches it, so a
// mistake is named here instead of civetweb's "null context when constructing CivetServer".
bool check_key_pair(const config::TlsServerConfig& tls, const std::string& cert_pem, const std::string& key_pem,
                    std::string* error) {
  BIO* cert_bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  BIO* key_bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  X509* cert = cert_bio ? PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr) : nullptr;
  EVP_PKEY* key = key_bio ? PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr) : nullptr;
  bool ok = false;
  if (!cert) *error = tls.cert_file + ": no PEM certificate";
  else if (!key) *error = tls.key_file + ": no PEM private key (encrypted keys are not supported)";
  else if (X509_check_private_key(cert, key) != 1) *error = tls.key_file + ": does not match " + tls.cert_file;
  else ok = true;
  X509_free(cert);
  EVP_PKEY_free(key);
  BIO_free(cert_bio);
  BIO_free(key_bio);
  return ok;
}

// civetweb loads OpenSSL at run time by the unversioned names libssl.so and libcrypto.so.
bool tls_runtime_available(std::string* error) {
  for (const char* lib : {"libcrypto.so", "libssl.so"}) {
    void* handle = dlopen(lib, RTLD_LAZY);
    if (!handle) {
      *error = std::string("TLS needs OpenSSL as ") + lib +
               ", which the HTTP server (civetweb) opens by that name: " + dlerror() +
               " (Debian: install libssl-dev, which provides it)";
      return false;
    }
    dlclose(handle);
  }
  return true;
}

std::string sha256(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), len);
}

}  // namespace

// What a running listener needs to live as long as it: the PEM civetweb reads (key and
// certificate in one memfd, never on disk) and the basic-auth users.
struct MetricsServer::Setup {
  int pem_fd = -1;
  std::map<std::string, std::string> users;  // user -> bcrypt hash
  std::mutex mutex;
  std::set<std::string> verified;            // sha256(user, password, hash) of accepted logins

  ~Setup() {
    if (pem_fd >= 0) close(pem_fd);
  }

  // bcrypt costs tens of milliseconds per check: a login that verified once is remembered (by a
  // digest, not the password). Unknown users cost a bcrypt too, so timing does not reveal them.
  bool check(const std::string& user, const std::string& password) {
    static const std::string kDummy = "$2b$10$nvZIAIdWLojvLf.sd1RqrOV6wPeRlzeQDGyjkNxnV5s2sB9t53Xp6";
    auto it = users.find(user);
    const std::string& hash = it != users.end() ? it->second : kDummy;
    const std::string key = sha256(user + '\0' + password + '\0' + hash);
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (it != users.end() && verified.count(key)) return true;
    }
    crypt_data data{};
    const char* out = crypt_r(password.c_str(), hash.c_str(), &data);
    const bool ok = it != users.end() && out && hash.size() == std::strlen(out) &&
                    CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
    if (ok) {
      std::lock_guard<std::mutex> lock(mutex);
      if (verified.size() >= 256) verified.clear();
      verified.insert(key);
    }
    return ok;
  }
};

MetricsServer::MetricsServer(std::string listen, std::string web_config_file,
                             std::vector<std::weak_ptr<prometheus::Collectable>> collectables)
    : listen_(std::move(listen)), web_config_file_(std::move(web_config_file)),
      collectables_(std::move(collectables)) {}

MetricsServer::~MetricsServer() { stop(); }

std::map<std::string, MetricsServer::Stamp> MetricsServer::stamps() const {
  std::map<std::string, Stamp> out;
  std::vector<std::string> files;
  if (!web_config_file_.empty()) files.push_back(web_config_file_);
  if (web_.tls) files.insert(files.end(), {web_.tls->cert_file, web_.tls->key_file, web_.tls->client_ca_file});
  for (const std::string& f : files) {
    struct stat st {};
    if (f.empty()) continue;
    if (::stat(f.c_str(), &st) != 0) {
      out[f] = {-1, -1, -1};
      continue;
    }
    out[f] = {st.st_mtim.tv_sec * 1000000000L + st.st_mtim.tv_nsec, static_cast<int64_t>(st.st_ino), st.st_size};
  }
  return out;
}

bool MetricsServer::start(std::string* error) {
  WebConfig web;
  if (!web_config_file_.empty()) {
    auto loaded = config::load_web_config(web_config_file_);
    if (!loaded) {
      *error = loaded.error();
      return false;
    }
    web = loaded.value();
  }
  return start_with(web, error);
}

bool MetricsServer::start_with(const WebConfig& web, std::string* error) {
  auto setup = std::make_shared<Setup>();
  setup->users = web.basic_auth_users;
  std::vector<std::string> options = {"listening_ports", listen_ + (web.tls ? "s" : ""),
                                      // Keep-alive on (scrapers reuse connections; civetweb closes
                                      // otherwise), but idle kept-alive connections give their
                                      // thread back after 1 s so a few busy local clients cannot
                                      // hold every worker while Prometheus waits.
                                      "num_threads", "8", "enable_keep_alive", "yes",
                                      "keep_alive_timeout_ms", "1000"};
  if (web.tls) {
    const auto& tls = *web.tls;
    const auto cert = read_file(tls.cert_file, error);
    const auto key = cert ? read_file(tls.key_file, error) : std::nullopt;
    if (!key || !check_key_pair(tls, *cert, *key, error) || !tls_runtime_available(error)) return false;
    if (tls.client_auth != ClientAuth::kNone && ::access(tls.client_ca_file.c_str(), R_OK) != 0) {
      *error = tls.client_ca_file + ": cannot read";
      return false;
    }
    setup->pem_fd = memfd_create("cowwatch-metrics-tls", MFD_CLOEXEC);
    const std::string pem = *key + "\n" + *cert;
    if (setup->pem_fd < 0 || write(setup->pem_fd, pem.data(), pem.size()) != static_cast<ssize_t>(pem.size())) {
      *error = "cannot hold the TLS key in memory (memfd)";
      return false;
    }
    options.insert(options.end(), {"ssl_certificate", "/proc/self/fd/" + std::to_string(setup->pem_fd),
                                   "ssl_protocol_version", tls.min_version >= 13 ? "5" : "4"});
    if (tls.client_auth != ClientAuth::kNone) {
      options.insert(options.end(), {"ssl_verify_peer", tls.client_auth == ClientAuth::kRequireAndVerify ? "yes" : "optional",
                                     "ssl_ca_file", tls.client_ca_file, "ssl_default_verify_paths", "no"});
    }
  }
  std::unique_ptr<prometheus::Exposer> exposer;
  stop();  // the port is ours again before the new listener binds it
  try {
    exposer = std::make_unique<prometheus::Exposer>(options);
  } catch (const std::exception& e) {
    *error = "cannot listen on " + listen_ + (web.tls ? " with TLS" : "") + ": " + e.what();
    return false;
  }
  for (const auto& c : collectables_) exposer->RegisterCollectable(c);
  if (!setup->users.empty()) {
    exposer->RegisterAuth([setup](const std::string& user, const std::string& password) {
      return setup->check(user, password);
    }, "cowwatch");
  }
  exposer_ = std::move(exposer);
  setup_ = std::move(setup);
  web_ = web;
  stamps_ = stamps();
  return true;
}

bool MetricsServer::reload_if_changed(std::string* error) {
  if (web_config_file_.empty() || stamps() == stamps_) return true;
  auto loaded = config::load_web_config(web_config_file_);
  std::string why;
  if (loaded) {
    const WebConfig previous = web_;
    if (start_with(loaded.value(), &why)) return true;
    std::string ignored;
    start_with(previous, &ignored);  // the files may have changed under it too: best effort
  } else {
    why = loaded.error();
  }
  stamps_ = stamps();  // report an invalid change once, not at every poll
  *error = why + " (the metrics endpoint keeps its previous web config)";
  return false;
}

void MetricsServer::stop() {
  stop_http_server(exposer_);
  setup_.reset();
}

std::string MetricsServer::url() const {
  return std::string(web_.tls ? "https" : "http") + "://" + listen_ + "/metrics";
}

}  // namespace cowwatch::metrics
