# bpf_skeleton(NAME SOURCE [DEPENDS headers...])
#   Compiles SOURCE (a .bpf.c) with clang -target bpf -g -O2 (CO-RE) into NAME.bpf.o and
#   generates NAME.skel.h with bpftool. Defines an INTERFACE library target NAME_skel whose
#   include directories expose the skeleton and bpf/cowwatch.h; link it like any library.
#
# vmlinux.h strategy: none. bpf/vmlinux_min.h declares only the kernel types we read, with
# preserve_access_index, so the build never depends on the build host's kernel; libbpf's CO-RE
# relocates every access against the running kernel's BTF at load time.
find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
find_path(LIBBPF_INCLUDE_DIR bpf/bpf_helpers.h REQUIRED)

function(bpf_skeleton name source)
  cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
  set(skel ${CMAKE_CURRENT_BINARY_DIR}/${name}.skel.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -target bpf -D__TARGET_ARCH_x86 -g -O2 -Wall -Werror
            -I${CMAKE_CURRENT_SOURCE_DIR} -I${LIBBPF_INCLUDE_DIR}
            -I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}
            -c ${CMAKE_CURRENT_SOURCE_DIR}/${source} -o ${obj}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${source} ${ARG_DEPENDS}
    COMMENT "BPF ${source}"
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
