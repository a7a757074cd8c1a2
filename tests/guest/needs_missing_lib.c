// Needs libphoenix_missing.so.1, which is on no search path once built (tests/guest/CMakeLists.txt).
int phoenix_missing(void);
int main(void) { return phoenix_missing(); }
