// Heap implementation. Every heap page starts with a 16-byte header naming its size class (or,
// for large blocks, its frame count), so kfree needs no size.
// FIXME(#5): take a lock once the kernel is preemptible or SMP.
#include "kernel/mm/heap.h"

#include <cstdint>

#include "kernel/arch/x86_64/layout.h"
#include "kernel/debug/panic.h"
#include "kernel/mm/frames.h"

namespace kernel::mm {

namespace {

constexpr uint32_t kSmallMagic = 0x534d414c;  // "SMAL"
constexpr uint32_t kLargeMagic = 0x4c415247;  // "LARG"
constexpr size_t kHeaderSize = 16;
constexpr size_t kClassSizes[] = {16, 32, 64, 128, 256, 512, 1008, 2032};
constexpr int kClassCount = sizeof(kClassSizes) / sizeof(kClassSizes[0]);

struct PageHeader {
    uint32_t magic;
    uint32_t size_class;
    uint64_t frames;
};
static_assert(sizeof(PageHeader) == kHeaderSize);

struct FreeChunk {
    FreeChunk* next;
};

FreeChunk* g_free[kClassCount];

int class_for(size_t size) {
    for (int i = 0; i < kClassCount; ++i)
        if (size <= kClassSizes[i]) return i;
    return -1;
}

bool refill(int size_class) {
    auto frame = alloc_frame();
    if (frame.is_error()) return false;
    auto* page = arch::phys_to_virt<char>(frame.value());
    *reinterpret_cast<PageHeader*>(page) = {kSmallMagic, uint32_t(size_class), 1};
    size_t size = kClassSizes[size_class];
    for (size_t offset = kHeaderSize; offset + size <= arch::kPageSize; offset += size) {
        auto* chunk = reinterpret_cast<FreeChunk*>(page + offset);
        chunk->next = g_free[size_class];
        g_free[size_class] = chunk;
    }
    return true;
}

PageHeader* header_of(void* pointer) {
    auto address = reinterpret_cast<uint64_t>(pointer) & ~(arch::kPageSize - 1);
    return reinterpret_cast<PageHeader*>(address);
}

}  // namespace

void* kmalloc(size_t size) {
    if (size == 0) size = 1;
    int size_class = class_for(size);
    if (size_class >= 0) {
        if (!g_free[size_class] && !refill(size_class)) return nullptr;
        FreeChunk* chunk = g_free[size_class];
        g_free[size_class] = chunk->next;
        return chunk;
    }
    if (size > (uint64_t(1) << 40)) return nullptr;
    size_t frames = (size + kHeaderSize + arch::kPageSize - 1) / arch::kPageSize;
    auto block = alloc_frames(frames);
    if (block.is_error()) return nullptr;
    auto* header = arch::phys_to_virt<PageHeader>(block.value());
    *header = {kLargeMagic, 0, frames};
    return reinterpret_cast<char*>(header) + kHeaderSize;
}

void kfree(void* pointer) {
    if (!pointer) return;
    PageHeader* header = header_of(pointer);
    if (header->magic == kSmallMagic && header->size_class < kClassCount) {
        auto* chunk = static_cast<FreeChunk*>(pointer);
        chunk->next = g_free[header->size_class];
        g_free[header->size_class] = chunk;
    } else if (header->magic == kLargeMagic &&
               reinterpret_cast<char*>(header) + kHeaderSize == pointer) {
        header->magic = 0;
        free_frames(arch::virt_to_phys(header), header->frames);
    } else {
        panic("kfree: {} is not a heap pointer", pointer);
    }
}

}  // namespace kernel::mm

void* operator new(size_t size) {
    void* p = kernel::mm::kmalloc(size);
    if (!p) kernel::panic("operator new: out of memory ({} bytes); use try_make", size);
    return p;
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
    return kernel::mm::kmalloc(size);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
    return kernel::mm::kmalloc(size);
}
void operator delete(void* p) noexcept { kernel::mm::kfree(p); }
void operator delete[](void* p) noexcept { kernel::mm::kfree(p); }
void operator delete(void* p, size_t) noexcept { kernel::mm::kfree(p); }
void operator delete[](void* p, size_t) noexcept { kernel::mm::kfree(p); }
