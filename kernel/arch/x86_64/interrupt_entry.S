// Exception entry stubs: each pushes a dummy error code where the CPU pushes none, then its
// vector, then the common path saves every general register into a TrapFrame (trap_frame.h),
// swaps GS when coming from ring 3, and calls kernel::arch::handle_trap(TrapFrame*).

#define USER_RPL 3

.macro SAVE_REGS
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
.endm

.macro RESTORE_REGS
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
.endm

.macro TRAP_NOERR vector
.globl trap_stub_\vector
trap_stub_\vector:
    push $0
    push $\vector
    jmp trap_common
.endm

.macro TRAP_ERR vector
.globl trap_stub_\vector
trap_stub_\vector:
    push $\vector
    jmp trap_common
.endm

.text
TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR 8
TRAP_NOERR 9
TRAP_ERR 10
TRAP_ERR 11
TRAP_ERR 12
TRAP_ERR 13
TRAP_ERR 14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR 17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR 21
TRAP_NOERR 22
TRAP_NOERR 23
TRAP_NOERR 24
TRAP_NOERR 25
TRAP_NOERR 26
TRAP_NOERR 27
TRAP_NOERR 28
TRAP_ERR 29
TRAP_ERR 30
TRAP_NOERR 31
// Device interrupts (kernel/arch/x86_64/irq.h): vectors 0x30-0x3f.
TRAP_NOERR 48
TRAP_NOERR 49
TRAP_NOERR 50
TRAP_NOERR 51
TRAP_NOERR 52
TRAP_NOERR 53
TRAP_NOERR 54
TRAP_NOERR 55
TRAP_NOERR 56
TRAP_NOERR 57
TRAP_NOERR 58
TRAP_NOERR 59
TRAP_NOERR 60
TRAP_NOERR 61
TRAP_NOERR 62
TRAP_NOERR 63
TRAP_NOERR 32
TRAP_NOERR 255

trap_common:
    SAVE_REGS
    testb $USER_RPL, 18*8(%rsp)          // saved CS
    jz 1f
    swapgs
1:  cld
    mov %rsp, %rdi
    xor %ebp, %ebp                       // backtraces stop at the trap
    call handle_trap
    testb $USER_RPL, 18*8(%rsp)
    jz 2f
    swapgs
2:  RESTORE_REGS
    add $16, %rsp                        // vector and error code
    iretq

// return_to_user(const TrapFrame*): load a whole frame and iretq to ring 3.
.globl return_to_user
return_to_user:
    cli
    mov %rdi, %rsp
    swapgs
    RESTORE_REGS
    add $16, %rsp
    iretq

.section .rodata
.align 8
.globl trap_stub_table
trap_stub_table:
    .quad trap_stub_0, trap_stub_1, trap_stub_2, trap_stub_3, trap_stub_4, trap_stub_5
    .quad trap_stub_6, trap_stub_7, trap_stub_8, trap_stub_9, trap_stub_10, trap_stub_11
    .quad trap_stub_12, trap_stub_13, trap_stub_14, trap_stub_15, trap_stub_16, trap_stub_17
    .quad trap_stub_18, trap_stub_19, trap_stub_20, trap_stub_21, trap_stub_22, trap_stub_23
    .quad trap_stub_24, trap_stub_25, trap_stub_26, trap_stub_27, trap_stub_28, trap_stub_29
    .quad trap_stub_30, trap_stub_31
.globl irq_stub_table
irq_stub_table:
    .quad trap_stub_48, trap_stub_49, trap_stub_50, trap_stub_51, trap_stub_52, trap_stub_53
    .quad trap_stub_54, trap_stub_55, trap_stub_56, trap_stub_57, trap_stub_58, trap_stub_59
    .quad trap_stub_60, trap_stub_61, trap_stub_62, trap_stub_63
.globl trap_stub_spurious
.set trap_stub_spurious, trap_stub_255
