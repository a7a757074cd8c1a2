# Compiler flags shared by targets. Host targets get warnings and, by default, sanitizers;
# kernel-side targets get the freestanding set and never a sanitizer.

set(PHX_WARNINGS -Wall -Wextra -Wno-missing-field-initializers)

# Freestanding x86-64 ring-0 code in the top 2 GiB (-mcmodel=kernel; the image is relocated
# within them at boot for KASLR, see kernel/arch/x86_64/kaslr.cc), no SSE (user FP state is
# never touched by the kernel), no red zone (interrupts push on the current stack), a stack
# protector with one global canary set per boot (kernel/runtime/stack_protector.h).
set(PHX_KERNEL_CXXFLAGS
    -ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit
    -mno-red-zone -mcmodel=kernel -fno-pic -fno-pie -mgeneral-regs-only
    -fstack-protector-strong -mstack-protector-guard=global
    -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-builtin-malloc
    -nostdlib -nostdinc++ -fno-strict-aliasing -fno-tree-loop-distribute-patterns -fcf-protection=none -mno-mmx -mno-sse -mno-sse2)

# libstdc++ headers are still wanted (type_traits, span, ...): -nostdinc++ drops them, so put
# their directories back explicitly.
execute_process(
  COMMAND ${CMAKE_CXX_COMPILER} -std=c++20 -xc++ -E -v /dev/null
  OUTPUT_QUIET ERROR_VARIABLE _phx_cxx_search)
string(REGEX MATCHALL "\n /[^\n ]*/c\\+\\+/[^\n ]*" _phx_cxx_dirs "${_phx_cxx_search}")
set(PHX_KERNEL_CXX_INCLUDES "")
foreach(_dir ${_phx_cxx_dirs})
  string(STRIP "${_dir}" _dir)
  # As raw flags: CMake drops include directories it considers the compiler's implicit ones.
  list(APPEND PHX_KERNEL_CXX_INCLUDES "SHELL:-isystem ${_dir}")
endforeach()

function(phx_kernel_target target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:${PHX_KERNEL_CXXFLAGS} ${PHX_WARNINGS} ${PHX_KERNEL_CXX_INCLUDES}>
    $<$<COMPILE_LANGUAGE:ASM>:-fno-pic -fno-pie>)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(${target} PRIVATE PHX_KERNEL=1)
endfunction()

set(PHX_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer)

# What ships (the phx executable and the libraries in it) is built without sanitizers: ASan
# alone adds about 20 ms to every `phx run` (measured: 20-30 ms against under 10 ms for a null
# kernel's whole run), which is most of a reboot. Tests link the sanitized twins.
function(phx_shipped_target target)
  target_compile_options(${target} PRIVATE ${PHX_WARNINGS})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR})
endfunction()

function(phx_host_target target)
  target_compile_options(${target} PRIVATE ${PHX_WARNINGS})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR})
  if(PHX_SANITIZE)
    target_compile_options(${target} PRIVATE ${PHX_SANITIZER_FLAGS})
    target_link_options(${target} PRIVATE ${PHX_SANITIZER_FLAGS})
  endif()
endfunction()

# Fuzzing: with clang and -DPHX_FUZZ=ON, fuzz/ builds real libFuzzer targets. Otherwise each
# target is built as a replay driver that runs its seed corpus (so CTest always exercises it).
option(PHX_FUZZ "Build libFuzzer targets (needs clang)" OFF)
set(PHX_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -g)
