// Property checks inside fuzz targets: a violated property aborts with a message, which libFuzzer
// (and the corpus replay driver) reports as a crash together with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                                       \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "fuzz property violated at %s:%d: %s\n", __FILE__, __LINE__, \
                   (what));                                                          \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

