// `cli` in ring 3 is a general protection fault (IOPL 0): a crash report, exit 139 (or 132).
#include <stdio.h>

int main(void) {
    puts("before");
    fflush(stdout);
    __asm__ volatile("cli");
    puts("after (cli did not fault)");
    return 0;
}
