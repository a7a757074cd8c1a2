// lib/base/format: every spec the header documents, argument kinds, brace escapes, malformed
// format strings and BufferSink truncation.
#include "lib/base/format.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <string>

namespace {

template <typename... Args>
std::string fmt(std::string_view format, const Args&... args) {
    char buffer[256];
    return std::string(lib::format_buffer(buffer, sizeof(buffer), format, args...));
}

// A sink that keeps every write, to check what reaches the sink and in how many pieces.
class StringSink final : public lib::FormatSink {
public:
    void write(std::string_view text) override {
        out.append(text);
        ++writes;
    }
    std::string out;
    int writes = 0;
};

enum class Color : int { Red = 1, Blue = -2 };

TEST(Format, Decimal) {
    EXPECT_EQ(fmt("{}", 0), "0");
    EXPECT_EQ(fmt("{}", 42), "42");
    EXPECT_EQ(fmt("{}", -42), "-42");
    EXPECT_EQ(fmt("{:d}", 7u), "7");
    EXPECT_EQ(fmt("{}", INT64_MIN), "-9223372036854775808");
    EXPECT_EQ(fmt("{}", INT64_MAX), "9223372036854775807");
    EXPECT_EQ(fmt("{}", UINT64_MAX), "18446744073709551615");
    EXPECT_EQ(fmt("{}", uint8_t(200)), "200");
    EXPECT_EQ(fmt("{}", int16_t(-300)), "-300");
    EXPECT_EQ(fmt("{} {}", Color::Red, Color::Blue), "1 -2");
}

TEST(Format, Hex) {
    EXPECT_EQ(fmt("{:x}", 255), "ff");
    EXPECT_EQ(fmt("{:X}", 255), "FF");
    EXPECT_EQ(fmt("{:#x}", 255), "0xff");
    EXPECT_EQ(fmt("{:#X}", 255), "0XFF");
    EXPECT_EQ(fmt("{:#x}", 0), "0x0");
    EXPECT_EQ(fmt("{:x}", UINT64_MAX), "ffffffffffffffff");
    EXPECT_EQ(fmt("{:016x}", 0xdeadu), "000000000000dead");
    EXPECT_EQ(fmt("{:#018x}", 0xdeadu), "0x000000000000dead");
    EXPECT_EQ(fmt("{:04x}", 0x12345u), "12345");  // width is a minimum
    // A negative value in hex shows its 64-bit two's complement (register-dump style).
    EXPECT_EQ(fmt("{:x}", int64_t(-1)), "ffffffffffffffff");
    EXPECT_EQ(fmt("{:x}", int64_t(-16)), "fffffffffffffff0");
}

TEST(Format, BinaryAndOctal) {
    EXPECT_EQ(fmt("{:b}", 5), "101");
    EXPECT_EQ(fmt("{:#b}", 5), "0b101");
    EXPECT_EQ(fmt("{:08b}", 5), "00000101");
    EXPECT_EQ(fmt("{:o}", 8), "10");
    EXPECT_EQ(fmt("{:#o}", 8), "010");
}

TEST(Format, WidthAndAlignment) {
    EXPECT_EQ(fmt("[{:>8}]", "ab"), "[      ab]");
    EXPECT_EQ(fmt("[{:<8}]", "ab"), "[ab      ]");
    EXPECT_EQ(fmt("[{:8}]", "ab"), "[ab      ]");  // text defaults to the left
    EXPECT_EQ(fmt("[{:8}]", 42), "[      42]");    // numbers default to the right
    EXPECT_EQ(fmt("[{:<8}]", 42), "[42      ]");
    EXPECT_EQ(fmt("[{:>8}]", -42), "[     -42]");
    EXPECT_EQ(fmt("[{:*>6}]", "ab"), "[****ab]");
    EXPECT_EQ(fmt("[{:-<6}]", 7), "[7-----]");
    EXPECT_EQ(fmt("[{:>2}]", "abcdef"), "[abcdef]");  // never truncates the value
    EXPECT_EQ(fmt("[{:>6}]", true), "[  true]");
    EXPECT_EQ(fmt("[{:<3}]", 'x'), "[x  ]");
}

TEST(Format, ZeroPaddingGoesAfterTheSign) {
    EXPECT_EQ(fmt("{:05}", -42), "-0042");
    EXPECT_EQ(fmt("{:05}", 42), "00042");
    EXPECT_EQ(fmt("{:05d}", 0), "00000");
}

TEST(Format, Characters) {
    EXPECT_EQ(fmt("{}", 'A'), "A");
    EXPECT_EQ(fmt("{:c}", 'A'), "A");
    EXPECT_EQ(fmt("{:c}", 65), "A");
    EXPECT_EQ(fmt("{:c}", uint8_t(66)), "B");
    EXPECT_EQ(fmt("{:c}{:c}", 'o', 107u), "ok");
}

TEST(Format, StringsAndBools) {
    const char* c_string = "c-string";
    std::string_view view = "view";
    std::string owned = "owned";
    char array[] = "array";
    EXPECT_EQ(fmt("{} {} {} {} {}", c_string, view, owned, array, "literal"),
              "c-string view owned array literal");
    EXPECT_EQ(fmt("{}", std::string_view("a\0b", 3)), std::string("a\0b", 3));
    EXPECT_EQ(fmt("{}", std::string_view()), "");
    EXPECT_EQ(fmt("{} {}", true, false), "true false");
    const char* null_string = nullptr;
    EXPECT_EQ(fmt("[{}]", null_string), "[(null)]");
}

TEST(Format, Pointers) {
    EXPECT_EQ(fmt("{}", reinterpret_cast<void*>(0x1234)), "0x1234");
    EXPECT_EQ(fmt("{}", reinterpret_cast<const int*>(0xffff800000000000)), "0xffff800000000000");
    EXPECT_EQ(fmt("{}", static_cast<void*>(nullptr)), "0x0");
    EXPECT_EQ(fmt("{}", nullptr), "0x0");
    EXPECT_EQ(fmt("{:018}", reinterpret_cast<void*>(0x1234)), "0x0000000000001234");
}

TEST(Format, Braces) {
    EXPECT_EQ(fmt("{{}}"), "{}");
    EXPECT_EQ(fmt("{{ {} }}", 1), "{ 1 }");
    EXPECT_EQ(fmt("a}b"), "a}b");           // a lone '}' is literal
    EXPECT_EQ(fmt("x {abc", 1), "x {abc");  // unterminated: printed as is
    EXPECT_EQ(fmt("{} {}", 1), "1 {?}");    // too few arguments are visible
    EXPECT_EQ(fmt("{}", 1, 2, 3), "1");     // extra arguments are ignored
    EXPECT_EQ(fmt("no args"), "no args");
    EXPECT_EQ(fmt(""), "");
    EXPECT_EQ(fmt("{:}", 5), "5");
    EXPECT_EQ(fmt("{:?!}", 5), "5");  // unknown spec characters are ignored
}

TEST(Format, HugeWidthIsBounded) {
    std::string big(20000, '\0');
    lib::BufferSink sink(big.data(), big.size());
    lib::format_to(sink, "{:99999999}", "x");
    EXPECT_FALSE(sink.truncated());
    EXPECT_GT(sink.view().size(), 1000u);
    EXPECT_LT(sink.view().size(), 10000u);
    EXPECT_EQ(sink.view()[0], 'x');
}

TEST(BufferSink, TruncatesAndTerminates) {
    char buffer[12];
    std::memset(buffer, '#', sizeof(buffer));
    lib::BufferSink sink(buffer, 8);
    lib::format_to(sink, "hello {}", "world");
    EXPECT_TRUE(sink.truncated());
    EXPECT_EQ(sink.view(), "hello w");  // capacity 8 keeps 7 characters and the NUL
    EXPECT_EQ(buffer[7], '\0');
    EXPECT_EQ(buffer[8], '#');  // nothing past the capacity
    sink.write("more");         // a full sink stays full
    EXPECT_EQ(sink.view(), "hello w");
}

TEST(BufferSink, ExactFitIsNotTruncated) {
    char buffer[6];
    lib::BufferSink sink(buffer, sizeof(buffer));
    lib::format_to(sink, "{}{}", "ab", 123);
    EXPECT_FALSE(sink.truncated());
    EXPECT_EQ(sink.view(), "ab123");
    EXPECT_EQ(buffer[5], '\0');
}

TEST(BufferSink, ZeroAndOneCapacity) {
    char untouched = '#';
    lib::BufferSink empty(&untouched, 0);
    lib::format_to(empty, "x");
    EXPECT_TRUE(empty.truncated());
    EXPECT_EQ(empty.view(), "");
    EXPECT_EQ(untouched, '#');

    lib::BufferSink quiet(&untouched, 0);
    lib::format_to(quiet, "");
    EXPECT_FALSE(quiet.truncated());

    char one = '#';
    lib::BufferSink tiny(&one, 1);
    EXPECT_EQ(one, '\0');  // terminated from the start
    lib::format_to(tiny, "{}", 5);
    EXPECT_TRUE(tiny.truncated());
    EXPECT_EQ(one, '\0');
}

TEST(FormatSink, PiecesReachACustomSink) {
    StringSink sink;
    lib::format_to(sink, "pid={} addr={:#x}", 7, 0x1000u);
    EXPECT_EQ(sink.out, "pid=7 addr=0x1000");
    EXPECT_GE(sink.writes, 4);
    StringSink padded;
    lib::format_to(padded, "{:>40}", "x");  // padding longer than the internal chunk
    EXPECT_EQ(padded.out, std::string(39, ' ') + "x");
}

}  // namespace
