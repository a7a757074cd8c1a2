# The vDSO (kernel/vdso/user): ring-3 code built as its own shared object with the compiler
# called directly, so that no kernel flag (-mcmodel=kernel, -fno-pic) and no host flag
# (sanitizers) reaches it, then stripped and embedded in the kernel by image.S.
# Included from kernel/CMakeLists.txt; sets PHX_VDSO_IMAGE for the tests as well.
set(PHX_VDSO_SOURCE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/vdso)
set(PHX_VDSO_DIR ${CMAKE_CURRENT_BINARY_DIR}/vdso)
set(PHX_VDSO_IMAGE ${PHX_VDSO_DIR}/vdso.so)
set(PHX_VDSO_IMAGE ${PHX_VDSO_IMAGE} PARENT_SCOPE)

# Position-independent, freestanding, general registers only (the program's FP/SIMD state is
# its own), no stack protector (no TLS assumptions). Linked at 0 with every symbol bound
# locally (-Bsymbolic), both hash tables (glibc and Go read DT_GNU_HASH or DT_HASH, musl only
# DT_HASH), Linux's soname and an .eh_frame_hdr so that unwinders can step through it.
set(PHX_VDSO_FLAGS
    -std=c++20 -O2 -fPIC -ffreestanding -fno-exceptions -fno-rtti -fvisibility=hidden
    -mgeneral-regs-only -fno-stack-protector -fcf-protection=none -fno-plt ${PHX_WARNINGS}
    -I${PROJECT_SOURCE_DIR} -nostdlib -shared -Wl,-T,${PHX_VDSO_SOURCE_DIR}/user/vdso.lds
    -Wl,-soname,linux-vdso.so.1 -Wl,--hash-style=both -Wl,-Bsymbolic -Wl,--no-undefined
    -Wl,-z,max-page-size=4096 -Wl,--eh-frame-hdr -Wl,--build-id=sha1)

add_custom_command(
  OUTPUT ${PHX_VDSO_IMAGE}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PHX_VDSO_DIR}
  COMMAND ${CMAKE_CXX_COMPILER} ${PHX_VDSO_FLAGS} -o ${PHX_VDSO_DIR}/vdso.so.dbg
          ${PHX_VDSO_SOURCE_DIR}/user/vdso.cc
  COMMAND ${CMAKE_OBJCOPY} --strip-all ${PHX_VDSO_DIR}/vdso.so.dbg ${PHX_VDSO_IMAGE}
  DEPENDS ${PHX_VDSO_SOURCE_DIR}/user/vdso.cc ${PHX_VDSO_SOURCE_DIR}/user/vdso.lds
          ${PHX_VDSO_SOURCE_DIR}/vvar.h ${CMAKE_CURRENT_SOURCE_DIR}/time/tsc_clock.h
  COMMENT "Building the vDSO")
add_custom_target(phx_vdso DEPENDS ${PHX_VDSO_IMAGE})

set_source_files_properties(${PHX_VDSO_SOURCE_DIR}/image.S PROPERTIES
  OBJECT_DEPENDS ${PHX_VDSO_IMAGE}
  COMPILE_DEFINITIONS PHX_VDSO_IMAGE="${PHX_VDSO_IMAGE}")
add_dependencies(phoenix_kernel_objects phx_vdso)
