#include "paths/mapped_region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "paths/path.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

namespace cowwatch::bench {

MappedRegion::~MappedRegion() {
  if (data_) munmap(data_, bytes_);
}

size_t MappedRegion::pages() const { return bytes_ / kPage; }

bool MappedRegion::map_anonymous(size_t bytes, std::string* error) {
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    *error = std::string("mmap ") + std::to_string(bytes >> 20) + " MiB anonymous: " + strerror(errno);
    return false;
  }
  madvise(mem, bytes, MADV_NOHUGEPAGE);
  data_ = static_cast<char*>(mem);
  bytes_ = bytes;
  return true;
}

bool MappedRegion::map_file(const std::string& path, size_t bytes, std::string* error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "open " + path + ": " + strerror(errno);
    return false;
  }
  void* mem = mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  int saved = errno;
  close(fd);
  if (mem == MAP_FAILED) {
    *error = "mmap " + path + ": " + strerror(saved);
    return false;
  }
  data_ = static_cast<char*>(mem);
  bytes_ = bytes;
  return true;
}

void MappedRegion::write_each_page() {
  volatile char* p = data_;
  for (size_t off = 0; off < bytes_; off += kPage) p[off] = 1;
}

unsigned MappedRegion::read_each_page() const {
  const volatile char* p = data_;
  unsigned sum = 0;
  for (size_t off = 0; off < bytes_; off += kPage) sum += static_cast<unsigned char>(p[off]);
  return sum;
}

bool MappedRegion::page_out(std::string* error) {
  if (madvise(data_, bytes_, MADV_PAGEOUT) != 0) {
    *error = std::string("madvise(MADV_PAGEOUT): ") + strerror(errno) +
             (errno == EINVAL ? " (the kernel has no MADV_PAGEOUT: 5.4+)" : "");
    return false;
  }
  return true;
}

size_t MappedRegion::resident_pages() const {
  std::vector<unsigned char> vec(pages());
  if (mincore(data_, bytes_, vec.data()) != 0) return 0;
  size_t n = 0;
  for (unsigned char v : vec) n += v & 1;
  return n;
}

bool FilePath::available(std::string* why) {
  path_ = scratch_file(dir_, file_name_, bytes_, why);
  return !path_.empty();
}

std::string scratch_file(const std::string& dir, const std::string& name, size_t bytes, std::string* error) {
  std::string path = dir + "/" + name;
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && size_t(st.st_size) == bytes) return path;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "create " + path + ": " + strerror(errno);
    return "";
  }
  std::vector<char> chunk(1 << 20, 'c');
  for (size_t done = 0; done < bytes;) {
    size_t n = std::min(chunk.size(), bytes - done);
    ssize_t w = write(fd, chunk.data(), n);
    if (w <= 0) {
      *error = "write " + path + ": " + (w < 0 ? strerror(errno) : "short write");
      close(fd);
      return "";
    }
    done += size_t(w);
  }
  // Written back before use: reclaim outside kswapd skips dirty file pages (it would have to
  // write them), so a dirty file would reclaim nothing.
  if (fdatasync(fd) != 0) {
    *error = "fdatasync " + path + ": " + strerror(errno);
    close(fd);
    return "";
  }
  close(fd);
  return path;
}

}  // namespace cowwatch::bench
