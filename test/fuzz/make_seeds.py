#!/usr/bin/env python3
"""Writes the seed corpus test/fuzz/corpus/<target>/ from the values the
unit tests record (test/aarch64/exit_decode_test.cpp, test/riscv64/*_test.cpp,
test/vmm). The files are committed; rerun after changing an input layout."""
import pathlib
import struct

root = pathlib.Path(__file__).resolve().parent / "corpus"


def u8(*v): return bytes(v)
def u16(v): return struct.pack("<H", v)
def u32(v): return struct.pack("<I", v)
def u64(v): return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


def write(target, name, data):
    d = root / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


# aarch64_decode: mode, ESR, FAR, HPFAR, ELR, raw, affinity, x0..x30.
def a64(esr, x=(), far=0xFFFF00000900_0ABC, hpfar=0x0009_0000, raw=0x80, mode=0):
    regs = list(x) + [0x1111_1111_1111_1111 * (i % 15 + 1) for i in range(len(x), 31)]
    return u8(mode) + u64(esr) + u64(far) + u64(hpfar) + u64(0x4008_0000) + u64(raw) + u8(2) + b"".join(map(u64, regs))

write("aarch64_decode", "ldr_w1", a64(0x93810006))
write("aarch64_decode", "ldrsb_x2", a64(0x93228006, raw=0xF0))
write("aarch64_decode", "ldr_wzr", a64(0x939F0006))
write("aarch64_decode", "str_x29", a64(0x93DD8046))
write("aarch64_decode", "ldp_no_isv", a64(0x92000006))
write("aarch64_decode", "iabt", a64(0x82000006))
write("aarch64_decode", "wfi", a64(0x06000000))
write("aarch64_decode", "hvc_psci_cpu_on", a64(0x5A000000, x=(0xC4000003, 1, 0x4008_0000, 7)))
write("aarch64_decode", "hvc_psci_affinity", a64(0x5A000000, x=(0xC4000004, 1, 0)))
write("aarch64_decode", "smc_other", a64(0x5E000000, x=(0x8200_0000,)))
write("aarch64_decode", "msr_sgi1r", a64(0x62000000 | 0x3A3016 | (1 << 5), x=(0, 0x0500_0003)))
write("aarch64_decode", "mrs_pfr0", a64(0x62000000 | 0x300008 | (2 << 5) | 1))

# riscv64_decode: insn, htinst, scause, stval, htval, raw, flags.
def rv(insn, htinst=0, scause=21, stval=0x1000_0004, htval=0x0400_0001, raw=0x8000, flags=8):
    return u32(insn) + u64(htinst) + u64(scause) + u64(stval) + u64(htval) + u64(raw) + u8(flags)

write("riscv64_decode", "lw_a0", rv(0x0005_2503))
write("riscv64_decode", "sd_a1", rv(0x00B5_3023, scause=23))
write("riscv64_decode", "c_lw", rv(0x41C8, flags=8 | 0x60))
write("riscv64_decode", "c_sd", rv(0xE188, scause=23))
write("riscv64_decode", "c_lwsp", rv(0x4502))
write("riscv64_decode", "htinst_lw", rv(0, htinst=0x0000_2503, flags=0x50))
write("riscv64_decode", "htinst_pseudo", rv(0, htinst=0x0000_3020))
write("riscv64_decode", "amo", rv(0x0805_202F, scause=23, stval=0x9000_0000, htval=0x2400_0000))

# riscv64_sbi: eid selector, fid selector, a0..a5 (selector indices: sbi.cpp's known_eids).
def sbi(e, f, *a):
    return u8(e) + u8(f) + b"".join(u64(v) for v in list(a) + [0] * (6 - len(a)))

write("riscv64_sbi", "set_timer", sbi(10, 0, 12345))
write("riscv64_sbi", "send_ipi", sbi(11, 0, 0b101, 0))
write("riscv64_sbi", "send_ipi_all", sbi(11, 0, 0, 0xFFFFFFFFFFFFFFFF))
write("riscv64_sbi", "hart_start", sbi(13, 0, 1, 0x8020_0000, 0x1234))
write("riscv64_sbi", "hart_suspend", sbi(13, 3, 0x8000_0000, 0x8020_0000, 9))
write("riscv64_sbi", "reset", sbi(14, 0, 1))
write("riscv64_sbi", "dbcn_write", sbi(16, 0, 5, 0x8000_1000, 0))
write("riscv64_sbi", "hypercall", sbi(17, 3, 1, 2, 3, 4, 5, 6))
write("riscv64_sbi", "probe_ipi", sbi(9, 3, 0x735049))

