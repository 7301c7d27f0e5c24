int f32(void) { return 32; }
