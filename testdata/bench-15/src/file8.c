int f8(void) { return 8; }