# riscv64_vplic: op (28 read / 29 write, 32-bit), kind, n (2 bytes), value;
# 2 edge, 6 update_lines.
def pw(kind, n, value): return u8(29, kind) + u16(n) + u64(value)
def pr(kind, n): return u8(28, kind) + u16(n) + u64(0)

write("riscv64_vplic", "claim_complete",
      pw(0, 1, 1) + pw(2, 1, 0b10) + u8(2, 1) + u8(6) + pr(4, 1) + u8(6) + pw(4, 1, 1) + u8(6))
write("riscv64_vplic", "level_threshold",
      pw(0, 33, 5) + pw(2, 0x21, 0b10) + pw(3, 1, 4) + u8(3 | 0x80, 33) + u8(6) + pr(1, 33) + pr(4, 1) + u8(2, 33) +
      pw(4, 1, 33) + u8(6))

# aarch64_vgic: setup (vcpus-1 in bits 0-1, 32 SPIs if 0x10), then ops with
# (op >> 4) % 4 == 3 for a 32-bit access: 0x31 dist write, 0x33 redist
# write, 0x35 edge, 0x36 SGI, 0x37 next_for, 0x38 on_eoi.
def dw(kind, n, v): return u8(0x31, kind, n) + u64(v)
def rw(kind, n, v): return u8(0x33, kind, n) + u64(v)

write("aarch64_vgic", "spi_and_sgi",
      u8(1) + dw(0, 0, 3) + rw(0x00, 0, 0) + rw(0x14, 0, 0) + dw(1, 4, 0xFFFF_FFFF) + u8(0x35, 0, 40) +
      u8(0x37, 0) + u8(0x37, 0) + u8(0x38, 0x82, 0) + rw(0x16, 0, 0xFFFF) + u8(0x36, 0) + u64(0x0500_0003) +
      u8(0x37, 1) + u8(0x38, 0x81, 0) + u8(0x3B))
# 0x39 with b = 0xE1 / 0xE2: take_back (0x40) as active (0x20) of the one
# in flight (0x80) at vCPU b % 5 (0, 1): SPI 40, then SGI 5.
write("aarch64_vgic", "take_back_active",
      u8(1) + dw(0, 0, 3) + rw(0x00, 0, 0) + rw(0x14, 0, 0) + dw(1, 4, 0xFFFF_FFFF) + u8(0x35, 0, 40) +
      u8(0x37, 0) + u8(0x39, 0xE1, 0) + rw(0x16, 0, 0xFFFF) + u8(0x36, 0) + u64(0x0500_0003) + u8(0x37, 1) +
      u8(0x39, 0xE2, 0) + u8(0x3B))

# devices: op (bit 0 write; (op >> 1) % 4: 0 TestDevice, 1 Echo, 2 Pl011, 3 Uart16550), offset, width, value.
def dev(op, offset, width, value=0): return u8(op) + u16(offset) + u8(width) + u64(value)

write("devices", "mixed",
      dev(0, 8, 3) + dev(1, 0, 2, 0xDEAD_BEEF) + dev(0, 4, 2) + dev(1, 0x18, 0, 7) + dev(2, 8, 3) + dev(3, 2, 1, 0xABCD) +
      dev(5, 0, 2, ord("h")) + dev(5, 0, 2, ord("\n")) + dev(4, 0x18, 2) + dev(5, 0x24, 2, 0x1A) + dev(4, 0xFE0, 2))

# devices, Pl011: op 4 read / 5 write ((op >> 1) % 4 == 2), 0x84 receive; 16-bit accesses as Linux's.
def pr_(offset, width=1): return dev(4, offset, width)
def pw_(offset, value, width=1): return dev(5, offset, width, value)
def prx(c): return dev(0x84, 0, 0, c)

