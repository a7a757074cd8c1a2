// kernel_boot_main: from boot.S's long-mode jump to the program's first instruction.
#include "kernel/arch/x86_64/cpu_features.h"
#include "kernel/arch/x86_64/idt.h"
#include "kernel/arch/x86_64/kaslr.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/arch/x86_64/percpu.h"
#include "kernel/arch/x86_64/syscall.h"
#include "kernel/arch/x86_64/apic.h"
#include "kernel/boot/pvh.h"
#include "kernel/boot/selftest.h"
#include "kernel/console/log.h"
#include "kernel/console/serial.h"
#include "kernel/debug/panic.h"
#include "kernel/drivers/virtio/blk.h"
#include "kernel/drivers/virtio/mmio.h"
#include "kernel/drivers/virtio/pci.h"
#include "kernel/fs/disk_cache.h"
#include "kernel/fs/vfs.h"
#include "kernel/mm/heap.h"
#include "kernel/drivers/virtio/rng.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/page_table.h"
#include "kernel/proc/lifecycle.h"
#include "kernel/proc/loader.h"
#include "kernel/random/random.h"
#include "kernel/runtime/stack_protector.h"
#include "kernel/time/clock.h"
#include "lib/base/cmdline.h"
#include "lib/manifest/manifest.h"

extern "C" void kernel_run_constructors();

namespace kernel::boot {

namespace {

void init_memory(const BootInfo& info) {
    // Reserve what the hypervisor put in RAM for us: the kernel image, start_info and its
    // tables (below 1 MiB in practice), the modules.
    mm::PhysRange reserved[kMaxModules + 2];
    size_t count = 0;
    uint64_t image_start = arch::kernel_image_phys_start();
    uint64_t image_end = arch::kernel_image_phys_end();
    reserved[count++] = {image_start, image_end - image_start};
    reserved[count++] = {0, 0x100000};  // real-mode area, start_info, memory map
    for (size_t i = 0; i < info.module_count; ++i)
        reserved[count++] = {info.modules[i].phys, info.modules[i].size};
    auto ram = lib::Cmdline(command_line(info)).find("phx.ram");
    mm::init_frames(info.ram_ranges(), {reserved, count}, ram && ram->value == "zeroed");
    mm::init_kernel_page_table();
}

// phx.seed=<hex> from the VMM, as one more entropy source. Once read, its digits are
// overwritten with zeros in the command line's memory, so /proc/cmdline never shows it.
class VmmSeed final : public random::EntropySource {
public:
    explicit VmmSeed(std::string_view cmdline) {
        auto word = lib::Cmdline(cmdline).find("phx.seed");
        if (word) m_hex = word->value;
    }
    const char* name() const override { return "vmm"; }
    size_t read(std::span<std::byte> out) override {
        size_t length = 0;
        auto nibble = [](char c) {
            return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        };
        for (size_t i = 0; i + 1 < m_hex.size() && length < out.size(); i += 2) {
            int high = nibble(m_hex[i]), low = nibble(m_hex[i + 1]);
            if (high < 0 || low < 0) break;
            out[length++] = std::byte(high << 4 | low);
        }
        char* text = const_cast<char*>(m_hex.data());
        for (size_t i = 0; i < m_hex.size(); ++i) text[i] = '0';
        return length;
    }

private:
    std::string_view m_hex;
};

// The root filesystem from the first virtio-blk disk, when there is one; else (or when it
// cannot be mounted) an empty tmpfs, so that /dev, /proc and /tmp are there either way.
void mount_disk() {
    if (drivers::virtio::BlockDisk* disk = drivers::virtio::init_blk()) {
        static fs::DiskCache cache;
        if (cache.init(*disk).is_error())
            klog("root: no memory for the disk cache");
        else
            (void)fs::mount_root(cache);
    }
    if (!fs::has_root()) (void)fs::mount_memory_root();
}

// The manifest: module 0 when the runner passed one, else /etc/phoenix/manifest on the disk.
std::span<const std::byte> find_manifest(const BootInfo& info) {
    constexpr std::string_view kManifestPath = "/etc/phoenix/manifest";
    constexpr size_t kMaxManifest = 16u << 20;
    if (info.module_count > 0) {
        const BootModule& module = info.modules[0];
        return {arch::phys_to_virt<const std::byte>(module.phys), module.size};
    }
    if (!fs::root_on_disk())
        panic("no manifest: no boot module and no disk (start the kernel through phx)");
    std::byte* bytes = nullptr;
    auto size = fs::read_whole_file(kManifestPath, &bytes, kMaxManifest);
    if (size.is_error()) panic("cannot read {} from the disk: {}", kManifestPath, lib::errno_name(size.error()));
    return {bytes, size.value()};
}

}  // namespace

}  // namespace kernel::boot

// No stack protector here: the canary changes under this frame (set_stack_guard).
extern "C" [[noreturn, gnu::no_stack_protector]] void kernel_boot_main(uint32_t start_info_phys) {
    using namespace kernel;
    console::init_serial();
    arch::log_kernel_placement();
    arch::detect_cpu_features();
    arch::init_idt();  // before anything can fault
    boot::BootInfo info = boot::parse_start_info(start_info_phys);
    boot::init_memory(info);
    arch::init_cpu_tables();
    arch::use_ist_stacks();  // now that the TSS has them
    kernel_run_constructors();
    {
        auto fpu = lib::Cmdline(boot::command_line(info)).find("phx.fpu");
        arch::enable_cpu_features(fpu && fpu->value == "fxsave");
    }
    {
        auto khz = lib::Cmdline(boot::command_line(info)).find("phx.tsc_khz");
        uint64_t hint = 0;
        for (char c : khz ? khz->value : std::string_view{}) {
            if (c < '0' || c > '9' || hint > UINT64_MAX / 10000) {
                hint = 0;  // not a number: calibrate as usual
                break;
            }
            hint = hint * 10 + uint64_t(c - '0');
        }
        time::init_clock(hint);
    }
    arch::init_apic();  // device interrupts are routed to this CPU's APIC ID
    // Devices need the heap, the page tables (MMIO mappings) and the clock (timeouts).
    drivers::virtio::discover_mmio_devices(boot::command_line(info), info.ram_ranges());
    drivers::virtio::discover_pci_devices(info.ram_ranges());
    boot::VmmSeed vmm_seed(boot::command_line(info));
    random::EntropySource* entropy_devices[] = {drivers::virtio::init_rng(), &vmm_seed};
    random::init_random(entropy_devices);
    runtime::set_stack_guard(random::next_u64());  // no protected frame is live yet
    boot::mount_disk();
    arch::init_syscalls();

    klog("Phoenix: {} MiB RAM, TSC {} MHz ({}), {}{}{}", mm::total_frame_count() / 256,
         time::tsc_hz() / 1000000, time::tsc_source_name(), arch::cpu().smep ? "SMEP " : "",
         arch::cpu().smap ? "SMAP " : "", arch::cpu().umip ? "UMIP" : "");
    std::span<const std::byte> manifest = boot::find_manifest(info);
    // The exit policy first, so that a panic from here on already follows it (start_program
    // reports a malformed one).
    if (auto parsed = lib::manifest::Manifest::parse(manifest); parsed.has_value()) {
        std::string_view bad_key;
        (void)proc::init_lifecycle(parsed.value(), bad_key);
    }
    boot::run_selftest(boot::command_line(info));
    proc::start_program(manifest, boot::command_line(info));
}
