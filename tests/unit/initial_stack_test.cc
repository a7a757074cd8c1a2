// lib/elf/initial_stack: the built stack decoded the way a libc's _start reads it (argc, argv,
// envp, auxv), Linux's string placement, psABI alignment, exact-fit and E2BIG behaviour.
#include "lib/elf/initial_stack.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

using namespace lib::elf;
using lib::Errno;

namespace {

constexpr uint64_t kTop = 0x7ffffffff000;

// Reads the stack through user addresses, failing the test on any address outside the buffer.
struct StackReader {
    const std::vector<std::byte>& buffer;
    uint64_t top;

    bool inside(uint64_t address, uint64_t size) const {
        uint64_t low = top - buffer.size();
        return address >= low && address <= top && size <= top - address;
    }
    uint64_t word(uint64_t address) const {
        EXPECT_TRUE(inside(address, 8)) << std::hex << address;
        if (!inside(address, 8)) return 0;
        uint64_t value;
        std::memcpy(&value, &buffer[buffer.size() - (top - address)], 8);
        return value;
    }
    std::string string(uint64_t address) const {
        std::string out;
        while (inside(address, 1)) {
            char c = char(buffer[buffer.size() - (top - address)]);
            if (c == '\0') return out;
            out += c;
            ++address;
        }
        ADD_FAILURE() << "string runs off the stack";
        return out;
    }
};

struct Decoded {
    uint64_t argc = 0;
    std::vector<uint64_t> argv_ptrs, envp_ptrs;
    std::vector<std::string> argv, envp;
    std::vector<std::pair<uint64_t, uint64_t>> auxv;
    uint64_t aux(uint64_t type) const {
        for (auto [t, v] : auxv)
            if (t == type) return v;
        return ~uint64_t(0);
    }
};

// What glibc's _start and _dl_aux_init do: argc at rsp, then the NULL-terminated vectors.
Decoded decode(const StackReader& r, uint64_t rsp) {
    Decoded d;
    d.argc = r.word(rsp);
    uint64_t at = rsp + 8;
    for (uint64_t i = 0; i < d.argc; ++i, at += 8) d.argv_ptrs.push_back(r.word(at));
    EXPECT_EQ(r.word(at), 0u) << "argv not NULL-terminated";
    for (at += 8; r.word(at) != 0; at += 8) d.envp_ptrs.push_back(r.word(at));
    for (at += 8;; at += 16) {
        uint64_t type = r.word(at);
        d.auxv.emplace_back(type, r.word(at + 8));
        if (type == AT_NULL || !r.inside(at + 16, 16)) break;
    }
    for (uint64_t p : d.argv_ptrs) d.argv.push_back(r.string(p));
    for (uint64_t p : d.envp_ptrs) d.envp.push_back(r.string(p));
    return d;
}

struct Fixture {
    std::vector<std::string_view> argv = {"/usr/bin/app", "--verbose", ""};
    std::vector<std::string_view> envp = {"HOME=/", "PATH=/bin:/usr/bin"};
    std::vector<AuxEntry> aux = {{AT_PAGESZ, 4096}, {AT_PHNUM, 9}, {AT_ENTRY, 0x401000}};
    std::array<std::byte, 16> random;
    std::string_view execfn = "/usr/bin/app";
    std::string_view platform = "x86_64";

