// Stand-in PVH kernels that exercise phx's runner without the Phoenix kernel: each variant
// (selected with -DSTUB_<NAME>) does one thing the boot protocol allows and powers off.
//   STUB_EXIT      console "stub: exit 42", status "exit 42", exit port 42
//   STUB_PANIC     console "stub: panic", status "panic", exit port 0x100
//   STUB_PORT_ONLY no status line, exit port 5 (QEMU exits with 11)
//   STUB_RESET     console "stub: reset", no status line, i8042 reset (QEMU -no-reboot exits
//                  with 0)
//   STUB_TRIPLE    the same through a triple fault
//   STUB_HANG      console "stub: hanging", then halts forever (for signal forwarding)
//   STUB_MANIFEST  module 0 (the manifest) in hex on the console between markers, exit 0
// Entered in 32-bit protected mode, paging off, %ebx = hvm_start_info (xen/arch-x86/
// hvm/start_info.h: nr_modules at +12, modlist_paddr at +16; a module entry starts with its
// u64 paddr and u64 size).
.section .note.Xen, "a"
    .align 4
    .long 4, 4, 18          // namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .align 4
    .long pvh_start

.code32
.text
.globl pvh_start
pvh_start:
    mov $stack_top, %esp
    mov %ebx, %ebp
#if defined(STUB_EXIT)
    mov $msg_exit, %esi
    call console_string
    mov $status_exit, %esi
    call status_string
    mov $42, %eax
    jmp power_off
#elif defined(STUB_PANIC)
    mov $msg_panic, %esi
    call console_string
    mov $status_panic, %esi
    call status_string
    mov $0x100, %eax
    jmp power_off
#elif defined(STUB_PORT_ONLY)
    mov $5, %eax
    jmp power_off
#elif defined(STUB_RESET)
    mov $msg_reset, %esi
    call console_string
    mov $0xfe, %al          // i8042: pulse the CPU reset line
    out %al, $0x64
    jmp halt
#elif defined(STUB_TRIPLE)
    mov $msg_reset, %esi
    call console_string
    lidt empty_idt
    int3                    // no IDT: #GP, #DF, then a triple fault resets the machine
#elif defined(STUB_HANG)
    mov $msg_hang, %esi
    call console_string
    jmp halt
#elif defined(STUB_MANIFEST)
    mov $msg_begin, %esi
    call console_string
    cmpl $0, 12(%ebp)
    je 2f
    mov 16(%ebp), %edi      // modlist_paddr (below 4 GiB under QEMU)
    mov 0(%edi), %esi       // module 0: paddr
    mov 8(%edi), %ecx       //           size
1:  test %ecx, %ecx
    jz 2f
    lodsb
    call console_hex
    dec %ecx
    jmp 1b
2:  mov $msg_end, %esi
    call console_string
    mov $status_zero, %esi
    call status_string
    xor %eax, %eax
    jmp power_off
#else
#error "define one STUB_ variant"
#endif

// %eax -> isa-debug-exit; QEMU exits. Without the device, halt.
power_off:
    mov $0xf4, %dx
    out %eax, %dx
halt:
    cli
    hlt
    jmp halt

// One byte in %al to COM1, waiting for the transmitter (LSR bit 5) so none is dropped.
console_byte:
    push %eax
    mov $0x3fd, %dx
3:  in %dx, %al
    test $0x20, %al
    jz 3b
    pop %eax
    mov $0x3f8, %dx
    out %al, %dx
    ret

// The NUL-terminated string at %esi to COM1.
console_string:
    lodsb
    test %al, %al
    jz 4f
    call console_byte
    jmp console_string
4:  ret

// %al as two lowercase hex digits to COM1.
console_hex:
    push %eax
    shr $4, %al
    call hex_digit
    pop %eax
    and $0xf, %al
hex_digit:
    and $0xf, %al
    add $'0', %al
    cmp $'9', %al
    jbe 5f
    add $('a' - '0' - 10), %al
5:  jmp console_byte

// The NUL-terminated string at %esi to the status channel (port 0x402).
status_string:
    mov $0x402, %dx
6:  lodsb
    test %al, %al
    jz 7f
    out %al, %dx
    jmp 6b
7:  ret

.data
msg_exit:     .asciz "stub: exit 42\n"
msg_panic:    .asciz "stub: panic\n"
msg_hang:     .asciz "stub: hanging\n"
msg_reset:    .asciz "stub: reset\n"
msg_begin:    .asciz "MANIFEST-BEGIN\n"
msg_end:      .asciz "\nMANIFEST-END\n"
status_exit:  .asciz "exit 42\n"
status_panic: .asciz "panic\n"
status_zero:  .asciz "exit 0\n"
    .align 8
empty_idt:
    .word 0
    .long 0
.bss
    .align 16
    .skip 4096
stack_top:
