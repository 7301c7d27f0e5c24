int f40(void) { return 40; }
