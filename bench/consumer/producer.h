// The BPF_PROG_TEST_RUN ring-buffer producer (bench/bpf/producer.bpf.c), loaded with one fixed
// configuration (rodata): records per run, synthetic processes, wakeup policy, ring size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

struct producer;

namespace cowwatch::bench {

struct ProducerConfig {
  uint32_t batch = 1000;        // records per run
  uint32_t nprocs = 1000;       // synthetic processes
  uint32_t force_every = 0;     // 0: NO_WAKEUP; N: FORCE_WAKEUP every N; UINT32_MAX: adaptive
  uint32_t wake_bytes = 0;      // with force_every 0: FORCE_WAKEUP once this much is unread (0: never)
  bool anomaly = false;         // records are anomalies submitted with FORCE_WAKEUP
  uint32_t ring_bytes = 16u << 20;
  uint32_t tgid_base = 1000;
};

class Producer {
 public:
  static std::unique_ptr<Producer> load(const ProducerConfig& config, std::string* error);
  ~Producer();
  bool run_once();                 // one BPF_PROG_TEST_RUN: config.batch records
  int ring_fd() const;
  uint64_t emitted() const;        // records attempted
  uint64_t dropped() const;        // reserve failures (ring full)
  // Sum and count of the per-process counters (the exact, in-kernel side).
  bool counts(uint64_t* total, uint64_t* processes, uint64_t* min_count, uint64_t* max_count) const;
  const ProducerConfig& config() const { return config_; }

 private:
  ProducerConfig config_;
  struct producer* skel_ = nullptr;
};

}  // namespace cowwatch::bench
