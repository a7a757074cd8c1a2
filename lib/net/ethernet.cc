// Ethernet II header parsing and building.
#include "lib/net/ethernet.h"

#include "lib/net/bytes.h"

namespace lib::net {

std::optional<EthernetHeader> parse_ethernet(std::span<const uint8_t> frame) {
    if (frame.size() < kEthernetHeaderSize) return std::nullopt;
    EthernetHeader header;
    for (size_t i = 0; i < 6; ++i) {
        header.destination.bytes[i] = frame[i];
        header.source.bytes[i] = frame[6 + i];
    }
    header.type = load_be16(&frame[12]);
    return header;
}

void write_ethernet(uint8_t* out, const MacAddress& destination, const MacAddress& source,
                    uint16_t type) {
    for (size_t i = 0; i < 6; ++i) {
        out[i] = destination.bytes[i];
        out[6 + i] = source.bytes[i];
    }
    store_be16(out + 12, type);
}

MacAddress multicast_mac(Ipv4Address group) {
    uint32_t v = group.value;
    return MacAddress{{0x01, 0x00, 0x5e, static_cast<uint8_t>((v >> 16) & 0x7f),
                       static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}};
}

bool Link::transmit(std::span<const uint8_t> frame, const TxMeta& meta) {
    if (!device->transmit(frame, meta)) {
        ++counters.tx_dropped;
        return false;
    }
    ++counters.tx_frames;
    counters.tx_bytes += frame.size();
    return true;
}

}  // namespace lib::net
