// lib/manifest: ManifestWriter output read back by Manifest::parse, and every way a corrupt
// manifest must be refused (the kernel reads it from outside).
#include "lib/manifest/manifest.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "lib/manifest/manifest_writer.h"

using namespace lib::manifest;

namespace {

std::vector<std::byte> bytes_of(std::string_view text) {
    std::vector<std::byte> out(text.size());
    std::memcpy(out.data(), text.data(), text.size());
    return out;
}

uint32_t get32(const std::vector<std::byte>& bytes, size_t offset) {
    uint32_t value;
    std::memcpy(&value, bytes.data() + offset, 4);
    return value;
}

void set32(std::vector<std::byte>& bytes, size_t offset, uint32_t value) {
    std::memcpy(bytes.data() + offset, &value, 4);
}

void set16(std::vector<std::byte>& bytes, size_t offset, uint16_t value) {
    std::memcpy(bytes.data() + offset, &value, 2);
}

// Header fields (docs/manifest.md): magic[8], version, total size, record count, reserved.
constexpr size_t kVersionAt = 8, kTotalAt = 12, kCountAt = 16;
// The first record's header starts right after the manifest header.
constexpr size_t kFirstType = kHeaderSize, kFirstFlags = kHeaderSize + 2,
                 kFirstLength = kHeaderSize + 4;

std::vector<std::byte> minimal() {
    ManifestWriter writer;
    writer.add_text(RecordType::Program, "/app");
    return writer.finish();
}

std::vector<std::byte> full() {
    ManifestWriter writer;
    writer.add_text(RecordType::Program, "/bin/server");
    writer.add_text(RecordType::Arg, "--port");
    writer.add_text(RecordType::Arg, "8080");
    writer.add_text(RecordType::Env, "LANG=C");
    writer.add_text(RecordType::DebugFlag, "trace");
    writer.add_text(RecordType::Option, "mem=256M");
    writer.add_text(RecordType::Option, "cpus=2");
    writer.add_text(RecordType::Option, "mem=512M");  // the last one wins
    const std::string image(
        "\x7f"
        "ELF\0\0\x01\x02",
        8);  // binary, NULs allowed
    writer.add_bytes(RecordType::ProgramImage, bytes_of(image));
    writer.add_text(RecordType::Arg, "");  // an empty argument is legitimate
    return writer.finish();
}

bool rejected(const std::vector<std::byte>& bytes) {
    auto result = Manifest::parse(bytes);
    if (!result.is_error()) return false;
    EXPECT_EQ(result.error(), lib::Errno::Inval);
    return true;
}

TEST(Manifest, RoundTripsEveryRecordType) {
    auto bytes = full();
    auto result = Manifest::parse(bytes);
    ASSERT_FALSE(result.is_error());
    const Manifest& m = result.value();
    EXPECT_EQ(m.record_count(), 10u);
    EXPECT_EQ(m.program(), "/bin/server");
    EXPECT_EQ(m.count(RecordType::Program), 1u);
    EXPECT_EQ(m.count(RecordType::Arg), 3u);
    EXPECT_EQ(m.count(RecordType::Env), 1u);
    EXPECT_EQ(m.count(RecordType::Option), 3u);

    std::vector<std::string> args;
    m.for_each(RecordType::Arg, [&](const Record& r) { args.emplace_back(r.text()); });
    EXPECT_EQ(args, (std::vector<std::string>{"--port", "8080", ""}));
    std::vector<std::string> env;
    m.for_each(RecordType::Env, [&](const Record& r) { env.emplace_back(r.text()); });
    EXPECT_EQ(env, (std::vector<std::string>{"LANG=C"}));

    EXPECT_TRUE(m.has_debug_flag("trace"));
    EXPECT_FALSE(m.has_debug_flag("trac"));
    EXPECT_FALSE(m.has_debug_flag("syscalls"));

    std::string_view value;
    ASSERT_TRUE(m.option("mem", value));
    EXPECT_EQ(value, "512M");
    ASSERT_TRUE(m.option("cpus", value));
    EXPECT_EQ(value, "2");
    value = "untouched";
    EXPECT_FALSE(m.option("me", value));  // a key prefix is not a key
    EXPECT_FALSE(m.option("disk", value));
    EXPECT_EQ(value, "untouched");

    auto image = m.program_image();
    ASSERT_EQ(image.size(), 8u);
    EXPECT_EQ(image[0], std::byte{0x7f});
    EXPECT_EQ(image[4], std::byte{0});
    EXPECT_GE(image.data(), bytes.data());
    EXPECT_LE(image.data() + image.size(), bytes.data() + bytes.size());
}

TEST(Manifest, WriterLayout) {
    auto bytes = minimal();
    ASSERT_EQ(bytes.size(), kHeaderSize + 8 + 8);  // header, record header, "/app" padded
    EXPECT_EQ(0, std::memcmp(bytes.data(), kMagic, sizeof(kMagic)));
    EXPECT_EQ(get32(bytes, kVersionAt), kVersion);
    EXPECT_EQ(get32(bytes, kTotalAt), bytes.size());
    EXPECT_EQ(get32(bytes, kCountAt), 1u);
    EXPECT_EQ(get32(bytes, kFirstLength), 4u);
    EXPECT_EQ(full().size() % kRecordAlign, 0u);
    auto result = Manifest::parse(bytes);
    ASSERT_FALSE(result.is_error());
    EXPECT_TRUE(result.value().program_image().empty());
}

TEST(Manifest, LastRecordMayOmitItsPadding) {
    auto bytes = minimal();
    bytes.resize(bytes.size() - 4);  // "/app" ends exactly at the end, no padding
    set32(bytes, kTotalAt, uint32_t(bytes.size()));
    auto result = Manifest::parse(bytes);
    ASSERT_FALSE(result.is_error());
    EXPECT_EQ(result.value().program(), "/app");
}

TEST(Manifest, BytesAfterTotalAreIgnored) {
    auto bytes = minimal();
    bytes.resize(bytes.size() + 64, std::byte{0xff});
    EXPECT_FALSE(Manifest::parse(bytes).is_error());
}

TEST(ManifestReject, Header) {
    EXPECT_TRUE(rejected({}));
    auto bytes = minimal();
    EXPECT_TRUE(rejected({bytes.begin(), bytes.begin() + kHeaderSize - 1}));
    bytes[0] = std::byte{'X'};
    EXPECT_TRUE(rejected(bytes));
    bytes = minimal();
    bytes[7] = std::byte{'!'};  // the magic includes its NUL
    EXPECT_TRUE(rejected(bytes));
    bytes = minimal();
    set32(bytes, kVersionAt, kVersion + 1);
    EXPECT_TRUE(rejected(bytes));
    set32(bytes, kVersionAt, 0);
    EXPECT_TRUE(rejected(bytes));
}

TEST(ManifestReject, TotalSize) {
    auto bytes = minimal();
    set32(bytes, kTotalAt, uint32_t(kHeaderSize - 1));
    EXPECT_TRUE(rejected(bytes));
    set32(bytes, kTotalAt, uint32_t(bytes.size() + 1));  // claims more than there is
    EXPECT_TRUE(rejected(bytes));
    set32(bytes, kTotalAt, 0xffffffff);
    EXPECT_TRUE(rejected(bytes));
}

TEST(ManifestReject, TruncatedRecord) {
    auto bytes = full();
    // Cut inside the last record's payload and make the header agree with the new size.
    bytes.resize(bytes.size() - 12);
    set32(bytes, kTotalAt, uint32_t(bytes.size()));
    EXPECT_TRUE(rejected(bytes));
    // Cut inside a record header.
    bytes = minimal();
    bytes.resize(kHeaderSize + 4);
    set32(bytes, kTotalAt, uint32_t(bytes.size()));
    EXPECT_TRUE(rejected(bytes));
}

TEST(ManifestReject, LengthOverflow) {
    auto bytes = minimal();
    for (uint32_t length : {5u, 8u, 9u, 0x7fffffffu, 0xfffffff8u, 0xffffffffu}) {
        set32(bytes, kFirstLength, length);
        EXPECT_TRUE(rejected(bytes)) << "length " << length;
    }
}

TEST(ManifestReject, NulInText) {
    for (RecordType type : {RecordType::Program, RecordType::Arg, RecordType::Env,
                            RecordType::DebugFlag, RecordType::Option}) {
        ManifestWriter writer;
        if (type != RecordType::Program) writer.add_text(RecordType::Program, "/app");
        writer.add_text(type, std::string_view("a\0b", 3));
        EXPECT_TRUE(rejected(writer.finish())) << "type " << int(type);
    }
}

TEST(ManifestReject, ProgramCount) {
    ManifestWriter none;
    none.add_text(RecordType::Arg, "x");
    EXPECT_TRUE(rejected(none.finish()));

    ManifestWriter two;
    two.add_text(RecordType::Program, "/a");
    two.add_text(RecordType::Program, "/b");
    EXPECT_TRUE(rejected(two.finish()));

    ManifestWriter empty;
    empty.add_text(RecordType::Program, "");
    EXPECT_TRUE(rejected(empty.finish()));

    ManifestWriter no_records;
    EXPECT_TRUE(rejected(no_records.finish()));
}

TEST(ManifestReject, TwoProgramImages) {
    ManifestWriter writer;
    writer.add_text(RecordType::Program, "/app");
    writer.add_bytes(RecordType::ProgramImage, bytes_of("one"));
    writer.add_bytes(RecordType::ProgramImage, bytes_of("two"));
    EXPECT_TRUE(rejected(writer.finish()));
    // Found by fuzz/manifest_fuzz: an empty first image used to let a second one through.
    ManifestWriter empty_first;
    empty_first.add_text(RecordType::Program, "/app");
    empty_first.add_bytes(RecordType::ProgramImage, {});
    empty_first.add_bytes(RecordType::ProgramImage, bytes_of("two"));
    EXPECT_TRUE(rejected(empty_first.finish()));
}

TEST(ManifestReject, RecordCountMismatch) {
    auto bytes = full();
    uint32_t count = get32(bytes, kCountAt);
    set32(bytes, kCountAt, count + 1);
    EXPECT_TRUE(rejected(bytes));
    set32(bytes, kCountAt, count - 1);
    EXPECT_TRUE(rejected(bytes));
    set32(bytes, kCountAt, kMaxRecords + 1);
    EXPECT_TRUE(rejected(bytes));
}

TEST(ManifestReject, UnknownTypeOrFlags) {
    for (uint16_t type : {uint16_t(0), uint16_t(7), uint16_t(0xffff)}) {
        auto bytes = minimal();
        set16(bytes, kFirstType, type);
        EXPECT_TRUE(rejected(bytes)) << "type " << type;
    }
    auto bytes = minimal();
    set16(bytes, kFirstFlags, 1);
    EXPECT_TRUE(rejected(bytes));
}

TEST(ManifestReject, EveryPrefixWithConsistentTotal) {
    // A manifest cut anywhere, with its total patched to match, never parses: each prefix is
    // its own allocation so ASan sees over-reads. (Cuts on a record boundary leave a record
    // count that disagrees with the header.)
    auto bytes = full();
    for (size_t n = kHeaderSize; n < bytes.size(); ++n) {
        std::vector<std::byte> prefix(bytes.begin(), bytes.begin() + n);
        set32(prefix, kTotalAt, uint32_t(n));
        auto result = Manifest::parse(prefix);
        EXPECT_TRUE(result.is_error()) << "prefix " << n;
    }
}

}  // namespace
