// FrameRefs: the table grows at three quarters full and never shrinks below its peak (the
// peak is what the program's mappings needed once, and they usually need it again).
#include "lib/vm/frame_refs.h"

#include "lib/vm/page.h"

namespace lib::vm {

FrameRefs::~FrameRefs() {
    if (m_slots) m_storage->release(m_slots, m_capacity);
}

size_t FrameRefs::home(uint64_t page) const {
    // Fibonacci hashing: frames of one file are often consecutive pages.
    return size_t((page * 0x9e37'79b9'7f4a'7c15ull) >> 32) & (m_capacity - 1);
}

FrameRefs::Slot* FrameRefs::find(uint64_t page) const {
    if (!m_capacity) return nullptr;
    for (size_t i = home(page);; i = (i + 1) & (m_capacity - 1)) {
        if (m_slots[i].page == page) return &m_slots[i];
        if (m_slots[i].page == 0) return nullptr;
    }
}

void FrameRefs::insert_new(uint64_t page, uint64_t count) {
    size_t i = home(page);
    while (m_slots[i].page) i = (i + 1) & (m_capacity - 1);
    m_slots[i] = {page, count};
    ++m_used;
}

ErrorOr FrameRefs::grow() {
    size_t capacity = m_capacity ? m_capacity * 2 : kMinCapacity;
    Slot* slots = m_storage->allocate(capacity);
    if (!slots) return Errno::NoMem;
    Slot* old = m_slots;
    size_t old_capacity = m_capacity;
    m_slots = slots;
    m_capacity = capacity;
    m_used = 0;
    for (size_t i = 0; i < old_capacity; ++i)
        if (old[i].page) insert_new(old[i].page, old[i].count);
    if (old) m_storage->release(old, old_capacity);
    return {};
}

ErrorOr FrameRefs::share(uint64_t frame) {
    uint64_t page = frame >> kPageShift;
    if (Slot* slot = find(page)) {
        ++slot->count;
        return {};
    }
    if ((m_used + 1) * 4 > m_capacity * 3) TRY(grow());
    insert_new(page, 2);
    return {};
}

void FrameRefs::erase(Slot* slot) {
    // Backward shift: move later members of the probe run into the hole when the hole lies
    // between their home and where they sit, so lookups never need tombstones.
    size_t hole = size_t(slot - m_slots);
    size_t mask = m_capacity - 1;
    for (size_t i = (hole + 1) & mask; m_slots[i].page; i = (i + 1) & mask) {
        size_t want = home(m_slots[i].page);
        // Distance from home to i, and from home to the hole, along the probe direction.
        if (((i - want) & mask) >= ((i - hole) & mask)) {
            m_slots[hole] = m_slots[i];
            hole = i;
        }
    }
    m_slots[hole] = {0, 0};
    --m_used;
}

bool FrameRefs::release(uint64_t frame) {
    Slot* slot = find(frame >> kPageShift);
    if (!slot) return true;
    if (--slot->count == 1) erase(slot);
    return false;
}

uint64_t FrameRefs::count(uint64_t frame) const {
    Slot* slot = find(frame >> kPageShift);
    return slot ? slot->count : 1;
}

}  // namespace lib::vm
