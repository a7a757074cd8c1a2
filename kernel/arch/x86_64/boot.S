// PVH entry: the hypervisor starts us in 32-bit protected mode, paging off, %ebx = physical
// address of hvm_start_info (Xen arch-x86/hvm/start_info.h). The loader may have put the image
// anywhere 2 MiB aligned (XEN_ELFNOTE_PHYS32_RELOC below): the 32-bit code finds its own
// address (call/pop) and addresses everything relative to it. We build a throwaway page table
// (identity 0-1 GiB, the same GiB at the physmap, the kernel at its link address at -2 GiB),
// enter long mode, let kaslr_relocate() pick a random virtual base and relocate the image to
// it, then jump there. kernel::boot::main() builds the real tables.

#define KERNEL_BASE 0xffffffff80000000

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
// XEN_ELFNOTE_PHYS32_RELOC (19): the image may be loaded anywhere 2 MiB aligned, start at or
// above 2 MiB, last byte below 1 GiB (the boot identity map's reach).
    .long 4
    .long 12
    .long 19
    .asciz "Xen"
    .align 4
    .long 0x200000
    .long 0x200000
    .long 0x3fffffff
    .align 4

.section .boot.text, "ax"
.code32
.globl pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %esi                      // keep start_info

    // Where are we? There is no stack yet: borrow start_info's first word (its magic) for the
    // call, as Linux's relocatable PVH entry does, and put it back.
    mov (%ebx), %eax
    lea 4(%ebx), %esp
    call 1f
1:  pop %ebp
    mov %eax, (%ebx)
    sub $1b, %ebp                       // %ebp = load offset (0 when loaded at p_paddr)
    lea boot_stack32_top(%ebp), %esp

    // Identity PD: 0-1 GiB with 2 MiB pages.
    lea boot_pd(%ebp), %edi
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax                      // present | writable | 2 MiB
    mov %eax, (%edi,%ecx,8)
    movl $0, 4(%edi,%ecx,8)
    inc %ecx
    cmp $512, %ecx
    jne 2b

    // The kernel at its link address: PD entry i of the top 2 GiB maps link physical
    // address i * 2 MiB, found at i * 2 MiB + offset.
    lea boot_pd_high(%ebp), %edi
    mov $kernel_boot_pd_entries, %ebx   // (kernel_phys_end + 2 MiB - 1) / 2 MiB
    xor %ecx, %ecx
3:  mov %ecx, %eax
    shl $21, %eax
    add %ebp, %eax
    or $0x83, %eax
    mov %eax, (%edi,%ecx,8)
    inc %ecx
    cmp %ebx, %ecx
    jne 3b

    lea boot_pd(%ebp), %eax
    or $0x3, %eax
    mov %eax, boot_pdpt_low(%ebp)       // PDPT_low[0] -> identity PD
    lea boot_pd_high(%ebp), %eax
    or $0x3, %eax
    mov %eax, boot_pdpt_high + 510 * 8(%ebp)  // -2 GiB
    add $4096, %eax
    mov %eax, boot_pdpt_high + 511 * 8(%ebp)  // -1 GiB

    lea boot_pdpt_low(%ebp), %eax
    or $0x3, %eax
    mov %eax, boot_pml4(%ebp)           // PML4[0]: identity
    mov %eax, boot_pml4 + 256 * 8(%ebp) // PML4[256]: physmap
    lea boot_pdpt_high(%ebp), %eax
    or $0x3, %eax
    mov %eax, boot_pml4 + 511 * 8(%ebp) // PML4[511]: kernel image

    mov %cr4, %eax
    or $((1 << 5) | (1 << 7)), %eax     // PAE | PGE
    mov %eax, %cr4
    lea boot_pml4(%ebp), %eax
    mov %eax, %cr3

    mov $0xc0000080, %ecx               // EFER: LME | NXE | SCE
    rdmsr
    or $((1 << 8) | (1 << 11) | (1 << 0)), %eax
    wrmsr

    mov %cr0, %eax
    or $((1 << 31) | (1 << 16) | (1 << 0)), %eax  // PG | WP | PE
    mov %eax, %cr0

    lea boot_gdt(%ebp), %eax
    mov %eax, boot_gdt_pointer + 2(%ebp)
    lgdt boot_gdt_pointer(%ebp)
    lea long_mode_low(%ebp), %eax       // far return into 64-bit code, wherever it is
    push $0x08
    push %eax
    lret

.code64
long_mode_low:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    movabs $long_mode_high, %rax        // the link address: mapped, not yet relocated
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
    .long 0                             // boot_gdt's address, stored at run time

.section .boot.bss, "aw", @nobits
.align 4096
boot_pml4: .skip 4096
boot_pdpt_low: .skip 4096
boot_pdpt_high: .skip 4096
boot_pd: .skip 4096
.globl boot_pd_high
boot_pd_high: .skip 8192                // PDs for the top 2 GiB: -2 GiB, then -1 GiB
boot_stack32: .skip 64
boot_stack32_top:

.text
long_mode_high:
    movabs $boot_stack_top, %rsp        // the link address, like every address until relocated
    mov %ebp, %r13d                     // the load offset, zero-extended (the upper halves of
    mov %esi, %r12d                     // registers are undefined after the mode switch)
    mov %r12d, %edi                     // start_info physical address
    mov %r13, %rsi
    mov $boot_pd_high, %edx             // its link (= physical at offset 0) address
    add %r13, %rdx
    xor %ebp, %ebp                      // the end of the frame-pointer chain
    call kaslr_relocate
    // The image now holds its slid absolute addresses (the movabs below too). Reloading CR3
    // serializes, so no stale decoded instruction survives the patching.
    mov %cr3, %rax
    mov %rax, %cr3
    movabs $relocated_entry, %rax
    jmp *%rax
relocated_entry:
    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp
    mov %r12d, %edi
    call kernel_boot_main
4:  cli
    hlt
    jmp 4b

.section .boot_stack, "aw", @nobits
.align 16
.globl boot_stack_bottom
boot_stack_bottom:
    .skip 65536
boot_stack_top:
