// INTERIM: minimal stand-ins for lib/vm (frame allocator, VM-area map) so the kernel can boot
// while lib/vm is written. Replaced by lib/vm/frame_allocator.h and lib/vm/vm_area.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/base/checked.h"
#include "lib/base/result.h"

namespace lib::vm {

struct PhysRegion {
    uint64_t base;
    uint64_t length;
};

class FrameAllocator {
public:
    static size_t storage_bytes_needed(std::span<const PhysRegion> regions) {
        uint64_t top = 0;
        for (auto& r : regions) top = r.base + r.length > top ? r.base + r.length : top;
        return (top / 4096 + 63) / 64 * 8;
    }
    ErrorOr init(std::span<const PhysRegion> regions, std::span<std::byte> storage) {
        m_bits = reinterpret_cast<uint64_t*>(storage.data());
        m_words = storage.size() / 8;
        for (size_t i = 0; i < m_words; ++i) m_bits[i] = ~uint64_t(0);
        for (auto& r : regions) {
            uint64_t first = *align_up(r.base, 4096) / 4096, last = (r.base + r.length) / 4096;
            for (uint64_t p = first; p < last && p / 64 < m_words; ++p) set(p, false), ++m_total;
        }
        m_free = m_total;
        return {};
    }
    void reserve(uint64_t base, uint64_t length) {
        for (uint64_t p = base / 4096; p < (base + length + 4095) / 4096 && p / 64 < m_words; ++p)
            if (!get(p)) set(p, true), --m_free;
    }
    Result<uint64_t> alloc() { return alloc_contiguous(1, 1); }
    Result<uint64_t> alloc_contiguous(size_t count, size_t) {
        if (count == 1) {
            for (uint64_t w = m_hint; w < m_words; ++w) {
                if (m_bits[w] == ~uint64_t(0)) continue;
                uint64_t p = w * 64 + __builtin_ctzll(~m_bits[w]);
                set(p, true);
                --m_free;
                m_hint = w;
                return p * 4096;
            }
            if (m_hint == 0) return Errno::NoMem;
            m_hint = 0;
            return alloc_contiguous(1, 1);
        }
        uint64_t run = 0;
        for (uint64_t p = 0; p < m_words * 64; ++p) {
            run = get(p) ? 0 : run + 1;
            if (run == count) {
                uint64_t first = p + 1 - count;
                for (uint64_t q = first; q <= p; ++q) set(q, true);
                m_free -= count;
                return first * 4096;
            }
        }
        return Errno::NoMem;
    }
    ErrorOr free(uint64_t addr) { return free_contiguous(addr, 1); }
    ErrorOr free_contiguous(uint64_t addr, size_t count) {
        for (uint64_t p = addr / 4096; p < addr / 4096 + count; ++p) {
            if (p / 64 >= m_words || !get(p)) return Errno::Inval;
            set(p, false);
        }
        if (addr / 4096 / 64 < m_hint) m_hint = addr / 4096 / 64;
        m_free += count;
        return {};
    }
    uint64_t free_frames() const { return m_free; }
    uint64_t total_frames() const { return m_total; }

private:
    bool get(uint64_t p) const { return m_bits[p / 64] >> (p % 64) & 1; }
    void set(uint64_t p, bool v) {
        if (v)
            m_bits[p / 64] |= 1ull << (p % 64);
        else
            m_bits[p / 64] &= ~(1ull << (p % 64));
    }
    uint64_t m_hint = 0;
    uint64_t* m_bits = nullptr;
    size_t m_words = 0;
    uint64_t m_total = 0, m_free = 0;
};

enum class VmKind : uint8_t { Anonymous, Program, Stack, Heap };

struct VmArea {
    uint64_t start, end;
    int prot;
    VmKind kind;
};

class NodeAllocator {
public:
    virtual VmArea* allocate() = 0;
    virtual void release(VmArea*) = 0;
};

// Sorted array of at most kMax areas.
class VmAreaMap {
public:
    static constexpr size_t kMax = 512;
    const VmArea* find(uint64_t addr) const {
        for (size_t i = 0; i < m_count; ++i)
            if (m_areas[i].start <= addr && addr < m_areas[i].end) return &m_areas[i];
        return nullptr;
    }
    bool is_free(uint64_t start, uint64_t length) const {
        for (size_t i = 0; i < m_count; ++i)
            if (m_areas[i].start < start + length && start < m_areas[i].end) return false;
        return true;
    }
    ErrorOr map(uint64_t start, uint64_t length, int prot, VmKind kind) {
        TRY(unmap(start, length));
        if (m_count == kMax) return Errno::NoMem;
        size_t i = 0;
        while (i < m_count && m_areas[i].start < start) ++i;
        for (size_t j = m_count; j > i; --j) m_areas[j] = m_areas[j - 1];
        m_areas[i] = {start, start + length, prot, kind};
        ++m_count;
        return {};
    }
    ErrorOr unmap(uint64_t start, uint64_t length) {
        uint64_t end = start + length;
        for (size_t i = 0; i < m_count; ++i) {
            VmArea& a = m_areas[i];
            if (a.end <= start || a.start >= end) continue;
            if (a.start < start && a.end > end) {  // split
                if (m_count == kMax) return Errno::NoMem;
                for (size_t j = m_count; j > i + 1; --j) m_areas[j] = m_areas[j - 1];
                m_areas[i + 1] = {end, a.end, a.prot, a.kind};
                a.end = start;
                ++m_count;
                return {};
            }
            if (a.start < start) {
                a.end = start;
            } else if (a.end > end) {
                a.start = end;
            } else {
                for (size_t j = i; j + 1 < m_count; ++j) m_areas[j] = m_areas[j + 1];
                --m_count;
                --i;
            }
        }
        return {};
    }
    ErrorOr protect(uint64_t start, uint64_t length, int prot) {
        for (uint64_t p = start; p < start + length; p += 4096)
            if (!find(p)) return Errno::NoMem;
        // Re-map piecewise with the new protection, keeping kinds.
        uint64_t p = start;
        while (p < start + length) {
            const VmArea* a = find(p);
            uint64_t e = a->end < start + length ? a->end : start + length;
            VmKind kind = a->kind;
            TRY(map(p, e - p, prot, kind));
            p = e;
        }
        return {};
    }
    Result<uint64_t> find_free(uint64_t length, uint64_t lo, uint64_t hi, bool) const {
        uint64_t candidate_end = hi;
        for (size_t i = m_count; i-- > 0;) {
            const VmArea& a = m_areas[i];
            if (a.start >= candidate_end) continue;
            if (a.end <= candidate_end && candidate_end - a.end >= length)
                return candidate_end - length;
            if (a.start < candidate_end) candidate_end = a.start;
        }
        if (candidate_end >= lo + length) return candidate_end - length;
        return Errno::NoMem;
    }
    void clear() { m_count = 0; }

private:
    VmArea m_areas[kMax];
    size_t m_count = 0;
};

}  // namespace lib::vm
