// A store through NULL: the kernel reports SIGSEGV with the fault address and phx exits 139.
#include <stdio.h>

int main(void) {
    puts("before");
    fflush(stdout);
    *(volatile int*)0 = 1;
    puts("after (the store did not fault)");
    return 0;
}
