// A private temporary directory for socket files, removed with its contents at scope end.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace cowwatch::control::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/cowwatch-test-XXXXXX";
    char* p = mkdtemp(tmpl.data());
    path_ = p ? p : "";
    // Searchable by others so that a test child running as nobody can reach a socket in it.
    chmod(path_.c_str(), 0755);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace cowwatch::control::testing
