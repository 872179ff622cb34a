// Memory a path maps for one run: anonymous regions and files in the page cache, unmapped (and
// the file closed) when the object goes away.
#pragma once

#include <cstddef>
#include <string>

namespace cowwatch::bench {

class MappedRegion {
 public:
  MappedRegion() = default;
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;
  ~MappedRegion();

  // Private anonymous memory, THP off (MADV_NOHUGEPAGE): every 4 KiB page faults on its own.
  bool map_anonymous(size_t bytes, std::string* error);
  // A shared read-only mapping of `path` (which must be at least `bytes` long).
  bool map_file(const std::string& path, size_t bytes, std::string* error);

  // One write per page (first touch of anonymous memory).
  void write_each_page();
  // One read per page; returns a sum so the reads are not optimised away.
  unsigned read_each_page() const;
  // MADV_PAGEOUT of the whole region; false and *error when the kernel refuses it.
  bool page_out(std::string* error);
  // Pages of the region resident in memory now (mincore).
  size_t resident_pages() const;

  char* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  size_t pages() const;

 private:
  char* data_ = nullptr;
  size_t bytes_ = 0;
};

// Creates (or reuses) `dir`/name of exactly `bytes` bytes, every page written with non-zero data
// so each is a real page-cache page. Returns the path, "" and *error on failure.
std::string scratch_file(const std::string& dir, const std::string& name, size_t bytes, std::string* error);

}  // namespace cowwatch::bench
