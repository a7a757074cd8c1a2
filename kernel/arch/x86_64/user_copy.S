// Raw copies that may touch user memory. A fault inside them that demand paging cannot satisfy
// is redirected (via __ex_table) to the fixup, which returns -1; the C++ wrappers in
// kernel/mm/user_ptr.h turn that into EFAULT. SMAP's STAC/CLAC are done by the callers.

.text
// Eight bytes per iteration, then the tail: where ring 0 is emulated every iteration of a rep
// string instruction costs about one instruction (docs/ARCHITECTURE.md, "Known host quirks").

// int64_t user_copy_raw(void* dst, const void* src, uint64_t count): 0, or -1 on a fault.
.globl user_copy_raw
user_copy_raw:
    mov %rdx, %rcx
    shr $3, %rcx
1:  rep movsq
    mov %rdx, %rcx
    and $7, %rcx
5:  rep movsb
    xor %eax, %eax
    ret
2:  mov $-1, %rax
    ret

// int64_t user_fill_raw(void* dst, int byte, uint64_t count): 0, or -1 on a fault.
.globl user_fill_raw
user_fill_raw:
    movzbl %sil, %eax
    movabs $0x0101010101010101, %r8
    imul %r8, %rax
    mov %rdx, %rcx
    shr $3, %rcx
3:  rep stosq
    mov %rdx, %rcx
    and $7, %rcx
6:  rep stosb
    xor %eax, %eax
    ret
4:  mov $-1, %rax
    ret

.section __ex_table, "a"
.balign 8
    .quad 1b, 2b
    .quad 5b, 2b
    .quad 3b, 4b
    .quad 6b, 4b
