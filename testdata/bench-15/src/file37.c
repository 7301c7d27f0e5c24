int f37(void) { return 37; }
