int f19(void) { return 19; }
