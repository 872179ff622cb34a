// page_oracle.h — ground truth for copy reasons, from userspace only (included by cwwl.c).
//
// For each target page, before it is written: its pfn (/proc/self/pagemap), its flags
// (/proc/kpageflags: KSM, THP, compound head/tail, zero page) and its mapcount (/proc/kpagecount:
// 6.1 page_mapcount(), 6.12/7.2 folio_precise_page_mapcount(): the page's own mappings plus its
// folio's entire/PMD mappings), and for a page of a large folio the sum of kpagecount over the
// folio's pages (every mapping of any of its pages). After the write the pfn is read again: a new
// pfn is a copy. Why, and whether the kernel should have copied at all, follows the rule of the
// kernel version running (oracle_rule), each read from that version's mm/memory.c:
//   6.1  do_wp_page (memory.c:3471-3490): a page that is not PageAnonExclusive is reused only
//        when folio_ref_count == 1; every PTE mapping of any page of a large folio holds a folio
//        reference, so a page of a large folio is reused only when it is the folio's last mapping.
//   6.12 wp_can_reuse_anon_folio (memory.c:3596): never reuses a page of a large folio.
//   7.2  __wp_can_reuse_large_anon_folio (memory.c:4109): reuses a page of a large folio when the
//        folio has more than one mapping, all of them in this mm, and no other references.
// A large folio mapped by a PMD in this mm is decided first by do_huge_pmd_wp_page (huge_memory.c
// 6.1:1323, 6.12:1818, 7.2:2160, the same on all three): the whole PMD is reused when the folio has
// no other reference (folio_ref_count == 1), else the PMD is split and the page goes the PTE way.
// Rule selection is by version (uname), the only thing userspace sees of it: < 6.12 the 6.1
// rule, < 6.15 the 6.12 rule, else the 7.2 rule (CONFIG_MM_ID's large-folio reuse came in 6.15);
// only 6.1, 6.12 and 7.2 were read. Refcounts are invisible from userspace, so the prediction
// assumes no references beyond mappings, and the workloads only write pages that fork or KSM
// made non-exclusive (PageAnonExclusive has no kpageflags bit).
#include <sys/utsname.h>

enum {
  KPF_ANON = 12,
  KPF_COMPOUND_HEAD = 15,
  KPF_COMPOUND_TAIL = 16,
  KPF_KSM = 21,
  KPF_THP = 22,
  KPF_ZERO_PAGE = 24,
};
#define PM_PRESENT (1ULL << 63)
#define PM_PFN_MASK ((1ULL << 55) - 1)
#define KPF(flags, bit) (((flags) >> (bit)) & 1)

enum oracle_rule { RULE_61, RULE_612, RULE_72 };

struct page_snap {
  uint64_t pfn;         // 0: not present
  uint64_t flags;       // /proc/kpageflags
  uint64_t count;       // /proc/kpagecount: this page's mappings
  uint64_t folio_head;  // pfn of its folio's head (== pfn for a small folio)
  uint64_t folio_nr;    // pages in its folio
  uint64_t folio_maps;  // mappings of any page of its folio (== count for a small folio)
  int folio_shared;     // a page of its folio is mapped twice: more than one mm maps the folio
  int ksm;              // a KSM page (see kpf_ksm_trusted)
};

struct oracle_counts {
  long copied_ksm, copied_shared, copied_large_folio, copied_other, reused;
  long predicted_mismatch;  // pages whose copy/reuse differs from the rule's prediction
};

static enum oracle_rule oracle_rule(void) {
  struct utsname u;
  int major = 0, minor = 0;
  if (uname(&u) == 0) sscanf(u.release, "%d.%d", &major, &minor);
  int v = major * 100 + minor;
  return v < 612 ? RULE_61 : v < 615 ? RULE_612 : RULE_72;
}

static int read_u64s(int fd, uint64_t index, uint64_t *out, size_t n) {
  size_t bytes = n * sizeof *out;
  return pread(fd, out, bytes, (off_t)(index * sizeof *out)) == (ssize_t)bytes ? 0 : -1;
}

