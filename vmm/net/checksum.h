// The Internet checksum (RFC 1071) as the NIC needs it: finishing a checksum the guest left
// partial (VIRTIO_NET_HDR_F_NEEDS_CSUM) and verifying the checksums of a received IPv4 TCP or
// UDP frame (to mark it VIRTIO_NET_HDR_F_DATA_VALID). Frames are untrusted bytes: every
// offset is checked against the frame's length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vmm::net {

// The one's-complement sum of `bytes` as big-endian 16-bit words (an odd last byte padded
// with zero), added to `sum`, not yet folded.
uint64_t checksum_add(std::span<const std::byte> bytes, uint64_t sum = 0);
// Folds a sum to 16 bits (without the final complement).
uint16_t checksum_fold(uint64_t sum);

// virtio 1.2, 5.1.6.2: checksum the bytes from `start` to the end of `frame` (the field at
// start + offset holds the pseudo-header's partial sum, as the driver left it) and store the
// result at start + offset. False, with `frame` untouched, when the field is not inside it.
bool finish_checksum(std::span<std::byte> frame, size_t start, size_t offset);

// Whether `frame` is an untagged Ethernet IPv4 TCP or UDP packet, not fragmented, whose IP
// header and TCP/UDP checksums are both right. A UDP checksum of 0 (none sent) is not.
bool checksums_valid(std::span<const std::byte> frame);

}  // namespace vmm::net
