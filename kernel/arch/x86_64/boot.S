// PVH entry: the hypervisor starts us in 32-bit protected mode, paging off, %ebx = physical
// address of hvm_start_info (Xen arch-x86/hvm/start_info.h). We build a throwaway page table
// (identity 0-1 GiB, the same GiB at the physmap and at the kernel's -2 GiB), enter long mode
// and jump to the higher-half kernel. kernel::boot::main() builds the real tables.

#define KERNEL_BASE 0xffffffff80000000
#define PHYSMAP_BASE 0xffff800000000000

// ELF note: XEN_ELFNOTE_PHYS32_ENTRY (18), the physical 32-bit entry point.
.section .note.Xen, "a", @note
    .align 4
    .long 4
    .long 4
    .long 18
    .asciz "Xen"
    .align 4
    .long pvh_start32
    .align 4

.section .boot.text, "ax"
.code32
.globl pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %esi                      // keep start_info

    // Boot page tables: PD maps 0-1 GiB with 2 MiB pages.
    mov $boot_pd, %edi
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax                      // present | writable | 2 MiB
    mov %eax, (%edi,%ecx,8)
    movl $0, 4(%edi,%ecx,8)
    inc %ecx
    cmp $512, %ecx
    jne 1b

    mov $boot_pd, %eax
    or $0x3, %eax
    mov %eax, boot_pdpt_low             // PDPT_low[0] -> PD (0 GiB)
    mov %eax, boot_pdpt_high + 510 * 8  // PDPT_high[510] -> PD (-2 GiB)

    mov $boot_pdpt_low, %eax
    or $0x3, %eax
    mov %eax, boot_pml4                 // PML4[0]: identity
    mov %eax, boot_pml4 + 256 * 8       // PML4[256]: physmap
    mov $boot_pdpt_high, %eax
    or $0x3, %eax
    mov %eax, boot_pml4 + 511 * 8       // PML4[511]: kernel image

    mov %cr4, %eax
    or $((1 << 5) | (1 << 7)), %eax     // PAE | PGE
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3

    mov $0xc0000080, %ecx               // EFER: LME | NXE | SCE
    rdmsr
    or $((1 << 8) | (1 << 11) | (1 << 0)), %eax
    wrmsr

    mov %cr0, %eax
    or $((1 << 31) | (1 << 16) | (1 << 0)), %eax  // PG | WP | PE
    mov %eax, %cr0

    lgdt boot_gdt_pointer
    ljmp $0x08, $long_mode_low

.code64
long_mode_low:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    movabs $long_mode_high, %rax
    jmp *%rax

.section .boot.data, "aw"
.align 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff            // 64-bit kernel code
    .quad 0x00cf92000000ffff            // kernel data
boot_gdt_end:
boot_gdt_pointer:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

.section .boot.bss, "aw", @nobits
.align 4096
boot_pml4: .skip 4096
boot_pdpt_low: .skip 4096
boot_pdpt_high: .skip 4096
boot_pd: .skip 4096

.text
long_mode_high:
    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp
    mov %esi, %edi                      // start_info physical address (zero-extended)
    call kernel_boot_main
2:  cli
    hlt
    jmp 2b

.section .bss
.align 16
.globl boot_stack_bottom
boot_stack_bottom:
    .skip 65536
boot_stack_top:
