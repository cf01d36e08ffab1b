"""Auto-DeepLab parity: nasc (interpreter and emitted C) against PyTorch.

One invocation = one named case (see CASES / `--list`): build the network
with adl_torch.py, give it calibrated random weights, export them as
safetensors, hand nasc the architecture in the case's input form
(canonical JSON, TF hnasnet description, or --path/--cell .npy files),
run `nasc run` and `nasc compile` + cc + tests/e2e/harness.c, and compare:

    max|diff| <= 1e-3 * max(1, max|y_torch|)

for interpreter vs torch, emitted C vs torch and emitted C vs interpreter.
Also: torch and `nasc inspect` must report the same parameter count, and
the output must depend on the input far beyond the tolerance (else the
test could not fail). `--counts` is the adl_param_counts test. Exit status:
0 pass, 1 fail, 77 skip (torch missing), 2 usage.
"""
import argparse
import copy
import json
import os
import random
import re
import subprocess
import sys
import time

try:
    import numpy as np
    import torch
except ImportError:
    print("SKIP: torch not available")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import adl_torch as at  # noqa: E402
dt = at.dt

RTOL = 1e-3
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2"]
HARNESS = os.path.join(HERE, "..", "e2e", "harness.c")
SIZES = [(65, 65), (97, 97), (64, 64)]
NRANDOM = 20
SKIP_CELL = [[0, "sep_conv_3x3"], [1, "max_pool_3x3"], [2, "skip_connect"],
             [4, "dil_conv_3x3"], [5, "avg_pool_3x3"], [8, "none"], [12, "dil_conv_5x5"],
             [9, "skip_connect"], [14, "max_pool_3x3"], [19, "sep_conv_3x3"]]


# ---------------------------------------------------------------- cases
def random_case(i):
    """Seeded random (path, cell): 3..6 cells (a 1..2-cell DeepLabv3 head
    every fifth case), every op of the table, F 4 or 6."""
    rng = random.Random(1000 + i)
    decoder = i % 5 != 4
    n = rng.randint(3, 6) if decoder else rng.randint(1, 2)
    hw = {NRANDOM - 2: (57, 81), NRANDOM - 1: (81, 49)}.get(i, SIZES[i % len(SIZES)])
    arch = at.make_arch(at.random_path(rng, n), at.random_cell(rng, at.PRIMITIVES),
                        F=rng.choice((4, 4, 6)), classes=rng.randint(2, 6), hw=hw,
                        decoder=decoder, name="random_%d" % i)
    return {"arch": arch}


def abn_random_case(i, hw):
    """A seeded random use_ABN network (F 4, 3..4 cells, decoder)."""
    rng = random.Random(2000 + i)
    arch = at.make_arch(at.random_path(rng, rng.randint(3, 4)),
                        at.random_cell(rng, at.PRIMITIVES), F=4, classes=rng.randint(2, 5),
                        hw=hw, name="abn_random_%d" % i, bn="abn")
    return {"arch": arch, "sharpen": True}