    Fixture() {
        for (size_t i = 0; i < random.size(); ++i) random[i] = std::byte(0xa0 + i);
    }
    InitialStackSpec spec() const {
        return {argv, envp, aux, execfn, platform, std::span<const std::byte, 16>(random)};
    }
};

// Bytes the stack needs for a spec at a given top, found with an ample buffer.
uint64_t needed(const InitialStackSpec& spec, uint64_t top) {
    std::vector<std::byte> big(1 << 16);
    auto rsp = build_initial_stack(big, top, spec);
    EXPECT_FALSE(rsp.is_error());
    return top - rsp.value();
}

TEST(InitialStack, DecodesLikeALibc) {
    Fixture f;
    std::vector<std::byte> buffer(8192, std::byte{0xcc});
    auto result = build_initial_stack(buffer, kTop, f.spec());
    ASSERT_FALSE(result.is_error()) << lib::errno_name(result.error());
    uint64_t rsp = result.value();
    EXPECT_EQ(rsp % 16, 0u);  // psABI §3.4.1
    StackReader r{buffer, kTop};
    Decoded d = decode(r, rsp);
    EXPECT_EQ(d.argc, 3u);
    EXPECT_EQ(d.argv, (std::vector<std::string>{"/usr/bin/app", "--verbose", ""}));
    EXPECT_EQ(d.envp, (std::vector<std::string>{"HOME=/", "PATH=/bin:/usr/bin"}));

    // Caller entries first, in order, then the builder's, then AT_NULL.
    ASSERT_EQ(d.auxv.size(), 7u);
    EXPECT_EQ(d.auxv[0], std::make_pair(AT_PAGESZ, uint64_t(4096)));
    EXPECT_EQ(d.auxv[1], std::make_pair(AT_PHNUM, uint64_t(9)));
    EXPECT_EQ(d.auxv[2], std::make_pair(AT_ENTRY, uint64_t(0x401000)));
    EXPECT_EQ(d.auxv[3].first, AT_RANDOM);
    EXPECT_EQ(d.auxv[4].first, AT_EXECFN);
    EXPECT_EQ(d.auxv[5].first, AT_PLATFORM);
    EXPECT_EQ(d.auxv[6], std::make_pair(AT_NULL, uint64_t(0)));

    uint64_t random = d.aux(AT_RANDOM);
    ASSERT_TRUE(r.inside(random, 16));
    EXPECT_EQ(0, std::memcmp(&buffer[buffer.size() - (kTop - random)], f.random.data(), 16));
    EXPECT_EQ(r.string(d.aux(AT_EXECFN)), "/usr/bin/app");
    EXPECT_EQ(r.string(d.aux(AT_PLATFORM)), "x86_64");

    // Nothing below rsp was touched.
    for (size_t i = 0; i < buffer.size() - (kTop - rsp); ++i)
        ASSERT_EQ(buffer[i], std::byte{0xcc}) << "byte " << i << " below rsp was written";
}

TEST(InitialStack, StringsSitWhereLinuxPutsThem) {
    Fixture f;
    std::vector<std::byte> buffer(8192);
    uint64_t rsp = build_initial_stack(buffer, kTop, f.spec()).value();
    StackReader r{buffer, kTop};
    Decoded d = decode(r, rsp);
    // The top 8 bytes are Linux's zero end marker; execfn ends right below it.
    EXPECT_EQ(r.word(kTop - 8), 0u);
    EXPECT_EQ(d.aux(AT_EXECFN), kTop - 8 - (f.execfn.size() + 1));
    // Below execfn: envp strings, then argv strings, each vector ascending from element 0.
    uint64_t env_end = d.aux(AT_EXECFN);
    EXPECT_EQ(d.envp_ptrs[1] + f.envp[1].size() + 1, env_end);
    EXPECT_EQ(d.envp_ptrs[0] + f.envp[0].size() + 1, d.envp_ptrs[1]);
    EXPECT_EQ(d.argv_ptrs[2] + 1, d.envp_ptrs[0]);
    EXPECT_EQ(d.argv_ptrs[1] + f.argv[1].size() + 1, d.argv_ptrs[2]);
    EXPECT_EQ(d.argv_ptrs[0] + f.argv[0].size() + 1, d.argv_ptrs[1]);
    // Then the platform string, then the random bytes, then (after padding) the tables.
    EXPECT_EQ(d.aux(AT_PLATFORM) + f.platform.size() + 1, d.argv_ptrs[0]);
    EXPECT_EQ(d.aux(AT_RANDOM) + 16, d.aux(AT_PLATFORM));
    uint64_t tables_end = rsp + 8 * (1 + 4 + 3 + 2 * 7);
    EXPECT_LE(tables_end, d.aux(AT_RANDOM));
    EXPECT_LT(d.aux(AT_RANDOM) - tables_end, 16u);  // padding only to reach alignment
    for (uint64_t a = tables_end; a < d.aux(AT_RANDOM); ++a)
        EXPECT_EQ(buffer[buffer.size() - (kTop - a)], std::byte{0}) << "padding not zeroed";
}

TEST(InitialStack, AlignedForEveryTopAndArgumentCount) {
    Fixture f;
    std::vector<std::string_view> args = {"a", "bb", "ccc", "dddd", "eeeee", "ffffff"};
    for (uint64_t skew = 0; skew < 32; ++skew) {
        for (size_t argc = 0; argc <= args.size(); ++argc) {
            f.argv.assign(args.begin(), args.begin() + argc);
            std::vector<std::byte> buffer(4096);
            uint64_t top = kTop - skew;
            auto result = build_initial_stack(buffer, top, f.spec());
            ASSERT_FALSE(result.is_error());
            EXPECT_EQ(result.value() % 16, 0u) << "skew " << skew << " argc " << argc;
            Decoded d = decode(StackReader{buffer, top}, result.value());
            EXPECT_EQ(d.argc, argc);
            EXPECT_EQ(d.argv.size(), argc);
            if (argc) {
                EXPECT_EQ(d.argv.back(), std::string(args[argc - 1]));
            }
        }
    }
}

TEST(InitialStack, ExactFitAndTooBig) {
    Fixture f;
    uint64_t size = needed(f.spec(), kTop);
    {
        std::vector<std::byte> exact(size);
        auto result = build_initial_stack(exact, kTop, f.spec());
        ASSERT_FALSE(result.is_error());
        EXPECT_EQ(result.value(), kTop - size);
        EXPECT_EQ(decode(StackReader{exact, kTop}, result.value()).envp.size(), 2u);
    }
    // Every smaller buffer is refused, each one exactly sized so ASan catches a stray write.
    for (uint64_t n = 0; n < size; ++n) {
        std::vector<std::byte> small(n);
        auto result = build_initial_stack(small, kTop, f.spec());
        ASSERT_TRUE(result.is_error()) << "size " << n;
        EXPECT_EQ(result.error(), Errno::TooBig);
    }
}

TEST(InitialStack, TopTooLowIsTooBig) {
    Fixture f;
    std::vector<std::byte> buffer(4096);
    auto result = build_initial_stack(buffer, 64, f.spec());
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error(), Errno::TooBig);
}

