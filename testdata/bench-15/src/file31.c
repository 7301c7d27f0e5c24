int f31(void) { return 31; }
