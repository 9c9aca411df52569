#!/usr/bin/env python3
"""GNU objdump's verdict on a sweep of x86 encodings, as a table for
objdump_reference.cpp, which checks arch/x86_64/exit_decode.hpp's
decode_mmio_instruction against it.

Usage: objdump_reference.py --objdump PROG --table OUT.txt

The encodings, in each mode (64-bit, 32-bit, 16-bit code):
  accepted  every MOV form the decoder takes (88, 89, 8A, 8B, C6 /0, C7 /0,
            A0-A3, 0F B6/B7/BE/BF, and 63 in 64-bit mode) x legacy-prefix and
            REX combinations (0x66, 0x67, segment overrides; REX.W/R/B/X and
            a bare 0x40) x every ModRM mod 0-2 and r/m, with SIB bytes
            (no base, scaled index, no index) and the displacements and
            immediates each needs, x ModRM.reg in {0, 3, 4, 7};
  refused   register operands (mod 3), C6/C7 with reg != 0, LOCK, REP and
            HLE prefixes, string instructions, ALU read-modify-writes,
            XCHG, CMPXCHG, XADD, bit tests, SSE and VEX moves, x87.

Each encoding sits at the start of its own 32-byte slot, the rest of the
slot NOPs (0x90), and the file is disassembled with
  objdump -D -z -b binary -m i386:x86-64|i386|i8086 -M intel --insn-width=16
An encoding is at most 16 bytes, so whatever objdump makes of a leftover
byte ends before the next slot: objdump's line at a slot's offset is its
verdict on that encoding. The driver decodes the same 15 bytes objdump
saw (the encoding, then NOPs).

The table: one line per encoding,
  MODE HEX LEN KIND WIDTH REG REG_WIDTH SIGNED IMM | TEXT
MODE 16/32/64; HEX the encoding; LEN the bytes objdump's line covered;
KIND R (a load the decoder must accept), W (a store of a register), I (a
store of an immediate), - (an instruction objdump knows that is not one
plain MOV to or from memory: refused) or ? (objdump shows "(bad)": refused);
WIDTH and REG_WIDTH in bytes, REG as the decoder numbers it (16-19: AH-BH),
SIGNED 1 for a sign-extending load, IMM in hex; TEXT objdump's text. Lines
starting with # are comments; "# count KIND N" gives the totals.
"""

import argparse
import collections
import re
import subprocess
import sys
import tempfile

SLOT = 32

REGS = {}
for i, n in enumerate("rax rcx rdx rbx rsp rbp rsi rdi".split()):
    REGS[n] = (i, 8)
    REGS["e" + n[1:]] = (i, 4)
    REGS[n[1:]] = (i, 2)
for i, n in enumerate("al cl dl bl spl bpl sil dil".split()):
    REGS[n] = (i, 1)
for i, n in enumerate("ah ch dh bh".split()):
    REGS[n] = (16 + i, 1)
for i in range(8, 16):
    REGS[f"r{i}"] = (i, 8)
    REGS[f"r{i}d"] = (i, 4)
    REGS[f"r{i}w"] = (i, 2)
    REGS[f"r{i}b"] = (i, 1)

PTR = {"BYTE": 1, "WORD": 2, "DWORD": 4, "QWORD": 8}
# Prefix words objdump prints for a prefix that is part of the same
# instruction but changes nothing it shows: stripped.
NEUTRAL = {"data16", "data32", "addr16", "addr32", "cs", "ds", "es", "ss", "fs", "gs"}
# Prefix words for what the decoder refuses.
REFUSED = {"lock", "rep", "repz", "repe", "repnz", "repne", "xacquire", "xrelease", "bnd", "notrack"}

# Encodings where objdump's answer is not taken as the reference, with the
# reason: (predicate(mode, bytes), kind to expect, reason).
def movsxd_16(mode, b):
    """63 in 64-bit code with a 16-bit operand size (0x66, no REX.W)."""
    i = 0
    while i < len(b) and (b[i] in (0x66, 0x67, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65) or 0x40 <= b[i] <= 0x4F):
        i += 1
    opsize, _ = sizes(mode, b[:i])
    return mode == 64 and i < len(b) and b[i] == 0x63 and opsize == 2


EXCEPTIONS = [
    (movsxd_16,
     "-", "66 63: the SDM's MOVSXD r16, r/m16, which objdump shows with a DWORD operand; the decoder refuses "
          "this form (no compiler emits it) rather than pick one reading"),
]


