// Static musl: malloc 256 MiB, touch every page, verify a checksum.
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    size_t size = 256u << 20;
    unsigned char* p = malloc(size);
    if (!p) {
        puts("malloc failed");
        return 1;
    }
    unsigned long expected = 0;
    for (size_t i = 0; i < size; i += 4096) {
        p[i] = (unsigned char)(i >> 12);
        expected += (unsigned char)(i >> 12);
    }
    unsigned long sum = 0;
    for (size_t i = 0; i < size; i += 4096) sum += p[i];
    if (sum != expected) {
        printf("checksum mismatch %lu != %lu\n", sum, expected);
        return 1;
    }
    puts("ok 256 MiB");
    free(p);
    return 0;
}
