int f28(void) { return 28; }
