int f38(void) { return 38; }
