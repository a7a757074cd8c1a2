// The smallest Phoenix program: an ordinary static Linux C program.
#include <stdio.h>
#include <time.h>

int main(int argc, char** argv) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    printf("Hello from Phoenix! (unix time %lld)\n", (long long)now.tv_sec);
    for (int i = 1; i < argc; ++i) printf("arg %d: %s\n", i, argv[i]);
    return 0;
}
