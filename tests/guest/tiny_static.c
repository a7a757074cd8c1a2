// The smallest static program: no libc, just exit_group(3). Small enough to travel inside a
// manifest the runner tests dump byte by byte.
void _start(void) {
    __asm__ volatile("mov $231, %eax\n\tmov $3, %edi\n\tsyscall\n\thlt");
    __builtin_unreachable();
}
