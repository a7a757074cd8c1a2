// lib/elf/demangle: Rust legacy and v0, simple Itanium C++, and raw names for everything else
// (malformed input included, and output that does not fit the buffer).
#include "lib/elf/demangle.h"

#include <gtest/gtest.h>

#include <string>

namespace {

std::string demangled(const std::string& name, size_t buffer_size = 256) {
    std::string buffer(buffer_size, '\0');
    return std::string(lib::elf::demangle(name, {buffer.data(), buffer.size()}));
}

TEST(Demangle, RustLegacyDropsTheHash) {
    EXPECT_EQ(demangled("_ZN11hello_world12handle_write17h0123456789abcdefE"),
              "hello_world::handle_write");
    EXPECT_EQ(demangled("_ZN3std2rt10lang_start17h1f2e3d4c5b6a7980E.llvm.1234"),
              "std::rt::lang_start");
}

TEST(Demangle, RustLegacyEscapes) {
    EXPECT_EQ(
        demangled("_ZN47_$LT$hello..Foo$u20$as$u20$core..fmt..Debug$GT$3fmt17h0123456789abcdefE"),
        "<hello::Foo as core::fmt::Debug>::fmt");
    EXPECT_EQ(
        demangled(
            "_ZN4core3ptr49drop_in_place$LT$$RF$mut$u20$$BP$const$u20$u8$GT$17h0123456789abcdefE"),
        "core::ptr::drop_in_place<&mut *const u8>");
    EXPECT_EQ(demangled("_ZN5hello4main27$u7b$$u7b$closure$u7d$$u7d$17h0123456789abcdefE"),
              "hello::main::{{closure}}");
    EXPECT_EQ(demangled("_ZN3foo13$LP$a$C$b$RP$17h0123456789abcdefE"), "foo::(a,b)");
}

TEST(Demangle, RustV0Paths) {
    EXPECT_EQ(demangled("_RNvCs1234_7mycrate3foo"), "mycrate::foo");
    EXPECT_EQ(demangled("_RNvNtCsbmNqQUJIY6D_4core3ptr13drop_in_place"),
              "core::ptr::drop_in_place");
    EXPECT_EQ(demangled("_RNCNvCs1234_5hello4main0B3_"), "hello::main::{closure#0}");
    // Generic arguments and an inherent impl, with a backref to the crate root.
    EXPECT_EQ(demangled("_RINvCs1234_5hello3getlE"), "hello::get<i32>");
    EXPECT_EQ(demangled("_RNvMCs1234_5helloNtB2_3Foo3new"), "<hello::Foo>::new");
    EXPECT_EQ(demangled("_RNvXCs1234_5helloNtB2_3FooNtNtCs5678_4core5clone5Clone5clone"),
              "<hello::Foo as core::clone::Clone>::clone");
    EXPECT_EQ(demangled("_RINvCs1234_5hello4takeRShE"), "hello::take<&[u8]>");
}

TEST(Demangle, RustV0LeavesTheUnsupportedRaw) {
    EXPECT_EQ(demangled("_RNvCs1234_7mycrateu3fooa"), "_RNvCs1234_7mycrateu3fooa");  // punycode
    EXPECT_EQ(demangled("_R0NvC3foo3bar"), "_R0NvC3foo3bar");  // a future encoding version
    EXPECT_EQ(demangled("_RNvC3fooB_"), "_RNvC3fooB_");        // not a path after Nv
    EXPECT_EQ(demangled("_RB_"), "_RB_");                      // a backref to itself
    EXPECT_EQ(demangled("_RNvCs1234_7mycrate999foo"), "_RNvCs1234_7mycrate999foo");
}

TEST(Demangle, ItaniumNames) {
    EXPECT_EQ(demangled("_ZN3foo3barEv"), "foo::bar");
    EXPECT_EQ(demangled("_ZN3foo3BarC2Ei"), "foo::Bar::Bar");
    EXPECT_EQ(demangled("_ZN3foo3BarD1Ev"), "foo::Bar::~Bar");
    EXPECT_EQ(demangled("_ZNKSt6vector4sizeEv"), "std::vector::size");
    EXPECT_EQ(demangled("_ZNSt6thread6_StateD0Ev"), "std::thread::_State::~_State");
    EXPECT_EQ(demangled("_Z4mainv"), "main");
    EXPECT_EQ(demangled("_ZL6helperi"), "helper");
    EXPECT_EQ(demangled("_ZSt9terminatev"), "std::terminate");
    EXPECT_EQ(demangled("_ZN3foo3barB5cxx11Ev"), "foo::bar[abi:cxx11]");
    EXPECT_EQ(demangled("_Z3fooi.cold"), "foo");
}

TEST(Demangle, ItaniumUnsupportedStaysRaw) {
    EXPECT_EQ(demangled("_Z3maxIiET_S0_S0_"), "_Z3maxIiET_S0_S0_");  // a template
    EXPECT_EQ(demangled("_ZN3fooplERKS_"), "_ZN3fooplERKS_");        // an operator
    EXPECT_EQ(demangled("_ZN3foo"), "_ZN3foo");                      // cut short
    EXPECT_EQ(demangled("_ZN99fooE"), "_ZN99fooE");                  // length past the end
    EXPECT_EQ(demangled("_ZNC1Ev"), "_ZNC1Ev");                      // a constructor of nothing
}

TEST(Demangle, PlainNamesAndSmallBuffers) {
    EXPECT_EQ(demangled("main"), "main");
    EXPECT_EQ(demangled("__libc_start_main"), "__libc_start_main");
    EXPECT_EQ(demangled(""), "");
    EXPECT_EQ(demangled("_Z"), "_Z");
    EXPECT_EQ(demangled("_R"), "_R");
    // Does not fit: the raw name, never a cut-off demangling.
    EXPECT_EQ(demangled("_ZN11hello_world12handle_write17h0123456789abcdefE", 10),
              "_ZN11hello_world12handle_write17h0123456789abcdefE");
    EXPECT_EQ(demangled("_ZN3foo3barEv", 0), "_ZN3foo3barEv");
}

TEST(Demangle, DeepNestingIsBounded) {
    std::string name = "_R";
    for (int i = 0; i < 1000; ++i) name += "Nv";
    name += "C3foo";
    for (int i = 0; i < 1000; ++i) name += "3bar";
    EXPECT_EQ(demangled(name, 1 << 16), name);
    std::string cxx = "_ZN";
    for (int i = 0; i < 1000; ++i) cxx += "1a";
    cxx += "Ev";
    EXPECT_EQ(demangled(cxx, 1 << 16), cxx);
}

}  // namespace
