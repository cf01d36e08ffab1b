#!/usr/bin/env python3
"""property.py — end-to-end property test of the generated code's contract.

For random valid genotypes — DARTS cells (2..6 nodes, a random op and a
random valid input per edge, a random non-empty concat of intermediate
nodes) on CIFAR or ImageNet-224 macro networks (C in {4, 8}, 2..5 layers),
and Auto-DeepLab architectures (a random path of valid steps, a random
10-row cell, F in {4, 8}, inputs 33..70) — checks that
  * `nasc compile` succeeds (genotype files written as DARTS literals,
    canonical JSON for Auto-DeepLab),
  * the C builds with cc -std=c99 -Wall -Wextra -Werror -pedantic and runs
    under ASan/UBSan with tests/e2e/harness.c as its main (which also
    checks workspace bounds, full output writes and run-to-run identity),
  * its output matches `nasc run` (the interpreter) on the same random
    input within 1e-4 * max(1, max|y|).

usage: property.py NASC HARNESS_C [--cases N] [--seed S] [--cc CC]
Stdlib only. Every case prints its genotype options and max|diff|; a
failure prints the files kept in its temp dir.
"""
import argparse
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile

DARTS_OPS = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
             "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5", "conv_7x1_1x7"]
ADL_OPS = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
           "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5", "atrous_3x3", "atrous_5x5"]


def darts_cell(rng):
    nodes = rng.randint(2, 6)
    edges = []
    for i in range(nodes):
        for _ in range(2):  # node i+2 reads states 0..i+1
            # 'none' is rare: a node of two 'none' edges is legal but dull
            op = "none" if rng.random() < 0.05 else rng.choice(DARTS_OPS[1:])
            edges.append((op, rng.randint(0, i + 1)))
    states = list(range(2, nodes + 2))
    concat = sorted(rng.sample(states, rng.randint(1, len(states))))
    return edges, concat


def darts_case(rng):
    normal, ncat = darts_cell(rng)
    reduce, rcat = darts_cell(rng)
    text = ("PROP = Genotype(normal=%r, normal_concat=%r, reduce=%r, reduce_concat=%r)\n"
            % (normal, ncat, reduce, rcat))
    net = rng.choice(["cifar", "imagenet"])
    opts = ["--net", net, "--C", str(rng.choice([4, 8])), "--layers", str(rng.randint(2, 5))]
    if net == "imagenet":
        opts += ["--classes", str(rng.choice([10, 1000]))]
    return "genotype.py", text, opts


def adl_case(rng):
    layers = rng.randint(3, 6)
    path, level = [], rng.randint(0, 1)
    for i in range(layers):
        if i:  # a uniform choice among the valid steps (no clamping to 0)
            level = rng.choice([v for v in (level - 1, level, level + 1) if 0 <= v <= 3])
        path.append(level)
    cell = []
    for node in range(2, 7):
        lo = (node - 2) * (node + 1) // 2
        for edge in sorted(rng.sample(range(lo, lo + node), 2)):
            cell.append([edge, rng.choice(ADL_OPS)])
    arch = {"format": "nasc-genotype", "version": 1, "space": "autodeeplab", "name": "prop",
            "path": path, "cell": cell, "F": rng.choice([4, 8]), "B": 5,
            "classes": rng.randint(2, 6), "input": [rng.randint(33, 70), rng.randint(33, 70)],
            "aspp_rates": sorted(rng.sample(range(1, 13), 3)), "decoder": rng.random() < 0.7,
            "bn": rng.choice(["bn", "abn"])}
    return "arch.json", json.dumps(arch, indent=1) + "\n", []


def describe(name, text, opts):
    if name != "arch.json":
        return "darts " + " ".join(opts)
    a = json.loads(text)
    return "adl F=%d %dx%d path=%s %s%s" % (a["F"], a["input"][0], a["input"][1],
                                           "".join(map(str, a["path"])), a["bn"],
                                           " decoder" if a["decoder"] else "")


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s" % (" ".join(cmd), r.returncode, r.stdout))
    return r.stdout


def header_count(h, what):
    dims = [int(re.search(r"#define NET_%s_%s \(?(\d+)" % (what, k), h).group(1))
            for k in "NCHW"]
    return dims[0] * dims[1] * dims[2] * dims[3]


def one_case(args, rng, k, work):
    name, text, opts = darts_case(rng) if k % 3 != 2 else adl_case(rng)
    geno = os.path.join(work, name)
    with open(geno, "w") as f:
        f.write(text)
    seed = ["--seed", str(rng.randint(1, 10 ** 6))]
    net_c = os.path.join(work, "net.c")
    run([args.nasc, "compile", geno] + opts + seed + ["-o", net_c])
    with open(os.path.join(work, "net.h")) as f:
        h = f.read()
    n_in, n_out = header_count(h, "INPUT"), header_count(h, "OUTPUT")
    x = [rng.uniform(-2, 2) for _ in range(n_in)]
    x_bin = os.path.join(work, "x.bin")
    with open(x_bin, "wb") as f:
        f.write(struct.pack("<%df" % n_in, *x))
    exe = os.path.join(work, "net")
    run([args.cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O1", "-g",
         "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-I", work,
         net_c, args.harness, "-o", exe])
    y_c, y_ref = os.path.join(work, "y_c.bin"), os.path.join(work, "y_ref.bin")
    run([exe, x_bin, y_c], env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1"))
    run([args.nasc, "run", geno] + opts + seed + ["--in", x_bin, "--out", y_ref, "--top", "0"])
    ys = []
    for p in (y_c, y_ref):
        with open(p, "rb") as f:
            b = f.read()
        if len(b) != 4 * n_out:
            raise RuntimeError("%s holds %d bytes, expected %d" % (p, len(b), 4 * n_out))
        ys.append(struct.unpack("<%df" % n_out, b))
    diff = max(abs(a - b) for a, b in zip(*ys))
    scale = max(1.0, max(abs(v) for v in ys[1]))
    tol = 1e-4 * scale
    desc = describe(name, text, opts)
    if not diff <= tol:  # also catches NaN
        raise RuntimeError("%s: max|diff| %.3g > tolerance %.3g" % (desc, diff, tol))
    print("case %2d ok: %-44s outputs %6d  max|diff| %.2e  tol %.2e" % (k, desc, n_out, diff, tol))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nasc")
    ap.add_argument("harness")
    ap.add_argument("--cases", type=int, default=15)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--cc", default=os.environ.get("CC_PROPERTY", "cc"))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    failed = 0
    for k in range(args.cases):
        work = tempfile.mkdtemp(prefix="nasc-prop-")
        try:
            one_case(args, rng, k, work)
            shutil.rmtree(work)
        except RuntimeError as e:
            failed += 1
            print("case %2d FAILED (files kept in %s):\n%s" % (k, work, e))
            for fn in ("genotype.py", "arch.json"):
                p = os.path.join(work, fn)
                if os.path.exists(p):
                    print(open(p).read())
    print("%d of %d cases failed" % (failed, args.cases))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