def named_cases():
    tf = at.TF_HNASNET
    tf_arch = at.make_arch(tf["backbone"], at.tf_rows(tf["operations"],
                                                      tf["hiddenstate_indices"]),
                           F=4, classes=5, hw=(65, 65))
    rng = random.Random(7)
    cell = at.random_cell(rng, at.PRIMITIVES)
    return {
        # The TF release's network, given to nasc as the TF description.
        "tf_hnasnet": {"arch": tf_arch, "form": "tf",
                       "flags": ["--F", "4", "--classes", "5", "--input", "65x65"]},
        # The PyTorch port's default arch as the port stores it: .npy files,
        # cell rows uint8 (get_default_cell), path int64.
        "port_default": {"arch": at.make_arch(at.PORT_DEFAULT_PATH, at.PORT_DEFAULT_CELL,
                                              F=4, classes=4, hw=(97, 97)),
                         "form": "npy",
                         "flags": ["--F", "4", "--classes", "4", "--input", "97x97"]},
        "no_decoder": {"arch": at.make_arch([0, 1, 2, 2], cell, F=4, classes=3,
                                            hw=(64, 64), decoder=False)},
        # The file says 6/12/18, the command line 3/5/7.
        "aspp_rates_3_5_7": {"arch": at.make_arch([1, 1, 2, 1], cell, F=4, classes=3,
                                                  hw=(65, 65), rates=(3, 5, 7)),
                             "json_patch": {"aspp_rates": [6, 12, 18]},
                             "flags": ["--aspp-rates", "3,5,7"]},
        # Last map 3x3 (stride 32 of 97): every dilated tap but the centre
        # falls in the padding.
        "large_rates": {"arch": at.make_arch([1, 2, 3, 3], cell, F=4, classes=3,
                                             hw=(97, 97), rates=(4, 9, 40))},
        # F=32: cell 0 (C=64) takes stem1's 64 channels and cell 1 (C=128)
        # stem2's 128 without pre_preprocess, whose weights still load.
        # (A cell of cheap ops keeps the F=32 weights, and cc's time, small.)
        "preprocess_skip": {"arch": at.make_arch([1, 2, 1, 0], SKIP_CELL, F=32, classes=3,
                                                 hw=(33, 33))},
        # Control: a last-cell weight scaled after the torch run; every
        # comparison with torch must then fail.
        "control_mutation": {"arch": at.make_arch([0, 1, 1], cell, F=4, classes=3,
                                                  hw=(65, 65)),
                             "mutate": "encoder.cells.2.preprocess.op.1.weight"},
        # use_ABN (InPlaceABNSync): the port's default arch as .npy files
        # with --bn abn, and two random archs (one odd, non-square input).
        "abn_port_default": {"arch": at.make_arch(at.PORT_DEFAULT_PATH, at.PORT_DEFAULT_CELL,
                                                  F=4, classes=4, hw=(97, 97), bn="abn"),
                             "form": "npy", "sharpen": True,
                             "flags": ["--F", "4", "--classes", "4", "--input", "97x97",
                                       "--bn", "abn"]},
        "abn_random_0": abn_random_case(0, (57, 81)),
        "abn_random_1": abn_random_case(1, (64, 64)),
        # As preprocess_skip: the skipped pre_preprocess's ABN-layout
        # tensors (op.0 conv, op.1 ABN) must still load.
        "abn_preprocess_skip": {"arch": at.make_arch([1, 2, 1, 0], SKIP_CELL, F=32, classes=3,
                                                     hw=(33, 33), bn="abn"),
                                "sharpen": True},
    }


def all_cases():
    cases = named_cases()
    for i in range(NRANDOM):
        cases["random_%d" % i] = random_case(i)
    return cases


def coverage():
    """The random cases must between them use every op, both resampling
    directions, each input size and the no-decoder head."""
    ops, steps, sizes, heads = set(), set(), set(), set()
    for i in range(NRANDOM):
        a = random_case(i)["arch"]
        ops |= {op for _, op in a["cell"]}
        steps |= {b - c for b, c in zip(a["path"][1:], a["path"])}
        sizes.add(tuple(a["input"]))
        heads.add(a["decoder"])
    missing = set(at.PRIMITIVES) - ops
    assert not missing, "random cases never use %s" % sorted(missing)
    assert steps == {-1, 0, 1}, steps
    assert set(SIZES) <= sizes and heads == {True, False}, (sizes, heads)
    # The ABN cases between them meet every use_ABN layout of a cell op:
    # DilConv and atrous (conv first, then ABN) and SepConv (left plain).
    abn_ops = set()
    for name, case in named_cases().items():
        if case["arch"]["bn"] == "abn":
            abn_ops |= {op for _, op in case["arch"]["cell"]}
    need = {"dil_conv_3x3", "dil_conv_5x5", "atrous_3x3", "atrous_5x5", "sep_conv_3x3",
            "sep_conv_5x5"}
    assert need <= abn_ops, "ABN cases never use %s" % sorted(need - abn_ops)
    print("random cases: %d, ops %d/%d, path steps %s, inputs %s"
          % (NRANDOM, len(ops), len(at.PRIMITIVES), sorted(steps), sorted(sizes)))


