#!/usr/bin/env python3
"""GNU objdump's verdict on a sweep of RISC-V encodings, as a table for
objdump_reference.cpp, which checks arch/riscv64/exit_decode.hpp against it.

Usage: objdump_reference.py --objdump PROG --table OUT.txt --binary OUT.bin

The encodings:
  parcels   every 16-bit parcel whose low two bits are not 11 (49,152: the
            other 16,384 are the low halves of 32-bit instructions, swept
            below as such);
  low-half  every 16-bit parcel whose low two bits are 11 (opcode, rd,
            funct3 and rs1[0]: all a LOAD's decode needs) as the low half of
            a 32-bit word, with high halves 0x0000, 0xffff and 0x5a5a;
  fields    every major opcode (bits 6:0 = xxxxx11) x every funct3 x every
            funct7 (bits 31:25: AMO funct5 and aq/rl, the M extension's
            funct7, FP fmt and rounding, immediate bits 11:5 of the I-, S-
            and B-types) x rs2 in {0, 1, 2, 31} x (rd, rs1) in {(0, 31),
            (31, 0)}: 512 I-type immediates (funct7:rs2) including 0, 1, 2,
            -1, 2047 and -2048, 256 S-type ones (funct7:rd) including 0,
            31, -1, 2047 and -2048;
  registers every major opcode x every funct3 x rd, rs1, rs2 each in
            {0, 1, 2, 8, 15, 31} x funct7 in {0x00, 0x7f} (S-type
            immediates 1, 2, 8, 15 among them).
Duplicates are dropped. The major opcodes include those whose bits 4:2 are
111 (0x1f, 0x3f, 0x5f, 0x7f): prefixes of 48-bit and longer encodings,
which RV64GC does not have. objdump reads 6 to 22 bytes for them, and 2 for
the reserved >= 192-bit prefix (after which it decodes the high parcel on
its own), so such a word is followed by as many c.nop parcels (0x0001) as
bring objdump back to the next encoding's first byte; they are not part of
the sweep, and the parse fails if objdump is out of step anyway.

objdump is run as
  objdump -D -z -b binary -m riscv:rv64 -M no-aliases,numeric --insn-width=32
-b binary has no ELF attributes, so objdump disassembles for its default
ISA, RV64GC (binutils 2.40 shows H's hlv/hsv, V's loads/stores, Zicbo*'s
cbo.* and Zcb's c.lbu/c.lh/c.lhu/c.sb/c.sh as unknown words); RV64GC is the
ISA the decoder is written for. -z shows runs
of zero bytes instead of eliding them, no-aliases keeps the compressed
mnemonics (c.lw, not lw) and spells every instruction canonically, numeric
prints x10 rather than a0, and a wide --insn-width keeps every instruction
on one line. Words objdump does not know are printed as .2byte, .4byte,
.8byte or .byte lists (newer binutils: .insn); any mnemonic starting with
"." counts as unknown. objdump appends "# 0x..." (the address) to an
x0-relative access: not an operand, dropped.

The table: one line per encoding,
  WORD OBJDUMP_BYTES KIND WIDTH SIGNED REG TEXT
WORD in hex; OBJDUMP_BYTES how many bytes objdump's line covered; KIND L
(a load the decoder must accept), S (a store it must accept), A (an AMO,
LR or SC: refused, and a read-modify-write fault), - (any other
instruction objdump knows: refused) or ? (a word objdump does not know:
refused); WIDTH the access in bytes, SIGNED 1 if the load sign-extends,
REG the data register (rd of a load, rs2 of a store), all 0 unless L or S;
TEXT objdump's mnemonic and operands. Lines starting with # are comments;
"# count NAME N" lines give the totals the driver checks it read.
"""

import argparse
import collections
import itertools
import re
import struct
import subprocess
import sys

