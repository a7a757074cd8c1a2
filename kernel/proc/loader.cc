// Program start: manifest → ELF → address space → initial stack → ring 3.
#include "kernel/proc/loader.h"

#include "kernel/arch/x86_64/cpu_features.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/arch/x86_64/trap_frame.h"
#include "kernel/console/log.h"
#include "kernel/debug/panic.h"
#include "kernel/fs/console_file.h"
#include "kernel/mm/heap.h"
#include "kernel/proc/process.h"
#include "kernel/random/random.h"
#include "lib/base/checked.h"
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

// Random page-aligned address in [low, low + pages * kPage).
uint64_t random_pages(uint64_t low, uint64_t pages) {
    return low + random::uniform(pages) * kPage;
}

// Maps every PT_LOAD at bias and copies its file bytes. Returns the end of the highest segment.
lib::Result<uint64_t> map_segments(mm::AddressSpace& space, const lib::elf::ElfImage& elf,
                                   std::span<const std::byte> file, uint64_t bias) {
    uint64_t highest = 0;
    for (const lib::elf::Elf64_Phdr ph : elf.program_headers()) {
        if (ph.p_type != lib::elf::PT_LOAD || ph.p_memsz == 0) continue;
        uint64_t start = lib::align_down(ph.p_vaddr + bias, kPage);
        uint64_t end = *lib::align_up(ph.p_vaddr + bias + ph.p_memsz, kPage);
        // Segments sharing a page (old linkers) keep the union of their permissions.
        if (start < highest) {
            TRY(space.protect(start, kPage, prot_for(ph.p_flags) | mm::kProtRead));
            start = highest;
        }
        if (end > start)
            TRY(space.map_fixed(start, end - start, prot_for(ph.p_flags), lib::vm::VmKind::Program));
        TRY(space.poke(ph.p_vaddr + bias, file.subspan(ph.p_offset, ph.p_filesz)));
        if (end > highest) highest = end;
    }
    return highest;
}

struct Layout {
    uint64_t bias;
    uint64_t stack_top;
    uint64_t mmap_top;
};

// FIXME(#7): entropy audit and per-region documentation; these already draw fresh per boot.
Layout choose_layout(const lib::elf::ElfImage& elf) {
    Layout layout{};
    if (elf.is_pie()) {
        // 2^28 pages (1 TiB) of choice for the base, like Linux's 28 bits of mmap entropy.
        uint64_t base = random_pages(0x5500'0000'0000, 1ull << 28);
        layout.bias = base - elf.load_bounds().start;
    }
    layout.stack_top = arch::kUserEnd - kPage - random::uniform(1ull << 22) * kPage;
    uint64_t gap = kStackSize + (128ull << 20);
    layout.mmap_top = layout.stack_top - gap - random::uniform(1ull << 28) * kPage;
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
                                  const lib::elf::ElfImage& elf, const Layout& layout) {
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
        {lib::elf::AT_PHDR, elf.phdr_vaddr().value_or(0) + layout.bias},
        {lib::elf::AT_PHENT, elf.phentsize()},
        {lib::elf::AT_PHNUM, elf.phnum()},
        {lib::elf::AT_PAGESZ, kPage},
        {lib::elf::AT_BASE, 0},
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
    auto poked = space.poke(sp.value(), {buffer + kStackBuildBytes - used, used});
    mm::kfree(buffer);
    TRY(poked);
    return sp.value();
}

}  // namespace

void start_program(std::span<const std::byte> manifest_bytes, std::string_view) {
    auto parsed = Manifest::parse(manifest_bytes);
    if (parsed.is_error()) panic("the boot manifest is malformed");
    const Manifest& manifest = parsed.value();
    std::string_view program = manifest.program();
    std::span<const std::byte> file = manifest.program_image();
    if (file.empty()) refuse(program, "the manifest carries no program image");

    auto elf_or = lib::elf::ElfImage::parse(file);
    if (elf_or.is_error()) refuse(program, lib::elf::describe(elf_or.error()));
    const lib::elf::ElfImage& elf = elf_or.value();
    if (elf.is_dynamically_linked())
        refuse(program, "dynamically linked programs are not supported yet");

    auto space_or = mm::AddressSpace::create();
    if (space_or.is_error()) panic("out of memory creating the address space");
    mm::AddressSpace* space = space_or.value();
    auto* process = mm::try_make<Process>(space, program);
    if (!process) panic("out of memory creating the process");
    set_current(process);
    apply_debug_flags(*process, manifest);
    open_console(*process);
    space->activate();

    Layout layout = choose_layout(elf);
    auto highest = map_segments(*space, elf, file, layout.bias);
    if (highest.is_error()) refuse(program, lib::errno_name(highest.error()));
    // FIXME(#7): randomize the brk start too (13 bits, like Linux).
    process->init_brk(highest.value());
    space->set_mmap_range(0x10000, layout.mmap_top);
    auto stacked = space->map_fixed(layout.stack_top - kStackSize, kStackSize,
                                    mm::kProtRead | mm::kProtWrite, lib::vm::VmKind::Stack);
    if (stacked.is_error()) refuse(program, "no memory for the stack");
    auto sp = build_stack(*space, manifest, elf, layout);
    if (sp.is_error()) refuse(program, "arguments and environment do not fit the stack (E2BIG)");

    if (process->debug().trace_syscalls)
        klog("starting {} at {:#x}, stack {:#x}", program, elf.entry() + layout.bias, sp.value());
    static arch::TrapFrame frame;
    frame = {};
    frame.rip = elf.entry() + layout.bias;
    frame.rsp = sp.value();
    frame.rflags = 0x202;  // IF
    frame.cs = arch::kUserCs;
    frame.ss = arch::kUserDs;
    arch::return_to_user(&frame);
}

}  // namespace kernel::proc
