// The baseline kernel for bench/boot: a PVH entry that prints one byte, reports "exit 0" on
// the status channel and powers off. What it costs is the hypervisor's and phx's share of a
// boot. Built with -DNULL_RESET it prints "x\n" and resets instead (the reboot-cycle baseline).
.section .note.Xen, "a"
    .align 4
    .long 4, 4, 18
    .asciz "Xen"
    .align 4
    .long pvh_start
.code32
.text
.globl pvh_start
pvh_start:
    mov $0x3f8, %dx
    mov $'x', %al
    out %al, %dx
#ifdef NULL_RESET
    mov $'\n', %al         // a whole line, so phx's console flushes it at once
    out %al, %dx
    mov $0xfe, %al         // i8042 reset: the runner builds the next VM
    out %al, $0x64
    lidt empty_idt         // no i8042 (QEMU microvm): a triple fault resets instead
    int3
2:  hlt
    jmp 2b
empty_idt:
    .word 0
    .long 0
#endif
    mov $0x402, %dx
    mov $status, %esi
    mov $7, %ecx
1:  lodsb
    out %al, %dx
    loop 1b
    mov $0xf4, %dx
    xor %eax, %eax
    out %eax, %dx
2:  hlt
    jmp 2b
status:
    .ascii "exit 0\n"
