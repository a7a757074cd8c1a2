// Walking the user stack: the frame-pointer chain (rbp -> {saved rbp, return address}), and
// where it is missing (code built without frame pointers: glibc, rustc and gcc at -O2) a scan
// of the stack words between for return addresses (values in executable file mappings just
// after a call instruction), marked "(stack scan)". Symbolizing is lib/elf/symbolize over
// the mapped files' page-cache views; ring 0 is slow on some hosts (kvm_pvm emulates it), so
// each file's symbol table is scanned once for all of its frames.
#include "kernel/proc/user_backtrace.h"

#include "kernel/console/log.h"
#include "kernel/fs/vfs.h"
#include "kernel/mm/user_ptr.h"
#include "kernel/proc/loader.h"
#include "kernel/proc/process.h"
#include "kernel/sys/linux_types.h"
#include "lib/elf/demangle.h"
#include "lib/elf/symbolize.h"

namespace kernel::proc {

namespace {

constexpr size_t kMaxFrames = 32;
constexpr size_t kMaxCodeAreas = 64;
constexpr size_t kScanBudget = 1024;  // stack words the scan may look at in all
constexpr size_t kMaxFiles = 4;       // files whose symbols one report reads

// An executable area of a mapped file.
struct CodeArea {
    uint64_t start, end;
    Process::MappedFile file;  // its offset is the file offset at `start`
};

struct Frame {
    uint64_t address;
    bool scanned;             // found by the stack scan, not the frame-pointer chain
    const CodeArea* area;     // nullptr outside every file mapping
    std::string_view symbol;  // raw name; empty when unknown
    uint64_t symbol_offset;
};

bool read_word(uint64_t address, uint64_t& out) {
    return !mm::copy_from_user_bytes(&out, address, sizeof(out)).is_error();
}

// x86-64 call encodings ending right before `ret`: E8 rel32, or FF /2 with its ModRM (and SIB,
// displacement) filling the bytes up to `ret` (Intel SDM vol. 2, "CALL" and table 2-2).
bool follows_call(uint64_t ret) {
    uint8_t b[8];
    if (ret < 8 || mm::copy_from_user_bytes(b, ret - 8, sizeof(b)).is_error()) return false;
    if (b[3] == 0xe8) return true;
    for (int at = 1; at <= 6; ++at) {
        if (b[at] != 0xff) continue;
        uint8_t modrm = b[at + 1];
        if (((modrm >> 3) & 7) != 2) continue;
        int mod = modrm >> 6, rm = modrm & 7, length;
        if (mod == 3)
            length = 2;
        else if (mod == 0)
            length = rm == 4 ? ((at + 2 < 8 && (b[at + 2] & 7) == 5) ? 7 : 3) : rm == 5 ? 6 : 2;
        else if (mod == 1)
            length = rm == 4 ? 4 : 3;
        else
            length = rm == 4 ? 7 : 6;
        if (at + length == 8) return true;
    }
    return false;
}

// One crash at a time, in static storage (a few KiB that a fault's kernel stack need not hold).
class Backtrace {
public:
    void start(Process& process) {
        m_process = &process;
        m_area_count = m_count = m_files = 0;
        m_stack_end = 0;
        m_budget = kScanBudget;
    }
    void walk(const arch::TrapFrame& frame);
    void symbolize();
    void print() const;

private:
    void collect_code_areas();
    const CodeArea* code_area(uint64_t address) const {
        for (size_t i = 0; i < m_area_count; ++i)
            if (address >= m_areas[i].start && address < m_areas[i].end) return &m_areas[i];
        return nullptr;
    }
    bool full() const { return m_count == kMaxFrames; }
    void add(uint64_t address, bool scanned) {
        if (!full()) m_frames[m_count++] = {address, scanned, code_area(address), {}, 0};
    }
    bool plausible_frame(uint64_t fp, uint64_t low) const {
        return fp % 8 == 0 && fp >= low && fp < m_stack_end && m_stack_end - fp >= 16;
    }
    // Scans [from, to) for return addresses; returns where a frame record {saved rbp, return
    // address} was recognized (its address), else 0.
    uint64_t scan(uint64_t from, uint64_t to, bool resync);
    std::span<const std::byte> file_bytes(const Process::MappedFile& file);
    void symbolize_file(const CodeArea& area);

