// `syscall` entry. The CPU leaves the user RIP in %rcx and RFLAGS in %r11 and masks IF (FMASK).
// We switch to the thread's kernel stack (per-CPU data at %gs), build a TrapFrame identical to
// an exception's, call kernel::sys::dispatch(TrapFrame*), and return with sysretq when the
// return address is canonical (the Intel sysret #GP-in-ring-0 problem), iretq otherwise.

#define PERCPU_KERNEL_RSP 8
#define PERCPU_USER_RSP 16
#define USER_DS (0x20 | 3)
#define USER_CS (0x28 | 3)

.text
.globl syscall_entry
syscall_entry:
    swapgs
    mov %rsp, %gs:PERCPU_USER_RSP
    mov %gs:PERCPU_KERNEL_RSP, %rsp
    push $USER_DS                        // ss
    push %gs:PERCPU_USER_RSP             // rsp
    push %r11                            // rflags
    push $USER_CS                        // cs
    push %rcx                            // rip
    push $0                              // error code
    push $-1                             // vector: -1 marks a syscall frame
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
    cld
    mov %rsp, %rdi
    xor %ebp, %ebp
    call syscall_dispatch

    // The handler may have rewritten the frame (exit, signals later): reload it whole.
    mov 17*8(%rsp), %rcx                 // rip
    mov %rcx, %r11
    sar $47, %r11                        // canonical user address: bits 63..47 all zero
    jnz syscall_return_iret
    cmpq $USER_CS, 18*8(%rsp)
    jne syscall_return_iret
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
    add $16, %rsp                        // vector, error code
    mov (%rsp), %rcx                     // rip
    mov 16(%rsp), %r11                   // rflags
    mov 24(%rsp), %rsp                   // user rsp
    swapgs
    sysretq

syscall_return_iret:
    mov %rsp, %rdi
    jmp return_to_user
