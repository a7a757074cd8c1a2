// Fuzzes lib/vm/frame_allocator: a header byte and up to six 4-byte region records build a
// memory map (unaligned, overlapping, possibly wrapping past the top of the address space),
// then 3-byte operations allocate, free (good and bad addresses) and reserve. A per-page
// model predicts every answer exactly: lowest free frame first, lowest aligned run first,
// errors for every bad free. Any difference aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "lib/vm/frame_allocator.h"

using namespace lib::vm;
using lib::Errno;

namespace {

#define FUZZ_CHECK(condition)      \
    do {                           \
        if (!(condition)) abort(); \
    } while (0)

constexpr size_t kWindowPages = 400;  // every region and operation stays inside the window

enum class Model : uint8_t { Unmanaged, Free, Allocated };

struct Harness {
    uint64_t window;  // physical address of the window's first page
    std::vector<Model> pages = std::vector<Model>(kWindowPages, Model::Unmanaged);
    std::vector<bool> freed = std::vector<bool>(kWindowPages, false);  // freed once since init
    std::vector<std::pair<uint64_t, size_t>> runs;  // what is allocated, to free later
    FrameAllocator allocator;

    uint64_t addr(size_t index) const { return window + index * kPageSize; }
    // Window index of a physical address, or kWindowPages when outside.
    size_t index(uint64_t address) const {
        if (address < window) return kWindowPages;
        uint64_t i = (address - window) / kPageSize;
        return i < kWindowPages ? size_t(i) : kWindowPages;
    }
    size_t count(Model state) const {
        size_t n = 0;
        for (Model m : pages) n += m == state;
        return n;
    }
};

void model_regions(Harness& h, const std::vector<PhysRegion>& regions, uint64_t floor) {
    for (const PhysRegion& r : regions) {
        for (size_t i = 0; i < kWindowPages; ++i) {
            uint64_t a = h.addr(i);
            if (a < h.window || a < floor || a < r.base) continue;  // a < window: wrapped
            // The page is whole inside the region, or the region runs past 2^64.
            uint64_t room = a + kPageSize - r.base;
            bool wraps = r.base + r.length < r.base;
            if (a + kPageSize != 0 && (wraps || room <= r.length)) h.pages[i] = Model::Free;
        }
    }
}

void do_alloc(Harness& h) {
    bool pristine = false;
    auto frame = h.allocator.alloc(&pristine);
    size_t lowest = 0;
    while (lowest < kWindowPages && h.pages[lowest] != Model::Free) ++lowest;
    if (lowest == kWindowPages) {
        FUZZ_CHECK(frame.is_error() && frame.error() == Errno::NoMem);
        return;
    }
    FUZZ_CHECK(frame.has_value() && frame.value() == h.addr(lowest));
    FUZZ_CHECK(pristine == !h.freed[lowest]);
    h.pages[lowest] = Model::Allocated;
    h.runs.push_back({frame.value(), 1});
}

void do_alloc_contiguous(Harness& h, size_t count, size_t align) {
    bool pristine = false;
    auto run = h.allocator.alloc_contiguous(count, align, &pristine);
    // The lowest start whose physical page number is aligned and whose pages are all free.
    size_t found = kWindowPages;
    for (size_t i = 0; i + count <= kWindowPages && found == kWindowPages; ++i) {
        if ((h.addr(i) / kPageSize) % align != 0) continue;
        bool all_free = true;
        for (size_t j = i; j < i + count; ++j) all_free &= h.pages[j] == Model::Free;
        if (all_free) found = i;
    }
    if (found == kWindowPages) {
        FUZZ_CHECK(run.is_error() && run.error() == Errno::NoMem);
        return;
    }
    FUZZ_CHECK(run.has_value() && run.value() == h.addr(found));
    bool clean = true;
    for (size_t j = found; j < found + count; ++j) clean = clean && !h.freed[j];
    FUZZ_CHECK(pristine == clean);
    for (size_t j = found; j < found + count; ++j) h.pages[j] = Model::Allocated;
    h.runs.push_back({run.value(), count});
}

// Frees [address, address + count pages): allowed only when every page is allocated.
void do_free(Harness& h, uint64_t address, size_t count) {
    bool valid = address % kPageSize == 0;
    size_t first = h.index(address);
    for (size_t j = 0; valid && j < count; ++j)
        valid = first + j < kWindowPages && h.pages[first + j] == Model::Allocated;
    auto result =
        count == 1 ? h.allocator.free(address) : h.allocator.free_contiguous(address, count);
    FUZZ_CHECK(result.is_error() == !valid);
    if (result.is_error()) FUZZ_CHECK(result.error() == Errno::Inval);
    if (!valid) return;
    for (size_t j = 0; j < count; ++j) {
        h.pages[first + j] = Model::Free;
        h.freed[first + j] = true;
    }
    for (size_t i = 0; i < h.runs.size(); ++i) {
        // A partial free of a recorded run leaves its other pages allocated but forgotten;
        // later frees of them through arbitrary addresses still work against the model.
        if (h.runs[i].first == address) {
            h.runs.erase(h.runs.begin() + long(i));
            break;
        }
    }
}

void do_reserve(Harness& h, uint64_t base, uint64_t length) {
    h.allocator.reserve(base, length);
    if (length == 0) return;
    for (size_t i = 0; i < kWindowPages; ++i) {
        uint64_t a = h.addr(i);
        if (a < h.window) continue;
        // Pages overlapping [base, base + length), the end clamped at 2^64.
        uint64_t end = base + length < base ? ~uint64_t(0) : base + length;
        if (a + kPageSize - 1 >= base && a < end) h.pages[i] = Model::Unmanaged;
    }
}

void check_same(const Harness& h) {
    FUZZ_CHECK(h.allocator.free_frames() == h.count(Model::Free));
    FUZZ_CHECK(h.allocator.total_frames() == h.count(Model::Free) + h.count(Model::Allocated));
    for (size_t i = 0; i < kWindowPages; ++i) {
        if (h.addr(i) < h.window) break;
        FrameState state = h.allocator.state(h.addr(i));
        FUZZ_CHECK(uint8_t(state) == uint8_t(h.pages[i]));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    Harness h;
    // Near the top of the address space the regions' ends wrap and must be clipped.
    h.window = data[0] & 0x80 ? ~uint64_t(0) - (300 * kPageSize - 1) : 0;
    uint64_t floor = h.window + (data[0] & 0x07) * kPageSize;
    if ((data[0] & 0x07) && (data[0] & 0x08)) floor -= 100;  // unaligned: rounds up
    size_t region_count = 1 + (data[1] % 6);
    size_t at = 2;
    std::vector<PhysRegion> regions;
    for (size_t i = 0; i < region_count && at + 4 <= size; ++i, at += 4) {
        uint64_t base = h.addr(data[at]) + data[at + 1] * 16;
        uint64_t length = uint64_t(data[at + 2] % 128) * kPageSize + data[at + 3] * 16;
        if (h.window != 0 && data[at + 3] == 0xff) length = ~uint64_t(0) / 2;  // wraps
        regions.push_back({base, length});
    }
    model_regions(h, regions, floor);
    std::vector<uint64_t> storage(FrameAllocator::storage_bytes_needed(regions, floor) / 8 + 1);
    auto init = h.allocator.init(
        regions, {reinterpret_cast<std::byte*>(storage.data()), storage.size() * 8}, floor);
    if (h.count(Model::Free) == 0) {
        FUZZ_CHECK(init.is_error() && init.error() == Errno::NoMem);
        return 0;
    }
    FUZZ_CHECK(!init.is_error());
    // Three bitmaps spanning the lowest through the highest managed page and a bit per bitmap
    // word, nothing more.
    size_t lowest = 0, highest = kWindowPages - 1;
    while (h.pages[lowest] != Model::Free) ++lowest;
    while (h.pages[highest] != Model::Free) --highest;
    size_t words = (highest - lowest + 1 + 63) / 64;
    FUZZ_CHECK(FrameAllocator::storage_bytes_needed(regions, floor) ==
               8 * (3 * words + (words + 63) / 64));
    FUZZ_CHECK(h.allocator.lowest_address() == h.addr(lowest));
    check_same(h);

    for (; at + 3 <= size; at += 3) {
        const uint8_t* op = data + at;
        switch (op[0] % 6) {
            case 0:
                do_alloc(h);
                break;
            case 1:
                do_alloc_contiguous(h, 1 + op[1] % 16, size_t(1) << (op[2] % 6));
                break;
            case 2:
                if (!h.runs.empty()) {
                    auto [address, count] = h.runs[op[1] % h.runs.size()];
                    do_free(h, address, count);
                }
                break;
            case 3:
                do_free(h, h.addr(op[1] + op[2] % 2 * 256) + (op[0] & 0x80 ? 8 : 0), 1 + op[2] % 3);
                break;
            case 4:
                do_reserve(h, h.addr(op[1]) + op[2] % 16 * 256, op[2] * 1024);
                break;
            case 5:
                // Drain: exhaustion, then the model must agree nothing is left.
                for (int i = 0; i < op[1] % 64; ++i) do_alloc(h);
                break;
        }
        check_same(h);
    }
    return 0;
}
