// Faults that never copy: first touch of anonymous memory and read faults on page-cache pages.
#include <string>

#include "paths/mapped_region.h"
#include "paths/path.h"
#include "util/system.h"

namespace cowwatch::bench {
namespace {

class FirstTouchPath final : public Path {
 public:
  explicit FirstTouchPath(size_t bytes) : bytes_(bytes) {}
  std::string key() const override { return "touch"; }
  std::string title() const override { return "first-touch anon fault, mmap+memset " + mib_text(bytes_); }
  std::string unit() const override { return "page"; }
  PathRun run(TimedSpan& span) override {
    PathRun r;
    MappedRegion region;
    if (!region.map_anonymous(bytes_, &r.error)) return r;
    span.begin();
    uint64_t t0 = monotonic_ns();
    region.write_each_page();
    uint64_t t1 = monotonic_ns();
    span.end();
    r.ok = true;
    r.ops = region.pages();
    r.ns_per_op = double(t1 - t0) / double(r.ops);
    return r;  // munmap (freeing the pages) is not timed
  }

 private:
  size_t bytes_;
};

class FileReadPath final : public FilePath {
 public:
  FileReadPath(size_t bytes, std::string dir) : FilePath(bytes, std::move(dir), "read.dat") {}
  std::string key() const override { return "fileread"; }
  std::string title() const override { return "file read fault, page cache, " + mib_text(bytes_); }
  std::string unit() const override { return "page"; }
  PathRun run(TimedSpan& span) override {
    PathRun r;
    {
      MappedRegion warm;  // bring every page into the page cache (not timed)
      if (!warm.map_file(path_, bytes_, &r.error)) return r;
      sink_ += warm.read_each_page();
    }
    MappedRegion region;
    if (!region.map_file(path_, bytes_, &r.error)) return r;
    span.begin();
    uint64_t t0 = monotonic_ns();
    sink_ += region.read_each_page();
    uint64_t t1 = monotonic_ns();
    span.end();
    r.ok = true;
    r.ops = region.pages();
    r.ns_per_op = double(t1 - t0) / double(r.ops);
    return r;
  }
};

}  // namespace

std::unique_ptr<Path> make_first_touch_path(size_t bytes) { return std::make_unique<FirstTouchPath>(bytes); }
std::unique_ptr<Path> make_file_read_path(size_t bytes, const std::string& dir) {
  return std::make_unique<FileReadPath>(bytes, dir);
}

}  // namespace cowwatch::bench
