# bpf_skeleton(NAME SOURCE [DEPENDS headers...])
#   Compiles SOURCE (a .bpf.c) with clang -target bpf -g -O2 (CO-RE) into NAME.bpf.o and
#   generates NAME.skel.h with bpftool. Defines an INTERFACE library target NAME_skel whose
#   include directories expose the skeleton and bpf/cowwatch.h; link it like any library.
#
# vmlinux.h strategy: none. bpf/vmlinux_min.h declares only the kernel types we read, with
# preserve_access_index, so the build never depends on the build host's kernel; libbpf's CO-RE
# relocates every access against the running kernel's BTF at load time.
#
# Architecture: the object is built for the build's target processor (-D__TARGET_ARCH_<arch>):
# bpf_tracing.h reads kprobe arguments through that architecture's pt_regs, and bpf/compat.bpf.h
# picks its pte bits. A cross build (cmake/toolchain-arm64.cmake) gets the arm64 object and
# skeleton; COWWATCH_BPF_ARCH overrides.
find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
find_path(LIBBPF_INCLUDE_DIR bpf/bpf_helpers.h REQUIRED)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(bpf_arch_default x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(bpf_arch_default arm64)
else()
  set(bpf_arch_default "")
endif()
set(COWWATCH_BPF_ARCH "${bpf_arch_default}" CACHE STRING "BPF target architecture (x86 or arm64)")
if(NOT COWWATCH_BPF_ARCH MATCHES "^(x86|arm64)$")
  message(FATAL_ERROR "cowwatch's BPF programs support x86 and arm64; target processor "
                      "'${CMAKE_SYSTEM_PROCESSOR}' gives COWWATCH_BPF_ARCH='${COWWATCH_BPF_ARCH}'")
endif()
# <asm/types.h> of the target (the sysroot's in a cross build).
set(BPF_ASM_INCLUDE_DIR ${CMAKE_SYSROOT}/usr/include/${CMAKE_LIBRARY_ARCHITECTURE})

function(bpf_skeleton name source)
  cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
  set(skel ${CMAKE_CURRENT_BINARY_DIR}/${name}.skel.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -target bpf -D__TARGET_ARCH_${COWWATCH_BPF_ARCH} -g -O2 -Wall -Werror
            -I${CMAKE_CURRENT_SOURCE_DIR} -I${LIBBPF_INCLUDE_DIR}
            -I${BPF_ASM_INCLUDE_DIR}
            -c ${CMAKE_CURRENT_SOURCE_DIR}/${source} -o ${obj}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${source} ${ARG_DEPENDS}
    COMMENT "BPF ${source} (${COWWATCH_BPF_ARCH})"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${CMAKE_CURRENT_BINARY_DIR} ${CMAKE_SOURCE_DIR}/bpf)
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF)
  set_property(GLOBAL APPEND PROPERTY COWWATCH_BPF_OBJECTS ${obj})
endfunction()
