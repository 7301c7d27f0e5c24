int f26(void) { return 26; }
