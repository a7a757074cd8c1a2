// switch_context(uint64_t* save_rsp, uint64_t next_rsp): saves the callee-saved registers on
// the current kernel stack, stores its rsp in *save_rsp, and continues on the stack next_rsp
// points at (one that switch_context saved, or a new thread's, built by sched::Thread).

.text
.globl switch_context
switch_context:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

// A new thread's first switch_context "returns" here with its user TrapFrame on top of the
// stack: finish the switch, then leave for ring 3.
.globl thread_trampoline
thread_trampoline:
    mov %rsp, %rdi
    call thread_first_run
    ud2
