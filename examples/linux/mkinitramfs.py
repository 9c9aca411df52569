#!/usr/bin/env python3
"""mkinitramfs.py OUT.cpio INIT_BINARY: the smallest initramfs /init needs.

Writes a newc ("070701") cpio archive, the format the kernel unpacks into
its rootfs, holding /init, the mount points /proc and /sys, and /dev with
the two device nodes the kernel and /init open before devtmpfs is mounted:
/dev/console (char 5:1; without it the kernel gives init no stdin/stdout)
and /dev/kmsg (char 1:11). The archive is written, not packed from a
directory, so making device nodes needs no root; every owner is root and
every time stamp 0, so the same /init always gives the same bytes.
"""
import stat
import sys

S_DIR = stat.S_IFDIR | 0o755
S_CHR = stat.S_IFCHR


def entry(ino, name, mode, data=b"", rdev=(0, 0)):
    """One newc member: a header of 13 hex fields, the name, the data, each padded to 4 bytes."""
    encoded = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data), 0, 0, rdev[0], rdev[1],
              len(encoded), 0)
    header = b"070701" + b"".join(b"%08X" % f for f in fields)
    pad = lambda n: b"\0" * (-n % 4)
    return header + encoded + pad(len(header) + len(encoded)) + data + pad(len(data))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mkinitramfs.py OUT.cpio INIT_BINARY")
    out, init = sys.argv[1], sys.argv[2]
    with open(init, "rb") as f:
        init_data = f.read()
    members = [
        ("dev", S_DIR, b"", (0, 0)),
        ("dev/console", S_CHR | 0o600, b"", (5, 1)),
        ("dev/kmsg", S_CHR | 0o644, b"", (1, 11)),
        ("proc", S_DIR, b"", (0, 0)),
        ("sys", S_DIR, b"", (0, 0)),
        ("init", stat.S_IFREG | 0o755, init_data, (0, 0)),
    ]
    archive = b"".join(entry(ino, *m) for ino, m in enumerate(members, start=1))
    archive += entry(0, "TRAILER!!!", 0)
    with open(out, "wb") as f:
        f.write(archive)


if __name__ == "__main__":
    main()
