"""Minimal safetensors reader/writer (numpy only), with BF16 stored as raw uint16 bits.

Format: u64 little-endian header length, JSON header {name: {dtype, shape, data_offsets}},
then the raw little-endian tensor bytes; offsets are relative to the end of the header.
"""
import json
import struct

import numpy as np

_NUMPY = {"U8": np.uint8, "BF16": np.uint16, "F32": np.float32, "I8": np.int8}


def f32_to_bf16_bits(x):
    """Round fp32 to bf16 (nearest, ties to even), returned as uint16 bit patterns."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    assert np.all(np.isfinite(x)), "non-finite value"
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_bits_to_f32(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def write(path, tensors, metadata=None):
    """tensors: list of (name, dtype string, numpy array already in that storage dtype)."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, arr in tensors:
        arr = np.ascontiguousarray(arr, dtype=_NUMPY[dtype])
        data = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad so the data section starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read(path):
    """Returns {name: (dtype string, numpy array in storage dtype)}."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dt = np.dtype(_NUMPY[info["dtype"]]).newbyteorder("<")
        arr = np.frombuffer(raw[base + begin:base + end], dtype=dt).reshape(info["shape"])
        out[name] = (info["dtype"], arr)
    return out
