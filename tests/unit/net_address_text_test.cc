// lib/net/address_text and the checksum helpers of lib/net/bytes.h.
#include <gtest/gtest.h>

#include <vector>

#include "lib/net/address_text.h"
#include "lib/net/bytes.h"

namespace {

using lib::net::Ipv4Address;

TEST(NetAddressText, ParsesDottedQuads) {
    EXPECT_EQ(lib::net::parse_ipv4("10.0.2.15"), Ipv4Address::from(10, 0, 2, 15));
    EXPECT_EQ(lib::net::parse_ipv4("0.0.0.0"), Ipv4Address{0});
    EXPECT_EQ(lib::net::parse_ipv4("255.255.255.255"), Ipv4Address{0xffffffff});
}

TEST(NetAddressText, RefusesEverythingElse) {
    for (const char* bad :
         {"", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "01.2.3.4", "1..2.3",
          "1.2.3.", "a.b.c.d", "1.2.3.4/24", "1234.1.1.1", "-1.2.3.4"})
        EXPECT_FALSE(lib::net::parse_ipv4(bad).has_value()) << bad;
}

TEST(NetAddressText, NetmaskPrefix) {
    EXPECT_EQ(lib::net::netmask_prefix(Ipv4Address::from(255, 255, 255, 0)), 24);
    EXPECT_EQ(lib::net::netmask_prefix(Ipv4Address{0}), 0);
    EXPECT_EQ(lib::net::netmask_prefix(Ipv4Address{0xffffffff}), 32);
    EXPECT_EQ(lib::net::netmask_prefix(Ipv4Address::from(255, 255, 240, 0)), 20);
    EXPECT_FALSE(lib::net::netmask_prefix(Ipv4Address::from(255, 0, 255, 0)).has_value());
    EXPECT_FALSE(lib::net::netmask_prefix(Ipv4Address::from(0, 0, 0, 255)).has_value());
}

TEST(NetAddressText, FormatsAddresses) {
    char text[16];
    lib::BufferSink sink(text, sizeof text);
    lib::net::format_ipv4(sink, Ipv4Address::from(192, 168, 100, 254));
    EXPECT_EQ(sink.view(), "192.168.100.254");
}

// RFC 1071's worked example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
TEST(NetChecksum, Rfc1071Example) {
    const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(lib::net::checksum_fold(lib::net::checksum_add(0, data)), 0xddf2);
    EXPECT_EQ(lib::net::checksum_finish(lib::net::checksum_add(0, data)), uint16_t(~0xddf2));
}

// An IPv4 header with its checksum in place sums to 0xffff; odd lengths pad with zero.
TEST(NetChecksum, HeaderVerifiesAndOddLengthsPad) {
    uint8_t header[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                        0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    uint16_t sum = lib::net::checksum_finish(lib::net::checksum_add(0, header));
    EXPECT_EQ(sum, 0xb861);  // the well-known value for this header
    lib::net::store_be16(&header[10], sum);
    EXPECT_EQ(lib::net::checksum_fold(lib::net::checksum_add(0, header)), 0xffff);
    const uint8_t odd[] = {0x12, 0x34, 0x56};
    const uint8_t padded[] = {0x12, 0x34, 0x56, 0x00};
    EXPECT_EQ(lib::net::checksum_fold(lib::net::checksum_add(0, odd)),
              lib::net::checksum_fold(lib::net::checksum_add(0, padded)));
}

TEST(NetChecksum, PseudoHeaderMatchesBytes) {
    const uint8_t bytes[] = {10, 0, 2, 15, 10, 0, 2, 2, 0, 6, 0x05, 0xdc};
    EXPECT_EQ(lib::net::checksum_fold(lib::net::pseudo_header_sum(0x0a00020f, 0x0a000202, 6, 1500)),
              lib::net::checksum_fold(lib::net::checksum_add(0, bytes)));
}

}  // namespace

namespace {

// The RFC 1071 definition, one big-endian 16-bit word at a time.
uint16_t reference_sum(const std::vector<uint8_t>& data) {
    uint64_t sum = 0;
    for (size_t i = 0; i < data.size(); i += 2)
        sum += uint32_t{data[i]} << 8 | (i + 1 < data.size() ? data[i + 1] : 0);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(sum);
}

TEST(NetChecksum, MatchesTheDefinitionForEveryLengthAndStart) {
    uint32_t seed = 12345;
    auto next = [&seed] { return seed = seed * 1103515245 + 12345, uint8_t(seed >> 16); };
    for (size_t length = 0; length < 300; ++length) {
        std::vector<uint8_t> data(length);
        for (auto& b : data) b = next();
        if (length % 7 == 0)
            for (auto& b : data) b = 0xff;  // carries everywhere
        uint16_t expected = reference_sum(data);
        uint16_t got = lib::net::checksum_fold(lib::net::checksum_add(0, data));
        // 0x0000 and 0xffff are the same number in one's complement.
        EXPECT_TRUE(got == expected || (got == 0xffff && expected == 0) ||
                    (got == 0 && expected == 0xffff))
            << "length " << length;
        // A running sum carried in gives the same total.
        uint16_t chained = lib::net::checksum_fold(lib::net::checksum_add(0xfffff, data));
        uint16_t direct = lib::net::checksum_fold(uint32_t{expected} + 0xfffff);
        EXPECT_EQ(lib::net::checksum_finish(chained), lib::net::checksum_finish(direct)) << length;
    }
}

}  // namespace
