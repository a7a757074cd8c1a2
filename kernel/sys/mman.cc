// Memory syscalls: mmap (anonymous, of files, of /dev/zero), munmap, mprotect, brk, madvise.
#include "kernel/arch/x86_64/layout.h"
#include "kernel/fs/inode_file.h"
#include "kernel/proc/process.h"
#include "kernel/sys/handlers.h"
#include "lib/base/checked.h"

namespace kernel::sys {

namespace {

// mmap flags (asm-generic/mman-common.h, asm/mman.h).
constexpr int kMapShared = 0x01;
constexpr int kMapPrivate = 0x02;
constexpr int kMapSharedValidate = 0x03;
constexpr int kMapTypeMask = 0x0f;
constexpr int kMapFixed = 0x10;
constexpr int kMapAnonymous = 0x20;
constexpr int kMapPopulate = 0x8000;
constexpr int kMapFixedNoReplace = 0x100000;

constexpr int kMadvDontneed = 4;
constexpr int kMadvFree = 8;

constexpr uint64_t kPage = arch::kPageSize;

bool valid_prot(int prot) { return (prot & ~(mm::kProtRead | mm::kProtWrite | mm::kProtExec)) == 0; }

// Page-rounds length; EINVAL for zero, ENOMEM when it cannot fit the user half.
lib::Result<uint64_t> page_length(uint64_t length) {
    if (length == 0) return lib::Errno::Inval;
    auto rounded = lib::align_up(length, kPage);
    if (!rounded || *rounded > arch::kUserEnd) return lib::Errno::NoMem;
    return *rounded;
}

bool range_in_user(uint64_t start, uint64_t length) {
    return lib::range_within(start, length, arch::kUserEnd);
}

}  // namespace

SyscallResult sys_mmap(uint64_t address, uint64_t length, int prot, int flags, int fd,
                       int64_t offset) {
    int type = flags & kMapTypeMask;
    if (type != kMapPrivate && type != kMapShared && type != kMapSharedValidate)
        return lib::Errno::Inval;
    if (!valid_prot(prot)) return lib::Errno::Inval;
    fs::Inode* inode = nullptr;
    fs::InodeFile* opened = nullptr;
    if (!(flags & kMapAnonymous)) {
        fs::File* file = TRY(proc::current().fds().get(fd));
        if (file->maps_as_anonymous()) {
            // /dev/zero: anonymous memory, private or (one process) as good as shared.
            if ((file->status_flags() & 3) == 1) return lib::Errno::Access;  // O_WRONLY
            flags |= kMapAnonymous;
        }
        opened = file->as_inode_file();
    }
    if (!(flags & kMapAnonymous)) {
        if (!opened || !opened->inode().is_regular()) return lib::Errno::NoDev;
        int access = opened->status_flags() & 3;
        if (access == 1) return lib::Errno::Access;  // O_WRONLY: nothing to read the pages from
        // Writing through to the file needs it open for writing.
        if (type != kMapPrivate && (prot & mm::kProtWrite) && access != 2) return lib::Errno::Access;
        if (offset < 0) return lib::Errno::Inval;
        inode = &opened->inode();
    }
    if (offset % int64_t(kPage)) return lib::Errno::Inval;
    uint64_t size = TRY(page_length(length));
    auto& space = proc::current().address_space();
    lib::vm::VmKind kind = lib::vm::VmKind::Anonymous;
    if (inode && type == kMapPrivate) kind = lib::vm::VmKind::File;
    if (inode && type != kMapPrivate)
        kind = (opened->status_flags() & 3) == 2 ? lib::vm::VmKind::SharedFile
                                                  : lib::vm::VmKind::SharedFileReadOnly;
    // One process, no fork: MAP_SHARED anonymous memory behaves exactly like private memory.
    if (flags & (kMapFixed | kMapFixedNoReplace)) {
        if (address % kPage || !range_in_user(address, size)) return lib::Errno::Inval;
        if ((flags & kMapFixedNoReplace) && !(flags & kMapFixed) && !space.is_free(address, size))
            return lib::Errno::Exist;
    } else if (!(address && address % kPage == 0 && range_in_user(address, size) &&
                 address >= 0x10000 && space.is_free(address, size))) {
        // A hint that fits is honoured, as Linux does; otherwise search top-down.
        address = TRY(space.find_room(size));
    }
    // A file's area is named for /proc/self/maps, and its tag keeps the file for the faults
    // that bring its pages in.
    uint64_t tag = inode ? proc::current().file_tag(inode, opened->path(), address,
                                                    uint64_t(offset) / kPage)
                         : 0;
    if (tag) tag = proc::current().backed_tag(tag, *inode);
    TRY(space.map_fixed(address, size, prot, kind, tag));
    // MAP_FIXED over a file's area may have been its last.
    if (space.take_file_areas_removed()) proc::current().drop_unmapped_inodes();
    bool shared = type != kMapPrivate;
    // A private mapping faults its pages in (ld.so maps whole libraries and touches a part):
    // read-only pages are the page cache's own frames, writable ones copies. A shared
    // mapping's pages are the file's, written through, mapped at once up to EOF (pages past
    // it fault in once the file has grown). Without a tag (the table of names is full) there
    // is no way back to the file: everything is mapped at once.
    if (inode && (shared || !tag)) {
        auto how = shared ? mm::AddressSpace::FileMapping::Shared
                          : mm::AddressSpace::FileMapping::BorrowOrCopy;
        if (auto filled = space.map_file_pages(address, size, *inode, uint64_t(offset) / kPage, how);
            filled.is_error()) {
            (void)space.unmap(address, size);
            return filled.error() == lib::Errno::OpNotSupp ? lib::Errno::NoDev : filled.error();
        }
    } else if (flags & kMapPopulate) {
        (void)space.populate(address, size);  // best effort, as Linux
    }
    return int64_t(address);
}

SyscallResult sys_msync(uint64_t address, uint64_t length, int flags) {
    constexpr int kAsync = 1, kInvalidate = 2, kSync = 4;
    if (address % kPage || (flags & ~(kAsync | kInvalidate | kSync)) ||
        ((flags & kAsync) && (flags & kSync)))
        return lib::Errno::Inval;
    auto size = lib::align_up(length, kPage);
    if (!size || !range_in_user(address, *size)) return lib::Errno::NoMem;
    // Shared mappings are the file's own pages and the files live in memory: nothing to
    // write back. Linux still wants the whole range mapped.
    if (*size && !proc::current().address_space().is_mapped(address, *size)) return lib::Errno::NoMem;
    return 0;
}

SyscallResult sys_munmap(uint64_t address, uint64_t length) {
    if (address % kPage) return lib::Errno::Inval;
    uint64_t size = TRY(page_length(length));
    if (!range_in_user(address, size)) return lib::Errno::Inval;
    auto& space = proc::current().address_space();
    TRY(space.unmap(address, size));
    if (space.take_file_areas_removed()) proc::current().drop_unmapped_inodes();
    return 0;
}

SyscallResult sys_mprotect(uint64_t address, uint64_t length, int prot) {
    if (address % kPage) return lib::Errno::Inval;
    if (!valid_prot(prot)) return lib::Errno::Inval;
    if (length == 0) return 0;
    uint64_t size = TRY(page_length(length));
    if (!range_in_user(address, size)) return lib::Errno::NoMem;
    TRY(proc::current().address_space().protect(address, size, prot));
    return 0;
}

SyscallResult sys_brk(uint64_t address) {
    auto& process = proc::current();
    uint64_t current = process.brk();
    // Linux returns the unchanged break on any failure; libc compares.
    if (address < process.brk_start()) return int64_t(current);
    uint64_t old_end = *lib::align_up(current, kPage);
    auto new_end_or = lib::align_up(address, kPage);
    if (!new_end_or || *new_end_or > arch::kUserEnd) return int64_t(current);
    uint64_t new_end = *new_end_or;
    auto& space = process.address_space();
    if (new_end > old_end) {
        if (!space.is_free(old_end, new_end - old_end)) return int64_t(current);
        auto mapped = space.map_fixed(old_end, new_end - old_end, mm::kProtRead | mm::kProtWrite,
                                      lib::vm::VmKind::Heap);
        if (mapped.is_error()) return int64_t(current);
    } else if (new_end < old_end) {
        (void)space.unmap(new_end, old_end - new_end);
    }
    process.set_brk(address);
    return int64_t(address);
}

SyscallResult sys_madvise(uint64_t address, uint64_t length, int advice) {
    if (address % kPage) return lib::Errno::Inval;
    if (length == 0) return 0;
    uint64_t size = TRY(page_length(length));
    if (!range_in_user(address, size)) return lib::Errno::Inval;
    if (advice == kMadvDontneed || advice == kMadvFree)
        proc::current().address_space().discard(address, size);
    return 0;  // other advice is only a hint
}

}  // namespace kernel::sys
