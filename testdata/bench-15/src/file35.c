int f35(void) { return 35; }