TEST(InitialStack, ManyArgumentsOverflowTheBuffer) {
    Fixture f;
    std::vector<std::string_view> many(100000, "x");
    f.argv = many;
    std::vector<std::byte> buffer(64 * 1024);
    auto result = build_initial_stack(buffer, kTop, f.spec());
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error(), Errno::TooBig);
    std::vector<std::byte> large(2 * 1024 * 1024);
    auto fits = build_initial_stack(large, kTop, f.spec());
    ASSERT_FALSE(fits.is_error());
    EXPECT_EQ(decode(StackReader{large, kTop}, fits.value()).argc, 100000u);
}

TEST(InitialStack, EmptyPlatformOmitsAtPlatform) {
    Fixture f;
    f.platform = {};
    f.argv.clear();
    f.envp.clear();
    f.aux.clear();
    std::vector<std::byte> buffer(1024);
    uint64_t rsp = build_initial_stack(buffer, kTop, f.spec()).value();
    StackReader r{buffer, kTop};
    Decoded d = decode(r, rsp);
    EXPECT_EQ(d.argc, 0u);
    EXPECT_TRUE(d.envp.empty());
    ASSERT_EQ(d.auxv.size(), 3u);
    EXPECT_EQ(d.auxv[0].first, AT_RANDOM);
    EXPECT_EQ(d.auxv[1].first, AT_EXECFN);
    EXPECT_EQ(d.auxv[2].first, AT_NULL);
    EXPECT_EQ(d.aux(AT_RANDOM) + 16, d.aux(AT_EXECFN));  // no strings between them
}

TEST(InitialStack, RejectsReservedAuxTypesAndNulBytes) {
    for (uint64_t type : {AT_NULL, AT_RANDOM, AT_EXECFN, AT_PLATFORM}) {
        Fixture f;
        f.aux.push_back({type, 1});
        std::vector<std::byte> buffer(4096);
        auto result = build_initial_stack(buffer, kTop, f.spec());
        ASSERT_TRUE(result.is_error()) << "type " << type;
        EXPECT_EQ(result.error(), Errno::Inval);
    }
    const std::string_view with_nul("a\0b", 3);
    for (int which = 0; which < 4; ++which) {
        Fixture f;
        if (which == 0) f.argv[1] = with_nul;
        if (which == 1) f.envp[0] = with_nul;
        if (which == 2) f.execfn = with_nul;
        if (which == 3) f.platform = with_nul;
        std::vector<std::byte> buffer(4096);
        auto result = build_initial_stack(buffer, kTop, f.spec());
        ASSERT_TRUE(result.is_error()) << "case " << which;
        EXPECT_EQ(result.error(), Errno::Inval);
    }
}

}  // namespace