# The integer loads and stores of RV64GC by objdump's (no-aliases) mnemonic:
# (is_store, width in bytes, sign-extends). Every one has the data register
# as its first operand: rd of a load, rs2 of a store. ld/c.ld/c.ldsp fill
# the whole register and have nothing to extend; the header records them
# (and every store) with signed_ext = false.
LOAD_STORE = {
    'lb': (False, 1, True), 'lh': (False, 2, True), 'lw': (False, 4, True), 'ld': (False, 8, False),
    'lbu': (False, 1, False), 'lhu': (False, 2, False), 'lwu': (False, 4, False),
    'sb': (True, 1, False), 'sh': (True, 2, False), 'sw': (True, 4, False), 'sd': (True, 8, False),
    'c.lw': (False, 4, True), 'c.ld': (False, 8, False), 'c.sw': (True, 4, False), 'c.sd': (True, 8, False),
    'c.lwsp': (False, 4, True), 'c.ldsp': (False, 8, False),
    'c.swsp': (True, 4, False), 'c.sdsp': (True, 8, False),
}

# What the header says it refuses and how: FP loads/stores (flw, fld, fsw,
# fsd, c.fld, c.fsd, c.fldsp, c.fsdsp), AMOs and LR/SC are "not plain
# integer accesses" (decode_standard); decode_guest_page_fault turns an AMO
# or LR/SC into a read-and-write NestedPageFault. Everything else objdump
# names is refused and faults with the access kind scause reports.
def is_amo(mnemonic):
    return mnemonic.startswith('amo') or mnemonic.split('.')[0] in ('lr', 'sc')


# Encodings where objdump's answer is not taken as the reference, each with
# the reason: (predicate(word, mnemonic), kind to expect, reason). None so
# far: on binutils 2.40 objdump agrees with the decoder on every encoding of
# the sweep (README, "The riscv64 decoder against objdump"). The cases where
# it could have been in doubt, and are not:
#  - c.lwsp/c.ldsp with rd = x0 are reserved (unprivileged spec, "Stack-
#    Pointer-Based Loads and Stores"): objdump shows .2byte, the decoder
#    refuses;
#  - a 32-bit load into x0 is a real load (it "must still raise any
#    exceptions", RV32I "Load and Store Instructions"): objdump shows it, the
#    decoder accepts it with reg 0, and set_gpr discards the value;
#  - a word objdump does not know in the AMO major opcode (a reserved funct5,
#    RV128's .q width) is refused; the driver lets its fault be read-and-
#    write (the header's rule for the whole opcode) or the scause's access,
#    as it is an illegal instruction that never reaches memory;
#  - the reserved >= 192-bit prefix: objdump shows a .2byte and moves on
#    two bytes, but the low bits 11 still mean "not compressed": the driver
#    expects instruction_length 0 there, as for every 48-bit and longer one.
EXCEPTIONS = []

C_NOP = struct.pack('<H', 0x0001)


def encodings():
    """The words in file order, without duplicates. A word whose low two bits
    are not 11 is a 16-bit parcel and is written as 2 bytes, any other as 4."""
    opcodes = [op for op in range(0x80) if op & 3 == 3]
    regs = (0, 1, 2, 8, 15, 31)

    def word(op, funct3, funct7, rd, rs1, rs2):
        return funct7 << 25 | rs2 << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | op

    parcels = (parcel for parcel in range(0x10000) if parcel & 3 != 3)
    low_halves = (high << 16 | low for low in range(0x10000) if low & 3 == 3 for high in (0x0000, 0xffff, 0x5a5a))
    fields = (word(op, funct3, funct7, rd, rs1, rs2) for op in opcodes for funct3 in range(8)
              for funct7 in range(0x80) for rs2 in (0, 1, 2, 31) for rd, rs1 in ((0, 31), (31, 0)))
    registers = (word(op, funct3, funct7, rd, rs1, rs2) for op in opcodes for funct3 in range(8)
                 for funct7 in (0x00, 0x7f) for rd in regs for rs1 in regs for rs2 in regs)
    return list(dict.fromkeys(itertools.chain(parcels, low_halves, fields, registers)))


def objdump_length(parcel):
    """Bytes objdump 2.40 takes for an instruction starting with `parcel`
    (riscv_insn_length in include/opcode/riscv.h): 2 for a compressed one or
    a reserved >= 192-bit prefix, which it shows as a .2byte and moves on."""
    if parcel & 3 != 3:
        return 2
    if parcel & 0x1f != 0x1f:
        return 4
    if parcel & 0x3f == 0x1f:
        return 6
    if parcel & 0x7f == 0x3f:
        return 8
    if parcel & 0x7000 != 0x7000:
        return 10 + (parcel >> 11 & 0xe)
    return 2


