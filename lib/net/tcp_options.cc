// TCP header parsing and option writing (tcp_options.h).
#include "lib/net/tcp_options.h"

#include "lib/net/bytes.h"

namespace lib::net {

namespace {

constexpr uint8_t kEol = 0, kNop = 1, kMss = 2, kWscale = 3, kSackPermitted = 4, kSack = 5,
                  kTimestamp = 8;

void parse_options(std::span<const uint8_t> bytes, TcpHeaderOptions& out) {
    size_t i = 0;
    while (i < bytes.size()) {
        uint8_t kind = bytes[i];
        if (kind == kEol) return;
        if (kind == kNop) {
            ++i;
            continue;
        }
        if (i + 1 >= bytes.size()) return;
        uint8_t length = bytes[i + 1];
        if (length < 2 || i + length > bytes.size()) return;  // malformed: stop, keep what we have
        const uint8_t* p = &bytes[i + 2];
        switch (kind) {
            case kMss:
                if (length == 4) out.mss = load_be16(p);
                break;
            case kWscale:
                // RFC 7323 §2.3: a shift above 14 is treated as 14.
                if (length == 3) out.wscale = static_cast<int8_t>(p[0] > 14 ? 14 : p[0]);
                break;
            case kSackPermitted:
                if (length == 2) out.sack_permitted = true;
                break;
            case kTimestamp:
                if (length == 10) {
                    out.has_timestamp = true;
                    out.ts_val = load_be32(p);
                    out.ts_ecr = load_be32(p + 4);
                }
                break;
            case kSack:
                if ((length - 2) % 8 == 0) {
                    out.sack_count = 0;
                    for (size_t b = 0; b < size_t(length - 2) / 8 && b < 4; ++b) {
                        out.sack[b] = {load_be32(p + 8 * b), load_be32(p + 8 * b + 4)};
                        ++out.sack_count;
                    }
                }
                break;
            default:
                break;
        }
        i += length;
    }
}

}  // namespace

bool parse_segment(std::span<const uint8_t> bytes, TcpSegment& out) {
    if (bytes.size() < kTcpHeaderSize) return false;
    const uint8_t* h = bytes.data();
    size_t header_length = size_t(h[12] >> 4) * 4;
    if (header_length < kTcpHeaderSize || header_length > bytes.size()) return false;
    out = {};
    out.source_port = load_be16(h);
    out.destination_port = load_be16(h + 2);
    out.seq = load_be32(h + 4);
    out.ack = load_be32(h + 8);
    out.flags = h[13] & 0x3f;
    out.window = load_be16(h + 14);
    parse_options(bytes.subspan(kTcpHeaderSize, header_length - kTcpHeaderSize), out.options);
    out.payload = bytes.subspan(header_length);
    return true;
}

size_t write_options(uint8_t* out, const OptionsToSend& options) {
    size_t n = 0;
    if (options.mss) {
        out[n++] = kMss;
        out[n++] = 4;
        store_be16(out + n, options.mss);
        n += 2;
    }
    // The layouts Linux uses, so every option lands 4-byte aligned.
    if (options.sack_permitted && options.timestamp) {
        out[n++] = kSackPermitted;
        out[n++] = 2;
    } else if (options.timestamp || options.sack_permitted) {
        out[n++] = kNop;
        out[n++] = kNop;
        if (options.sack_permitted) {
            out[n++] = kSackPermitted;
            out[n++] = 2;
        }
    }
    if (options.timestamp) {
        out[n++] = kTimestamp;
        out[n++] = 10;
        store_be32(out + n, options.ts_val);
        store_be32(out + n + 4, options.ts_ecr);
        n += 8;
    }
    if (options.wscale >= 0) {
        out[n++] = kNop;
        out[n++] = kWscale;
        out[n++] = 3;
        out[n++] = static_cast<uint8_t>(options.wscale);
    }
    size_t blocks = options.sack.size();
    size_t room = (kTcpMaxOptions - n - 2) / 8;  // what is left after NOP NOP kind length
    if (blocks > room) blocks = room;
    if (blocks > 4) blocks = 4;
    if (blocks) {
        out[n++] = kNop;
        out[n++] = kNop;
        out[n++] = kSack;
        out[n++] = static_cast<uint8_t>(2 + 8 * blocks);
        for (size_t b = 0; b < blocks; ++b) {
            store_be32(out + n, options.sack[b].start);
            store_be32(out + n + 4, options.sack[b].end);
            n += 8;
        }
    }
    while (n % 4) out[n++] = kEol;
    return n;
}

}  // namespace lib::net
