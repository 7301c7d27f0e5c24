int f39(void) { return 39; }
