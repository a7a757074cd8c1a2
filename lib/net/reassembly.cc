// IPv4 reassembly: per datagram a sorted list of fragment copies, checked for overlap on
// insertion and assembled into one buffer when the holes are gone.
#include "lib/net/reassembly.h"

#include <new>

#include "lib/net/bytes.h"

namespace lib::net {

namespace {
constexpr size_t kMaxHeader = 60;
constexpr size_t kQuotedPayload = 8;  // RFC 792: the header and 64 bits of data
}  // namespace

struct Reassembler::Fragment {
    Fragment* next;
    uint32_t offset;
    uint32_t size;
    uint8_t* bytes() { return reinterpret_cast<uint8_t*>(this + 1); }
};

struct Reassembler::Entry {
    Entry* older = nullptr;
    Entry* newer = nullptr;
    Ipv4Address source, destination;
    uint16_t id = 0;
    uint8_t protocol = 0;
    uint64_t deadline = 0;
    uint32_t total = 0;  // known once the last fragment (MF clear) arrived
    bool have_last = false;
    Fragment* fragments = nullptr;  // sorted by offset, never overlapping
    size_t bytes = 0;               // charged against the limit
    // The first fragment's header and first bytes: the reassembled header and the ICMP quote.
    uint8_t first[kMaxHeader + kQuotedPayload];
    size_t first_header = 0;  // 0 until fragment zero arrived
    size_t first_size = 0;
};

Reassembler::Reassembler(const StackLimits& limits) : m_limits(limits) {}

Reassembler::~Reassembler() {
    while (m_oldest) destroy(m_oldest);
}

Reassembler::Entry* Reassembler::find(const Ipv4Packet& f) const {
    // RFC 791 §3.2: a datagram is named by source, destination, protocol and identification.
    for (Entry* e = m_oldest; e; e = e->newer)
        if (e->id == f.id && e->source == f.source && e->destination == f.destination &&
            e->protocol == f.protocol)
            return e;
    return nullptr;
}

Reassembler::Entry* Reassembler::create(const Ipv4Packet& f, uint64_t now) {
    if (m_limits.reassembly_datagrams == 0) return nullptr;
    while (m_count >= m_limits.reassembly_datagrams) destroy(m_oldest), ++m_dropped;
    auto* e = new (std::nothrow) Entry;
    if (!e) return nullptr;
    e->source = f.source;
    e->destination = f.destination;
    e->id = f.id;
    e->protocol = f.protocol;
    e->deadline = now + m_limits.reassembly_timeout_ns;
    e->older = m_newest;
    if (m_newest)
        m_newest->newer = e;
    else
        m_oldest = e;
    m_newest = e;
    ++m_count;
    return e;
}

void Reassembler::destroy(Entry* e) {
    while (Fragment* f = e->fragments) {
        e->fragments = f->next;
        delete[] reinterpret_cast<uint8_t*>(f);
    }
    m_bytes -= e->bytes;
    (e->older ? e->older->newer : m_oldest) = e->newer;
    (e->newer ? e->newer->older : m_newest) = e->older;
    --m_count;
    delete e;
}

// False when the fragment contradicts what is held (overlap, a second end): the datagram is
// then dropped. An exact duplicate is accepted and ignored.
bool Reassembler::insert(Entry& e, const Ipv4Packet& f) {
    uint32_t offset = f.fragment_offset;
    uint32_t end = offset + static_cast<uint32_t>(f.payload.size());
    if (!f.more_fragments) {
        if (e.have_last && e.total != end) return false;
        e.have_last = true;
        e.total = end;
    }
    if (e.have_last && end > e.total) return false;
    Fragment** link = &e.fragments;
    while (*link && (*link)->offset + (*link)->size <= offset) link = &(*link)->next;
    if (Fragment* next = *link) {
        if (next->offset == offset && next->offset + next->size == end) return true;  // dup
        if (next->offset < end) return false;
    }
    if (e.have_last) {
        for (Fragment* g = e.fragments; g; g = g->next)
            if (g->offset + g->size > e.total) return false;
    }
    size_t charge = sizeof(Fragment) + f.payload.size();
    auto* raw = new (std::nothrow) uint8_t[charge];
    if (!raw) return false;
    auto* fragment = new (raw) Fragment{*link, offset, static_cast<uint32_t>(f.payload.size())};
    if (!f.payload.empty()) __builtin_memcpy(fragment->bytes(), f.payload.data(), f.payload.size());
    *link = fragment;
    e.bytes += charge;
    m_bytes += charge;
    if (offset == 0) {
        e.first_header = f.header.size();
        size_t quoted = f.payload.size() < kQuotedPayload ? f.payload.size() : kQuotedPayload;
        if (!f.header.empty()) __builtin_memcpy(e.first, f.header.data(), f.header.size());
        if (quoted) __builtin_memcpy(e.first + f.header.size(), f.payload.data(), quoted);
        e.first_size = f.header.size() + quoted;
    }
    return true;
}

bool Reassembler::complete(const Entry& e) const {
    if (!e.have_last || e.first_header == 0) return false;
    uint32_t reached = 0;
    for (const Fragment* f = e.fragments; f; f = f->next) {
        if (f->offset != reached) return false;
        reached += f->size;
    }
    return reached == e.total;
}

bool Reassembler::assemble(Entry& e, Datagram& out) {
    size_t size = e.first_header + e.total;
    if (size > kIpv4MaxPacket) return false;  // "ping of death": no such datagram exists
    out.bytes = new (std::nothrow) uint8_t[size];
    if (!out.bytes) return false;
    out.size = size;
    out.header_size = e.first_header;
    __builtin_memcpy(out.bytes, e.first, e.first_header);
    store_be16(out.bytes + 2, static_cast<uint16_t>(size));
    store_be16(out.bytes + 6, load_be16(out.bytes + 6) & kIpv4FlagDf);
    store_be16(out.bytes + 10, 0);
    store_be16(out.bytes + 10, checksum_finish(checksum_add(0, {out.bytes, e.first_header})));
    for (Fragment* f = e.fragments; f; f = f->next)
        if (f->size) __builtin_memcpy(out.bytes + e.first_header + f->offset, f->bytes(), f->size);
    return true;
}

Reassembler::Outcome Reassembler::add(const Ipv4Packet& f, uint64_t now, Datagram& out) {
    size_t size = f.payload.size();
    // Every fragment but the last carries a multiple of 8 bytes (RFC 791 §3.2), and none may
    // reach past the largest datagram.
    if ((f.more_fragments && (size == 0 || size % 8 != 0)) ||
        f.fragment_offset + size > kIpv4MaxPacket - kIpv4HeaderSize) {
        ++m_dropped;
        return Outcome::Dropped;
    }
    size_t charge = sizeof(Fragment) + size;
    if (charge > m_limits.reassembly_bytes) {
        ++m_dropped;
        return Outcome::Dropped;
    }
    Entry* e = find(f);
    // Under the byte limit the oldest datagrams go first: a flood of fragments that never
    // complete cannot starve the newest ones.
    while (m_bytes + charge > m_limits.reassembly_bytes && m_oldest) {
        if (m_oldest == e) e = nullptr;
        destroy(m_oldest);
        ++m_dropped;
    }
    if (!e) e = create(f, now);
    if (!e) {
        ++m_dropped;
        return Outcome::Dropped;
    }
    if (!insert(*e, f)) {
        destroy(e);
        ++m_dropped;
        return Outcome::Dropped;
    }
    if (!complete(*e)) return Outcome::Held;
    bool ok = assemble(*e, out);
    destroy(e);
    if (!ok) {
        ++m_dropped;
        return Outcome::Dropped;
    }
    return Outcome::Complete;
}

void Reassembler::release(Datagram& d) {
    delete[] d.bytes;
    d = Datagram{};
}

void Reassembler::run_timers(uint64_t now, ExpiredFn expired, void* context) {
    while (m_oldest && m_oldest->deadline <= now) {
        Entry* e = m_oldest;
        if (e->first_header && expired) expired({e->first, e->first_size}, context);
        destroy(e);
        ++m_dropped;
    }
}

uint64_t Reassembler::next_deadline() const { return m_oldest ? m_oldest->deadline : kNoDeadline; }

}  // namespace lib::net
