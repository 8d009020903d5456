#!/usr/bin/python3
"""Writes a damaged copy of a file, for the weights-file tests.

    damage.py IN OUT (--flip OFFSET | --write OFFSET TEXT | --int64 OFFSET VALUE |
                      --truncate SIZE | --append N)

--flip inverts the bits of one byte (OFFSET counts from the end when negative); --write puts
ASCII TEXT at OFFSET; --int64 stores a little-endian int64; --truncate keeps the first SIZE
bytes; --append adds N zero bytes.
"""
import struct
import sys


def main(argv):
    src, dst, action = argv[0], argv[1], argv[2]
    data = bytearray(open(src, "rb").read())
    if action == "--flip":
        offset = int(argv[3], 0)
        data[offset] ^= 0xFF
    elif action == "--write":
        offset, text = int(argv[3], 0), argv[4].encode()
        data[offset:offset + len(text)] = text
    elif action == "--int64":
        offset = int(argv[3], 0)
        data[offset:offset + 8] = struct.pack("<q", int(argv[4], 0))
    elif action == "--truncate":
        del data[int(argv[3], 0):]
    elif action == "--append":
        data += bytes(int(argv[3], 0))
    else:
        sys.exit("damage.py: unknown action " + action)
    open(dst, "wb").write(data)


if __name__ == "__main__":
    main(sys.argv[1:])
