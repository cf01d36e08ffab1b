"""Training parity: nasc's training engine against PyTorch, whole network.

Builds a small DARTS_V2 NetworkCIFAR with tests/e2e/darts_torch.py (the
independent torch model nasc's e2e tests use), gives it seeded weights,
exports them as safetensors, and runs STEPS training steps as quark0/darts
cnn/train.py does (model.train(), cross-entropy, clip_grad_norm_(5), SGD
lr 0.025 momentum 0.9 weight decay 3e-4), each step on its own batch, in
torch and in train_harness (nasc: tape + backward + optim). Compared:
  - each step's loss:  |l_nasc - l_torch| <= LOSS_RTOL * max(1, |l_torch|)
  - every tensor of the final state (weights, BN affine params, running
    statistics): max|w_nasc - w_torch| <= W_RTOL * max|w_torch - w_initial|
    over that tensor, i.e. relative to how far training moved it (a wrong
    gradient moves weights the wrong way by a comparable amount), plus
    1e-6 absolute for float rounding of untouched values.
The same run in float64 torch shows the oracle's own float32 rounding; the
tolerances are stated next to it. --control trains nasc with lr x 1.05
and must fail the comparison (proves it can). Exit 0 pass, 1 fail, 77 torch missing.
"""
import argparse
import os
import subprocess
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError:
    print("SKIP: torch not available")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import darts_torch as dt  # noqa: E402

LOSS_RTOL = 1e-4
W_RTOL = 1e-2
LR, MOMENTUM, WD, CLIP = 0.025, 0.9, 3e-4, 5.0


def train_torch(model, xs, ys, dtype):
    model = model.to(dtype).train()
    opt = torch.optim.SGD(model.parameters(), LR, momentum=MOMENTUM, weight_decay=WD)
    losses = []
    for x, y in zip(xs, ys):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x.to(dtype)), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        losses.append(float(loss))
    return losses, {k: v.detach().double().numpy() for k, v in model.state_dict().items()
                    if not k.endswith("num_batches_tracked")}


