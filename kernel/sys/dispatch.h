// Syscall dispatch: typed argument decoding from the TrapFrame and the result convention.
// A handler is `lib::Result<int64_t> sys_<name>(T1, T2, ...)` where each Ti is an integer
// type, an enum or a mm::UserPtr<...>; dispatch decodes rdi, rsi, rdx, r10, r8, r9 into them
// and turns an error into -errno. Nothing else turns an Errno into a number.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "kernel/arch/x86_64/trap_frame.h"
#include "kernel/mm/user_ptr.h"
#include "lib/base/result.h"

namespace kernel::sys {

using SyscallResult = lib::Result<int64_t>;

template <typename T>
struct ArgDecoder {
    static T decode(uint64_t raw) {
        static_assert(std::is_integral_v<T> || std::is_enum_v<T>, "unsupported syscall arg");
        return static_cast<T>(raw);
    }
};

template <typename T>
struct ArgDecoder<mm::UserPtr<T>> {
    static mm::UserPtr<T> decode(uint64_t raw) { return mm::UserPtr<T>(raw); }
};

inline int64_t to_raw(const SyscallResult& result) {
    return result.is_error() ? -int64_t(result.error()) : result.value();
}

template <typename... Args, size_t... I>
int64_t call_handler(SyscallResult (*handler)(Args...), const uint64_t* raw,
                     std::index_sequence<I...>) {
    return to_raw(handler(ArgDecoder<Args>::decode(raw[I])...));
}

template <auto Handler>
int64_t invoke(const arch::TrapFrame& frame) {
    const uint64_t raw[6] = {frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9};
    return []<typename... Args>(SyscallResult (*handler)(Args...), const uint64_t* args) {
        static_assert(sizeof...(Args) <= 6, "at most six syscall arguments");
        return call_handler(handler, args, std::index_sequence_for<Args...>{});
    }(Handler, raw);
}

// The Linux name of syscall `number`, or nullptr when x86-64 Linux has none.
const char* syscall_name(uint64_t number);

}  // namespace kernel::sys
