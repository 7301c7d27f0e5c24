int f9(void) { return 9; }
