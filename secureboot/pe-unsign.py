#!/usr/bin/env python3
"""pe-unsign.py IN OUT: copy a PE/COFF (EFI) binary without its Authenticode
signature, as `sbattach --remove` does: the certificate table (data
directory 4) is dropped and its directory entry zeroed.

Used by tests/vm/31-secureboot.sh to make an unsigned copy of the Debian
kernel that Secure Boot must refuse. Exit 1 when IN is not a signed PE32+."""
import struct
import sys


def unsign(data: bytes) -> bytes:
    if data[:2] != b"MZ":
        raise ValueError("not a PE file (no MZ header)")
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if data[pe:pe + 4] != b"PE\0\0":
        raise ValueError("no PE signature")
    opt = pe + 4 + 20
    if struct.unpack_from("<H", data, opt)[0] != 0x20B:
        raise ValueError("not PE32+")
    ndirs = struct.unpack_from("<I", data, opt + 108)[0]
    if ndirs < 5:
        raise ValueError("no certificate table directory")
    entry = opt + 112 + 4 * 8
    off, size = struct.unpack_from("<II", data, entry)
    if off == 0 or size == 0:
        raise ValueError("not signed (empty certificate table)")
    if off + size != len(data):
        raise ValueError("certificate table is not at the end of the file")
    out = bytearray(data[:off])
    struct.pack_into("<II", out, entry, 0, 0)
    return bytes(out)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    try:
        out = unsign(data)
    except ValueError as e:
        print(f"pe-unsign: {sys.argv[1]}: {e}", file=sys.stderr)
        return 1
    with open(sys.argv[2], "wb") as f:
        f.write(out)
    print(f"pe-unsign: {sys.argv[2]}: {len(data) - len(out)} bytes of signature removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