// The folio of a compound page: walks back to its head (tails follow their head in pfn order)
// and sums kpagecount over its pages. One folio cached: the workloads walk pages in order.
static void snap_folio(int kflags, int kcount, struct page_snap *s, struct page_snap *last) {
  if (!KPF(s->flags, KPF_COMPOUND_HEAD) && !KPF(s->flags, KPF_COMPOUND_TAIL)) {
    s->folio_head = s->pfn, s->folio_nr = 1, s->folio_maps = s->count;
    return;
  }
  if (last && last->folio_nr > 1 && s->pfn > last->folio_head && s->pfn < last->folio_head + last->folio_nr) {
    s->folio_head = last->folio_head, s->folio_nr = last->folio_nr;
    s->folio_maps = last->folio_maps, s->folio_shared = last->folio_shared;
    return;
  }
  uint64_t head = s->pfn, f = s->flags, counts[512];
  while (KPF(f, KPF_COMPOUND_TAIL) && s->pfn - head < 511 && read_u64s(kflags, head - 1, &f, 1) == 0) head--;
  size_t nr = 1;
  for (; nr < 512; nr++)
    if (read_u64s(kflags, head + nr, &f, 1) != 0 || !KPF(f, KPF_COMPOUND_TAIL)) break;
  s->folio_head = head, s->folio_nr = nr, s->folio_maps = 0;
  if (read_u64s(kcount, head, counts, nr) != 0) return;
  for (size_t i = 0; i < nr; i++) {
    s->folio_maps += counts[i];
    if (counts[i] > 1) s->folio_shared = 1;
  }
}

// 6.12's /proc/kpageflags sets KPF_KSM on every anonymous page: stable_page_flags() tests
// `mapping & PAGE_MAPPING_KSM` (fs/proc/page.c 6.12:136), and PAGE_MAPPING_KSM is ANON|MOVABLE;
// 6.1 tests PageKsm() (page.c:135), 7.2 `(mapping & FOLIO_MAPPING_FLAGS) == FOLIO_MAPPING_KSM`
// (page.c:176). Checked once on a fresh private page; where the flag cannot be trusted, a KSM page
// is one whose pfn the snapshot maps at two addresses (one mm maps an anonymous page once, unless
// KSM merged it).
static int kpf_ksm_trusted(int kflags) {
  static int trusted = -1;
  if (trusted >= 0) return trusted;
  volatile char *probe = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint64_t entry = 0, flags = 0;
  int pm = open("/proc/self/pagemap", O_RDONLY);
  if (probe == MAP_FAILED || pm < 0) return fail("kpf_ksm_trusted: %s", strerror(errno)), 0;
  probe[0] = 1;
  if (read_u64s(pm, (uintptr_t)probe / PAGE, &entry, 1) == 0 && (entry & PM_PRESENT) &&
      read_u64s(kflags, entry & PM_PFN_MASK, &flags, 1) == 0 && KPF(flags, KPF_ANON))
    trusted = !KPF(flags, KPF_KSM);
  close(pm);
  munmap((void *)probe, PAGE);
  observe("kpf_ksm_trusted", trusted);
  return trusted > 0;
}

static void mark_ksm(struct page_snap *snaps, long n, int kflags) {
  int trusted = kpf_ksm_trusted(kflags);
  for (long i = 0; i < n; i++) {
    if (trusted) {
      snaps[i].ksm = KPF(snaps[i].flags, KPF_KSM);
      continue;
    }
    for (long j = 0; j < n && !snaps[i].ksm; j++) snaps[i].ksm = j != i && snaps[i].pfn && snaps[j].pfn == snaps[i].pfn;
  }
}