# ---------------------------------------------------------------- helpers
def run(cmd, timeout=900):
    t = time.time()
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
        out, ok = r.stdout.decode(errors="replace"), r.returncode == 0
        if not ok:
            out += "\n[exit status %d]" % r.returncode
    except subprocess.TimeoutExpired:
        out, ok = "[timed out]", False
    return ok, time.time() - t, out


class Report:
    def __init__(self):
        self.failures = []

    def fail(self, what, detail=""):
        self.failures.append(what)
        print("FAIL: %s" % what)
        if detail:
            print("  " + detail.strip().replace("\n", "\n  "))

    def compare(self, label, y, ref, expect_pass=True):
        diff = float(np.max(np.abs(y - ref)))
        tol = RTOL * max(1.0, float(np.max(np.abs(ref))))
        within = diff <= tol  # NaN compares false
        ok = within == expect_pass
        print("  %-26s max|diff| = %.3e  tol = %.3e  %s%s%s"
              % (label, diff, tol, "ok" if within else "exceeds",
                 "" if expect_pass else "  (expected to exceed)", "" if ok else "  FAIL"))
        if not ok:
            self.failures.append(label)


def read_f32(p, n):
    y = np.fromfile(p, dtype="<f4")
    if y.size != n:
        raise ValueError("%s holds %d floats, expected %d" % (p, y.size, n))
    return y.astype(np.float64)


def write_arch(case, wd):
    """The arch in the case's form; returns nasc's architecture arguments."""
    a, form = case["arch"], case.get("form", "json")
    if form == "json":
        p = os.path.join(wd, "arch.json")
        with open(p, "w") as f:
            json.dump(dict(a, **case.get("json_patch", {})), f, indent=1)
        return [p] + case.get("flags", [])
    if form == "tf":
        p = os.path.join(wd, "hnasnet.py")
        with open(p, "w") as f:
            for k in ("backbone", "operations", "used_hiddenstates", "hiddenstate_indices"):
                f.write("%s = %r\n" % (k, at.TF_HNASNET[k]))
        return [p] + case["flags"]
    pp, pc = os.path.join(wd, "path.npy"), os.path.join(wd, "cell.npy")
    np.save(pp, np.array(a["path"], dtype=np.int64))
    np.save(pc, np.array([[e, at.PRIMITIVES.index(op)] for e, op in a["cell"]],
                         dtype=np.uint8))
    return ["--path", pp, "--cell", pc] + case["flags"]


def inspect_counts(nasc, arch_args):
    """(parameters, MACs) from `nasc inspect`, or None."""
    ok, _, out = run([nasc, "inspect"] + arch_args)
    mp = re.search(r"^parameters\s+(\d+)", out, re.M)
    mm = re.search(r"^MACs\s+(\d+)", out, re.M)
    if not ok or not mp or not mm:
        print(out)
        return None
    return int(mp.group(1)), int(mm.group(1))


