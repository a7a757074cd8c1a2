// Static musl: print argv and one environment variable, exit 7 (hello_glibc's twin).
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    const char* value = getenv("PHX_TEST_ENV");
    printf("PHX_TEST_ENV=%s\n", value ? value : "(unset)");
    puts("musl ok");
    return 7;
}
