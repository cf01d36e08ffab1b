"""check_mask_png.py MASK.png... -- an independent reading of the mask PNGs
(stdlib zlib only): valid chunk CRCs, 8-bit paletted, the PASCAL VOC palette,
unfiltered rows, and values in 0..10 or 255. Exits 1 on the first bad file."""
import struct
import sys
import zlib


def voc(k):
    rgb = [0, 0, 0]
    shift = 7
    while k:
        for ch in range(3):
            rgb[ch] |= ((k >> ch) & 1) << shift
        shift -= 1
        k >>= 3
    return bytes(rgb)


def check(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "signature"
    pos, chunks = 8, {}
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(kind + body) == crc, "CRC of " + kind.decode()
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + n
    w, h, depth, ctype = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, ctype) == (8, 3), "not 8-bit paletted"
    assert chunks[b"PLTE"] == b"".join(voc(k) for k in range(256)), "palette"
    raw = zlib.decompress(chunks[b"IDAT"])
    assert len(raw) == h * (w + 1), "size"
    for r in range(h):
        row = raw[r * (w + 1):(r + 1) * (w + 1)]
        assert row[0] == 0, "filter"
        bad = [v for v in row[1:] if v > 10 and v != 255]
        assert not bad, "label %d" % bad[0]


for p in sys.argv[1:]:
    try:
        check(p)
    except AssertionError as e:
        print("%s: bad mask: %s" % (p, e))
        sys.exit(1)
print("%d masks ok" % (len(sys.argv) - 1))
