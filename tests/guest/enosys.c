#include <stdio.h>
#include <errno.h>
#include <unistd.h>
int main(void) { long r = syscall(1000); printf("r=%ld errno=%s\n", r, errno == ENOSYS ? "ENOSYS" : "other"); return 0; }
