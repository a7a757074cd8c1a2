// The baseline kernel for bench/boot: a PVH entry that prints one byte, reports "exit 0" on
// the status channel and powers off. What it costs is QEMU's and phx's share of a boot.
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
