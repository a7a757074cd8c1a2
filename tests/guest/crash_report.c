// Crash reports (tests/integration/crash_report_test.cc): a dynamic glibc program built with
// frame pointers that dies inside a qsort callback (SIGSEGV, "qsort") or through abort()
// (SIGABRT, "abort"), so that the backtrace crosses libc.so.6 both ways.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int* volatile g_nowhere;  // NULL, and the compiler may not know it

__attribute__((noinline)) int compare_and_crash(const void* a, const void* b) {
    int x = *(const int*)a, y = *(const int*)b;
    if (x == 3 || y == 3) *g_nowhere = x;
    return (x > y) - (x < y);
}

__attribute__((noinline)) void sort_numbers(void) {
    int values[] = {5, 1, 4, 3, 2, 8, 7, 6};
    qsort(values, sizeof(values) / sizeof(values[0]), sizeof(values[0]), compare_and_crash);
    printf("sorted?! %d\n", values[0]);
}

__attribute__((noinline)) void give_up(void) {
    puts("giving up");
    fflush(stdout);
    abort();
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "abort") == 0) give_up();
    puts("sorting");
    fflush(stdout);
    sort_numbers();
    return 0;
}
