// RFC 1071 sums; IPv4 (RFC 791), TCP (RFC 9293 §3.1) and UDP (RFC 768) pseudo-headers.
#include "vmm/net/checksum.h"

namespace vmm::net {

namespace {

constexpr size_t kEthHeader = 14;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint8_t kProtoTcp = 6, kProtoUdp = 17;

uint16_t be16(std::span<const std::byte> bytes, size_t at) {
    return uint16_t(uint16_t(bytes[at]) << 8 | uint16_t(bytes[at + 1]));
}

}  // namespace

uint64_t checksum_add(std::span<const std::byte> bytes, uint64_t sum) {
    size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) sum += be16(bytes, i);
    if (i < bytes.size()) sum += uint64_t(bytes[i]) << 8;
    return sum;
}

uint16_t checksum_fold(uint64_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(sum);
}

bool finish_checksum(std::span<std::byte> frame, size_t start, size_t offset) {
    if (start > frame.size() || offset > frame.size() - start || frame.size() - start - offset < 2)
        return false;
    uint16_t result = uint16_t(~checksum_fold(checksum_add(frame.subspan(start))));
    frame[start + offset] = std::byte(result >> 8);
    frame[start + offset + 1] = std::byte(result & 0xff);
    return true;
}

bool checksums_valid(std::span<const std::byte> frame) {
    if (frame.size() < kEthHeader + 20 || be16(frame, 12) != kEtherTypeIpv4) return false;
    auto ip = frame.subspan(kEthHeader);
    size_t header = (size_t(ip[0]) & 0xf) * 4;
    if ((uint8_t(ip[0]) >> 4) != 4 || header < 20 || header > ip.size()) return false;
    size_t total = be16(ip, 2);
    if (total < header || total > ip.size()) return false;
    if ((be16(ip, 6) & 0x3fff) != 0) return false;  // a fragment: no whole segment to check
    if (checksum_fold(checksum_add(ip.first(header))) != 0xffff) return false;
    uint8_t protocol = uint8_t(ip[9]);
    auto segment = ip.subspan(header, total - header);
    if (protocol == kProtoTcp) {
        if (segment.size() < 20) return false;
    } else if (protocol == kProtoUdp) {
        if (segment.size() < 8 || be16(segment, 6) == 0) return false;
    } else {
        return false;
    }
    uint64_t sum = checksum_add(ip.subspan(12, 8));  // source and destination addresses
    sum += protocol;
    sum += segment.size();
    return checksum_fold(checksum_add(segment, sum)) == 0xffff;
}

}  // namespace vmm::net
