// Fuzz target: recording files as `cowwatch replay FILE` reads them (cli::load_recording: the
// RecordingReader's header and item lines, fed into a LocalSession model with the default alert
// rules). A recording comes from another host or a bug report, so every byte is untrusted.
// Each input is written to a memfd and read through /proc/self/fd like a file.
// Properties: a file is either loaded or rejected with an error naming the file; a loaded
// recording has a session.
// Regression seeds: corpus/recording/{created_unix_string,plan_hook_number}.jsonl once threw
// nlohmann::json::type_error out of load_recording; created_unix_overflow.jsonl was undefined
// behaviour (1.8e19 s into std::chrono) under UBSan (docs/reliability.md).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/replay.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = memfd_create("cowwatch-fuzz-recording", MFD_CLOEXEC);
  FUZZ_CHECK(fd >= 0, "memfd_create");
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    FUZZ_CHECK(n > 0, "write to memfd");
    done += static_cast<size_t>(n);
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  cowwatch::cli::LoadedRecording loaded;
  std::string error;
  bool ok = cowwatch::cli::load_recording(path, &loaded, &error);
  close(fd);
  if (!ok) {
    FUZZ_CHECK(error.find(path) != std::string::npos, "a rejected recording names the file");
    return 0;
  }
  FUZZ_CHECK(loaded.session != nullptr, "a loaded recording has a session");
  return 0;
}
