#include <stdio.h>
int main(void) { puts("before"); fflush(stdout); __asm__ volatile("cli"); return 0; }