write("devices", "pl011_linux",
      # register_port; console setup (CR) and set_termios 38400 with FEN; console write
      pw_(0x38, 0) + pw_(0x44, 0xFFFF) + pr_(0x30) + pr_(0x30) + pw_(0x28, 0x3) + pw_(0x24, 0x27) +
      pw_(0x2C, 0x70) + pw_(0x30, 0x300) + pr_(0x30) + pw_(0x30, 0x301) +
      b"".join(pr_(0x18) + pw_(0, ord(c)) for c in "hi\r\n") + pr_(0x18) + pw_(0x30, 0x300) +
      # startup: hwinit, allocate_irq, IFLS, CR, enable_interrupts (drain), set_termios 115200
      prx(ord("z")) + pw_(0x44, 0x7F0) + pr_(0x38) + pw_(0x38, 0x50) + pw_(0x38, 0) + pw_(0x34, 0x12) +
      pr_(0x30) + pw_(0x30, 0x301) + pr_(0x18) + pw_(0x44, 0x50) + pr_(0x18) + pr_(0) + pr_(0x18) +
      pw_(0x38, 0x50) + pr_(0x30) + pw_(0x28, 0x1) + pw_(0x24, 0xD) + pw_(0x2C, 0x70) + pw_(0x30, 0x301) +
      # input below and past the level, the handler; an overrun; interrupt-driven TX
      prx(ord("l")) + pr_(0x3C) + pr_(0x18) + pr_(0) + pr_(0x18) + pr_(0x3C) +
      b"".join(prx(0x30 + i) for i in range(40)) + pr_(0x3C) + b"".join(pr_(0) for _ in range(33)) +
      prx(ord("q")) + pr_(0) + pr_(0x04) + pw_(0x04, 0) + pw_(0x38, 0x70) + pr_(0x3C) +
      b"".join(pw_(0, 0x41 + i) for i in range(16)) + pw_(0x38, 0x50) + pr_(0x40) +
      # IFLS levels, FIFO off (one byte), refused accesses, shutdown
      pw_(0x34, 0x00) + b"".join(prx(0x61 + i) for i in range(5)) + pr_(0x3C) + pw_(0x2C, 0x60) + prx(1) +
      prx(2) + pr_(0x3C) + pr_(0, 0) + pr_(0x3C, 3) + pw_(0x3A, 1) + pw_(0x38, 0) + pw_(0x44, 0xFFFF) +
      pw_(0, ord("\n")))

# devices, Uart16550: op 6 read / 7 write ((op >> 1) % 4 == 3), 0x86 receive.
def ur(offset, width=0): return dev(6, offset, width)
def uw(offset, value, width=0): return dev(7, offset, width, value)
def urx(c): return dev(0x86, 0, 0, c)

write("devices", "uart16550_linux",
      # startup: FIFOs cleared, THRE test, 8N1, OUT2|DTR|RTS; set_termios: divisor 2, FIFOs on, RX interrupts
      uw(2, 0x01) + uw(2, 0x07) + uw(2, 0x00) + ur(5) + ur(0) + ur(2) + ur(6) +
      uw(1, 0x02) + ur(3) + ur(2) + uw(1, 0x00) + uw(1, 0x02) + ur(2) + uw(1, 0x00) +
      uw(3, 0x03) + uw(4, 0x0B) + uw(1, 0x05) + uw(3, 0x83) + uw(0, 2) + uw(1, 0) + ur(0) + uw(3, 0x03) +
      uw(2, 0x01) + uw(2, 0x81) + ur(2) +
      # console write, interrupt-driven write, input, overrun
      b"".join(uw(0, ord(c)) for c in "hi\r\n") + uw(1, 0x07) + ur(2) + ur(5) + uw(0, ord("!")) + uw(1, 0x05) +
      urx(ord("l")) + urx(ord("s")) + ur(2) + ur(5) + ur(0) + ur(0) + ur(0) + b"".join(urx(0x41 + i) for i in range(17)) +
      ur(2) + ur(5) + ur(2) +
      # loopback (autoconfig's test; transmitted bytes come back), scratch, refused accesses
      uw(4, 0x1A) + ur(6) + uw(0, 0x55) + ur(0) + uw(4, 0x0B) + ur(6) + uw(7, 0xA5) + ur(7) +
      ur(0, 1) + uw(0, 0x41, 2) + ur(8) + uw(0xFF, 1) + uw(0, ord("\n")))

# x86_64_decode: mode (0 16-bit, 1 32-bit, 2 64-bit), count, 15 instruction
# bytes, selector (low nibble: SVM exit code index in x86_64_decode.cpp's
# codes, bit 4: next RIP = RIP + length; high nibble: VMX reason index),
# EXITINFO1/qualification, EXITINFO2/GPA, RIP, length, raw, RAX..R15.
def x86(insn, selector, info1=0, info2=0xFEB0_0010, length=3, mode=2, rip=0x10_0040, raw=0x8000_00F0):
    body = bytes(insn) + bytes(15 - len(insn))
    regs = b"".join(u64(0x1111_1111_1111_1111 * (i % 15 + 1)) for i in range(16))
    return u8(mode, len(insn)) + body + u8(selector) + u64(info1) + u64(info2) + u64(rip) + u64(length) + u64(raw) + regs

