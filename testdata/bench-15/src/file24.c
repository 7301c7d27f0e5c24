int f24(void) { return 24; }
