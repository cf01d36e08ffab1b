"""End-to-end parity: nasc (interpreter and emitted C) against PyTorch.

One invocation = one case: build the network with darts_torch.py, give it
seeded random weights, export them as safetensors, run `nasc run` and
`nasc compile` + cc + harness.c, and compare every output with torch:

    max|diff| <= 1e-3 * max(1, max|y_ref|)

The emitted C is also compared with the interpreter under the same rule.
Figures are printed per comparison so they can be quoted. Exit status:
0 pass, 1 fail, 77 skip (torch missing), 2 usage.
"""
import argparse
import copy
import os
import re
import subprocess
import sys
import time
import zlib

try:
    import numpy as np
    import torch
except ImportError:
    print("SKIP: torch not available")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import darts_torch as dt  # noqa: E402

RTOL = 1e-3
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2"]
SANFLAGS = ["-O1", "-g", "-fno-omit-frame-pointer",
            "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
ALLOWED_INCLUDES = {"<stddef.h>", "<stdint.h>", "<string.h>"}
HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nasc", help="nasc binary; without it only torch runs")
    p.add_argument("--genotypes", required=True)
    p.add_argument("--genotype", required=True)
    p.add_argument("--nasc-genotype", help="name given to nasc (alias test)")
    p.add_argument("--net", choices=["cifar", "imagenet"], default="cifar")
    p.add_argument("--C", type=int, default=8)
    p.add_argument("--layers", type=int, default=5)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--input", default="32x32", help="HxW")
    p.add_argument("--workdir", required=True)
    p.add_argument("--cc", action="append", default=[],
                   help="C compiler for the emitted code (repeatable)")
    p.add_argument("--sanitize", action="store_true",
                   help="build the harness with ASan+UBSan (needs gcc/clang)")
    p.add_argument("--f16", action="store_true", help="export F16 weights")
    p.add_argument("--prefix", default="", help='key prefix, e.g. "module."')
    p.add_argument("--nbt", action="store_true",
                   help="export the I64 num_batches_tracked counters")
    p.add_argument("--aux", action="store_true",
                   help="build and export the auxiliary head's weights")
    p.add_argument("--nasc-arg", action="append", default=[],
                   help="extra argument for nasc run/compile (repeatable)")
    p.add_argument("--drop", metavar="TENSOR",
                   help="negative case: omit TENSOR; nasc must fail naming "
                        "it and leave no output files")
    p.add_argument("--mutate", metavar="TENSOR",
                   help="control case: scale TENSOR by 1.5 after the torch "
                        "run; every comparison with torch must then FAIL")
    p.add_argument("--seed", type=int)
    a = p.parse_args(argv)
    m = re.fullmatch(r"(\d+)x(\d+)", a.input)
    if not m:
        p.error("--input must be HxW")
    a.hw = (int(m.group(1)), int(m.group(2)))
    if a.seed is None:
        key = "%s/%s/%d/%d" % (a.genotype, a.net, a.C, a.layers)
        a.seed = zlib.crc32(key.encode()) & 0x7FFFFFFF
    a.cc = a.cc or ["cc"]
    return a


# ---------------------------------------------------------------- oracle
def make_case(a):
    """Builds, randomises and exports; returns (input, y_torch, y_alt)."""
    torch.set_num_threads(1)
    geno = dt.load_genotypes(a.genotypes)[a.genotype]
    torch.manual_seed(a.seed)
    model = dt.build(geno, a.net, C=a.C, layers=a.layers, classes=a.classes,
                     auxiliary=a.aux)
    dt.randomize(model, a.seed, a.hw)
    if a.f16:
        dt.round_to_f16(model)  # the oracle runs what the file holds
    g = torch.Generator().manual_seed(a.seed + 1)
    x = torch.randn(1, 3, a.hw[0], a.hw[1], generator=g)
    x_alt = torch.randn(1, 3, a.hw[0], a.hw[1], generator=g)
    with torch.no_grad():
        y, y_alt = model(x), model(x_alt)
        # fp32 rounding of the oracle itself, to read the figures against.
        y64 = copy.deepcopy(model).double()(x.double())
        a.fp32_error = float((y.double() - y64).abs().max())
        if a.mutate:
            model.state_dict()[a.mutate].mul_(1.5)
            a.mutated_shift = float((model(x) - y).abs().max())
    dt.export_state(model, path(a, "weights.safetensors"), f16=a.f16,
                    prefix=a.prefix, nbt=a.nbt, drop=a.drop)
    x.numpy().astype("<f4").tofile(path(a, "in.bin"))
    y.numpy().astype("<f4").tofile(path(a, "torch.bin"))
    return x, y.numpy().ravel(), y_alt.numpy().ravel(), model


def path(a, name):
    return os.path.join(a.workdir, name)


# ---------------------------------------------------------------- nasc side
def run(cmd, env=None):
    """Runs cmd; returns (ok, seconds, combined output)."""
    t = time.time()
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=env, timeout=900)
        out, ok = r.stdout.decode(errors="replace"), r.returncode == 0
        if not ok:
            out += "\n[exit status %d]" % r.returncode
    except subprocess.TimeoutExpired:
        out, ok = "[timed out]", False
    return ok, time.time() - t, out