write("x86_64_decode", "npf_mov_store", x86([0x89, 0x48, 0x10], 0x02, info1=(1 << 32) | 6))
write("x86_64_decode", "npf_movzx_rip", x86([0x44, 0x0F, 0xB7, 0x15, 0, 1, 0, 0], 0x22, info1=1 << 32))
write("x86_64_decode", "npf_mov_ah", x86([0x8A, 0x63, 0x30], 0x22, info1=1 << 32))
write("x86_64_decode", "npf_movabs", x86([0x48, 0xA1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11], 0x02))
write("x86_64_decode", "npf_imm32_bits32", x86([0xC6, 0x05, 0x10, 0x00, 0xB0, 0xFE, 0x5A], 0x02, info1=2, mode=1))
write("x86_64_decode", "bits16_modrm", x86([0xC6, 0x86, 0x34, 0x12, 0x05], 0x02, info1=2, mode=0))
write("x86_64_decode", "lock_add", x86([0xF0, 0x01, 0x08], 0x02, info1=2))
write("x86_64_decode", "rep_movs", x86([0xF3, 0xA4], 0x02, info1=2))
write("x86_64_decode", "ioio_out", x86([0xEE], 0x11, info1=0x03F8_0000 | 0x10 | 0x200, length=1))
write("x86_64_decode", "ioio_rep_outs", x86([0xF3, 0x6E], 0x11, info1=0x03F8_0000 | 0x10 | 0x8 | 0x4, length=2))
write("x86_64_decode", "vmx_ept_write", x86([0x48, 0x89, 0x13], 0x24, info1=0x182))
write("x86_64_decode", "vmx_io_in", x86([0xE5, 0x60], 0x10, info1=0x0060_0000 | 3 | 8 | 0x40, length=2))
write("x86_64_decode", "msr_write", x86([0x0F, 0x30], 0x04, info1=1, length=2))

# x86_64_paging: control (bit 0 PG, 1 PSE, 2 PAE, 3 LA57, 4 LMA, 7:5 mode),
# CR3 (page number in bits 5:0, PAE's 11:5), a byte (0: keep CR3[11:5]),
# the linear address, the page count, each page's frame, then records: page,
# slot (15:14 kind: 0 8-byte entry, 1 4-byte entry, 2 raw word, 3 code
# bytes), kind 0/1: target frame and flags (0x80 PS, 0x01 present, 0x40: two
# more bytes of PSE-36 bits), kind 2: 8 bytes, kind 3: 4 bytes.
def entry(page, index, target, flags=0x01, kind=0): return u8(page) + u16((kind << 14) | index) + u8(target, flags)
def code(page, offset, word): return u8(page) + u16((3 << 14) | offset) + u32(word)

write("x86_64_paging", "long_mode_4k",
      u8(0x1 | 0x4 | 0x10 | (2 << 5)) + u16(1) + u8(1) + u64(0x0040_3FFA) + u8(5) + u8(1, 2, 3, 4, 5) +
      entry(0, 0, 2) + entry(1, 0, 3) + entry(2, 2, 4) + entry(3, 3, 5) + entry(3, 4, 5) +
      code(4, 0xFFA, 0x8B48_0000) + code(4, 0xFFD, 0x0000_4808))
write("x86_64_paging", "long_mode_2m_1g",
      u8(0x1 | 0x4 | 0x10 | (2 << 5)) + u16(1) + u8(1) + u64(0x4020_1234) + u8(3) + u8(1, 2, 3) +
      entry(0, 0, 2) + entry(1, 1, 0, 0x81) + entry(1, 0, 3) + entry(2, 1, 0, 0x81))
write("x86_64_paging", "non_canonical",
      u8(0x1 | 0x4 | 0x10 | (2 << 5)) + u16(1) + u8(1) + u64(0x0000_7FFF_FFFF_FFFC) + u8(4) + u8(1, 2, 3, 4) +
      entry(0, 255, 2) + entry(1, 511, 3) + entry(2, 511, 4) + entry(3, 511, 4) + code(3, 0xFFC, 0xC3C3_C3C3))
write("x86_64_paging", "pae",
      u8(0x1 | 0x4 | (1 << 5)) + u16(1 | 0x20) + u8(0) + u64(0x0061_2345) + u8(3) + u8(1, 2, 3) +
      entry(0, 4, 2) + entry(1, 3, 3) + entry(2, 0x12, 1))