def read_nasc(prefix):
    losses = [float(s) for s in open(prefix + ".losses").read().split()]
    flat = np.fromfile(prefix + ".bin", dtype="<f4").astype(np.float64)
    out, off = {}, 0
    for line in open(prefix + ".index"):
        name, n = line.split()
        out[name] = flat[off:off + int(n)]
        off += int(n)
    assert off == flat.size, "index does not cover the data"
    return losses, out


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--harness", required=True)
    p.add_argument("--genotypes", required=True)
    p.add_argument("--genotype", default="DARTS_V2")
    p.add_argument("--workdir", required=True)
    p.add_argument("--C", type=int, default=8)
    p.add_argument("--layers", type=int, default=5)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--control", action="store_true",
                   help="nasc trains with lr * 1.05: the comparison must FAIL")
    p.add_argument("--bench", type=int, default=0,
                   help="time ITERS forward+backward steps in both (no comparison)")
    a = p.parse_args(argv)
    if not os.path.exists(a.genotypes):
        print("SKIP: %s not found" % a.genotypes)
        return 77
    os.makedirs(a.workdir, exist_ok=True)
    torch.set_num_threads(2 if a.bench else 1)
    torch.manual_seed(7)
    geno = dt.load_genotypes(a.genotypes)[a.genotype]
    model = dt.build(geno, "cifar", C=a.C, layers=a.layers, classes=10)
    dt.randomize(model, 7, (32, 32))
    wpath = os.path.join(a.workdir, "weights.safetensors")
    dt.export_state(model, wpath)
    init = {k: v.detach().double().numpy().copy() for k, v in model.state_dict().items()}
    g = torch.Generator().manual_seed(8)
    xs = [torch.randn(a.batch, 3, 32, 32, generator=g) for _ in range(a.steps)]
    ys = [torch.randint(0, 10, (a.batch,), generator=g) for _ in range(a.steps)]
    np.concatenate([x.numpy().ravel() for x in xs]).astype("<f4").tofile(
        os.path.join(a.workdir, "x.bin"))
    np.concatenate([y.numpy() for y in ys]).astype(np.uint8).tofile(
        os.path.join(a.workdir, "labels.u8"))
    args = [a.harness, a.genotypes, a.genotype, str(a.C), str(a.layers), "10", "32",
            str(a.batch), str(a.steps), repr(LR * (1.05 if a.control else 1)), wpath, os.path.join(a.workdir, "x.bin"),
            os.path.join(a.workdir, "labels.u8")]
    if a.bench:
        return bench(a, model, xs, ys, args)
    import copy
    l64, s64 = train_torch(copy.deepcopy(model), xs, ys, torch.float64)
    l32, s32 = train_torch(model, xs, ys, torch.float32)
    prefix = os.path.join(a.workdir, "nasc")
    t = time.time()
    r = subprocess.run(args + [prefix], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    print("train_harness: %.2fs" % (time.time() - t))
    if r.returncode != 0:
        print(r.stdout.decode(errors="replace"))
        print("FAIL: train_harness exited %d" % r.returncode)
        return 1
    ln, sn = read_nasc(prefix)
    fails = []
    print("case: %s cifar C=%d layers=%d batch=%d steps=%d" % (a.genotype, a.C, a.layers,
                                                                a.batch, a.steps))
    for i, (x, y, z) in enumerate(zip(ln, l32, l64)):
        tol = LOSS_RTOL * max(1.0, abs(y))
        ok = abs(x - y) <= tol
        print("  step %d loss: nasc %.7f torch %.7f |diff| %.2e tol %.2e (torch f32-f64 "
              "%.2e) %s" % (i, x, y, abs(x - y), tol, abs(y - z), "ok" if ok else "FAIL"))
        if not ok:
            fails.append("loss %d" % i)
    if sorted(sn) != sorted(s32):
        fails.append("state names differ: %s" % sorted(set(sn) ^ set(s32))[:5])
    worst, worst64, worst_name, moved_min = 0.0, 0.0, "", float("inf")
    for k, want in s32.items():
        if k not in sn:
            continue
        want = want.ravel()
        moved = float(np.max(np.abs(want - init[k].ravel())))
        moved_min = min(moved_min, moved)
        err = float(np.max(np.abs(sn[k] - want)))
        ratio = err / (W_RTOL * moved + 1e-6)
        worst64 = max(worst64, float(np.max(np.abs(s64[k].ravel() - want)))
                      / (W_RTOL * moved + 1e-6))
        if ratio > worst:
            worst, worst_name = ratio, k
        if ratio > 1:
            fails.append(k)
            print("  FAIL %s: max|diff| %.3e, moved %.3e" % (k, err, moved))
    print("  %d tensors; worst max|diff| / (%g * max|moved| + 1e-6) = %.3f at %s; "
          "torch f32 vs f64 on the same measure: %.3f; least-moved tensor moved %.2e"
          % (len(s32), W_RTOL, worst, worst_name, worst64, moved_min))
    if a.control:
        print("control (lr x1.05 in nasc): %s" % ("failed as it must: PASS" if fails
                                                  else "passed: FAIL, the test is blind"))
        return 0 if fails else 1
    if fails:
        print("FAILED: " + ", ".join(fails[:10]))
        return 1
    print("PASS")
    return 0


def bench(a, model, xs, ys, args):
    model.train()
    x, y = xs[0], ys[0]

    def step():
        model.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
    step()
    t = time.time()
    for _ in range(a.bench):
        step()
    print("torch forward+backward: %.1f ms per step (batch %d, %d threads, mean of %d)"
          % ((time.time() - t) / a.bench * 1e3, a.batch, torch.get_num_threads(), a.bench))
    r = subprocess.run(args + ["--bench", str(a.bench)])
    return r.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
