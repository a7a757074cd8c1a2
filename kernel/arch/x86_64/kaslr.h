// Kernel address space layout randomization: where the kernel image runs this boot. The image
// is linked at kKernelBase (physical address 0 + 2 MiB boot section at kKernelBase + 2 MiB,
// etc.); at boot it is slid by a random multiple of 2 MiB within the top 2 GiB, and a loader
// may have moved it physically by a multiple of 2 MiB (the builtin VMM does). Every
// image-address <-> physical-address conversion and every symbolization goes through here.
#pragma once

#include <cstdint>

namespace kernel::arch {

// Where the link-time base kKernelBase went: kernel virtual addresses are link addresses plus
// kernel_slide().
uint64_t kernel_virt_base();
uint64_t kernel_slide();
// The physical address kernel_virt_base() maps to (the load offset: 0 when loaded at p_paddr).
uint64_t kernel_phys_base();
// The physical range the image occupies, boot section to the generated tables.
uint64_t kernel_image_phys_start();
uint64_t kernel_image_phys_end();
// The link-time address for a runtime image address (for the link-time symbol table).
inline uint64_t to_link_address(uint64_t address) { return address - kernel_slide(); }

// "kaslr: kernel at 0x... (phys 0x...)", once the console works: a stable line tests parse.
void log_kernel_placement();

}  // namespace kernel::arch

// Called by boot.S in long mode, still at the link address, with the boot page tables (the
// first GiB identity-mapped and at the physmap, the kernel at its link address through the
// two PDs at boot_pd_high_phys): picks the slide, maps the kernel there too and applies the
// relocation table.
extern "C" void kaslr_relocate(uint32_t start_info_phys, uint64_t load_offset,
                               uint64_t boot_pd_high_phys);
