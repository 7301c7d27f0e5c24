int f20(void) { return 20; }
