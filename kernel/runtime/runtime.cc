// The freestanding C/C++ runtime the compiler expects: mem* functions, global constructors,
// and the hooks for pure virtual calls and static destructors (the kernel never exits).
#include <cstddef>
#include <cstdint>
#include <new>

#include "kernel/debug/panic.h"

extern "C" {

// Eight bytes per iteration, then the tail: where ring-0 code is emulated (docs/ARCHITECTURE.md,
// "Known host quirks") every iteration of a rep string instruction costs about as much as an
// instruction, so movsq is 8x cheaper than movsb for a page.
void* memcpy(void* dst, const void* src, size_t n) {
    void* ret = dst;
    size_t words = n / 8, tail = n % 8;
    asm volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(words)::"memory");
    asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(tail)::"memory");
    return ret;
}

void* memset(void* dst, int value, size_t n) {
    void* ret = dst;
    uint64_t pattern = uint64_t(uint8_t(value)) * 0x0101'0101'0101'0101ull;
    size_t words = n / 8, tail = n % 8;
    asm volatile("rep stosq" : "+D"(dst), "+c"(words) : "a"(pattern) : "memory");
    asm volatile("rep stosb" : "+D"(dst), "+c"(tail) : "a"(pattern) : "memory");
    return ret;
}

void* memmove(void* dst, const void* src, size_t n) {
    auto* d = static_cast<unsigned char*>(dst);
    auto* s = static_cast<const unsigned char*>(src);
    if (d == s || n == 0) return dst;
    if (d < s || d >= s + n) return memcpy(dst, src, n);
    while (n--) d[n] = s[n];  // overlapping, copy backwards
    return dst;
}

int memcmp(const void* a, const void* b, size_t n) {
    auto* x = static_cast<const unsigned char*>(a);
    auto* y = static_cast<const unsigned char*>(b);
    for (size_t i = 0; i < n; ++i)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

void* memchr(const void* s, int c, size_t n) {
    auto* p = static_cast<const unsigned char*>(s);
    for (size_t i = 0; i < n; ++i)
        if (p[i] == static_cast<unsigned char>(c)) return const_cast<unsigned char*>(p + i);
    return nullptr;
}

size_t strlen(const char* s) {
    size_t n = 0;
    while (s[n]) ++n;
    return n;
}

void __cxa_pure_virtual() { kernel::panic("pure virtual function called"); }

int atexit(void (*)()) { return 0; }

void* __dso_handle = nullptr;

using Constructor = void (*)();
extern const Constructor __init_array_start[], __init_array_end[];

void kernel_run_constructors() {
    for (const Constructor* c = __init_array_start; c != __init_array_end; ++c) (*c)();
}

}  // extern "C"

// What libstdc++'s header-only pieces reference: std::nothrow, and the throw helpers that a
// kernel without exceptions turns into panics (they mean a kernel bug, e.g. substr past end).
namespace std {
const nothrow_t nothrow{};
[[noreturn]] void __throw_out_of_range_fmt(const char* message, ...) {
    kernel::panic("std: {}", message);
}
}  // namespace std
