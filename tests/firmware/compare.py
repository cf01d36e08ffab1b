"""compare.py FW_OUT REF.BIN [HOST_OUT] — checks a firmware run's outputs.

FW_OUT is the semihosting text of examples/cortex-m/main.c ("y 0x<bits> ..."
lines, "nasc-fw: status 0"); REF.BIN the host interpreter's raw f32 output
(`nasc run --in x.bin --out REF.BIN`) for the same input. Passes when

    max |fw - ref| <= 1e-4 * max(1, max |ref|)

the tolerance of nasc bench --check and tests/codegen: the emitted C runs the
-O2 graph (BatchNorm folded into the conv weights) with kernels that sum in
their own order, the interpreter the unfolded graph with the reference
kernels, so the two round differently (measured: about 1e-6 relative).
With HOST_OUT (the same net.c built for the host, tests/firmware/host_main.c)
the firmware must also equal it bit for bit: the target changes no statement,
and both builds are IEEE single precision without contraction.
"""
import struct
import sys


def read_fw(path):
    bits, status = [], None
    for line in open(path):
        if line.startswith("y "):
            bits.append(int(line.split()[1], 16))
        elif line.startswith("nasc-fw: status "):
            status = int(line.split()[2])
    return bits, status


def main():
    fw_bits, status = read_fw(sys.argv[1])
    data = open(sys.argv[2], "rb").read()
    ref = struct.unpack("<%df" % (len(data) // 4), data)
    if status != 0:
        sys.exit("FAIL: firmware status %s" % status)
    if len(fw_bits) != len(ref):
        sys.exit("FAIL: firmware printed %d outputs, the interpreter wrote %d"
                 % (len(fw_bits), len(ref)))
    fw = [struct.unpack("<f", struct.pack("<I", b))[0] for b in fw_bits]
    scale = max(1.0, max(abs(r) for r in ref))
    err, at = max((abs(a - b), i) for i, (a, b) in enumerate(zip(fw, ref)))
    tol = 1e-4 * scale
    print("%d outputs, max|ref| %.6g, max|fw - ref| %.3g at %d (%.3g of max|ref|), "
          "tolerance %.3g" % (len(ref), scale, err, at, err / scale, tol))
    if not err <= tol:
        sys.exit("FAIL: firmware differs from the interpreter beyond the tolerance")
    if len(sys.argv) > 3:
        host_bits, _ = read_fw(sys.argv[3])
        diff = [i for i, (a, b) in enumerate(zip(fw_bits, host_bits)) if a != b]
        if len(host_bits) != len(fw_bits) or diff:
            sys.exit("FAIL: firmware and host build of the same C differ (%d of %d, "
                     "first at %s)" % (len(diff), len(fw_bits), diff[:1]))
        print("bit-identical to the host build of the same C")


main()
