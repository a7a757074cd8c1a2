// Program start: manifest → ELF → address space → initial stack → ring 3.
#include "kernel/proc/loader.h"

#include "kernel/net/network.h"

#include "kernel/sched/scheduler.h"

#include "kernel/arch/x86_64/cpu_features.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/arch/x86_64/power.h"
#include "kernel/arch/x86_64/trap_frame.h"
#include "kernel/console/log.h"
#include "kernel/debug/panic.h"
#include "kernel/fs/console_file.h"
#include "kernel/fs/vfs.h"
#include "kernel/mm/kernel_window.h"
#include "kernel/mm/page_table.h"
#include "kernel/mm/heap.h"
#include "kernel/proc/process.h"
#include "kernel/random/random.h"
#include "kernel/vdso/vdso.h"
#include "lib/base/checked.h"
#include "lib/base/format.h"
#include "lib/base/cmdline.h"
#include "lib/elf/elf.h"
#include "lib/elf/initial_stack.h"
#include "lib/manifest/manifest.h"

namespace kernel::proc {

namespace {

using lib::manifest::Manifest;
using lib::manifest::RecordType;

constexpr uint64_t kPage = arch::kPageSize;
constexpr uint64_t kStackSize = 8ull << 20;  // RLIMIT_STACK
constexpr size_t kMaxArgs = 4096;
constexpr size_t kStackBuildBytes = 256 * 1024;
// Exit statuses a shell would report for a program that cannot be executed.
constexpr int kStatusCannotExecute = 126;

[[noreturn]] void refuse(std::string_view program, std::string_view why) {
    kprint("phoenix: cannot run {}: {}\n", program, why);
    exit_program(kStatusCannotExecute);
}

int prot_for(uint32_t p_flags) {
    int prot = 0;
    if (p_flags & lib::elf::PF_R) prot |= mm::kProtRead;
    if (p_flags & lib::elf::PF_W) prot |= mm::kProtWrite;
    if (p_flags & lib::elf::PF_X) prot |= mm::kProtExec;
    return prot;
}

// An executable's bytes: the manifest's copy, or a file of the root filesystem seen through
// a read-only kernel window onto its page-cache pages (no copy).
struct Executable {
    std::span<const std::byte> bytes;
    fs::Inode* inode = nullptr;  // borrowed; set when the bytes are a view of it
    std::string_view path;       // for /proc/self/maps
};

// The page cache's pages of a file, as a lazy view's source.
class InodePages final : public mm::PageSource {
public:
    explicit InodePages(fs::Inode& inode) : m_inode(&inode) {}
    lib::Result<uint64_t> frame(uint64_t index) override { return m_inode->cached_page(index); }

private:
    fs::Inode* m_inode;
};

}  // namespace

// A read-only, contiguous kernel view of a file for parsing the ELF in place: pages are read
// from the disk only when the parser or the loader touches them.
lib::Result<std::span<const std::byte>> view_file(fs::Inode& inode) {
    if (inode.size() == 0) return lib::Errno::NoExec;
    auto* pages = mm::try_make<InodePages>(inode);  // lives as long as the program
    if (!pages) return lib::Errno::NoMem;
    return mm::make_lazy_view(*pages, inode.size());
}

namespace {

// Maps every PT_LOAD at bias. From a file, whole pages of file data fault in later (read-only
// segments borrow the page cache's frames, writable ones get copies) and the bss past them is
// an area of its own, as on Linux; the partial last page of file data and everything from the
// manifest are copied in now. Returns the end of the highest segment.
lib::Result<uint64_t> map_segments(mm::AddressSpace& space, const lib::elf::ElfImage& elf,
                                   const Executable& exe, uint64_t bias) {
    uint64_t highest = 0;
    for (const lib::elf::Elf64_Phdr ph : elf.program_headers()) {
        if (ph.p_type != lib::elf::PT_LOAD || ph.p_memsz == 0) continue;
        uint64_t start = lib::align_down(ph.p_vaddr + bias, kPage);
        uint64_t end = *lib::align_up(ph.p_vaddr + bias + ph.p_memsz, kPage);
        int prot = prot_for(ph.p_flags);
        // Segments sharing a page (old linkers) keep the union of their permissions.
        if (start < highest) {
            TRY(space.protect(start, kPage, prot | mm::kProtRead));
            start = highest;
        }
        // The file offset at `start`, for the area's name in /proc/self/maps.
        int64_t offset = int64_t(ph.p_offset) + int64_t(start - (ph.p_vaddr + bias));
        uint64_t tag = current().file_tag(exe.inode, exe.path, start,
                                          offset > 0 ? uint64_t(offset) / kPage : 0);
        uint64_t file_end = ph.p_vaddr + bias + ph.p_filesz;
        uint64_t whole_end = lib::align_down(file_end, kPage);
        bool lazy =
            exe.inode && tag && ph.p_offset % kPage == ph.p_vaddr % kPage && whole_end > start;
        if (lazy) {
            // [start, file data's last page) from the file, the rest (bss) anonymous.
            uint64_t file_area_end = *lib::align_up(file_end, kPage);
            TRY(space.map_fixed(start, file_area_end - start, prot, lib::vm::VmKind::Program,
                                current().backed_tag(tag, *exe.inode)));
            if (end > file_area_end)
                TRY(space.map_fixed(file_area_end, end - file_area_end, prot,
                                    lib::vm::VmKind::Program));
            if (file_area_end > whole_end) TRY(space.map_zeroed(whole_end, kPage));
        } else if (end > start) {
            TRY(space.map_fixed(start, end - start, prot, lib::vm::VmKind::Program, tag));
        }
        uint64_t copy_from = lazy ? whole_end : ph.p_vaddr + bias;  // what is left for poke to copy
        if (file_end > copy_from) {
            uint64_t skip = copy_from - (ph.p_vaddr + bias);
            TRY(space.poke(copy_from, exe.bytes.subspan(ph.p_offset + skip, ph.p_filesz - skip)));
        }
        if (end > highest) highest = end;
    }
    return highest;
}

struct Layout {
    uint64_t bias;
    uint64_t stack_top;  // the initial stack's top, below the page-aligned end of its area
    uint64_t stack_area_top;
    uint64_t mmap_top;
    uint64_t brk_offset;  // added to the page-aligned end of the program's segments
    uint64_t vdso_base;   // AT_SYSINFO_EHDR
};

// Every boot draws a fresh layout from the kernel CSPRNG (docs/rebirth.md lists each region's
// range and the entropy measured). Linux x86-64's defaults, for comparison: 28 bits for the PIE
// and mmap bases, 22 bits of pages plus a sub-page offset for the stack, 13 bits for brk; the
// 47-bit user half leaves room for 30 bits of pages everywhere.
constexpr uint64_t kPieLow = 0x5500'0000'0000;      // PIE bases in [kPieLow, kPieLow + 4 TiB)
constexpr uint64_t kRandomPages = 1ull << 30;       // 30 bits of pages (4 TiB) per region
constexpr uint64_t kStackGap = 128ull << 20;        // between the stack's area and the mmap top
// With NoASLR (debug flag noaslr): Linux's layout under `setarch -R`.
constexpr uint64_t kFixedPieBase = 0x5555'5555'4000;

Layout choose_layout(const lib::elf::ElfImage& elf, bool randomize) {
    Layout layout{};
    auto pages = [&](uint64_t count) { return randomize ? random::uniform(count) * kPage : 0; };
    if (elf.is_pie()) {
        uint64_t base = randomize ? kPieLow + pages(kRandomPages) : kFixedPieBase;
        layout.bias = base - elf.load_bounds().start;
    }
    layout.stack_area_top = arch::kUserEnd - kPage - pages(kRandomPages);
    // The sub-page offset: 16-byte steps within the top page, as Linux's arch_align_stack.
    uint64_t sub_page = randomize ? random::uniform(kPage / 16) * 16 : 0;
    layout.stack_top = layout.stack_area_top - sub_page;
    layout.mmap_top = layout.stack_area_top - kStackSize - kStackGap - pages(kRandomPages);
    layout.brk_offset = pages(kRandomPages);
    return layout;
}

void apply_debug_flags(Process& process, const Manifest& manifest) {
    auto& debug = process.debug();
    debug.trace_syscalls = manifest.has_debug_flag("trace") || manifest.has_debug_flag("debugsyscalls");
    debug.trace_faults = manifest.has_debug_flag("fault");
}

void open_console(Process& process) {
    auto* console = mm::try_make<fs::ConsoleFile>();
    if (!console) panic("out of memory opening the console");
    console->retain();
    console->retain();
    for (int fd = 0; fd < 3; ++fd) (void)process.fds().install_at(fd, console);
}

// The initial stack: argv (program path, then the manifest's Args), envp, auxv.
lib::Result<uint64_t> build_stack(mm::AddressSpace& space, const Manifest& manifest,
                                  const lib::elf::ElfImage& elf, const Layout& layout,
                                  uint64_t interp_base) {
    static std::string_view argv[kMaxArgs];
    static std::string_view envp[kMaxArgs];
    size_t argc = 0, envc = 0;
    argv[argc++] = manifest.program();
    manifest.for_each(RecordType::Arg, [&](const lib::manifest::Record& r) {
        if (argc < kMaxArgs) argv[argc++] = r.text();
    });
    manifest.for_each(RecordType::Env, [&](const lib::manifest::Record& r) {
        if (envc < kMaxArgs) envp[envc++] = r.text();
    });

    std::byte random_bytes[16];
    random::fill(random_bytes);
    const auto& cpu = arch::cpu();
    uint64_t minsigstksz = 1024 + cpu.xsave_size;  // frame + FP state, as Linux computes it
    const lib::elf::AuxEntry aux[] = {
        {lib::elf::AT_SYSINFO_EHDR, layout.vdso_base},
        {lib::elf::AT_PHDR, elf.phdr_vaddr().value_or(0) + layout.bias},
        {lib::elf::AT_PHENT, elf.phentsize()},
        {lib::elf::AT_PHNUM, elf.phnum()},
        {lib::elf::AT_PAGESZ, kPage},
        {lib::elf::AT_BASE, interp_base},
        {lib::elf::AT_FLAGS, 0},
        {lib::elf::AT_ENTRY, elf.entry() + layout.bias},
        {lib::elf::AT_UID, 0},
        {lib::elf::AT_EUID, 0},
        {lib::elf::AT_GID, 0},
        {lib::elf::AT_EGID, 0},
        {lib::elf::AT_SECURE, 0},
        {lib::elf::AT_CLKTCK, 100},
        {lib::elf::AT_HWCAP, cpu.hwcap},
        {lib::elf::AT_HWCAP2, 0},
        {lib::elf::AT_MINSIGSTKSZ, minsigstksz},
    };
    const lib::elf::InitialStackSpec spec{
        .argv = {argv, argc},
        .envp = {envp, envc},
        .aux = aux,
        .execfn = manifest.program(),
        .platform = "x86_64",
        .random = std::span<const std::byte, 16>(random_bytes, 16),
    };

    auto* buffer = static_cast<std::byte*>(mm::kmalloc(kStackBuildBytes));
    if (!buffer) return lib::Errno::NoMem;
    auto sp = lib::elf::build_initial_stack({buffer, kStackBuildBytes}, layout.stack_top, spec);
    if (sp.is_error()) {
        mm::kfree(buffer);
        return sp.error();
    }
    uint64_t used = layout.stack_top - sp.value();
    current().record_initial_stack({buffer + kStackBuildBytes - used, used}, sp.value());
    auto poked = space.poke(sp.value(), {buffer + kStackBuildBytes - used, used});
    mm::kfree(buffer);
    TRY(poked);
    return sp.value();
}

// Opens `path` in the root filesystem as an executable: a regular file, viewed in place.
Executable open_executable(std::string_view program, std::string_view path) {
    auto inode = fs::resolve(path, nullptr);
    if (inode.is_error()) refuse(program, lib::errno_name(inode.error()));
    if (!inode.value()->is_regular()) refuse(program, "not a regular file (EACCES)");
    auto view = view_file(*inode.value());
    if (view.is_error()) refuse(program, lib::errno_name(view.error()));
    // The reference is kept for good: the program lives on it.
    return {view.value(), inode.value(), path};
}

lib::elf::ElfImage parse_elf(std::string_view program, std::span<const std::byte> bytes) {
    auto elf = lib::elf::ElfImage::parse(bytes);
    if (elf.is_error()) refuse(program, lib::elf::describe(elf.error()));
    return elf.value();
}

// "start stack=0x7ffc..." on the status channel: runners time reboots by it and show each
// boot's stack (docs/boot-protocol.md).
void announce_start(uint64_t stack_pointer) {
    char line[48];
    lib::format_buffer(line, sizeof(line), "start stack={:#x}", stack_pointer);
    arch::status_line(line);
}

// phx.boot=N: which boot of the run this is, for crash reports; 0 when absent or not a number.
uint64_t boot_number(std::string_view cmdline) {
    auto word = lib::Cmdline(cmdline).find("phx.boot");
    uint64_t number = 0;
    if (!word || word->value.empty() || word->value.size() > 9) return 0;
    for (char c : word->value) {
        if (c < '0' || c > '9') return 0;
        number = number * 10 + uint64_t(c - '0');
    }
    return number;
}

}  // namespace

void start_program(std::span<const std::byte> manifest_bytes, std::string_view cmdline) {
    auto parsed = Manifest::parse(manifest_bytes);
    if (parsed.is_error()) panic("the boot manifest is malformed");
    const Manifest& manifest = parsed.value();
    std::string_view bad_key;
    if (!init_lifecycle(manifest, bad_key)) {
        char why[64];
        refuse(manifest.program(), lib::format_buffer(why, sizeof(why), "the manifest's {} is malformed", bad_key));
    }
    net::init_network(manifest);  // with DHCP, waits (bounded) for an address
    std::string_view program = manifest.program();
    Executable exe{manifest.program_image(), nullptr, program};
    if (exe.bytes.empty()) {
        if (!fs::root_on_disk())
            refuse(program, "the manifest carries no program image and there is no disk");
        exe = open_executable(program, program);
    }
    lib::elf::ElfImage elf = parse_elf(program, exe.bytes);
    Executable interp{};
    std::optional<lib::elf::ElfImage> interp_elf;
    if (elf.is_dynamically_linked()) {
        if (!exe.inode) refuse(program, "dynamically linked programs need a disk image (phx image create)");
        interp = open_executable(program, *elf.interpreter());
        interp_elf = parse_elf(program, interp.bytes);
        if (!interp_elf->is_pie() || interp_elf->is_dynamically_linked())
            refuse(program, "its interpreter is not a static position-independent ELF");
    }

    auto space_or = mm::AddressSpace::create();
    if (space_or.is_error()) panic("out of memory creating the address space");
    mm::AddressSpace* space = space_or.value();
    auto* process = mm::try_make<Process>(space, program);
    if (!process) panic("out of memory creating the process");
    set_current(process);
    process->set_boot_number(boot_number(cmdline));
    process->add_loaded_image(exe.inode, exe.bytes);
    if (interp_elf) process->add_loaded_image(interp.inode, interp.bytes);
    apply_debug_flags(*process, manifest);
    open_console(*process);
    space->activate();

    bool randomize = !manifest.has_debug_flag("noaslr");
    if (!randomize) klog("ASLR is OFF (noaslr): this boot's layout is the same as every other's");
    Layout layout = choose_layout(elf, randomize);
    auto highest = map_segments(*space, elf, exe, layout.bias);
    if (highest.is_error()) refuse(program, lib::errno_name(highest.error()));
    uint64_t entry = elf.entry() + layout.bias;
    uint64_t interp_base = 0;
    if (interp_elf) {
        // The interpreter goes at the top of the (randomized) mmap area, as Linux puts it.
        uint64_t size = interp_elf->load_bounds().size();
        interp_base = lib::align_down(layout.mmap_top - size, kPage);
        uint64_t bias = interp_base - interp_elf->load_bounds().start;
        auto mapped = map_segments(*space, *interp_elf, interp, bias);
        if (mapped.is_error()) refuse(program, lib::errno_name(mapped.error()));
        entry = interp_elf->entry() + bias;
        layout.mmap_top = interp_base - kPage;
    }
    // The vDSO next, below the interpreter (as Linux's mmap-area placement puts it): its
    // address is as random as the mmap top.
    auto vdso = vdso::map_below(*space, layout.mmap_top);
    if (vdso.is_error()) refuse(program, "no memory for the vDSO");
    layout.vdso_base = vdso.value().base;
    layout.mmap_top = vdso.value().bottom - kPage;
    process->init_brk(lib::align_up(highest.value(), kPage).value_or(highest.value()) + layout.brk_offset);
    space->set_mmap_range(0x10000, layout.mmap_top);
    auto stacked = space->map_fixed(layout.stack_area_top - kStackSize, kStackSize,
                                    mm::kProtRead | mm::kProtWrite, lib::vm::VmKind::Stack);
    if (stacked.is_error()) refuse(program, "no memory for the stack");
    auto sp = build_stack(*space, manifest, elf, layout, interp_base);
    if (sp.is_error()) refuse(program, "arguments and environment do not fit the stack (E2BIG)");

    if (process->debug().trace_syscalls)
        klog("starting {} at {:#x}, stack {:#x}", program, entry, sp.value());
    announce_start(sp.value());
    arch::TrapFrame frame{};
    frame.rip = entry;
    frame.rsp = sp.value();
    frame.rflags = 0x202;  // IF
    frame.cs = arch::kUserCs;
    frame.ss = arch::kUserDs;
    // The first thread's tid is the pid, as on Linux.
    auto first = sched::Thread::create(process->pid());
    if (first.is_error()) panic("out of memory creating the first thread");
    // Its name (comm) is the program's file name, as execve sets it.
    std::string_view base = program.substr(program.rfind('/') + 1);
    size_t length = base.size() < sizeof first.value()->name ? base.size() : sizeof first.value()->name - 1;
    __builtin_memcpy(first.value()->name, base.data(), length);
    first.value()->name[length] = '\0';
    first.value()->start_with(frame);
    sched::start(*first.value());
}

}  // namespace kernel::proc
