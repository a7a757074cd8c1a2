// The kernel heap: kmalloc/kfree and operator new. Small sizes come from per-class free lists
// carved out of single frames; large ones from contiguous frames. Failure is visible: nullptr.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace kernel::mm {

void* kmalloc(size_t size);
void kfree(void* pointer);

// new T(args...) that returns nullptr instead of failing invisibly.
template <typename T, typename... Args>
T* try_make(Args&&... args) {
    return new (std::nothrow) T(std::forward<Args>(args)...);
}

}  // namespace kernel::mm