def net_flags(a, genotype_name):
    return [a.genotypes, "--genotype", genotype_name, "--net", a.net,
            "--C", str(a.C), "--layers", str(a.layers), "--classes",
            str(a.classes), "--input", a.input, "--weights",
            path(a, "weights.safetensors")] + a.nasc_arg


def read_f32(p, n):
    y = np.fromfile(p, dtype="<f4")
    if y.size != n:
        raise ValueError("%s holds %d floats, expected %d" % (p, y.size, n))
    return y.astype(np.float64)


class Report:
    def __init__(self):
        self.failures = []

    def fail(self, what, detail=""):
        self.failures.append(what)
        print("FAIL: %s" % what)
        if detail:
            print("  " + detail.strip().replace("\n", "\n  "))

    def compare(self, label, y, ref, expect_pass=True):
        diff = float(np.max(np.abs(y - ref))) if y.size else float("nan")
        tol = RTOL * max(1.0, float(np.max(np.abs(ref))))
        within = diff <= tol  # NaN compares false
        ok = within == expect_pass
        verdict = ("ok" if within else "exceeds") + ("" if ok else "  FAIL")
        if not expect_pass:
            verdict += "  (expected to exceed)"
        print("  %-28s max|diff| = %.3e  tol = %.3e  %s"
              % (label, diff, tol, verdict))
        if not ok:
            self.failures.append(label)
        return ok


def check_includes(rep, files):
    for f in files:
        with open(f) as fh:
            for n, line in enumerate(fh, 1):
                m = re.match(r'\s*#\s*include\s*([<"][^>"]+[>"])', line)
                if m and m.group(1) not in ALLOWED_INCLUDES \
                        and not m.group(1).startswith('"'):
                    rep.fail("%s:%d includes %s (allowed: %s)"
                             % (f, n, m.group(1), sorted(ALLOWED_INCLUDES)))


def interp(a, rep, nout):
    out = path(a, "interp.bin")
    ok, sec, log = run([a.nasc, "run"] + net_flags(a, a.nasc_name)
                       + ["--in", path(a, "in.bin"), "--out", out])
    print("  nasc run: %.2fs" % sec)
    if not ok:
        rep.fail("nasc run", log)
        return None
    return read_f32(out, nout)


def emitted(a, rep, nout):
    """nasc compile once, then one harness per compiler; {label: y}."""
    netc = path(a, "net.c")
    ok, sec, log = run([a.nasc, "compile"] + net_flags(a, a.nasc_name)
                       + ["--name", "net", "-o", netc])
    print("  nasc compile: %.2fs" % sec)
    if not ok:
        rep.fail("nasc compile", log)
        return {}
    check_includes(rep, [netc, path(a, "net.h")])
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    ys = {}
    for cc in a.cc:
        tag = os.path.basename(cc) + ("+asan+ubsan" if a.sanitize else "")
        exe = path(a, "harness-" + re.sub(r"[^\w.+-]", "_", tag))
        flags = CFLAGS + (SANFLAGS if a.sanitize else [])
        ok, sec, log = run([cc] + flags + ["-I", a.workdir, "-o", exe,
                                           os.path.join(HERE, "harness.c"), netc])
        print("  %s build: %.2fs" % (tag, sec))
        if not ok:
            rep.fail("cc %s net.c" % tag, log)
            continue
        out = path(a, "emitc-%s.bin" % os.path.basename(exe))
        ok, sec, log = run([exe, path(a, "in.bin"), out], env=env)
        print("  %s run: %.2fs" % (tag, sec))
        if not ok:
            rep.fail("harness (%s)" % tag, log)
            continue
        ys[tag] = read_f32(out, nout)
    return ys


