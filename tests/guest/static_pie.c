// Static PIE: self-relocating glibc startup at a random base.
#include <stdio.h>

int main(void) {
    printf("pie ok main=%p\n", (void*)&main);
    return 0;
}
