#!/usr/bin/python3
"""torch_grad_conv.py -- PyTorch autograd as the oracle for grad_conv.c.

For each case: random inputs and a random upstream gradient dy (fixed
seed), torch's forward and its autograd gradients, written to --out as raw
little-endian f32 files <case>.<tensor>.bin plus cases.txt, one line per
case (positional integers, see grad_driver.c):
  conv    <case> n c h w oc kh kw sh sw pt pl pb pr dh dw groups bias
  linear  <case> n c k
  bntrain <case> n c hw affine     (eps 1e-5, momentum 0.1, running tracked)
  bneval  <case> n c hw affine
Then runs --driver on the directory; its exit status is ours.
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


class Writer:
    def __init__(self, out):
        self.out = out
        self.lines = []

    def case(self, op, name, ints, tensors):
        for tname, t in tensors.items():
            if t is None:
                continue
            path = os.path.join(self.out, "%s.%s.bin" % (name, tname))
            t.detach().contiguous().to(torch.float32).numpy().astype("<f4").tofile(path)
        self.lines.append(" ".join([op, name] + [str(int(i)) for i in ints]))

    def finish(self):
        with open(os.path.join(self.out, "cases.txt"), "w") as f:
            f.write("\n".join(self.lines) + "\n")


def leaf(*shape):
    return torch.randn(*shape, requires_grad=True)


def conv(w, name, n, c, h, wd, oc, k, stride=(1, 1), pad=(0, 0, 0, 0), dil=(1, 1), groups=1,
         bias=False):
    """k = (kh, kw); pad = (top, left, bottom, right), applied with F.pad."""
    x, wt = leaf(n, c, h, wd), leaf(oc, c // groups, *k)
    b = leaf(oc) if bias else None
    t, l, bt, r = pad
    y = F.conv2d(F.pad(x, (l, r, t, bt)), wt, b, stride=stride, dilation=dil, groups=groups)
    dy = torch.randn_like(y)
    y.backward(dy)
    w.case("conv", name, [n, c, h, wd, oc, k[0], k[1], *stride, *pad, *dil, groups, bias],
           {"x": x, "w": wt, "b": b, "dy": dy, "dx": x.grad, "dw": wt.grad,
            "db": b.grad if bias else None})


def conv_cases(w):
    conv(w, "dense3x3", 4, 8, 12, 11, 6, (3, 3), pad=(1, 1, 1, 1), bias=True)
    conv(w, "dense3x3_s2", 3, 6, 13, 12, 8, (3, 3), stride=(2, 2), pad=(1, 1, 1, 1))
    conv(w, "dense3x3_d2", 2, 6, 9, 10, 4, (3, 3), pad=(2, 2, 2, 2), dil=(2, 2), bias=True)
    conv(w, "aspp_d12_on5x5", 2, 8, 5, 5, 4, (3, 3), pad=(12, 12, 12, 12), dil=(12, 12))
    conv(w, "pw1x1", 4, 16, 8, 8, 12, (1, 1), bias=True)
    conv(w, "pw1x1_g2", 2, 8, 6, 7, 6, (1, 1), groups=2)
    conv(w, "grouped3x3_g4", 2, 8, 7, 7, 8, (3, 3), pad=(1, 1, 1, 1), groups=4, bias=True)
    conv(w, "sep_dw3x3", 4, 16, 12, 12, 16, (3, 3), pad=(1, 1, 1, 1), groups=16)
    conv(w, "sep_dw3x3_s2", 3, 8, 13, 14, 8, (3, 3), stride=(2, 2), pad=(1, 1, 1, 1), groups=8)
    conv(w, "sep_dw5x5", 2, 8, 11, 11, 8, (5, 5), pad=(2, 2, 2, 2), groups=8)
    conv(w, "sep_dw5x5_s2", 2, 8, 11, 12, 8, (5, 5), stride=(2, 2), pad=(2, 2, 2, 2), groups=8)
    conv(w, "dil_dw3x3", 3, 8, 10, 9, 8, (3, 3), pad=(2, 2, 2, 2), dil=(2, 2), groups=8)
    conv(w, "dil_dw5x5_s2", 2, 8, 13, 12, 8, (5, 5), stride=(2, 2), pad=(4, 4, 4, 4),
         dil=(2, 2), groups=8, bias=True)
    conv(w, "dw_mult2", 2, 4, 7, 7, 8, (3, 3), pad=(1, 1, 1, 1), groups=4)
    conv(w, "factorized_reduce_b2", 3, 8, 9, 9, 4, (1, 1), stride=(2, 2), pad=(0, 0, 1, 1))
    conv(w, "asym3x3_s2", 2, 4, 9, 8, 6, (3, 3), stride=(2, 2), pad=(0, 1, 1, 0), bias=True)
    conv(w, "conv1x7", 2, 4, 9, 9, 4, (1, 7), pad=(0, 3, 0, 3))
    conv(w, "conv7x1_s2", 2, 4, 9, 9, 4, (7, 1), stride=(2, 2), pad=(3, 0, 3, 0))


def other_cases(w):
    for name, n, c, k in (("linear_head", 8, 32, 10), ("linear_1", 1, 5, 3)):
        x, wt, b = leaf(n, c), leaf(k, c), leaf(k)
        y = F.linear(x, wt, b)
        dy = torch.randn_like(y)
        y.backward(dy)
        w.case("linear", name, [n, c, k], {"x": x, "w": wt, "b": b, "dy": dy, "dx": x.grad,
                                           "dw": wt.grad, "db": b.grad})
    for name, n, c, hw, affine in (("bn_affine", 4, 6, 25, True), ("bn_plain", 2, 5, 9, False),
                                   ("bn_big", 8, 4, 1024, True)):
        for train in (True, False):
            x = (torch.randn(n, c, hw) * 2 + 3).requires_grad_(True)
            g = (torch.rand(c) + 0.5).requires_grad_(True) if affine else None
            b = torch.randn(c, requires_grad=True) if affine else None
            rm, rv = torch.randn(c), torch.rand(c) + 0.5
            tensors = {"x": x, "gamma": g, "beta": b, "rm": rm.clone(), "rv": rv.clone()}
            y = F.batch_norm(x, rm, rv, g, b, training=train, momentum=0.1, eps=1e-5)
            dy = torch.randn_like(y)
            y.backward(dy)
            tensors.update({"y": y, "rm_after": rm, "rv_after": rv, "dy": dy, "dx": x.grad,
                            "dgamma": g.grad if affine else None,
                            "dbeta": b.grad if affine else None})
            op = "bntrain" if train else "bneval"
            w.case(op, name + "_" + op, [n, c, hw, affine], tensors)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--driver", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(20240607)
    w = Writer(args.out)
    conv_cases(w)
    other_cases(w)
    w.finish()
    return subprocess.call([args.driver, args.out])


if __name__ == "__main__":
    sys.exit(main())