def negative(a, rep):
    """--drop: both verbs must fail, name the tensor, and write nothing."""
    outs = {"run": path(a, "interp.bin"), "compile": path(a, "net.c")}
    for verb, extra in [("run", ["--in", path(a, "in.bin"), "--out", outs["run"]]),
                        ("compile", ["--name", "net", "-o", outs["compile"]])]:
        ok, _, log = run([a.nasc, verb] + net_flags(a, a.nasc_name) + extra)
        print("  nasc %s without %s:\n    %s" % (verb, a.drop,
                                                 log.strip().replace("\n", "\n    ")))
        if ok:
            rep.fail("nasc %s accepted weights lacking %s" % (verb, a.drop))
        elif a.drop not in log:
            rep.fail("nasc %s error does not name %s" % (verb, a.drop))
        for f in [outs[verb]] + ([path(a, "net.h")] if verb == "compile" else []):
            if os.path.exists(f):
                rep.fail("nasc %s left a partial output %s" % (verb, f))


def main(argv):
    a = parse_args(argv)
    a.nasc_name = a.nasc_genotype or a.genotype
    os.makedirs(a.workdir, exist_ok=True)
    for f in os.listdir(a.workdir):  # stale outputs must not pass
        if f.endswith((".bin", ".c", ".h", ".safetensors")) or f.startswith("harness-"):
            os.remove(path(a, f))
    rep = Report()
    print("case: %s (%s) net=%s C=%d layers=%d classes=%d input=%s seed=%d "
          "weights=%s prefix=%r num_batches_tracked=%s aux=%s"
          % (a.genotype, a.nasc_name, a.net, a.C, a.layers, a.classes, a.input,
             a.seed, "F16" if a.f16 else "F32", a.prefix, a.nbt, a.aux))
    x, y, y_alt, model = make_case(a)
    tol = RTOL * max(1.0, float(np.max(np.abs(y))))
    sens = float(np.max(np.abs(y - y_alt)))
    print("  torch: %d params, max|y| = %.4f, input sensitivity max|y(x)-y(x')| "
          "= %.4f" % (dt.count_parameters(model), np.max(np.abs(y)), sens))
    print("  torch fp32 vs fp64: max|diff| = %.3e (the oracle's own rounding)"
          % a.fp32_error)
    # An oracle whose output barely depends on the input would let a broken
    # compiler pass; demand the input move the logits far beyond tolerance.
    if not sens > 20 * tol:
        rep.fail("degenerate oracle: sensitivity %.3e <= 20 * tol" % sens)
    if a.mutate:
        print("  control: %s x1.5 in the file moves torch's output by %.4f"
              % (a.mutate, a.mutated_shift))
        if not a.mutated_shift > 20 * tol:
            rep.fail("mutation too weak to be a control")
    if a.nasc:
        if a.drop:
            negative(a, rep)
        else:
            yi = interp(a, rep, y.size)
            ys = emitted(a, rep, y.size)
            vs_torch = not a.mutate
            if yi is not None:
                rep.compare("interp vs torch", yi, y, vs_torch)
            for tag, ye in ys.items():
                rep.compare("emitc[%s] vs torch" % tag, ye, y, vs_torch)
                if yi is not None:
                    rep.compare("emitc[%s] vs interp" % tag, ye, yi)
    else:
        print("  (no --nasc: torch side only)")
    if rep.failures:
        print("FAILED: " + "; ".join(rep.failures))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
