int f6(void) { return 6; }
