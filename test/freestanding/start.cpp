// Just enough of a bare-metal image to link: an entry point and abort.
extern "C" int axvcpu_freestanding_main();

extern "C" [[noreturn]] void abort() {
    for (;;) {
    }
}

extern "C" [[noreturn]] void _start() {
    (void)axvcpu_freestanding_main();
    abort();
}