write("x86_64_paging", "pse36",
      u8(0x1 | 0x2 | (1 << 5)) + u16(1) + u8(1) + u64(0x00C0_0042) + u8(2) + u8(1, 2) +
      entry(0, 3, 0, 0xC1, kind=1) + u16(0x0090) + entry(0, 5, 2, 0x01, kind=1) + entry(1, 0, 2, 0x01, kind=1))
write("x86_64_paging", "no_paging_wrap",
      u8(1 << 5) + u16(0) + u8(1) + u64(0xFFFF_FFFE) + u8(2) + u8(0x0, 0xFF) + code(0, 0, 0x77) +
      code(1, 0xFFE, 0x6655))

# x86_64_features: a selector byte (0 CPUID, 1 XSETBV, 2 PAT, 3 EFER, 4
# plan_entry), then that check's bytes (x86_64_features.cpp), repeated.
def cpuid(pick, leaf, host, apic): return u8(0, pick) + u32(leaf) + b"".join(map(u32, host)) + u8(0, apic)

write("x86_64_features", "mixed",
      cpuid(1, 1, (0x0006_0F11, 0x0000_0800, 0xFFFF_FFFF, 0x078B_FBFF), 3) +
      cpuid(2, 0, (0x8000_001F, 0, 0xFFFF_FFFF, 0), 0) + cpuid(3, 0, (1, 2, 3, 4), 0) +
      cpuid(5, 0, (1, 2, 3, 4), 0) + cpuid(0x80 | 9, 0, (0xD, 0x240, 0x340, 0), 0) +
      u8(1, 0x08) + u32(0x7) + u8(1, 0x20) + u32(0xE7) + u8(1, 0x20) + u32(0x27) + u8(1, 0) + u32(0x3) +
      u8(2) + u64(0x0007_0406_0007_0406) + u8(2) + u64(0x0007_0406_0007_0402) +
      u8(3, 0x1C) + u16(0x0D00) + u8(3, 0x1C) + u16(0x0C00) + u8(3, 0x04) + u16(0x0000) + u8(3, 0x1C) + u16(0x1D00) +
      u8(4, 0x02, 3, 0x40) + u8(4, 0x06, 1, 0x40) + u8(4, 0x06, 2, 0x41) + u8(4, 0x0F, 2, 0x42) + u8(4, 0x02, 0, 0))

# x86_64_vmcs: a selector byte (even: a set-up plan, odd: a CR write), then
# its bytes (x86_64_vmcs.cpp): the base capabilities unchanged (pick 0x06:
# real fixed bits) for a Long64 and a Protected32 plan, the non-TRUE primary
# controls (refused), and a CR0 write turning paging on with LME and a CR4
# write clearing PAE in long mode.
def caps_unchanged(pick): return u8(pick) + u32(0) * 10 + u64(0) * 2 + u32(0)
write("x86_64_vmcs", "plans",
      u8(0) + caps_unchanged(0x06) + u8(0) + u32(0x20_0000) + u32(0x1000) + u32(0x40_0000) + u16(1) +
      u8(0) + caps_unchanged(0x06) + u8(1) + u32(0x10_0000) + u32(0) + u32(0x40_0000) + u16(2) +
      u8(0) + caps_unchanged(0x16) + u8(0) + u32(0x20_0000) + u32(0x1000) + u32(0x40_0000) + u16(1))
write("x86_64_vmcs", "cr_writes",
      u8(1) + caps_unchanged(0x06) + u8(0x01) + u32(0x11) + u32(0x20) + u16(0x100) + u32(0x8000_0011) +
      u8(1) + caps_unchanged(0x06) + u8(0x07) + u32(0x8000_0011) + u32(0x20) + u16(0x500) + u32(0))

# fdt: the blobs dtc builds from the fdt suite's trees (test/vmm/fdt/*.dts),
# one also as a version 16 blob, and the smallest tree there is. Needs dtc
# (device-tree-compiler); without it the committed seeds stay as they are.
import shutil
import subprocess

def dtb(source, *args, text=None):
    return subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", *args, source], input=text,
                          capture_output=True, check=True).stdout

if shutil.which("dtc"):
    trees = pathlib.Path(__file__).resolve().parent.parent / "vmm" / "fdt"
    write("fdt", "riscv64_virt.dtb", dtb(str(trees / "riscv64_virt.dts")))
    write("fdt", "riscv64_virt_v16.dtb", dtb(str(trees / "riscv64_virt.dts"), "-V", "16"))
    write("fdt", "arm64_virt.dtb", dtb(str(trees / "arm64_virt.dts")))
    write("fdt", "empty_root.dtb", dtb("-", text=b"/dts-v1/; / { };"))
else:
    print("dtc not found: corpus/fdt left as it is")
