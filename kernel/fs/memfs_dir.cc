// memfs directories: lookups, listings, and the namespace operations with their POSIX checks
// on top of a few primitives (add, drop, move an entry) that the overlay uses directly.
#include <new>

#include "kernel/fs/memfs.h"
#include "kernel/mm/heap.h"

namespace kernel::fs {

// One name in a directory; the name bytes follow the struct in the same allocation.
struct MemInode::Entry {
    lib::fs::NameNode node;     // first: an Entry* and its NameNode* are the same address
    MemInode* inode = nullptr;  // a reference; nullptr for a whiteout
    char* name() { return reinterpret_cast<char*>(this + 1); }
    static Entry* of(lib::fs::NameNode* node) { return reinterpret_cast<Entry*>(node); }
};

namespace {

lib::ErrorOr check_name(std::string_view name) {
    if (name.empty()) return lib::Errno::NoEnt;
    if (name.size() > kNameMax) return lib::Errno::NameTooLong;
    if (name == "." || name == "..") return lib::Errno::Exist;
    return {};
}

void fill(DirEntry& out, uint64_t ino, uint8_t type, std::string_view name) {
    out.ino = ino;
    out.type = type;
    out.name_length = uint8_t(name.size());
    __builtin_memcpy(out.name, name.data(), name.size());
    out.name[name.size()] = '\0';
}

}  // namespace

// --- entries ---

void MemInode::clear_entries() {
    // Only whiteouts are left in a directory that dies (it was removed empty); anything else
    // is let go the same way.
    while (lib::fs::NameNode* node = m_entries.first()) {
        Entry* entry = Entry::of(node);
        m_entries.erase(*node);
        if (entry->inode) {
            if (entry->inode->m_parent == this) entry->inode->m_parent = nullptr;
            entry->inode->release();
        }
        mm::kfree(entry);
    }
}

MemInode::Entry* MemInode::find_entry(std::string_view name) const {
    lib::fs::NameNode* node = m_entries.find(name);
    return node ? Entry::of(node) : nullptr;
}

lib::Result<MemInode::Entry*> MemInode::new_entry(std::string_view name) {
    TRY(check_name(name));
    void* memory = mm::kmalloc(sizeof(Entry) + name.size() + 1);
    if (!memory) return lib::Errno::NoMem;
    auto* entry = new (memory) Entry;
    __builtin_memcpy(entry->name(), name.data(), name.size());
    entry->name()[name.size()] = '\0';
    entry->node.name = {entry->name(), name.size()};
    return entry;
}

// `entry` (new or a whiteout) now names `inode` (whose reference it takes over).
void MemInode::insert_entry(Entry* entry, MemInode* inode) {
    entry->inode = inode;
    ++m_real_entries;
    if (inode->is_directory()) {
        inode->m_parent = this;
        ++m_links;
    }
}

// `entry` stops naming its inode (the caller takes over the reference it held).
void MemInode::erase_entry(Entry* entry) {
    MemInode* inode = entry->inode;
    entry->inode = nullptr;
    --m_real_entries;
    if (inode->is_directory()) --m_links;
}

void MemInode::unlinked(MemInode& child) {
    if (child.is_directory()) {
        child.m_removed = true;
        child.m_parent = nullptr;
        child.m_links = 0;
    } else {
        --child.m_links;
    }
    child.m_ctime = now();
}

bool MemInode::is_ancestor_of(const MemInode& dir) const {
    for (const MemInode* d = &dir; d; d = d->m_parent)
        if (d == this) return true;
    return false;
}

MemInode::Child MemInode::find(std::string_view name) const {
    Entry* entry = find_entry(name);
    if (!entry) return {};
    return {entry->inode, entry->inode == nullptr};
}

lib::Result<MemInode*> MemInode::add_child(std::string_view name, uint32_t mode,
                                           std::string_view target) {
    if (!is_directory()) return lib::Errno::NotDir;
    if (m_removed) return lib::Errno::NoEnt;
    TRY(check_name(name));
    Entry* entry = find_entry(name);
    if (entry && entry->inode) return lib::Errno::Exist;
    auto* child = mm::try_make<MemInode>(*m_fs, mode);
    if (!child) return lib::Errno::NoMem;
    if ((mode & kTypeMask) == kTypeSymlink) {
        child->m_target = static_cast<char*>(mm::kmalloc(target.size() ? target.size() : 1));
        if (!child->m_target) {
            delete child;
            return lib::Errno::NoMem;
        }
        __builtin_memcpy(child->m_target, target.data(), target.size());
        child->m_size = target.size();
    }
    bool fresh = !entry;
    if (fresh) {
        auto made = new_entry(name);
        if (made.is_error()) {
            delete child;
            return made.error();
        }
        entry = made.value();
    }
    insert_entry(entry, child);
    if (fresh) m_entries.insert(entry->node);
    touch();
    child->retain();  // the entry's reference and the caller's
    return child;
}

lib::ErrorOr MemInode::add_link(std::string_view name, MemInode& target) {
    if (m_removed) return lib::Errno::NoEnt;
    Entry* entry = find_entry(name);
    if (entry && entry->inode) return lib::Errno::Exist;
    bool fresh = !entry;
    if (fresh) entry = TRY(new_entry(name));
    target.retain();
    ++target.m_links;
    target.m_ctime = now();
    insert_entry(entry, &target);
    if (fresh) m_entries.insert(entry->node);
    touch();
    return {};
}

lib::ErrorOr MemInode::add_whiteout(std::string_view name) {
    Entry* entry = find_entry(name);
    if (entry) return entry->inode ? lib::Errno::Exist : lib::ErrorOr{};
    entry = TRY(new_entry(name));
    m_entries.insert(entry->node);
    return {};
}

lib::ErrorOr MemInode::drop_child(std::string_view name, bool whiteout) {
    Entry* entry = find_entry(name);
    if (!entry || !entry->inode) return lib::Errno::NoEnt;
    MemInode* child = entry->inode;
    erase_entry(entry);
    if (!whiteout) {
        m_entries.erase(entry->node);
        mm::kfree(entry);
    }
    unlinked(*child);
    child->release();
    touch();
    return {};
}

lib::ErrorOr MemInode::move_child(std::string_view from, MemInode& to_dir, std::string_view to,
                                  bool whiteout) {
    Entry* source = find_entry(from);
    if (!source || !source->inode) return lib::Errno::NoEnt;
    Entry* target = to_dir.find_entry(to);
    if (target && target->inode == source->inode) return {};
    bool fresh = !target;
    if (fresh) target = TRY(to_dir.new_entry(to));  // before anything changes
    MemInode* child = source->inode;
    erase_entry(source);
    if (!whiteout) {
        m_entries.erase(source->node);
        mm::kfree(source);
    }
    if (target->inode) {
        MemInode* replaced = target->inode;
        to_dir.erase_entry(target);
        to_dir.unlinked(*replaced);
        replaced->release();
    }
    to_dir.insert_entry(target, child);
    if (fresh) to_dir.m_entries.insert(target->node);
    touch();
    to_dir.touch();
    child->m_ctime = now();
    return {};
}

// --- the Inode interface ---

lib::Result<Inode*> MemInode::lookup(std::string_view name) {
    if (!is_directory()) return lib::Errno::NotDir;
    if (name == ".") {
        retain();
        return static_cast<Inode*>(this);
    }
    if (m_removed) return lib::Errno::NoEnt;
    if (name == "..") {
        MemInode* parent = m_parent ? m_parent : this;  // the root is its own parent
        parent->retain();
        return static_cast<Inode*>(parent);
    }
    Entry* entry = find_entry(name);
    if (!entry || !entry->inode) return lib::Errno::NoEnt;
    entry->inode->retain();
    return static_cast<Inode*>(entry->inode);
}

lib::Result<bool> MemInode::next_entry(uint64_t& cookie, DirEntry& out) {
    if (!is_directory()) return lib::Errno::NotDir;
    if (m_removed) return false;
    if (cookie == 0) {
        fill(out, m_ino, kDtDir, ".");
        cookie = 1;
        return true;
    }
    if (cookie == 1) {
        fill(out, m_parent ? m_parent->m_ino : m_ino, kDtDir, "..");
        cookie = lib::fs::NameTable::kFirstCookie;
        return true;
    }
    for (lib::fs::NameNode* node = m_entries.seek(cookie); node; node = node->next) {
        Entry* entry = Entry::of(node);
        if (!entry->inode) continue;  // a whiteout
        fill(out, entry->inode->m_ino, dt_type(entry->inode->m_mode), node->name);
        cookie = node->cookie + 1;
        return true;
    }
    return false;
}

lib::Result<Inode*> MemInode::create(std::string_view name, uint32_t permissions) {
    MemInode* child = TRY(add_child(name, kTypeRegular | (permissions & kPermissionMask)));
    return static_cast<Inode*>(child);
}

lib::ErrorOr MemInode::make_directory(std::string_view name, uint32_t permissions) {
    MemInode* child = TRY(add_child(name, kTypeDirectory | (permissions & kPermissionMask)));
    child->release();
    return {};
}

lib::ErrorOr MemInode::make_symlink(std::string_view name, std::string_view target) {
    if (target.empty()) return lib::Errno::NoEnt;
    if (target.size() >= kPathMax) return lib::Errno::NameTooLong;
    MemInode* child = TRY(add_child(name, kTypeSymlink | 0777, target));
    child->release();
    return {};
}

lib::Result<Inode*> MemInode::make_node(std::string_view name, uint32_t mode) {
    if ((mode & kTypeMask) != kTypeSocket) return lib::Errno::Inval;
    MemInode* child = TRY(add_child(name, kTypeSocket | (mode & kPermissionMask)));
    return static_cast<Inode*>(child);
}

lib::ErrorOr MemInode::link(std::string_view name, Inode& target) {
    if (!is_directory()) return lib::Errno::NotDir;
    if (target.is_directory()) return lib::Errno::Perm;
    TRY(check_name(name));
    return add_link(name, static_cast<MemInode&>(target));
}

lib::ErrorOr MemInode::remove(std::string_view name, bool directory) {
    if (!is_directory()) return lib::Errno::NotDir;
    if (m_removed) return lib::Errno::NoEnt;
    Entry* entry = find_entry(name);
    if (!entry || !entry->inode) return lib::Errno::NoEnt;
    MemInode& child = *entry->inode;
    if (directory) {
        if (!child.is_directory()) return lib::Errno::NotDir;
        if (child.m_real_entries) return lib::Errno::NotEmpty;
    } else if (child.is_directory()) {
        return lib::Errno::IsDir;
    }
    return drop_child(name, false);
}

lib::ErrorOr MemInode::rename(std::string_view from, Inode& to_dir, std::string_view to,
                              unsigned flags) {
    auto& destination = static_cast<MemInode&>(to_dir);
    if (!is_directory() || !destination.is_directory()) return lib::Errno::NotDir;
    if (m_removed || destination.m_removed) return lib::Errno::NoEnt;
    if (to.size() > kNameMax) return lib::Errno::NameTooLong;
    Entry* source = find_entry(from);
    if (!source || !source->inode) return lib::Errno::NoEnt;
    MemInode* moving = source->inode;
    Entry* target = destination.find_entry(to);
    MemInode* replaced = target ? target->inode : nullptr;
    if (replaced == moving) return {};  // two names of one file: POSIX says do nothing
    if (replaced && (flags & kRenameNoReplace)) return lib::Errno::Exist;
    if (moving->is_directory()) {
        if (replaced && !replaced->is_directory()) return lib::Errno::NotDir;
        if (moving->is_ancestor_of(destination)) return lib::Errno::Inval;
    } else if (replaced && replaced->is_directory()) {
        return lib::Errno::IsDir;
    }
    if (replaced && replaced->is_directory() && replaced->m_real_entries)
        return lib::Errno::NotEmpty;
    return move_child(from, destination, to, false);
}

}  // namespace kernel::fs
