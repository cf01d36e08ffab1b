#!/usr/bin/env python3
"""mk_weights.py IR_FILE VARIANT OUT — write a safetensors file for the params
listed in a textual IR file (`%n = param : f32[...] "name"` lines), then spoil
it as VARIANT asks. Standard library only, so the CLI tests need no torch.

variants: ok, missing, unexpected, shape, truncated, oob, overlap, hdrlen,
          badjson
"""
import json
import random
import re
import struct
import sys

PARAM = re.compile(r'= param : f32\[([0-9,]+)\] "([^"]+)"')


def params(ir_text):
    for m in PARAM.finditer(ir_text):
        yield m.group(2), [int(d) for d in m.group(1).split(",")]


def layout(tensors):
    """tensors: list of (name, shape, bytes) -> (header dict, data bytes)."""
    header, data = {}, bytearray()
    for name, shape, raw in tensors:
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    return header, bytes(data)


def pack(header, data, claimed_len=None):
    hdr = json.dumps(header).encode()
    n = len(hdr) if claimed_len is None else claimed_len
    return struct.pack("<Q", n) + hdr + data


def main():
    ir_path, variant, out = sys.argv[1:4]
    rnd = random.Random(7)
    tensors = []
    for name, shape in params(open(ir_path).read()):
        n = 1
        for d in shape:
            n *= d
        vals = [rnd.uniform(0.5, 1.5) for _ in range(n)]  # valid as variances too
        tensors.append((name, shape, struct.pack("<%df" % n, *vals)))
    if variant == "missing":
        tensors = [t for t in tensors if t[0] != "cells.0.preprocess1.op.1.weight"]
    elif variant == "unexpected":
        tensors.append(("cells.0.extra.weight", [2], struct.pack("<2f", 1, 2)))
    elif variant == "shape":
        tensors = [(n, [s[0] + 1] + s[1:], struct.pack("<%df" % ((s[0] + 1) * (len(r) // 4 // s[0])),
                                                       *([0.5] * ((s[0] + 1) * (len(r) // 4 // s[0])))))
                   if n == "stem.0.weight" else (n, s, r) for n, s, r in tensors]
    header, data = layout(tensors)
    blob = pack(header, data)
    if variant == "truncated":
        blob = blob[: len(blob) - 100]
    elif variant == "oob":
        header["classifier.bias"]["data_offsets"][1] += 4096
        blob = pack(header, data)
    elif variant == "overlap":
        first, second = list(header)[:2]
        header[second]["data_offsets"] = [o - 4 for o in header[second]["data_offsets"]]
        blob = pack(header, data)
    elif variant == "hdrlen":
        blob = pack(header, data, claimed_len=len(blob) * 2)
    elif variant == "badjson":
        hdr = b'{"stem.0.weight": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]'
        blob = struct.pack("<Q", len(hdr)) + hdr + b"\0\0\0\0"
    with open(out, "wb") as f:
        f.write(blob)


if __name__ == "__main__":
    main()
