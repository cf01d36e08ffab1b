#!/usr/bin/python3
"""torch_ce.py -- PyTorch as the oracle for the grad_misc.c backward kernels.

Writes, for a fixed seed, inputs and torch's results to --out, then runs
--driver (grad_torch_driver) on the directory; its exit status is ours.
  cases.txt          one line per case:  <op> <case> key=v[,v...] ...
  <case>.<t>.bin     raw little-endian tensors: f32, or f64 for the CE
                     loss and gradient (torch computes those in float64
                     from the float32 logits), u8 for labels.
Cases:
  ce       F.cross_entropy(ignore_index=255, reduction='mean'): loss and
           d loss / d logits.
  resize   the gradient of F.interpolate(bilinear, size, align_corners)
           w.r.t. its input for a given output gradient dy.
  avgpool  likewise for F.avg_pool2d (both count_include_pad).
  maxpool  likewise for F.max_pool2d (inputs are randn: no ties).
Exit 77 (ctest skip) when torch cannot be imported.
"""
import argparse
import os
import subprocess
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("SKIP: torch not importable by %s" % sys.executable)
    sys.exit(77)


def ints(v):
    return ",".join(str(int(i)) for i in v)


class Writer:
    def __init__(self, out):
        self.out = out
        self.lines = []

    def case(self, op, name, tensors, **keys):
        for tname, (t, dtype) in tensors.items():
            path = os.path.join(self.out, "%s.%s.bin" % (name, tname))
            t.detach().contiguous().numpy().astype(dtype).tofile(path)
        self.lines.append(" ".join([op, name] + ["%s=%s" % kv for kv in keys.items()]))

    def finish(self):
        with open(os.path.join(self.out, "cases.txt"), "w") as f:
            f.write("\n".join(self.lines) + "\n")


def ce_cases(w):
    for name, shape, scale, ignore_frac in [("ce_small", (2, 5, 7, 9), 3.0, 0.2),
                                            ("ce_blocks", (2, 19, 9, 11), 2.0, 0.3),
                                            ("ce_large_logits", (2, 4, 3, 5), 50.0, 0.2),
                                            ("ce_no_ignore", (3, 6, 4, 4), 1.0, 0.0)]:
        n, c, h, wd = shape
        logits = (torch.randn(shape) * scale).float()
        labels = torch.randint(0, c, (n, h, wd))
        labels[torch.rand(n, h, wd) < ignore_frac] = 255
        x = logits.double().requires_grad_()
        loss = F.cross_entropy(x, labels, ignore_index=255, reduction="mean")
        (grad,) = torch.autograd.grad(loss, x)
        w.case("ce", name, {"logits": (logits, "<f4"), "labels": (labels, "u1"),
                            "loss": (loss.reshape(1), "<f8"), "grad": (grad, "<f8")},
               x=ints(shape))


def grad_of(fn, x, dy):
    x = x.clone().requires_grad_()
    (dx,) = torch.autograd.grad(fn(x), x, dy)
    return dx


def resize_cases(w):
    # ctl=1: the other align_corners mode gives a different gradient
    for (h, wd), (oh, ow), ctl in [((5, 7), (9, 12), 1), ((17, 13), (9, 7), 1),
                                   ((1, 1), (5, 4), 0), ((8, 8), (16, 16), 1),
                                   ((65, 65), (33, 33), 1), ((3, 4), (1, 1), 1)]:
        for ac in (0, 1):
            x = torch.randn(2, 3, h, wd)
            dy = torch.randn(2, 3, oh, ow)
            dx = grad_of(lambda t: F.interpolate(t, size=(oh, ow), mode="bilinear",
                                                 align_corners=bool(ac)), x, dy)
            w.case("resize", "resize_%dx%d_to_%dx%d_ac%d" % (h, wd, oh, ow, ac),
                   {"dy": (dy, "<f4"), "dx": (dx, "<f4")}, x=ints((6, h, wd)),
                   size=ints((oh, ow)), ac=ac, ctl=ctl)


def pool_cases(w):
    # ctl=1: padding makes the other divisor mode differ
    for name, shape, k, s, p, ctl in [("darts3x3", (2, 4, 8, 8), 3, 1, 1, 1),
                                      ("darts3x3_s2", (2, 4, 15, 17), 3, 2, 1, 1),
                                      ("head5x5_s3", (2, 3, 14, 14), 5, 3, 0, 0),
                                      ("rect", (1, 3, 9, 10), (3, 2), (2, 1), (1, 0), 1)]:
        k2, s2, p2 = [v if isinstance(v, tuple) else (v, v) for v in (k, s, p)]
        x = torch.randn(shape)
        keys = dict(x=ints(shape), kernel=ints(k2), stride=ints(s2),
                    pad=ints((p2[0], p2[1], p2[0], p2[1])))
        for cip in (0, 1):
            dy = torch.randn_like(F.avg_pool2d(x, k2, s2, p2))
            dx = grad_of(lambda t: F.avg_pool2d(t, k2, s2, p2, count_include_pad=bool(cip)),
                         x, dy)
            w.case("avgpool", "%s_avg_cip%d" % (name, cip), {"dy": (dy, "<f4"),
                                                            "dx": (dx, "<f4")},
                   cip=cip, ctl=ctl, **keys)
        dy = torch.randn_like(F.max_pool2d(x, k2, s2, p2))
        dx = grad_of(lambda t: F.max_pool2d(t, k2, s2, p2), x, dy)
        w.case("maxpool", name + "_max", {"x": (x, "<f4"), "dy": (dy, "<f4"),
                                          "dx": (dx, "<f4")}, **keys)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--driver", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(20240607)
    w = Writer(args.out)
    ce_cases(w)
    resize_cases(w)
    pool_cases(w)
    w.finish()
    return subprocess.call([args.driver, args.out])


if __name__ == "__main__":
    sys.exit(main())
