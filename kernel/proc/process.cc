// Process bookkeeping and the program's end.
#include "kernel/proc/process.h"

#include "kernel/arch/x86_64/percpu.h"
#include "kernel/arch/x86_64/power.h"
#include "kernel/debug/panic.h"
#include "kernel/fs/vfs.h"
#include "kernel/mm/heap.h"
#include "kernel/sys/linux_types.h"
#include "kernel/time/clock.h"

namespace kernel::proc {

namespace {

// A mapped-file tag: whether the area is backed by the file (its pages fault in from it) in
// the top bit, the name's index + 1 in the 15 bits below, and (file page - virtual page)
// modulo 2^48 at the bottom, so that every piece of a split area finds its own offset.
constexpr unsigned kTagNameShift = 48;
constexpr uint64_t kTagDeltaMask = (1ull << kTagNameShift) - 1;
constexpr uint64_t kTagBacked = 1ull << 63;
constexpr uint64_t kTagNameMask = 0x7fff;

size_t name_index(uint64_t tag) { return size_t((tag >> kTagNameShift) & kTagNameMask); }

uint64_t read_word(std::span<const std::byte> stack, size_t offset) {
    uint64_t word = 0;
    if (offset <= stack.size() && stack.size() - offset >= 8)
        __builtin_memcpy(&word, stack.data() + offset, 8);
    return word;
}

// The address just past the NUL of the string at `address` (inside the stack), else `address`.
uint64_t string_end(std::span<const std::byte> stack, uint64_t sp, uint64_t address) {
    if (address < sp) return address;
    for (uint64_t at = address - sp; at < stack.size(); ++at)
        if (stack[at] == std::byte{0}) return sp + at + 1;
    return address;
}

}  // namespace

Process::Process(mm::AddressSpace* space, std::string_view exe_path)
    : m_space(space), m_start_ns(time::monotonic_ns()) {
    m_exe_length = exe_path.size() < kMaxPathLength ? exe_path.size() : kMaxPathLength;
    __builtin_memcpy(m_exe_path, exe_path.data(), m_exe_length);
    m_cwd = fs::root();  // nullptr before a root exists
}

Process::~Process() {
    if (m_cwd) m_cwd->release();
    delete m_space;
    for (size_t i = 0; i < m_file_name_count; ++i) {
        mm::kfree(m_file_names[i].path);
        if (m_file_names[i].inode) m_file_names[i].inode->release();
    }
}

void Process::set_cwd(fs::Inode* inode, std::string_view path) {
    if (m_cwd) m_cwd->release();
    m_cwd = inode;
    m_cwd_length = path.size() < sizeof(m_cwd_path) ? path.size() : sizeof(m_cwd_path) - 1;
    __builtin_memcpy(m_cwd_path, path.data(), m_cwd_length);
}

void Process::record_initial_stack(std::span<const std::byte> stack, uint64_t sp) {
    // The loader's own layout (lib/elf/initial_stack.h), read with every offset bounded.
    size_t words = stack.size() / 8;
    uint64_t argc = read_word(stack, 0);
    if (argc >= words) return;
    size_t at = 1;
    uint64_t first_arg = read_word(stack, at * 8), last_arg = 0;
    for (; at <= argc; ++at) last_arg = read_word(stack, at * 8);
    ++at;  // argv's NULL
    uint64_t first_env = 0, last_env = 0;
    for (; at < words && read_word(stack, at * 8); ++at) {
        last_env = read_word(stack, at * 8);
        if (!first_env) first_env = last_env;
    }
    ++at;  // envp's NULL
    m_strings.sp = sp;
    m_strings.arg_start = first_arg;
    m_strings.arg_end = argc ? string_end(stack, sp, last_arg) : first_arg;
    m_strings.env_start = first_env ? first_env : m_strings.arg_end;
    m_strings.env_end = first_env ? string_end(stack, sp, last_env) : m_strings.env_start;
    m_auxv_count = 0;
    for (; at + 1 < words && m_auxv_count < kMaxAux; at += 2) {
        lib::elf::AuxEntry entry{read_word(stack, at * 8), read_word(stack, at * 8 + 8)};
        m_auxv[m_auxv_count++] = entry;
        if (entry.type == lib::elf::AT_NULL) break;
    }
}

uint64_t Process::file_tag(const fs::Inode* inode, std::string_view path, uint64_t address,
                           uint64_t file_page) {
    sys::LinuxStat st{};
    if (path.empty() || (inode && inode->stat(st).is_error())) return 0;
    size_t index = m_file_name_count;
    if (m_last_file_name < m_file_name_count && m_file_names[m_last_file_name].dev == st.dev &&
        m_file_names[m_last_file_name].ino == st.ino) {
        index = m_last_file_name;
    } else {
        for (size_t i = 0; i < m_file_name_count; ++i)
            if (m_file_names[i].dev == st.dev && m_file_names[i].ino == st.ino) index = i;
    }
    if (index == m_file_name_count) {
        if (index == kMaxMappedFiles) return 0;
        auto* copy = static_cast<char*>(mm::kmalloc(path.size()));
        if (!copy) return 0;
        __builtin_memcpy(copy, path.data(), path.size());
        m_file_names[index] = {st.dev, st.ino, copy, path.size(), nullptr};
        ++m_file_name_count;
    }
    m_last_file_name = index;
    uint64_t delta = (file_page - address / arch::kPageSize) & kTagDeltaMask;
    return (uint64_t(index + 1) << kTagNameShift) | delta;
}

bool Process::mapped_file(const lib::vm::VmArea& area, MappedFile& out) const {
    size_t index = name_index(area.tag);
    if (index == 0 || index > m_file_name_count) return false;
    const FileName& name = m_file_names[index - 1];
    uint64_t page = (area.start / arch::kPageSize + (area.tag & kTagDeltaMask)) & kTagDeltaMask;
    out = {name.dev, name.ino, page * arch::kPageSize, {name.path, name.length}};
    return true;
}

uint64_t Process::backed_tag(uint64_t tag, fs::Inode& inode) {
    size_t index = name_index(tag);
    if (index == 0 || index > m_file_name_count) return tag;
    if (!m_file_names[index - 1].inode) {
        inode.retain();
        m_file_names[index - 1].inode = &inode;
    }
    return tag | kTagBacked;
}

void Process::drop_unmapped_inodes() {
    // One pass over the areas, over only as many as it takes to see every kept inode in use
    // (the usual case: ld.so mapped over part of a library's own area).
    bool used[kMaxMappedFiles] = {};
    size_t kept = 0;
    for (size_t i = 0; i < m_file_name_count; ++i) kept += m_file_names[i].inode != nullptr;
    for (auto area = m_space->areas().begin(); kept && area != m_space->areas().end(); ++area) {
        size_t index = name_index(area->tag);
        if (!(area->tag & kTagBacked) || index == 0 || index > m_file_name_count) continue;
        if (!used[index - 1] && m_file_names[index - 1].inode) --kept;
        used[index - 1] = true;
    }
    if (!kept) return;
    for (size_t i = 0; i < m_file_name_count; ++i) {
        if (!m_file_names[i].inode || used[i]) continue;
        m_file_names[i].inode->release();
        m_file_names[i].inode = nullptr;
    }
}

fs::Inode* Process::mapped_inode(const lib::vm::VmArea& area, uint64_t address,
                                 uint64_t& file_page) const {
    size_t index = name_index(area.tag);
    if (!(area.tag & kTagBacked) || index == 0 || index > m_file_name_count) return nullptr;
    file_page = (address / arch::kPageSize + (area.tag & kTagDeltaMask)) & kTagDeltaMask;
    return m_file_names[index - 1].inode;
}

void Process::add_loaded_image(const fs::Inode* inode, std::span<const std::byte> bytes) {
    if (m_loaded_count == kMaxLoadedImages) return;
    sys::LinuxStat st{};
    if (inode && inode->stat(st).is_error()) return;
    m_loaded[m_loaded_count++] = {st.dev, st.ino, bytes};
}

Process& current() {
    Process* process = arch::this_cpu().process;
    if (!process) panic("no current process");
    return *process;
}

bool has_current() { return arch::this_cpu().process != nullptr; }

void set_current(Process* process) { arch::this_cpu().process = process; }

}  // namespace kernel::proc
