#include "lib/base/cmdline.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    lib::Cmdline(text).for_each([&](const lib::CmdlineWord& w) {
        out.push_back(std::string(w.key) + (w.has_value ? "=" + std::string(w.value) : ""));
    });
    return out;
}

TEST(Cmdline, SplitsWordsOnAnyWhitespace) {
    EXPECT_EQ(words("  a=1\tb  c=\n d=x=y "),
              (std::vector<std::string>{"a=1", "b", "c=", "d=x=y"}));
    EXPECT_TRUE(words("").empty());
    EXPECT_TRUE(words("   \t ").empty());
}

TEST(Cmdline, FindReturnsTheLastOccurrence) {
    lib::Cmdline line("phx.debug=a virtio_mmio.device=4K@0xd0000000:5 phx.debug=b quiet");
    auto debug = line.find("phx.debug");
    ASSERT_TRUE(debug);
    EXPECT_EQ(debug->value, "b");
    auto quiet = line.find("quiet");
    ASSERT_TRUE(quiet);
    EXPECT_FALSE(quiet->has_value);
    EXPECT_FALSE(line.find("phx"));
    EXPECT_FALSE(line.find("virtio_mmio"));
}

TEST(Cmdline, EmptyValueIsDistinctFromNoValue) {
    lib::Cmdline line("a= b");
    EXPECT_TRUE(line.find("a")->has_value);
    EXPECT_TRUE(line.find("a")->value.empty());
    EXPECT_FALSE(line.find("b")->has_value);
}

}  // namespace
