int f33(void) { return 33; }
