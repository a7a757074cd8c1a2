// The TCP header and its options (RFC 9293 §3.1 MSS, RFC 7323 window scale and timestamps,
// RFC 2018 SACK): parsing an untrusted segment and writing the options we send.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/net/tcp_buffers.h"

namespace lib::net {

namespace tcp_flags {
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10,
                         kUrg = 0x20;
}

inline constexpr size_t kTcpHeaderSize = 20;
inline constexpr size_t kTcpMaxOptions = 40;

struct TcpHeaderOptions {
    uint16_t mss = 0;    // 0: absent
    int8_t wscale = -1;  // -1: absent
    bool sack_permitted = false;
    bool has_timestamp = false;
    uint32_t ts_val = 0, ts_ecr = 0;
    uint8_t sack_count = 0;
    SeqRange sack[4];
};

struct TcpSegment {
    uint16_t source_port = 0, destination_port = 0;
    uint32_t seq = 0, ack = 0;
    uint8_t flags = 0;
    uint16_t window = 0;
    TcpHeaderOptions options;
    std::span<const uint8_t> payload;

    bool has(uint8_t flag) const { return flags & flag; }
    // Sequence space taken: the data plus one each for SYN and FIN.
    uint32_t length() const {
        return static_cast<uint32_t>(payload.size()) + (has(tcp_flags::kSyn) ? 1 : 0) +
               (has(tcp_flags::kFin) ? 1 : 0);
    }
};

// Parses the fixed header and options of `bytes` (the whole TCP segment). False when the
// header is malformed (too short, bad data offset); unknown or malformed options are skipped
// as RFC 9293 §3.1 asks (a receiver must not crash on them).
bool parse_segment(std::span<const uint8_t> bytes, TcpSegment& out);

// What to put in an outgoing segment's options.
struct OptionsToSend {
    uint16_t mss = 0;
    int8_t wscale = -1;
    bool sack_permitted = false;
    bool timestamp = false;
    uint32_t ts_val = 0, ts_ecr = 0;
    std::span<const SeqRange> sack;  // at most 4 (3 with timestamps) are written
};

// Writes the options, padded to a multiple of 4 bytes, into `out` (kTcpMaxOptions bytes);
// returns their length.
size_t write_options(uint8_t* out, const OptionsToSend& options);

}  // namespace lib::net