def modrm_forms(address_bits):
    """(mod, rm, tail bytes after ModRM) for every memory form."""
    forms = []
    for mod in (0, 1, 2):
        for rm in range(8):
            if address_bits == 16:
                disp = 1 if mod == 1 else 2 if (mod == 2 or (mod == 0 and rm == 6)) else 0
                forms.append((mod, rm, bytes([0x34, 0x12][:disp])))
                continue
            sibs = [0x24, 0x25, 0x88, 0xE5] if rm == 4 else [None]
            for sib in sibs:
                disp = 1 if mod == 1 else 4 if mod == 2 else 0
                if mod == 0 and (rm == 5 or (sib is not None and sib & 7 == 5)):
                    disp = 4
                tail = (bytes([sib]) if sib is not None else b"") + bytes([0x10, 0x00, 0xB0, 0xFE][:disp])
                forms.append((mod, rm, tail))
    return forms


def sizes(mode, prefixes):
    rex_w = bool(prefixes) and 0x40 <= prefixes[-1] <= 0x4F and prefixes[-1] & 8 and mode == 64
    opsize = 8 if rex_w else (2 if (mode == 16) != (0x66 in prefixes) else 4)
    if mode == 64:
        addr = 4 if 0x67 in prefixes else 8
    else:
        addr = 2 if (mode == 16) != (0x67 in prefixes) else 4
    return opsize, addr


PREFIXES = {
    64: ["", "66", "67", "2e", "65", "66 67", "40", "41", "42", "44", "45", "48", "49", "4c", "4f", "66 41", "66 44",
         "67 48", "65 48", "3e 4c"],
    32: ["", "66", "67", "2e", "64", "66 67"],
    16: ["", "66", "67", "26"],
}


def encodings(mode):
    out = []
    for pre in PREFIXES[mode]:
        prefixes = bytes.fromhex(pre)
        opsize, addr = sizes(mode, prefixes)
        address_bits = addr * 8
        opcodes = [b"\x88", b"\x89", b"\x8a", b"\x8b", b"\xc6", b"\xc7", b"\x0f\xb6", b"\x0f\xb7", b"\x0f\xbe",
                   b"\x0f\xbf", b"\x63"]
        for op in opcodes:
            regs = (0,) if op in (b"\xc6", b"\xc7") else (0, 3, 4, 7)
            imm = b"\x80" if op == b"\xc6" else (b"\x34\x92" if opsize == 2 else b"\x78\x56\x34\x92") if op == b"\xc7" else b""
            for reg in regs:
                for mod, rm, tail in modrm_forms(address_bits):
                    out.append(prefixes + op + bytes([mod << 6 | reg << 3 | rm]) + tail + imm)
            # Register operands (mod 3), and C6/C7 with a reg field other than 0.
            out.append(prefixes + op + bytes([0xC0 | 3 << 3 | 1]) + imm)
            if op in (b"\xc6", b"\xc7"):
                for reg in (1, 7):
                    out.append(prefixes + op + bytes([reg << 3]) + imm)
        for op in (b"\xa0", b"\xa1", b"\xa2", b"\xa3"):
            out.append(prefixes + op + bytes([0x10, 0x00, 0xB0, 0xFE, 0, 0, 0, 0][:addr]))
    refused = ["00 00", "01 08", "02 00", "03 48 10", "08 00", "09 00", "20 00", "21 00", "30 00", "31 00", "38 00",
               "39 00", "84 00", "85 00", "86 00", "87 08", "80 00 12", "81 00 78 56 34 12", "83 00 12", "f6 00 12",
               "f7 00 78 56 34 12", "fe 00", "ff 00", "ff 30", "8f 00", "8c 00", "8e 00", "d8 00", "d9 00",
               "0f 10 00", "0f 11 00", "0f 28 00", "0f 29 00", "0f 6f 00", "0f 7f 00", "66 0f 6f 00", "0f c3 00",
               "0f b0 00", "0f b1 08", "0f c0 00", "0f c1 00", "0f a3 00", "0f ab 00", "0f 18 00", "0f ae 38",
               "a4", "a5", "a6", "a7", "aa", "ab", "ac", "ad", "ae", "af", "6c", "6d", "6e", "6f", "f3 a4", "f3 ab",
               "f2 ae", "f3 6e", "f0 89 00", "f0 01 08", "f0 0f b1 08", "f3 88 00", "f2 89 00", "f3 89 00",
               "f3 c7 00 01 00 00 00", "f0 c6 00 12", "c5 f8 10 00", "c5 f9 7f 00", "c4 e2 79 18 00"]
    for r in refused:
        out.append(bytes.fromhex(r))
    seen, unique = set(), []
    for e in out:
        assert len(e) <= 16, e.hex()
        if e not in seen:
            seen.add(e)
            unique.append(e)
    return unique