def padding(word):
    """The c.nop parcels after `word` that bring objdump back in step: a
    48-bit or longer prefix makes it read past the word. The parse checks it
    did (an encoding without a line of its own is an error)."""
    if word & 3 != 3:
        return b''
    parcels = [word & 0xffff, word >> 16]
    at = 0
    while at < 4:
        at += objdump_length(parcels[at // 2])
    return C_NOP * ((at - 4) // 2)


LINE = re.compile(r'^ *([0-9a-f]+):\t([^\t\n]*)\t([^\t\n]*)\t?([^\n]*)$', re.M)
OPERANDS = re.compile(r'^x(\d+),(-?\d+)\(x(\d+)\)$')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--objdump', required=True)
    parser.add_argument('--table', required=True)
    parser.add_argument('--binary', required=True)
    args = parser.parse_args()

    encs = encodings()
    offsets = []
    blob = bytearray()
    for word in encs:
        offsets.append(len(blob))
        blob += struct.pack('<H' if word & 3 != 3 else '<I', word)
        blob += padding(word)
    with open(args.binary, 'wb') as f:
        f.write(blob)

    version = subprocess.run([args.objdump, '--version'], check=True, capture_output=True, text=True).stdout
    command = [args.objdump, '-D', '-z', '-b', 'binary', '-m', 'riscv:rv64', '-M', 'no-aliases,numeric',
               '--insn-width=32', args.binary]
    listing = subprocess.run(command, check=True, capture_output=True, text=True).stdout

    # "   1a:\t00b6252f          \tamoadd.w\tx10,x11,(x12)": address, the bytes as
    # read (parcels or words, little-endian), mnemonic, operands.
    lines = {int(address, 16): (raw, mnemonic, operands)
             for address, raw, mnemonic, operands in LINE.findall(listing)}

    counts = collections.Counter()
    rows = []
    errors = []
    for word, offset in zip(encs, offsets):
        line = lines.get(offset)
        if line is None:
            errors.append(f'{word:08x}: objdump printed no instruction at offset {offset:#x}')
            continue
        raw, mnemonic, operands = line[0].split(), line[1], line[2]
        # objdump's comment after the operands (the address of an x0-relative
        # access) is not an operand.
        operands = operands.split('#')[0].strip()
        objdump_bytes = sum(len(group) for group in raw) // 2
        # A parcel is printed as 4 hex digits, a word as 8: the bytes objdump
        # decoded are the ones written.
        if objdump_bytes == 2 and raw[0] != f'{word & 0xffff:04x}' or objdump_bytes == 4 and raw[0] != f'{word:08x}':
            errors.append(f'{word:08x}: objdump read {line[0]}')
            continue
        text = f'{mnemonic} {operands}'.strip()
        width = signed = reg = 0
        if mnemonic.startswith('.'):
            kind = '?'
        elif mnemonic in LOAD_STORE:
            is_store, width, signed = LOAD_STORE[mnemonic]
            m = OPERANDS.match(operands)
            if not m:
                errors.append(f'{word:08x}: cannot parse the operands of {text}')
                continue
            kind, reg = ('S' if is_store else 'L'), int(m.group(1))
        elif is_amo(mnemonic):
            kind = 'A'
        else:
            kind = '-'
        for predicate, expected, reason in EXCEPTIONS:
            if predicate(word, mnemonic):
                counts['exceptions'] += 1
                kind, width, signed, reg = expected, 0, 0, 0
                text += f' [exception: {reason}]'
        counts['parcels' if word & 3 != 3 else 'words'] += 1
        counts[{'L': 'loads', 'S': 'stores'}.get(kind, 'refused')] += 1
        rows.append(f'{word:08x} {objdump_bytes} {kind} {width} {int(signed)} {reg} {text}\n')

    if errors:
        sys.stderr.write('\n'.join(errors[:50]) + f'\n{len(errors)} encodings could not be read from objdump\n')
        return 1
    with open(args.table, 'w') as f:
        f.write(f'# {version.splitlines()[0]}\n# {" ".join(command[:-1])}\n')
        for name in ('parcels', 'words', 'loads', 'stores', 'refused', 'exceptions'):
            f.write(f'# count {name} {counts[name]}\n')
        f.writelines(rows)
    return 0


if __name__ == '__main__':
    sys.exit(main())
