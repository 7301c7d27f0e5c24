int f34(void) { return 34; }
