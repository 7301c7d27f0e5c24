int f36(void) { return 36; }
