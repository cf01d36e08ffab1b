#!/usr/bin/python3
"""torch_ops.py -- PyTorch as the oracle for the runtime kernels.

Generates random inputs (fixed seed) for a list of op cases, computes the
outputs with torch.nn.functional, and writes everything to --out as raw
little-endian f32 files <case>.<tensor>.bin plus cases.txt, one line per
case:  <op> <case> key=v[,v...] ...  (see op_driver.c for the keys). Then
runs --driver on the directory; its exit status is ours.

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
    print("SKIP: torch not available")
    sys.exit(77)


def ints(v):
    return ",".join(str(int(i)) for i in v)


class Writer:
    def __init__(self, out):
        self.out = out
        self.lines = []

    def case(self, op, name, tensors, **keys):
        for tname, t in tensors.items():
            path = os.path.join(self.out, "%s.%s.bin" % (name, tname))
            t.detach().contiguous().to(torch.float32).numpy().astype("<f4").tofile(path)
        parts = [op, name] + ["%s=%s" % (k, v) for k, v in keys.items()]
        self.lines.append(" ".join(parts))

    def finish(self):
        with open(os.path.join(self.out, "cases.txt"), "w") as f:
            f.write("\n".join(self.lines) + "\n")


def conv(w, name, n, c, h, wd, oc, kh, kw, stride=(1, 1), pad=(0, 0, 0, 0), dil=(1, 1),
         groups=1, bias=True):
    """pad = (top, left, bottom, right); symmetric pads use conv2d's own padding."""
    x = torch.randn(n, c, h, wd)
    wt = torch.randn(oc, c // groups, kh, kw)
    b = torch.randn(oc) if bias else None
    t, l, bt, r = pad
    if t == bt and l == r:
        y = F.conv2d(x, wt, b, stride=stride, padding=(t, l), dilation=dil, groups=groups)
    else:
        y = F.conv2d(F.pad(x, (l, r, t, bt)), wt, b, stride=stride, dilation=dil, groups=groups)
    tensors = {"x": x, "w": wt, "y": y}
    if bias:
        tensors["b"] = b
    w.case("conv2d", name, tensors, x=ints(x.shape), w=ints(wt.shape), bias=int(bias),
           stride=ints(stride), pad=ints(pad), dilation=ints(dil), groups=groups)


def conv_cases(w):
    conv(w, "stem3x3", 2, 3, 32, 32, 16, 3, 3, pad=(1, 1, 1, 1), bias=False)
    conv(w, "imagenet_stem_s2", 1, 3, 33, 31, 8, 3, 3, stride=(2, 2), pad=(1, 1, 1, 1))
    conv(w, "pw1x1", 2, 12, 7, 9, 10, 1, 1, bias=False)
    conv(w, "pw1x1_bias_groups2", 2, 12, 5, 5, 8, 1, 1, groups=2)
    conv(w, "factorized_reduce", 2, 8, 15, 15, 4, 1, 1, stride=(2, 2), bias=False)
    conv(w, "sep_dw3x3", 2, 16, 16, 16, 16, 3, 3, pad=(1, 1, 1, 1), groups=16, bias=False)
    conv(w, "sep_dw3x3_s2", 2, 16, 15, 17, 16, 3, 3, stride=(2, 2), pad=(1, 1, 1, 1),
         groups=16, bias=False)
    conv(w, "sep_dw5x5", 1, 8, 11, 11, 8, 5, 5, pad=(2, 2, 2, 2), groups=8, bias=False)
    conv(w, "dil_dw3x3", 2, 8, 13, 13, 8, 3, 3, pad=(2, 2, 2, 2), dil=(2, 2), groups=8,
         bias=False)
    conv(w, "dil_dw5x5_s2", 2, 8, 13, 12, 8, 5, 5, stride=(2, 2), pad=(4, 4, 4, 4), dil=(2, 2),
         groups=8, bias=False)
    conv(w, "conv1x7", 1, 6, 9, 9, 6, 1, 7, pad=(0, 3, 0, 3), bias=False)
    conv(w, "conv7x1_s2", 1, 6, 9, 9, 6, 7, 1, stride=(2, 2), pad=(3, 0, 3, 0), bias=False)
    conv(w, "groups2_dil2", 2, 6, 10, 11, 4, 3, 3, pad=(2, 2, 2, 2), dil=(2, 2), groups=2)
    conv(w, "groups3_s2", 2, 9, 9, 9, 6, 3, 3, stride=(2, 2), pad=(1, 1, 1, 1), groups=3)
    conv(w, "asym_pad", 2, 4, 7, 8, 5, 3, 3, stride=(2, 1), pad=(0, 1, 2, 0))
    conv(w, "asym_pad_dw", 2, 5, 8, 7, 5, 3, 3, stride=(1, 2), pad=(1, 0, 0, 1), groups=5)
    conv(w, "dw_multiplier2", 2, 4, 6, 6, 8, 3, 3, pad=(1, 1, 1, 1), groups=4)
    # Auto-DeepLab ASPP: dilation 18 on a 5x5 map, so every tap but the
    # centre falls wholly in the padding.
    conv(w, "aspp_dil18_on_5x5", 2, 6, 5, 5, 4, 3, 3, pad=(18, 18, 18, 18), dil=(18, 18))
    conv(w, "aspp_dw_dil18_on_5x5", 1, 4, 5, 5, 4, 3, 3, pad=(18, 18, 18, 18), dil=(18, 18),
         groups=4, bias=False)


def pool_cases(w):
    def pool(name, n, c, h, wd, k, s, pad, cip):
        x = torch.randn(n, c, h, wd)
        t, l, bt, r = pad
        sym = t == bt and l == r
        if sym:
            ymax = F.max_pool2d(x, k, s, padding=(t, l))
        else:
            ymax = F.max_pool2d(F.pad(x, (l, r, t, bt), value=float("-inf")), k, s)
        keys = dict(x=ints(x.shape), kernel=ints(k), stride=ints(s), pad=ints(pad))
        w.case("maxpool2d", name + "_max", {"x": x, "y": ymax}, **keys)
        if sym:  # torch's avg_pool2d has no asymmetric padding
            yavg = F.avg_pool2d(x, k, s, padding=(t, l), count_include_pad=bool(cip))
            w.case("avgpool2d", name + "_avg", {"x": x, "y": yavg}, cip=cip, **keys)

    pool("darts3x3", 2, 8, 16, 16, (3, 3), (1, 1), (1, 1, 1, 1), 0)
    pool("darts3x3_s2", 2, 8, 15, 17, (3, 3), (2, 2), (1, 1, 1, 1), 0)
    pool("darts3x3_s2_cip", 2, 8, 15, 17, (3, 3), (2, 2), (1, 1, 1, 1), 1)
    pool("imagenet_head5x5_s3", 2, 4, 14, 14, (5, 5), (3, 3), (0, 0, 0, 0), 0)
    pool("rect", 1, 3, 9, 10, (3, 2), (2, 1), (1, 0, 1, 0), 0)
    pool("asym", 2, 3, 8, 9, (3, 3), (2, 2), (0, 1, 1, 0), 0)
    x = torch.randn(2, 7, 8, 6)
    w.case("gavgpool", "gap", {"x": x, "y": F.adaptive_avg_pool2d(x, 1)}, x=ints(x.shape))
    x = torch.randn(2, 5, 56, 56)
    w.case("gavgpool", "gap_large", {"x": x, "y": F.adaptive_avg_pool2d(x, 1)},
           x=ints(x.shape))


def other_cases(w):
    for affine in (0, 1):
        x = torch.randn(2, 6, 5, 7)
        mean, var = torch.randn(6), torch.rand(6) * 2 + 0.01
        gamma, beta = torch.randn(6), torch.randn(6)
        y = F.batch_norm(x, mean, var, gamma if affine else None, beta if affine else None,
                         training=False, eps=1e-3)
        t = {"x": x, "mean": mean, "var": var, "y": y}
        if affine:
            t.update(gamma=gamma, beta=beta)
        w.case("batchnorm", "bn_affine%d" % affine, t, x=ints(x.shape), affine=affine,
               eps="1e-3")
    for bias in (0, 1):
        x, wt, b = torch.randn(3, 37), torch.randn(10, 37), torch.randn(10)
        y = F.linear(x, wt, b if bias else None)
        t = {"x": x, "w": wt, "y": y}
        if bias:
            t["b"] = b
        w.case("linear", "linear_bias%d" % bias, t, x=ints(x.shape), w=ints(wt.shape),
               bias=bias)
    x = torch.randn(2, 3, 5, 5)
    w.case("relu", "relu", {"x": x, "y": F.relu(x)}, x=ints(x.shape))
    # InPlaceABN's activation (slope 0.01) and other slopes; exact zeros
    # and negative zeros in x, whose sign torch keeps.
    x = torch.randn(2, 3, 5, 5)
    x[0, 0, 0, :3] = torch.tensor([0.0, -0.0, -1e-30])
    for slope in ("0.01", "0.2", "-0.5", "0"):
        w.case("leaky_relu", "leaky_relu_%s" % slope.replace("-", "m"),
               {"x": x, "y": F.leaky_relu(x, float(slope))}, x=ints(x.shape), slope=slope)
    a, b = torch.randn(2, 3, 5, 5), torch.randn(2, 3, 5, 5)
    w.case("add", "add", {"a": a, "b": b, "y": a + b}, x=ints(a.shape))
    xs = [torch.randn(2, c, 4, 5) for c in (3, 1, 4)]
    t = {"x%d" % i: xi for i, xi in enumerate(xs)}
    t["y"] = torch.cat(xs, dim=1)
    w.case("concat", "concat_batch2", t, x=ints((2, 4, 5)), cs=ints((3, 1, 4)))
    x = torch.randn(2, 3, 7, 6)
    w.case("crop", "crop11", {"x": x, "y": x[:, :, 1:, 1:]}, x=ints(x.shape), top=1, left=1)
    w.case("crop", "crop20", {"x": x, "y": x[:, :, 2:, 0:]}, x=ints(x.shape), top=2, left=0)
    for s in (1, 2):
        x = torch.randn(2, 3, 7, 8)
        w.case("zero", "zero_s%d" % s, {"x": x, "y": x[:, :, ::s, ::s].mul(0.0)},
               x=ints(x.shape), stride=s)


def resize_cases(w):
    """F.interpolate(mode='bilinear', size=...) up, down, odd and non-integer
    scales, from 1x1 (a broadcast, ASPP image pooling), both align_corners."""
    sizes = [((65, 65), (33, 33)), ((17, 17), (9, 9)), ((5, 5), (3, 3)), ((3, 5), (5, 3)),
             ((1, 1), (17, 17)), ((7, 7), (13, 13)), ((8, 8), (16, 16)), ((16, 16), (8, 8)),
             ((9, 6), (9, 6)), ((1, 4), (3, 1)), ((6, 9), (1, 1)), ((13, 11), (29, 31))]
    for (h, wd), (oh, ow) in sizes:
        for ac in (0, 1):
            x = torch.randn(2, 3, h, wd) * 4
            y = F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=bool(ac))
            w.case("resize_bilinear", "resize_%dx%d_to_%dx%d_ac%d" % (h, wd, oh, ow, ac),
                   {"x": x, "y": y}, x=ints(x.shape), size=ints((oh, ow)), ac=ac)
    # torch's per-axis weights, exactly: resizing the rows of eye(n) (as
    # [n,1,1,n] -> [n,1,1,m]) gives y[i, o] = weight of input i in output o.
    for n, m in [(65, 33), (17, 9), (5, 3), (3, 5), (1, 17), (7, 13), (8, 16), (16, 8),
                 (11, 31), (33, 65), (9, 9), (2, 1), (257, 129)]:
        for ac in (0, 1):
            x = torch.eye(n).reshape(n, 1, 1, n)
            y = F.interpolate(x, size=(1, m), mode="bilinear", align_corners=bool(ac))
            w.case("resize_taps", "taps_%d_to_%d_ac%d" % (n, m, ac), {"y": y.reshape(n, m)},
                   n=n, m=m, ac=ac)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--driver", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(20240521)
    w = Writer(args.out)
    conv_cases(w)
    pool_cases(w)
    other_cases(w)
    resize_cases(w)
    w.finish()
    return subprocess.call([args.driver, args.out])


if __name__ == "__main__":
    sys.exit(main())
