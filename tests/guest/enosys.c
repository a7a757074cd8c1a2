// An unknown syscall number returns -1/ENOSYS, every time; the kernel logs it once, by number.
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        errno = 0;
        long result = syscall(1000);
        if (result != -1 || errno != ENOSYS) {
            printf("syscall(1000) returned %ld, errno %d\n", result, errno);
            return 1;
        }
    }
    puts("errno=ENOSYS");
    return 0;
}
