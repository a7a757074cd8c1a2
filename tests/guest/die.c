// `die MODE`: ends the program one way, for the exit-policy tests (tests/integration/
// rebirth_test.cc). MODE: exitN (exit status N), segv (a null store), abort (SIGABRT through
// libc), cli, hlt and ud2 (privileged or invalid in ring 3: the kernel's crash report, then
// 128 + the signal). It prints "die: MODE" first so a test can count the boots.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
    const char* mode = argc > 1 ? argv[1] : "exit0";
    printf("die: %s\n", mode);
    fflush(stdout);
    if (strncmp(mode, "exit", 4) == 0) return atoi(mode + 4);
    if (strcmp(mode, "segv") == 0) *(volatile int*)0 = 1;
    if (strcmp(mode, "abort") == 0) abort();
    if (strcmp(mode, "cli") == 0) __asm__ volatile("cli");
    if (strcmp(mode, "hlt") == 0) __asm__ volatile("hlt");
    if (strcmp(mode, "ud2") == 0) __asm__ volatile("ud2");
    printf("die: unknown mode %s\n", mode);
    return 100;
}
