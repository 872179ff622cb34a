// Reclaim that never copies: MADV_PAGEOUT (reclaim_pages -> shrink_folio_list, the path kswapd
// and memcg limits take too) of touched anonymous memory (to swap) or of a file's page cache.
#include <string>

#include "paths/mapped_region.h"
#include "paths/path.h"
#include "util/system.h"

namespace cowwatch::bench {
namespace {

// Pages reclaimed by the last run, for the table's notes (a pageout that reclaimed nothing
// would time nothing).
std::string reclaimed_note(size_t reclaimed, size_t pages) {
  return "last run reclaimed " + std::to_string(reclaimed) + " of " + std::to_string(pages) + " pages";
}

class ReclaimAnonPath final : public Path {
 public:
  explicit ReclaimAnonPath(size_t bytes) : bytes_(bytes) {}
  std::string key() const override { return "reclaim-anon"; }
  std::string title() const override { return "reclaim anon -> swap, MADV_PAGEOUT " + mib_text(bytes_); }
  std::string unit() const override { return "page"; }
  bool available(std::string* why) override {
    uint64_t swap_kb = meminfo_kb("SwapTotal");
    if (swap_kb * 1024 < bytes_ + bytes_ / 4) {
      *why = "needs " + mib_text(bytes_ + bytes_ / 4) + " of swap, SwapTotal is " + std::to_string(swap_kb) + " kB";
      return false;
    }
    return true;
  }
  PathRun run(TimedSpan& span) override {
    PathRun r;
    MappedRegion region;
    if (!region.map_anonymous(bytes_, &r.error)) return r;
    region.write_each_page();
    uint64_t out0 = vmstat_value("pswpout");
    span.begin();
    uint64_t t0 = monotonic_ns();
    if (!region.page_out(&r.error)) return r;
    uint64_t t1 = monotonic_ns();
    span.end();
    reclaimed_ = vmstat_value("pswpout") - out0;
    pages_ = region.pages();
    r.ok = true;
    r.ops = pages_;
    r.ns_per_op = double(t1 - t0) / double(r.ops);
    return r;  // munmap frees the swap slots (not timed)
  }
  std::string note() const override { return reclaimed_note(reclaimed_, pages_); }

 private:
  size_t bytes_;
  size_t reclaimed_ = 0, pages_ = 0;
};

class ReclaimFilePath final : public FilePath {
 public:
  ReclaimFilePath(size_t bytes, std::string dir) : FilePath(bytes, std::move(dir), "reclaim.dat") {}
  std::string key() const override { return "reclaim-file"; }
  std::string title() const override { return "reclaim file pages, MADV_PAGEOUT " + mib_text(bytes_); }
  std::string unit() const override { return "page"; }
  PathRun run(TimedSpan& span) override {
    PathRun r;
    MappedRegion region;
    if (!region.map_file(path_, bytes_, &r.error)) return r;
    sink_ += region.read_each_page();  // maps every page (reading it back in if reclaimed)
    span.begin();
    uint64_t t0 = monotonic_ns();
    if (!region.page_out(&r.error)) return r;
    uint64_t t1 = monotonic_ns();
    span.end();
    pages_ = region.pages();
    reclaimed_ = pages_ - region.resident_pages();
    r.ok = true;
    r.ops = pages_;
    r.ns_per_op = double(t1 - t0) / double(r.ops);
    return r;
  }
  std::string note() const override { return reclaimed_note(reclaimed_, pages_); }

 private:
  size_t reclaimed_ = 0, pages_ = 0;
};

}  // namespace

std::unique_ptr<Path> make_reclaim_anon_path(size_t bytes) { return std::make_unique<ReclaimAnonPath>(bytes); }
std::unique_ptr<Path> make_reclaim_file_path(size_t bytes, const std::string& dir) {
  return std::make_unique<ReclaimFilePath>(bytes, dir);
}

}  // namespace cowwatch::bench
