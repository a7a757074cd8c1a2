// Prints where this boot put things, one line, for the ASLR test (tests/integration/
// aslr_test.cc): a stack variable, the heap (malloc, from brk), the brk start, an anonymous
// mmap, the program (PIE), libc and the vDSO. Built as gcc builds by default: PIE, dynamic
// glibc. The same binary runs on the host for Linux's figures.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
    int on_stack = 0;
    void* heap = malloc(16);
    void* brk_start = sbrk(0);
    void* anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("layout stack=%#lx heap=%#lx brk=%#lx mmap=%#lx pie=%#lx libc=%#lx vdso=%#lx\n",
           (unsigned long)(uintptr_t)&on_stack, (unsigned long)(uintptr_t)heap,
           (unsigned long)(uintptr_t)brk_start, (unsigned long)(uintptr_t)anon,
           (unsigned long)(uintptr_t)&main, (unsigned long)(uintptr_t)&printf,
           getauxval(AT_SYSINFO_EHDR));
    fflush(stdout);
    return 0;
}