// Snapshot of pages [p, p + n pages) into snaps (n entries). Returns 0, or -1 with fail() called.
static int snap_pages(const char *p, long n, struct page_snap *snaps) {
  int pm = open("/proc/self/pagemap", O_RDONLY), kflags = open("/proc/kpageflags", O_RDONLY),
      kcount = open("/proc/kpagecount", O_RDONLY), rc = -1;
  uint64_t *entries = NULL;
  if (pm < 0 || kflags < 0 || kcount < 0) {
    fail("open pagemap/kpageflags/kpagecount: %s", strerror(errno));
    goto out;
  }
  entries = mmap(NULL, (size_t)n * sizeof *entries, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (entries == MAP_FAILED || read_u64s(pm, (uintptr_t)p / PAGE, entries, (size_t)n) != 0) {
    fail("read pagemap: %s", strerror(errno));
    goto out;
  }
  for (long i = 0; i < n; i++) {
    struct page_snap *s = &snaps[i];
    memset(s, 0, sizeof *s);
    if (!(entries[i] & PM_PRESENT) || !(s->pfn = entries[i] & PM_PFN_MASK)) continue;
    if (read_u64s(kflags, s->pfn, &s->flags, 1) != 0 || read_u64s(kcount, s->pfn, &s->count, 1) != 0) {
      fail("read kpageflags/kpagecount of pfn %llu: %s", (unsigned long long)s->pfn, strerror(errno));
      goto out;
    }
    snap_folio(kflags, kcount, s, i ? &snaps[i - 1] : NULL);
  }
  mark_ksm(snaps, n, kflags);
  rc = 0;
out:
  if (entries && entries != MAP_FAILED) munmap(entries, (size_t)n * sizeof *entries);
  if (pm >= 0) close(pm);
  if (kflags >= 0) close(kflags);
  if (kcount >= 0) close(kcount);
  return rc;
}

static struct page_snap *snap_alloc(long n) {  // fresh anonymous memory: writing it takes no COW fault
  struct page_snap *s = mmap(NULL, (size_t)n * sizeof *s, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) {
    fail("mmap snapshots: %s", strerror(errno));
    _exit(1);
  }
  return s;
}

// Would the kernel copy this page (rule of the running kernel)? maps_left: the folio's mappings
// now, after the copies made earlier in this walk; pmd_mapped: this mm maps the folio by a PMD.
static int rule_copies(enum oracle_rule rule, const struct page_snap *b, uint64_t maps_left, int pmd_mapped) {
  if (pmd_mapped && b->folio_nr > 1 && b->folio_maps == b->folio_nr && !b->folio_shared) return 0;
  if (b->ksm || KPF(b->flags, KPF_ZERO_PAGE) || b->count > 1) return 1;
  if (b->folio_nr == 1) return b->count != 1;
  switch (rule) {
    case RULE_61: return maps_left != 1;
    case RULE_612: return 1;
    default: return maps_left <= 1 || b->folio_shared;
  }
}

// Classifies the pages of before/after snapshots (taken around writing them, in order).
static struct oracle_counts oracle_classify(const struct page_snap *before, const struct page_snap *after, long n,
                                            int pmd_mapped) {
  enum oracle_rule rule = oracle_rule();
  struct oracle_counts c = {0};
  uint64_t head = 0, maps_left = 0;
  for (long i = 0; i < n; i++) {
    const struct page_snap *b = &before[i];
    if (b->folio_head != head) head = b->folio_head, maps_left = b->folio_maps;
    int predicted = rule_copies(rule, b, maps_left, pmd_mapped);
    int copied = b->pfn && after[i].pfn != b->pfn;
    if (copied != predicted) c.predicted_mismatch++;
    if (!copied) {
      c.reused++;
      continue;
    }
    if (b->ksm)
      c.copied_ksm++;
    else if (b->count > 1)
      c.copied_shared++;
    else if (b->folio_nr > 1 && predicted)  // declined because the folio is large (7.2: see rule)
      c.copied_large_folio++;
    else  // zero page, extra references, or a large folio 7.2 would have reused (a race)
      c.copied_other++;
    if (maps_left) maps_left--;
  }
  return c;
}

// AnonHugePages of the mapping holding addr (/proc/self/smaps): bytes this mm maps by PMDs there.
static long anon_huge_bytes(const void *addr) {
  FILE *f = fopen("/proc/self/smaps", "r");
  char line[256];
  unsigned long lo, hi;
  long kb = -1;
  int inside = 0;
  if (!f) return -1;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
      inside = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
    else if (inside && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
      break;
  }
  fclose(f);
  return kb < 0 ? -1 : kb * 1024;
}

// Records counts under PREFIX_copied_shared=... on the result line.
static void observe_oracle(const char *prefix, const struct oracle_counts *c) {
  const struct {
    const char *key;
    long value;
  } items[] = {{"copied_ksm", c->copied_ksm},
               {"copied_shared", c->copied_shared},
               {"copied_large_folio", c->copied_large_folio},
               {"copied_other", c->copied_other},
               {"reused", c->reused},
               {"mismatch", c->predicted_mismatch}};
  char key[32];
  for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
    snprintf(key, sizeof key, "%s_%s", prefix, items[i].key);
    observe(key, items[i].value);
  }
}
