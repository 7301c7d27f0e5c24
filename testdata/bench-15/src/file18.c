int f18(void) { return 18; }
