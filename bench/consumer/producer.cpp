#include "consumer/producer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bpf/producer.h"  // before the skeleton: it names struct prod_config
#include "cowwatch.h"
#include "producer.skel.h"

namespace cowwatch::bench {

std::unique_ptr<Producer> Producer::load(const ProducerConfig& config, std::string* error) {
  auto p = std::unique_ptr<Producer>(new Producer());
  p->config_ = config;
  p->skel_ = producer__open();
  if (!p->skel_) {
    *error = std::string("producer__open: ") + strerror(errno);
    return nullptr;
  }
  p->skel_->rodata->prod_cfg.batch = config.batch;
  p->skel_->rodata->prod_cfg.nprocs = config.nprocs;
  p->skel_->rodata->prod_cfg.force_every = config.force_every;
  p->skel_->rodata->prod_cfg.wake_bytes = config.wake_bytes;
  p->skel_->rodata->prod_cfg.anomaly = config.anomaly ? 1 : 0;
  p->skel_->rodata->prod_cfg.tgid_base = config.tgid_base;
  bpf_map__set_max_entries(p->skel_->maps.prod_ring, config.ring_bytes);
  bpf_map__set_max_entries(p->skel_->maps.prod_counts, std::clamp<uint32_t>(config.nprocs, 1, 65536));
  if (int err = producer__load(p->skel_)) {
    *error = std::string("loading the producer: ") + strerror(-err);
    return nullptr;
  }
  return p;
}

Producer::~Producer() { producer__destroy(skel_); }

bool Producer::run_once() {
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  return bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.prod_run), &opts) == 0;
}

int Producer::ring_fd() const { return bpf_map__fd(skel_->maps.prod_ring); }
uint64_t Producer::emitted() const { return skel_->bss->prod_emitted; }
uint64_t Producer::dropped() const { return skel_->bss->prod_dropped; }

bool Producer::counts(uint64_t* total, uint64_t* processes, uint64_t* min_count, uint64_t* max_count) const {
  int fd = bpf_map__fd(skel_->maps.prod_counts);
  cw_proc_key key{}, next{};
  const cw_proc_key* cursor = nullptr;
  *total = *processes = *max_count = 0;
  *min_count = UINT64_MAX;
  while (bpf_map_get_next_key(fd, cursor, &next) == 0) {
    uint64_t value = 0;
    if (bpf_map_lookup_elem(fd, &next, &value) != 0) return false;
    *total += value;
    ++*processes;
    *min_count = std::min(*min_count, value);
    *max_count = std::max(*max_count, value);
    key = next;
    cursor = &key;
  }
  if (!*processes) *min_count = 0;
  return true;
}

}  // namespace cowwatch::bench