def torch_macs(arch):
    """Conv multiply-adds of one forward pass, on the meta device."""
    m = at.AutoDeepLab(arch).eval().to("meta")
    total = [0]

    def hook(mod, inp, out):
        k = mod.kernel_size[0] * mod.kernel_size[1]
        total[0] += out.numel() * (mod.in_channels // mod.groups) * k

    for mod in m.modules():
        if isinstance(mod, torch.nn.Conv2d):
            mod.register_forward_hook(hook)
    with torch.no_grad():
        m(torch.empty(1, 3, *arch["input"], device="meta"))
    return total[0]


# ---------------------------------------------------------------- one case
# Norms whose eps the ABN cases pin down: (conv, norm) module pairs. With
# calibrated statistics (var ~ 1) eps = 1e-5 or 3e-4 moves the output by
# less than the tolerance, so sharpen() scales each conv (weight and bias)
# by S and its norm's running mean by S and var by S^2: the same function
# for eps = 0, but now var ~ 1e-4 and eps matters (ASPP's ABN eps 3e-4
# halves the scale; the decoder's NaiveBN keeps 1e-5).
SHARPEN = [("encoder.stem%d.0" % i, "encoder.stem%d.1" % i) for i in range(3)] + \
    [("aspp.aspp%d" % i, "aspp.aspp%d_bn" % i) for i in range(1, 6)] + \
    [("aspp.conv2", "aspp.bn2"), ("decoder.conv1", "decoder.bn1.op.0")]
SHARPEN_S = 0.01


def sharpen(model):
    mods = dict(model.named_modules())
    with torch.no_grad():
        for conv, bn in SHARPEN:
            if conv not in mods:  # no decoder
                continue
            mods[conv].weight.mul_(SHARPEN_S)
            if mods[conv].bias is not None:
                mods[conv].bias.mul_(SHARPEN_S)
            mods[bn].running_mean.mul_(SHARPEN_S)
            mods[bn].running_var.mul_(SHARPEN_S ** 2)


def make_torch(name, case, wd):
    arch = case["arch"]
    seed = 7919 * (sum(map(ord, name)) + 1)
    torch.manual_seed(seed)
    model = at.build(arch)
    dt.randomize(model, seed, tuple(arch["input"]))
    if case.get("sharpen"):
        sharpen(model)
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(1, 3, *arch["input"], generator=g)
    x_alt = torch.randn(1, 3, *arch["input"], generator=g)
    with torch.no_grad():
        y, y_alt = model(x), model(x_alt)
        y64 = copy.deepcopy(model).double()(x.double())
        shift = None
        if case.get("mutate"):
            model.state_dict()[case["mutate"]].mul_(1.5)
            shift = float((model(x) - y).abs().max())
    dt.export_state(model, os.path.join(wd, "weights.safetensors"))
    x.numpy().astype("<f4").tofile(os.path.join(wd, "in.bin"))
    fp32_err = float((y.double() - y64).abs().max())
    return (model, y.numpy().ravel().astype(np.float64), y_alt.numpy().ravel(),
            y64.numpy().ravel(), fp32_err, shift)


def emitted(nasc, arch_args, wd, ccs, rep, n):
    netc = os.path.join(wd, "net.c")
    ok, sec, log = run([nasc, "compile"] + arch_args + ["--weights",
                       os.path.join(wd, "weights.safetensors"), "--name", "net", "-o", netc])
    print("  nasc compile: %.2fs" % sec)
    if not ok:
        rep.fail("nasc compile", log)
        return {}
    ys = {}
    for cc in ccs:
        tag = os.path.basename(cc)
        exe = os.path.join(wd, "harness-" + re.sub(r"[^\w.+-]", "_", tag))
        ok, sec, log = run([cc] + CFLAGS + ["-I", wd, "-o", exe, HARNESS, netc])
        print("  %s build: %.2fs" % (tag, sec))
        if not ok:
            rep.fail("cc %s net.c" % tag, log)
            continue
        out = os.path.join(wd, "emitc-%s.bin" % tag)
        ok, sec, log = run([exe, os.path.join(wd, "in.bin"), out])
        print("  %s run: %.2fs" % (tag, sec))
        if not ok:
            rep.fail("harness (%s)" % tag, log)
            continue
        ys[tag] = read_f32(out, n)
    return ys


def run_case(a, name, case):
    wd = a.workdir
    os.makedirs(wd, exist_ok=True)
    for f in os.listdir(wd):  # stale outputs must not pass
        if f.endswith((".bin", ".c", ".h", ".safetensors", ".npy")) or f.startswith("harness-"):
            os.remove(os.path.join(wd, f))
    arch, rep = case["arch"], Report()
    print("case %s: path %s F=%d classes=%d input=%dx%d rates %s decoder=%s bn=%s form=%s"
          % (name, arch["path"], arch["F"], arch["classes"], arch["input"][0],
             arch["input"][1], arch["aspp_rates"], arch["decoder"], arch["bn"],
             case.get("form", "json")))
    print("  cell %s" % " ".join("%d:%s" % (e, op) for e, op in arch["cell"]))
    model, y, y_alt, y64, fp32_err, shift = make_torch(name, case, wd)
    tol = RTOL * max(1.0, float(np.max(np.abs(y))))
    sens = float(np.max(np.abs(y - y_alt)))
    nparam = at.count_parameters(model)
    print("  torch: %d params, max|y| = %.4f, input sensitivity %.4f, fp32 vs fp64 %.3e"
          % (nparam, np.max(np.abs(y)), sens, fp32_err))
    if not sens > 20 * tol:
        rep.fail("degenerate oracle: sensitivity %.3e <= 20 * tol" % sens)
    if shift is not None:
        print("  control: %s x1.5 moves torch's output by %.4f" % (case["mutate"], shift))
        if not shift > 20 * tol:
            rep.fail("mutation too weak to be a control")
    arch_args = write_arch(case, wd)
    counts = inspect_counts(a.nasc, arch_args)
    if counts is None:
        rep.fail("nasc inspect")
    else:
        macs = torch_macs(arch)
        print("  nasc inspect: %d params, %d MACs; torch: %d params, %d MACs"
              % (counts[0], counts[1], nparam, macs))
        if counts != (nparam, macs):
            rep.fail("parameter or MAC count differs from torch")
    wflags = ["--weights", os.path.join(wd, "weights.safetensors")]
    out = os.path.join(wd, "interp.bin")
    ok, sec, log = run([a.nasc, "run"] + arch_args + wflags
                       + ["--in", os.path.join(wd, "in.bin"), "--out", out])
    print("  nasc run: %.2fs" % sec)
    yi = None
    if ok:
        yi = read_f32(out, y.size)
    else:
        rep.fail("nasc run", log)
    ys = emitted(a.nasc, arch_args, wd, a.cc, rep, y.size)
    vs_torch = shift is None
    if yi is not None:
        rep.compare("interp vs torch", yi, y, vs_torch)
        # The same rule against torch in float64: nasc's own rounding.
        rep.compare("interp vs torch(f64)", yi, y64, vs_torch)
    for tag, ye in ys.items():
        rep.compare("emitc[%s] vs torch" % tag, ye, y, vs_torch)
        if yi is not None:
            rep.compare("emitc[%s] vs interp" % tag, ye, yi)
    if rep.failures:
        print("FAILED: " + "; ".join(rep.failures))
        return 1
    print("PASS")
    return 0


# ---------------------------------------------------------------- counts
def param_counts(a):
    """adl_param_counts: the TF hnasnet network at F = 20, 32, 48 (19
    classes, 513x513): torch's and nasc inspect's counts must be equal.
    The paper's figures are printed beside them, not asserted."""
    paper = {20: ("10.15M", "333.25B at 1025x2049"), 32: ("21.62M", "460.93B"),
             48: ("44.42M", "695.03B")}
    tf = at.TF_HNASNET
    rows = at.tf_rows(tf["operations"], tf["hiddenstate_indices"])
    os.makedirs(a.workdir, exist_ok=True)
    bad = 0
    for F_ in (20, 32, 48):
        arch = at.make_arch(tf["backbone"], rows, F=F_, classes=19, name="hnasnet_F%d" % F_)
        p = os.path.join(a.workdir, "hnasnet_F%d.json" % F_)
        with open(p, "w") as f:
            json.dump(arch, f)
        nparam, macs = at.count_parameters(at.AutoDeepLab(arch)), torch_macs(arch)
        got = inspect_counts(a.nasc, [p])
        print("F=%d: torch %d params %d MACs; nasc inspect %s; paper %s params, %s MACs"
              % (F_, nparam, macs, "%d params %d MACs" % got if got else "FAILED",
                 paper[F_][0], paper[F_][1]))
        if got != (nparam, macs):
            print("FAIL: F=%d counts differ" % F_)
            bad += 1
    print("FAILED" if bad else "PASS")
    return 1 if bad else 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nasc")
    p.add_argument("--case")
    p.add_argument("--workdir")
    p.add_argument("--cc", action="append", default=[])
    p.add_argument("--list", action="store_true", help="print the case names")
    p.add_argument("--coverage", action="store_true", help="check the random cases' mix")
    p.add_argument("--counts", action="store_true", help="the adl_param_counts test")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    a.cc = a.cc or ["cc"]
    if a.list:
        print("\n".join(all_cases()))
        return 0
    if a.coverage:
        coverage()
        return 0
    if not a.nasc or not a.workdir:
        p.error("--nasc and --workdir are required")
    if a.counts:
        return param_counts(a)
    cases = all_cases()
    if a.case not in cases:
        p.error("unknown case %r (see --list)" % a.case)
    return run_case(a, a.case, cases[a.case])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
