// The overlay's directories: merged lookups and listings, and the namespace operations, which
// check the merged view, copy the directories involved up, change the upper layer, and leave
// whiteouts where a lower name would otherwise show through again.
#include "kernel/fs/overlay_inode.h"
#include "kernel/mm/heap.h"

namespace kernel::fs {

namespace {

// Listing cookies at or above this walk the lower directory (cookie - kLowerPhase is its
// own); below it they are the upper directory's.
constexpr uint64_t kLowerPhase = 1ull << 62;

bool is_dot(std::string_view name) { return name == "." || name == ".."; }

}  // namespace

bool OverlayInode::lower_visible() const {
    return m_lower && m_lower->is_directory() && !(m_upper && m_upper->opaque());
}

bool OverlayInode::lower_has(std::string_view name) const {
    if (!lower_visible()) return false;
    auto found = m_lower->lookup(name);
    if (found.is_error()) return false;
    found.value()->release();
    return true;
}

lib::Result<Inode*> OverlayInode::wrap(std::string_view name, MemInode* upper, Inode* lower) {
    auto* inode = mm::try_make<OverlayInode>(*m_fs, this, name, upper, lower);
    if (!inode) {
        if (upper) upper->release();
        if (lower) lower->release();
        return lib::Errno::NoMem;
    }
    return static_cast<Inode*>(inode);
}

lib::Result<Inode*> OverlayInode::lookup(std::string_view name) {
    if (!is_directory()) return lib::Errno::NotDir;
    if (name == "." || (name == ".." && !m_parent)) {
        retain();
        return static_cast<Inode*>(this);
    }
    if (m_deleted || (m_upper && m_upper->removed())) return lib::Errno::NoEnt;
    if (name == "..") {
        m_parent->retain();
        return static_cast<Inode*>(m_parent);
    }
    MemInode::Child upper;
    if (m_upper) upper = m_upper->find(name);
    Inode* lower = nullptr;
    bool merge = !upper.inode || (upper.inode->is_directory() && !upper.inode->opaque());
    if (!upper.whiteout && merge && lower_visible()) {
        auto found = m_lower->lookup(name);
        if (found.has_value()) {
            lower = found.value();
            if (upper.inode && !lower->is_directory()) {  // an upper directory hides a lower file
                lower->release();
                lower = nullptr;
            }
        } else if (!upper.inode && found.error() != lib::Errno::NoEnt) {
            return found.error();
        }
    }
    if (!upper.inode && !lower) return lib::Errno::NoEnt;
    if (upper.inode) upper.inode->retain();
    return wrap(name, upper.inode, lower);
}

lib::Result<bool> OverlayInode::next_entry(uint64_t& cookie, DirEntry& out) {
    if (!is_directory()) return lib::Errno::NotDir;
    if (m_deleted || (m_upper && m_upper->removed())) return false;
    if (m_upper && cookie < kLowerPhase) {
        if (TRY(m_upper->next_entry(cookie, out))) return true;
        cookie = kLowerPhase;
    }
    if (!lower_visible()) return false;
    if (cookie < kLowerPhase) cookie = kLowerPhase;
    // Lower entries the upper directory names (or whites out) are skipped; the walk is
    // bounded by the size of the lower directory.
    for (;;) {
        uint64_t lower_cookie = cookie - kLowerPhase;
        bool more = TRY(m_lower->next_entry(lower_cookie, out));
        if (lower_cookie >= kLowerPhase) return lib::Errno::Io;
        cookie = kLowerPhase + lower_cookie;
        if (!more) return false;
        std::string_view entry_name(out.name, out.name_length);
        if (m_upper && (is_dot(entry_name) || m_upper->find(entry_name).inode ||
                        m_upper->find(entry_name).whiteout))
            continue;
        return true;
    }
}

lib::Result<bool> OverlayInode::merged_empty() {
    auto* entry = static_cast<DirEntry*>(mm::kmalloc(sizeof(DirEntry)));
    if (!entry) return lib::Errno::NoMem;
    uint64_t cookie = 0;
    lib::Result<bool> empty = true;
    for (;;) {
        auto more = next_entry(cookie, *entry);
        if (more.is_error() || !more.value()) {
            if (more.is_error()) empty = more.error();
            break;
        }
        if (!is_dot({entry->name, entry->name_length})) {
            empty = false;
            break;
        }
    }
    mm::kfree(entry);
    return empty;
}

lib::ErrorOr OverlayInode::check_free(std::string_view name) {
    if (name.size() > kNameMax) return lib::Errno::NameTooLong;
    auto found = lookup(name);
    if (found.has_value()) {
        found.value()->release();
        return lib::Errno::Exist;
    }
    return found.error() == lib::Errno::NoEnt ? lib::ErrorOr{} : found.error();
}

lib::ErrorOr OverlayInode::ready_directory() {
    if (!is_directory()) return lib::Errno::NotDir;
    if (m_deleted || (m_upper && m_upper->removed())) return lib::Errno::NoEnt;
    return copy_up(kWholeFile);
}

lib::Result<Inode*> OverlayInode::create(std::string_view name, uint32_t permissions) {
    TRY(check_free(name));
    TRY(ready_directory());
    MemInode* made = TRY(m_upper->add_child(name, kTypeRegular | (permissions & kPermissionMask)));
    ++m_fs->generation;
    return wrap(name, made, nullptr);
}

lib::ErrorOr OverlayInode::make_directory(std::string_view name, uint32_t permissions) {
    TRY(check_free(name));
    TRY(ready_directory());
    MemInode* made =
        TRY(m_upper->add_child(name, kTypeDirectory | (permissions & kPermissionMask)));
    // Opaque: where a lower directory was deleted, the new one must not show its entries;
    // elsewhere the lower layer has no such directory and never will (it is read-only), so
    // lookups below need not ask it.
    made->set_opaque(true);
    made->release();
    ++m_fs->generation;
    return {};
}

lib::ErrorOr OverlayInode::make_symlink(std::string_view name, std::string_view target) {
    if (target.empty()) return lib::Errno::NoEnt;
    if (target.size() >= kPathMax) return lib::Errno::NameTooLong;
    TRY(check_free(name));
    TRY(ready_directory());
    MemInode* made = TRY(m_upper->add_child(name, kTypeSymlink | 0777, target));
    made->release();
    ++m_fs->generation;
    return {};
}

lib::Result<Inode*> OverlayInode::make_node(std::string_view name, uint32_t mode) {
    if ((mode & kTypeMask) != kTypeSocket) return lib::Errno::Inval;
    TRY(check_free(name));
    TRY(ready_directory());
    MemInode* made = TRY(m_upper->add_child(name, kTypeSocket | (mode & kPermissionMask)));
    ++m_fs->generation;
    return wrap(name, made, nullptr);
}

lib::ErrorOr OverlayInode::link(std::string_view name, Inode& target) {
    auto& source = static_cast<OverlayInode&>(target);
    if (source.is_directory()) return lib::Errno::Perm;
    TRY(check_free(name));
    TRY(source.copy_up(kWholeFile));
    TRY(ready_directory());
    TRY(m_upper->add_link(name, *source.m_upper));
    ++m_fs->generation;
    return {};
}

lib::ErrorOr OverlayInode::remove(std::string_view name, bool directory) {
    if (!is_directory()) return lib::Errno::NotDir;
    InodeRef child_ref(TRY(lookup(name)));
    auto* child = static_cast<OverlayInode*>(child_ref.get());
    if (directory) {
        if (!child->is_directory()) return lib::Errno::NotDir;
        if (!TRY(child->merged_empty())) return lib::Errno::NotEmpty;
    } else if (child->is_directory()) {
        return lib::Errno::IsDir;
    }
    TRY(ready_directory());
    bool whiteout = lower_has(name);
    if (m_upper->find(name).inode)
        TRY(m_upper->drop_child(name, whiteout));  // a merged directory's whiteouts go with it
    else
        TRY(m_upper->add_whiteout(name));
    ++m_fs->generation;
    return {};
}

lib::ErrorOr OverlayInode::rename(std::string_view from, Inode& to_dir, std::string_view to,
                                  unsigned flags) {
    auto& destination = static_cast<OverlayInode&>(to_dir);
    if (!is_directory() || !destination.is_directory()) return lib::Errno::NotDir;
    if (to.size() > kNameMax) return lib::Errno::NameTooLong;
    InodeRef source_ref(TRY(lookup(from)));
    auto* source = static_cast<OverlayInode*>(source_ref.get());
    InodeRef target_ref;
    if (auto found = destination.lookup(to); found.has_value())
        target_ref = InodeRef(found.value());
    else if (found.error() != lib::Errno::NoEnt)
        return found.error();
    auto* target = static_cast<OverlayInode*>(target_ref.get());
    if (target && target->ino() == source->ino()) return {};  // one file: nothing to do
    if (target && (flags & kRenameNoReplace)) return lib::Errno::Exist;
    if (source->is_directory()) {
        if (target && !target->is_directory()) return lib::Errno::NotDir;
        if (source->m_lower) return lib::Errno::XDev;  // overlayfs without redirect_dir
    } else if (target && target->is_directory()) {
        return lib::Errno::IsDir;
    }
    if (target && target->is_directory() && !TRY(target->merged_empty()))
        return lib::Errno::NotEmpty;
    TRY(ready_directory());
    TRY(destination.ready_directory());
    TRY(source->copy_up(kWholeFile));
    if (source->is_directory() && source->m_upper->is_ancestor_of(*destination.m_upper))
        return lib::Errno::Inval;
    bool whiteout = lower_has(from);
    TRY(m_upper->move_child(from, *destination.m_upper, to, whiteout));
    // Only directories born in the upper layer move; where they land nothing may merge in.
    if (source->is_directory()) source->m_upper->set_opaque(true);
    ++m_fs->generation;
    return {};
}

}  // namespace kernel::fs