LINE = re.compile(r"^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(.*)$")


def disassemble(objdump, mode, encs):
    machine = {64: "i386:x86-64", 32: "i386", 16: "i8086"}[mode]
    blob = b"".join(e + b"\x90" * (SLOT - len(e)) for e in encs)
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(blob)
        f.flush()
        text = subprocess.run([objdump, "-D", "-z", "-b", "binary", "-m", machine, "-M", "intel",
                               "--insn-width=16", f.name], capture_output=True, text=True, check=True).stdout
    lines = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            lines[int(m.group(1), 16)] = (len(m.group(2).split()), m.group(3).split("#")[0].strip())
    return lines


def operand(text):
    """('reg', number, width) | ('mem', width or None) | ('imm', value) | None."""
    t = text.strip()
    if t in REGS:
        return ("reg",) + REGS[t]
    m = re.match(r"^(BYTE|WORD|DWORD|QWORD) PTR ", t)
    if m:
        return ("mem", PTR[m.group(1)])
    if "[" in t or re.match(r"^[c-gs]s:0x[0-9a-f]+$", t):
        return ("mem", None)
    if re.match(r"^0x[0-9a-f]+$", t):
        return ("imm", int(t, 16))
    return None


def verdict(text):
    """(KIND, WIDTH, REG, REG_WIDTH, SIGNED, IMM)."""
    refused = ("-", 0, 0, 0, 0, 0)
    if text.startswith("(bad)") or text.startswith("."):
        return ("?", 0, 0, 0, 0, 0)
    words = text.split()
    while words and (words[0] in NEUTRAL or words[0].startswith("rex")):
        words.pop(0)
    if words and words[0] == "(bad)":
        return ("?", 0, 0, 0, 0, 0)
    if not words or words[0] in REFUSED:
        return refused
    mnemonic, rest = words[0], " ".join(words[1:])
    if mnemonic not in ("mov", "movabs", "movzx", "movsx", "movsxd"):
        return refused
    ops = [operand(o) for o in rest.split(",")]
    if len(ops) != 2 or None in ops:
        return refused
    dst, src = ops
    if dst[0] == "mem" and src[0] == "reg":
        width = dst[1] or src[2]
        return ("W", width, src[1], width, 0, 0)
    if dst[0] == "mem" and src[0] == "imm":
        return ("I", dst[1], 0, dst[1], 0, src[1])
    if dst[0] == "reg" and src[0] == "mem":
        width = src[1] or dst[2]
        signed = 1 if mnemonic in ("movsx", "movsxd") and width < dst[2] else 0
        return ("R", width, dst[1], dst[2], signed, 0)
    return refused


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--objdump", required=True)
    parser.add_argument("--table", required=True)
    args = parser.parse_args()
    counts = collections.Counter()
    rows = []
    for mode in (64, 32, 16):
        encs = encodings(mode)
        lines = disassemble(args.objdump, mode, encs)
        for i, e in enumerate(encs):
            if i * SLOT not in lines:
                sys.exit(f"objdump is out of step at {mode}-bit encoding {e.hex()}")
            length, text = lines[i * SLOT]
            v = verdict(text)
            for predicate, kind, _reason in EXCEPTIONS:
                if predicate(mode, e):
                    v = (kind, 0, 0, 0, 0, 0)
            counts[v[0]] += 1
            rows.append(f"{mode} {e.hex()} {length} {v[0]} {v[1]} {v[2]} {v[3]} {v[4]} {v[5]:x} | {text}")
    with open(args.table, "w", encoding="utf-8") as out:
        out.write("# objdump_reference.py: MODE HEX LEN KIND WIDTH REG REG_WIDTH SIGNED IMM | TEXT\n")
        for kind in "RWI-?":
            out.write(f"# count {kind} {counts[kind]}\n")
        out.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
