// Reference counts for the physical frames that have more than one holder: a file's page lent
// to the mappings of it (tmpfs, the overlay's copies). Most frames have one owner and are not
// in the table at all; a frame enters it when its owner first lends it (count 2: the owner's
// reference plus the borrower's) and leaves it when the count drops back to one... or to
// zero, whoever lets go last frees the frame. An open-addressing hash table (linear probing,
// backward-shift deletion) whose slot arrays come from an injected allocator.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lib/base/result.h"

namespace lib::vm {

class FrameRefs {
public:
    struct Slot {
        uint64_t page;   // frame >> kPageShift; 0: empty (frame 0 is never handed out)
        uint64_t count;  // holders, at least 2 while tracked
    };
    // Slot arrays: zero-filled, or nullptr when out of memory.
    class Storage {
    public:
        virtual Slot* allocate(size_t count) = 0;
        virtual void release(Slot* slots, size_t count) = 0;

    protected:
        ~Storage() = default;
    };

    explicit FrameRefs(Storage& storage) : m_storage(&storage) {}
    FrameRefs(const FrameRefs&) = delete;
    FrameRefs& operator=(const FrameRefs&) = delete;
    ~FrameRefs();

    // One more holder of `frame` (page aligned, nonzero). NoMem when the table cannot grow;
    // nothing changes then.
    ErrorOr share(uint64_t frame);
    // One holder lets go. True when it was the last one: the caller frees the frame. A frame
    // not in the table has only its owner, so releasing it is always the last reference.
    bool release(uint64_t frame);
    // Holders of `frame`: 1 when it is not tracked.
    uint64_t count(uint64_t frame) const;
    size_t tracked() const { return m_used; }

private:
    static constexpr size_t kMinCapacity = 64;
    size_t home(uint64_t page) const;
    Slot* find(uint64_t page) const;
    ErrorOr grow();
    void insert_new(uint64_t page, uint64_t count);
    void erase(Slot* slot);

    Storage* m_storage;
    Slot* m_slots = nullptr;
    size_t m_capacity = 0;  // a power of two, or 0
    size_t m_used = 0;
};

}  // namespace lib::vm
