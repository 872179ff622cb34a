# Cross build for arm64 (aarch64) on an amd64 Debian host: host clang/clang++ and lld with a
# sysroot of Debian bookworm arm64 packages (scripts/make-sysroot.sh arm64). Used by
# `scripts/build.sh --arch arm64`; by hand:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm64.cmake \
#         -DCOWWATCH_SYSROOT=$(scripts/make-sysroot.sh arm64 | tail -1)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(COWWATCH_SYSROOT "/var/cache/cowwatch-cross/bookworm-arm64/sysroot" CACHE PATH
    "sysroot of the arm64 build (scripts/make-sysroot.sh arm64)")
if(NOT EXISTS "${COWWATCH_SYSROOT}/usr/lib/aarch64-linux-gnu/libc.so")
  message(FATAL_ERROR "COWWATCH_SYSROOT=${COWWATCH_SYSROOT} is not an arm64 sysroot (no "
                      "usr/lib/aarch64-linux-gnu/libc.so): run scripts/make-sysroot.sh arm64")
endif()
set(CMAKE_SYSROOT "${COWWATCH_SYSROOT}")

set(CMAKE_C_COMPILER clang)
set(CMAKE_CXX_COMPILER clang++)
set(CMAKE_C_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_CXX_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_ASM_COMPILER_TARGET aarch64-linux-gnu)
foreach(kind EXE SHARED MODULE)
  set(CMAKE_${kind}_LINKER_FLAGS_INIT "-fuse-ld=lld")
endforeach()

# Libraries, headers and CMake packages from the sysroot only; programs (bpftool, help2man,
# python3) from the host.
set(CMAKE_FIND_ROOT_PATH "${COWWATCH_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${COWWATCH_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${COWWATCH_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${COWWATCH_SYSROOT}/usr/share/pkgconfig")

# Test binaries cannot run on the build host: list GoogleTest cases when ctest runs them (in the
# arm64 VM), not after linking.
set(CMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE PRE_TEST)
