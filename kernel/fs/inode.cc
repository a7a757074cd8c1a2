// What an Inode does unless its filesystem says otherwise, and the small helpers every
// filesystem shares.
#include "kernel/fs/inode_file.h"
#include "kernel/fs/vfs.h"
#include "kernel/time/clock.h"

namespace kernel::fs {

lib::Result<Inode*> Inode::lookup(std::string_view) { return lib::Errno::NotDir; }

lib::Result<size_t> Inode::read(uint64_t, std::span<std::byte>) {
    return is_directory() ? lib::Errno::IsDir : lib::Errno::Inval;
}

lib::Result<size_t> Inode::read_link(std::span<char>) { return lib::Errno::Inval; }

lib::Result<bool> Inode::next_entry(uint64_t&, DirEntry&) { return lib::Errno::NotDir; }

lib::Result<uint64_t> Inode::cached_page(uint64_t) { return lib::Errno::OpNotSupp; }

lib::Result<MappedPage> Inode::map_page(uint64_t index, bool for_write) {
    if (for_write) return lib::Errno::OpNotSupp;
    return MappedPage{TRY(cached_page(index)), false};
}

lib::Result<File*> Inode::open(int flags, std::string_view path) {
    retain();
    return TRY(InodeFile::create(InodeRef(this), flags, path));
}

lib::ErrorOr Inode::open_for_write(bool) {
    return is_directory() ? lib::Errno::IsDir : lib::Errno::ReadOnlyFs;
}

lib::Result<size_t> Inode::write(uint64_t, std::span<const std::byte>) {
    return is_directory() ? lib::Errno::IsDir : lib::Errno::ReadOnlyFs;
}

lib::ErrorOr Inode::truncate(uint64_t) {
    return is_directory() ? lib::Errno::IsDir : lib::Errno::ReadOnlyFs;
}

lib::ErrorOr Inode::set_mode(uint32_t) { return lib::Errno::ReadOnlyFs; }

lib::ErrorOr Inode::set_owner(uint32_t, uint32_t) { return lib::Errno::ReadOnlyFs; }

lib::ErrorOr Inode::set_times(const Timestamp*, const Timestamp*) { return lib::Errno::ReadOnlyFs; }

lib::Result<Inode*> Inode::create(std::string_view, uint32_t) {
    return is_directory() ? lib::Errno::ReadOnlyFs : lib::Errno::NotDir;
}

lib::ErrorOr Inode::make_directory(std::string_view, uint32_t) {
    return is_directory() ? lib::Errno::ReadOnlyFs : lib::Errno::NotDir;
}

lib::ErrorOr Inode::make_symlink(std::string_view, std::string_view) {
    return is_directory() ? lib::Errno::ReadOnlyFs : lib::Errno::NotDir;
}

lib::Result<Inode*> Inode::make_node(std::string_view, uint32_t) {
    return is_directory() ? lib::Errno::ReadOnlyFs : lib::Errno::NotDir;
}

lib::ErrorOr Inode::link(std::string_view, Inode&) {
    return is_directory() ? lib::Errno::ReadOnlyFs : lib::Errno::NotDir;
}

lib::ErrorOr Inode::remove(std::string_view, bool) {
    return is_directory() ? lib::Errno::ReadOnlyFs : lib::Errno::NotDir;
}

lib::ErrorOr Inode::rename(std::string_view, Inode&, std::string_view, unsigned) {
    return is_directory() ? lib::Errno::ReadOnlyFs : lib::Errno::NotDir;
}

uint8_t dt_type(uint32_t mode) {
    switch (mode & kTypeMask) {
        case kTypeDirectory:
            return kDtDir;
        case kTypeRegular:
            return kDtReg;
        case kTypeSymlink:
            return kDtLnk;
        default:
            return uint8_t((mode & kTypeMask) >> 12);  // DT_* is the S_IFMT type shifted down
    }
}

Timestamp now() {
    uint64_t ns = time::realtime_ns();
    return {int64_t(ns / 1000000000), uint32_t(ns % 1000000000)};
}

}  // namespace kernel::fs
