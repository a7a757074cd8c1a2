// lib/elf/symbolize against real files: this test binary (.symtab) and the libc.so.6 it runs
// with (.dynsym when stripped), located through /proc/self/maps as the kernel does through its
// VM areas: run-time address -> file offset -> function.
#include "lib/elf/symbolize.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

using namespace lib::elf;

namespace {

std::vector<std::byte> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars{std::istreambuf_iterator<char>(in), {}};
    std::vector<std::byte> bytes(chars.size());
    std::memcpy(bytes.data(), chars.data(), chars.size());
    return bytes;
}

// The file and file offset mapped at `address`, from /proc/self/maps.
bool file_offset_of(uint64_t address, std::string& path, uint64_t& offset) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        unsigned long long start, end, file_offset;
        char perms[8], name[512] = "";
        if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %*s %*s %511s", &start, &end, perms,
                        &file_offset, name) < 4)
            continue;
        if (address < start || address >= end) continue;
        path = name;
        offset = address - start + file_offset;
        return true;
    }
    return false;
}

// What the kernel's backtrace does for one code address.
std::string symbolize(uint64_t address) {
    std::string path;
    uint64_t offset;
    if (!file_offset_of(address, path, offset)) return "<unmapped>";
    auto bytes = read_bytes(path);
    auto parsed = ElfSymbolizer::parse(bytes);
    if (parsed.is_error()) return std::string("<") + describe(parsed.error()) + ">";
    std::optional<FileLocation> out[1];
    parsed.value().locate({&offset, 1}, out);
    if (!out[0] || !out[0]->symbol) return "<none>";
    return std::string(out[0]->symbol->name);
}

}  // namespace

extern "C" __attribute__((noinline, used)) int phx_symbolize_test_marker(int x) {
    asm volatile("" ::: "memory");
    return x * 5 + 2;
}

namespace {

TEST(SymbolizeRealFiles, ThisProgram) {
    auto address = reinterpret_cast<uint64_t>(&phx_symbolize_test_marker);
    EXPECT_EQ(symbolize(address + 1), "phx_symbolize_test_marker");
}

TEST(SymbolizeRealFiles, LibcFunctions) {
    // libc's own definitions, not the sanitizer's interceptors of the same names.
    void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    ASSERT_NE(libc, nullptr);
    for (const char* name : {"qsort", "abort", "printf"}) {
        void* function = dlsym(libc, name);
        ASSERT_NE(function, nullptr) << name;
        Dl_info info{};
        ASSERT_NE(dladdr(function, &info), 0);
        ASSERT_NE(std::strstr(info.dli_fname, "libc.so"), nullptr) << info.dli_fname;
        std::string found = symbolize(reinterpret_cast<uint64_t>(function) + 2);
        // An alias at the same address (printf/_IO_printf) is as good as the name asked for.
        void* same = dlsym(libc, found.c_str());
        EXPECT_TRUE(found == name || same == function) << name << " -> " << found;
    }
    dlclose(libc);
}

}  // namespace
