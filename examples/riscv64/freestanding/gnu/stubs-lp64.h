/* Empty on purpose: Debian's riscv64 glibc headers ship only stubs-lp64d.h,
   but <cstdint> asks for the lp64 one under -mabi=lp64. Nothing from glibc
   is linked into the bare-metal images. */
