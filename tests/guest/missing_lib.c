// A library the test program links against and then cannot find at run time.
int phoenix_missing(void) { return 42; }
