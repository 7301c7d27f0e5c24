int f7(void) { return 7; }
