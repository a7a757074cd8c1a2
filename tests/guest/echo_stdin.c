// Reads argv[1] lines from stdin and prints each back with its number: the console's input
// path from phx's stdin through the VMM's UART (or QEMU's) to read(0). A serial line has no
// end of file, so the test says how many lines to expect.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
    int want = argc > 1 ? atoi(argv[1]) : 1;
    char line[256];
    for (int n = 1; n <= want && fgets(line, sizeof line, stdin); ++n) {
        line[strcspn(line, "\r\n")] = 0;
        printf("line %d: %s\n", n, line);
    }
    return 0;
}