    Process* m_process = nullptr;
    CodeArea m_areas[kMaxCodeAreas] = {};
    size_t m_area_count = 0;
    Frame m_frames[kMaxFrames] = {};
    size_t m_count = 0;
    uint64_t m_stack_end = 0;
    size_t m_budget = kScanBudget;
    size_t m_files = 0;
};

void Backtrace::collect_code_areas() {
    for (const lib::vm::VmArea& area : m_process->address_space().areas()) {
        if (!(area.prot & mm::kProtExec) || m_area_count == kMaxCodeAreas) continue;
        Process::MappedFile file;
        if (m_process->mapped_file(area, file))
            m_areas[m_area_count++] = {area.start, area.end, file};
    }
}

uint64_t Backtrace::scan(uint64_t from, uint64_t to, bool resync) {
    for (uint64_t at = from; at < to && at + 8 <= m_stack_end && m_budget > 0 && !full();
         at += 8, --m_budget) {
        uint64_t word;
        if (!read_word(at, word)) return 0;
        if (!code_area(word) || !follows_call(word)) continue;
        add(word, true);
        // A saved rbp just below pointing further up the stack: a frame record, whose chain
        // the walk can follow again.
        uint64_t saved;
        if (resync && at >= from + 8 && read_word(at - 8, saved) && plausible_frame(saved, at + 8))
            return at - 8;
    }
    return 0;
}

void Backtrace::walk(const arch::TrapFrame& frame) {
    collect_code_areas();
    add(frame.rip, false);
    const lib::vm::VmArea* stack = m_process->address_space().areas().find(frame.rsp);
    if (!stack) return;
    m_stack_end = stack->end;
    uint64_t low = frame.rsp, fp = frame.rbp;
    while (!full() && low < m_stack_end) {
        uint64_t saved = 0, ret = 0;
        bool record = plausible_frame(fp, low) && read_word(fp, saved) && read_word(fp + 8, ret) &&
                      code_area(ret);
        if (!record) {
            // No usable chain here: scan up for return addresses and, with luck, a record.
            uint64_t found = scan(low, m_stack_end, true);
            if (!found) return;
            low = found + 16;
            if (!read_word(found, fp)) return;
            continue;
        }
        scan(low, fp, false);  // frames of functions without frame pointers
        add(ret, false);
        if (saved == 0) return;  // the outermost frame (_start clears rbp)
        low = fp + 16;
        fp = saved;
    }
}

std::span<const std::byte> Backtrace::file_bytes(const Process::MappedFile& file) {
    for (const Process::LoadedImage& image : m_process->loaded_images())
        if (image.dev == file.dev && image.ino == file.ino) return image.bytes;
    if (m_files == kMaxFiles || !fs::root() || file.path.empty() || file.path[0] != '/') return {};
    ++m_files;
    auto inode = fs::resolve(file.path, nullptr);
    if (inode.is_error()) return {};
    sys::LinuxStat st{};
    if (inode.value()->stat(st).is_error() || st.dev != file.dev || st.ino != file.ino) {
        inode.value()->release();  // renamed over since it was mapped: not the same file
        return {};
    }
    auto view = view_file(*inode.value());  // keeps the reference for good
    if (view.is_error()) {
        inode.value()->release();
        return {};
    }
    return view.value();
}

// Every frame in the file `area` maps, in one pass over its symbol table.
void Backtrace::symbolize_file(const CodeArea& area) {
    auto symbolizer = lib::elf::ElfSymbolizer::parse(file_bytes(area.file));
    if (symbolizer.is_error()) return;
    uint64_t offsets[kMaxFrames];
    size_t slots[kMaxFrames];
    size_t count = 0;
    for (size_t i = 0; i < m_count; ++i) {
        const CodeArea* a = m_frames[i].area;
        if (!a || a->file.dev != area.file.dev || a->file.ino != area.file.ino ||
            a->file.path != area.file.path)
            continue;
        // A return address may be just past a call that ends its function: look up the
        // call itself (every frame but the faulting instruction's).
        uint64_t address = m_frames[i].address - (i > 0 ? 1 : 0);
        offsets[count] = a->file.offset + (address - a->start);
        slots[count++] = i;
    }
    std::optional<lib::elf::FileLocation> found[kMaxFrames];
    symbolizer.value().locate({offsets, count}, {found, count});
    for (size_t k = 0; k < count; ++k) {
        Frame& frame = m_frames[slots[k]];
        if (!found[k] || !found[k]->symbol) continue;
        frame.symbol = found[k]->symbol->name;
        frame.symbol_offset = found[k]->symbol->offset_of(found[k]->vaddr) + (slots[k] > 0 ? 1 : 0);
    }
}

void Backtrace::symbolize() {
    bool done[kMaxFrames] = {};
    for (size_t i = 0; i < m_count; ++i) {
        if (done[i] || !m_frames[i].area) continue;
        symbolize_file(*m_frames[i].area);
        for (size_t j = i; j < m_count; ++j)
            if (m_frames[j].area && m_frames[j].area->file.ino == m_frames[i].area->file.ino &&
                m_frames[j].area->file.dev == m_frames[i].area->file.dev &&
                m_frames[j].area->file.path == m_frames[i].area->file.path)
                done[j] = true;
    }
}

void Backtrace::print() const {
    static char demangled[256];
    kprint("backtrace:\n");
    for (size_t i = 0; i < m_count; ++i) {
        const Frame& f = m_frames[i];
        const char* how = f.scanned ? " (stack scan)" : "";
        if (!f.area) {
            kprint("  #{} {:#018x} ?{}\n", i, f.address, how);
        } else if (f.symbol.empty()) {
            kprint("  #{} {:#018x} ? ({}+{:#x}){}\n", i, f.address, f.area->file.path,
                   f.area->file.offset + (f.address - f.area->start), how);
        } else {
            kprint("  #{} {:#018x} {}+{:#x} ({}){}\n", i, f.address,
                   lib::elf::demangle(f.symbol, demangled), f.symbol_offset, f.area->file.path,
                   how);
        }
    }
}

Backtrace g_trace;
bool g_busy = false;

}  // namespace

void print_user_backtrace(const arch::TrapFrame& frame) {
    // Reading a file may sleep on the disk, and another thread may crash meanwhile.
    if (!has_current() || g_busy) return;
    g_busy = true;
    g_trace.start(current());
    g_trace.walk(frame);
    g_trace.symbolize();
    g_trace.print();
    g_busy = false;
}

}  // namespace kernel::proc
