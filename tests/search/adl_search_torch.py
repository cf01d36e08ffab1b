#!/usr/bin/python3
"""PyTorch parity of nasc's Auto-DeepLab search supernet (search/adl_search.c).

Runs adl_search_dump (the C side), then rebuilds the search model of
NoamRosenberg/autodeeplab (auto_deeplab.py AutoDeeplab, cell_level_search.py
Cell/MixedOp, operations.py) in plain torch, written here from those files'
semantics, loads nasc's params by name (every name must match a state_dict
key of this model and the other way round: the names are the reference's)
and compares logits in eval and train mode, d loss / d (alphas, betas,
weights) in both modes, running statistics after the train forward, and the
decoder (normalised betas, Viterbi path, cell rows, per decoding_formulas.py).
Eval-mode gradients may differ by what max-pool near ties explain: float32
may pick either input of a window whose top two are within rounding, and
that pick routes the gradient (RoutedMaxPool, tie_allowance).

Usage: adl_search_torch.py --driver EXE --out FILE layers F classes H W batch seed
Exit 0 pass, 1 fail, 77 skip (no torch).
"""
import argparse
import json
import struct
import subprocess
import sys

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(77)

PRIMITIVES = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
              "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"]


# Max-pool windows whose two largest inputs differ by less than TIE of the
# map's largest |x| are near ties: float32 rounding (~1e-6 of the map at
# that depth) may pick either, and the pick routes the whole gradient.
TIE = 1e-6


class RoutedMaxPool(nn.MaxPool2d):
    """nn.MaxPool2d(3, 1, 1) that can record its near-tie windows (ties:
    (call, flat output index, flat input index of the runner-up); a Cell
    runs its ops once per input) and route the gradient of the ties listed
    in flip to their runner-up. run_torch resets calls."""

    def __init__(self):
        super().__init__(3, 1, 1)
        self.record, self.ties, self.flip, self.calls = False, [], (), 0

    def forward(self, x):
        y, idx = F.max_pool2d(x, 3, 1, 1, return_indices=True)
        call, self.calls = self.calls, self.calls + 1
        if self.record:
            self.ties += [(call, out, alt) for out, alt in near_ties(x, idx)]
        moved = [self.ties[i][1:] for i in self.flip if self.ties[i][0] == call]
        if not moved:
            return y
        idx = idx.flatten().clone()
        for out, alt in moved:
            idx[out] = alt
        n, c, h, w = x.shape
        return x.reshape(n, c, h * w).gather(2, idx.view(n, c, h * w)).view_as(y)


def near_ties(x, idx):
    """(flat output index, flat input index of the runner-up) per window of a
    3x3 stride-1 pad-1 max pool of x whose top two differ by less than
    TIE * max|x|, but not by 0."""
    n, c, h, w = x.shape
    cols = F.unfold(F.pad(x, (1, 1, 1, 1), value=float("-inf")).reshape(n * c, 1, h + 2, w + 2),
                    3).reshape(n * c, 9, h * w)
    top, at = cols.topk(2, dim=1)
    gap = (top[:, 0] - top[:, 1]) / x.abs().max()
    ties = []
    # gap 0 is structural (a map upsampled from 1x1 is constant): float32
    # computes the same values and picks the same first maximum
    for plane, pos in ((gap > 0) & (gap < TIE)).nonzero().tolist():
        oh, ow = divmod(pos, w)
        cand = [(oh - 1 + k // 3) * w + ow - 1 + k % 3 for k in at[plane, :, pos].tolist()]
        out = plane * h * w + pos
        ties.append((out, cand[1] if cand[0] == idx.flatten()[out].item() else cand[0]))
    return ties


# ---- operations.py, affine=False as MixedOp builds them ----
class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.)


class Identity(nn.Module):
    def forward(self, x):
        return x


def sep_conv(c, k, pad):
    return nn.Sequential(
        nn.ReLU(), nn.Conv2d(c, c, k, 1, pad, groups=c, bias=False),
        nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=False),
        nn.ReLU(), nn.Conv2d(c, c, k, 1, pad, groups=c, bias=False),
        nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=False))


def dil_conv(c, k, pad, dil):
    return nn.Sequential(
        nn.ReLU(), nn.Conv2d(c, c, k, 1, pad, dilation=dil, groups=c, bias=False),
        nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=False))


class Wrap(nn.Module):  # a module whose layers sit under ".op"
    def __init__(self, seq):
        super().__init__()
        self.op = seq

    def forward(self, x):
        return self.op(x)


def relu_conv_bn(cin, cout):
    return Wrap(nn.Sequential(nn.ReLU(), nn.Conv2d(cin, cout, 1, bias=False),
                              nn.BatchNorm2d(cout, affine=False)))


class MixedOp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self._ops = nn.ModuleList([
            Zero(),
            nn.Sequential(RoutedMaxPool(), nn.BatchNorm2d(c, affine=False)),
            nn.Sequential(nn.AvgPool2d(3, 1, 1, count_include_pad=False),
                          nn.BatchNorm2d(c, affine=False)),
            Identity(),
            Wrap(sep_conv(c, 3, 1)), Wrap(sep_conv(c, 5, 2)),
            Wrap(dil_conv(c, 3, 2, 2)), Wrap(dil_conv(c, 5, 4, 2))])

    def forward(self, x, weights):
        return sum(w * op(x) for w, op in zip(weights, self._ops))


def scale_dimension(d, s):
    return int((float(d) - 1.0) * s + 1.0) if d % 2 else int(d * s)


class Cell(nn.Module):
    """cell_level_search.Cell: one DAG run per present input (down, same, up)."""

    def __init__(self, steps, mult, pp_ch, down_ch, same_ch, up_ch, c):
        super().__init__()
        self.c, self.steps, self.mult = c, steps, mult
        if down_ch is not None:
            self.preprocess_down = relu_conv_bn(down_ch, c)
        if same_ch is not None:
            self.preprocess_same = relu_conv_bn(same_ch, c)
        if up_ch is not None:
            self.preprocess_up = relu_conv_bn(up_ch, c)
        if pp_ch is not None:
            self.pre_preprocess = relu_conv_bn(pp_ch, c)
        ops = []
        for i in range(steps):
            for j in range(2 + i):
                ops.append(None if pp_ch is None and j == 0 else MixedOp(c))
        self._ops = nn.ModuleList(ops)

    def forward(self, s0, down, same, up, alphas):
        ins = []
        if down is not None:
            h, w = scale_dimension(down.shape[2], 0.5), scale_dimension(down.shape[3], 0.5)
            down = F.interpolate(down, (h, w), mode='bilinear', align_corners=True)
            ins.append(self.preprocess_down(down))
        if same is not None:
            ins.append(self.preprocess_same(same))
        if up is not None:
            h, w = scale_dimension(up.shape[2], 2), scale_dimension(up.shape[3], 2)
            up = F.interpolate(up, (h, w), mode='bilinear', align_corners=True)
            ins.append(self.preprocess_up(up))
        size = ins[-1].shape[2:]
        if s0 is not None:
            if s0.shape[2:] != size:
                s0 = F.interpolate(s0, size, mode='bilinear', align_corners=True)
            if s0.shape[1] != self.c:
                s0 = self.pre_preprocess(s0)
        outs = []
        for s1 in ins:
            states = [s0 if s0 is not None else 0, s1]
            offset = 0
            for i in range(self.steps):
                new = [self._ops[offset + j](h, alphas[offset + j])
                       for j, h in enumerate(states) if self._ops[offset + j] is not None]
                offset += len(states)
                states.append(sum(new))
            outs.append(torch.cat(states[-self.mult:], dim=1))
        return outs


class ASPP(nn.Module):
    def __init__(self, c, classes, rate):
        super().__init__()
        self.conv11 = nn.Sequential(nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))
        self.conv33 = nn.Sequential(nn.Conv2d(c, c, 3, padding=rate, dilation=rate,
                                              bias=False), nn.BatchNorm2d(c))
        self.conv_p = nn.Sequential(nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c),
                                    nn.ReLU())
        self.concate_conv = nn.Conv2d(3 * c, c, 1, bias=False)
        self.concate_bn = nn.BatchNorm2d(c, 0.0003)  # eps = 3e-4: the reference's quirk
        self.final_conv = nn.Conv2d(c, classes, 1, bias=False)

    def forward(self, x):
        pool = F.avg_pool2d(x, x.shape[2:])
        pool = F.interpolate(self.conv_p(pool), x.shape[2:], mode='bilinear',
                             align_corners=True)
        cat = torch.cat([self.conv11(x), self.conv33(x), pool], dim=1)
        return self.final_conv(self.concate_bn(self.concate_conv(cat)))


class AutoDeeplab(nn.Module):
    def __init__(self, classes, layers, fm, bm=5, steps=5, in_ch=3, aspp_rate=24):
        super().__init__()
        self.layers, self.steps = layers, steps
        half = fm // 2
        self.stem0 = nn.Sequential(nn.Conv2d(in_ch, half * bm, 3, 2, 1),
                                   nn.BatchNorm2d(half * bm), nn.ReLU())
        self.stem1 = nn.Sequential(nn.Conv2d(half * bm, half * bm, 3, 1, 1),
                                   nn.BatchNorm2d(half * bm), nn.ReLU())
        self.stem2 = nn.Sequential(nn.Conv2d(half * bm, fm * bm, 3, 2, 1),
                                   nn.BatchNorm2d(fm * bm), nn.ReLU())
        cells = []
        for layer in range(layers):
            for lvl in range(min(layer + 2, 4)):
                c = fm << lvl
                pp = bm * c if layer >= lvl + 1 else None
                down = bm * (c // 2) if lvl >= 1 else None
                same = bm * c if layer >= lvl else None
                up = bm * 2 * c if lvl <= 2 and layer >= lvl + 1 else None
                cells.append(Cell(steps, bm, pp, down, same, up, c))
        self.cells = nn.ModuleList(cells)
        for lvl in range(4):
            setattr(self, f"aspp_{4 << lvl}",
                    nn.Sequential(ASPP(bm * (fm << lvl), classes, max(aspp_rate >> lvl, 1))))
        k = sum(2 + i for i in range(steps))
        self.alphas = nn.Parameter(torch.zeros(k, 8))
        self.betas = nn.Parameter(torch.zeros(layers, 4, 3))

    def normalised_betas(self):
        nb = torch.zeros(self.layers, 4, 3, dtype=self.betas.dtype)
        for layer in range(self.layers):
            for src in range(min(layer + 1, 4)):
                if src == 0:
                    nb[layer][0][1:] = F.softmax(self.betas[layer][0][1:], dim=-1) * (2 / 3)
                elif src == 3:
                    nb[layer][3][:2] = F.softmax(self.betas[layer][3][:2], dim=-1) * (2 / 3)
                else:
                    nb[layer][src] = F.softmax(self.betas[layer][src], dim=-1)
        return nb

    def forward(self, x):
        h = self.stem1(self.stem0(x))
        prev = [self.stem2(h), None, None, None]
        pp = [None] * 4
        alphas = F.softmax(self.alphas, dim=-1)
        nb = self.normalised_betas()
        count = 0
        for layer in range(self.layers):
            cur = [None] * 4
            for lvl in range(min(layer + 2, 4)):
                down = prev[lvl - 1] if lvl >= 1 else None
                up = prev[lvl + 1] if lvl <= 2 else None
                outs = self.cells[count](pp[lvl], down, prev[lvl], up, alphas)
                count += 1
                srcs = [s for s, t in ((lvl - 1, down), (lvl, prev[lvl]), (lvl + 1, up))
                        if t is not None]
                cur[lvl] = sum(nb[layer][s][lvl - s + 1] * o for s, o in zip(srcs, outs))
            pp, prev = prev, cur
        out = 0
        for lvl in range(4):
            y = getattr(self, f"aspp_{4 << lvl}")(prev[lvl])
            out = out + F.interpolate(y, x.shape[2:], mode='bilinear', align_corners=True)
        return out


# ---- decoding_formulas.py ----
def viterbi(space):
    layers = space.shape[0]
    prob = np.zeros((layers, 4))
    back = np.zeros((layers, 4), dtype=np.int64)
    prob[0][0], prob[0][1] = space[0][0][1], space[0][0][2]
    for layer in range(1, layers):
        for sample in range(4):
            if layer - sample < -1:
                continue
            local, srcs = [], []
            for rate in range(3):
                if (sample == 0 and rate == 2) or (sample == 3 and rate == 0):
                    continue
                src = sample + 1 - rate
                local.append(prob[layer - 1][src] * space[layer][src][rate])
                srcs.append(src)
            prob[layer][sample] = np.max(local)
            back[layer][sample] = srcs[int(np.argmax(local))]
    path = [int(prob[-1].argmax())]
    for layer in range(layers - 1, 0, -1):
        path.insert(0, int(back[layer][path[0]]))
    return path


def genotype(alphas, steps):
    a = F.softmax(alphas, dim=-1).numpy()
    gene, start = [], 0
    for i in range(steps):
        end = start + 2 + i
        edges = sorted(range(start, end), key=lambda x: -np.max(a[x, 1:]))
        for j in edges[:2]:
            gene.append([j, int(np.argmax(a[j]))])
        start = end
    return gene


# ---- files ----
def read_st(path):
    raw = open(path, "rb").read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    data = raw[8 + hlen:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        out[name] = torch.from_numpy(
            np.frombuffer(data[b:e], dtype="<f4").reshape(t["shape"]).copy())
    return out


def load(model, dump):
    sd = model.state_dict()
    betas = torch.zeros_like(model.betas)
    seen, bad = set(), []
    for key, val in dump.items():
        if not key.startswith("param."):
            continue
        name = key[len("param."):]
        if name.startswith("betas."):
            _, layer, src = name.split(".")
            lo = 1 if src == "0" else 0
            betas[int(layer)][int(src)][lo:lo + val.numel()] = val
            continue
        if name not in sd or sd[name].shape != val.shape:
            bad.append(f"{name} {tuple(val.shape)}: not in the model or shaped "
                       f"{tuple(sd[name].shape) if name in sd else '-'}")
            continue
        sd[name] = val
        seen.add(name)
    missing = [k for k in sd if k not in seen and k not in ("betas",)
               and not k.endswith("num_batches_tracked")]
    for m in missing:
        bad.append(f"{m}: in the model but not in nasc's params")
    sd["betas"] = betas
    model.load_state_dict(sd)
    return bad


def rel_err(got, want, floor=1e-30):
    """max |got - want| over the tensor's largest |want| (at least floor)."""
    scale = max(want.abs().max().item(), floor)
    return (got - want).abs().max().item() / scale


def gather_betas(dump, prefix, like):
    out = torch.zeros_like(like)
    for key, val in dump.items():
        if key.startswith(prefix + "betas."):
            _, layer, src = key[len(prefix):].split(".")
            lo = 1 if src == "0" else 0
            out[int(layer)][int(src)][lo:lo + val.numel()] = val
    return out


def run_torch(model, x, dout, train):
    """logits and d sum(logits * dout) / d params, in the model's dtype."""
    model.train(train)
    model.zero_grad()
    for pool in model.modules():
        if isinstance(pool, RoutedMaxPool):
            pool.calls = 0
    y = model(x)
    (y * dout).sum().backward()
    # clone: zero_grad() of torch 1.13 zeroes p.grad in place
    grads = {n: p.grad.double().clone() for n, p in model.named_parameters()
             if p.grad is not None}
    return y.detach().double(), grads


def tie_allowance(model, x, dout, grads):
    """Per gradient element, the sum over the near-tie windows recorded by
    the last forward of |gradient change| when that one window routes to its
    runner-up instead: what float32's picks at near ties can explain."""
    pools = [m for m in model.modules() if isinstance(m, RoutedMaxPool)]
    allow = {n: torch.zeros_like(g) for n, g in grads.items()}
    for pool in pools:
        pool.record = False
    for pool in pools:
        for i in range(len(pool.ties)):
            pool.flip = (i,)
            _, g = run_torch(model, x, dout, False)
            pool.flip = ()
            for n in allow:
                allow[n] += (g[n] - grads[n]).abs()
    return allow, sum(len(p.ties) for p in pools)


def excess_err(got, want, allow, floor=1e-30):
    """rel_err of got once each element's allowance is taken off."""
    scale = max(want.abs().max().item(), floor)
    return ((got - want).abs() - allow).clamp(min=0).max().item() / scale


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("cfg", nargs=7, type=int)
    ap.add_argument("--aspp-rate", type=int, default=24)  # nasc search adl --aspp-rate
    args = ap.parse_args()
    layers, fm, classes, h, w, batch, seed = args.cfg
    subprocess.run([args.driver, args.out] + [str(v) for v in args.cfg] +
                   [str(args.aspp_rate)], check=True)
    dump = read_st(args.out)
    torch.set_num_threads(1)  # ctest runs tests in parallel on 2 cores
    # The truth is torch in float64. A float32 copy of the same model says how
    # well the case is conditioned: train-mode BN over few samples (the 2x2
    # level 3 and the 1x1 ASPP image pool) amplifies any float32 rounding.
    models = {}
    for dt in (torch.float64, torch.float32):
        models[dt] = AutoDeeplab(classes, layers, fm, aspp_rate=args.aspp_rate).to(dt)
        bad = load(models[dt], {k: v.to(dt) for k, v in dump.items()})
    failures = len(bad)
    for b in bad[:20]:
        print("name mismatch:", b)

    def check(what, err, tol):
        nonlocal failures
        failures += not err <= tol
        print(f"{'ok  ' if err <= tol else 'FAIL'} {what}: max rel error {err:.2e} "
              f"(tol {tol:.1e})")

    # Tolerances. Eval mode is well conditioned: nasc (float32) vs float64
    # must be within 1e-4 (logits; ~25 stacked convs/BNs give ~1e-6) and 1e-3
    # (gradients), while any structural error (a wrong weight, level, edge or
    # direction) moves logits by >1e-2 with scale-1 arch params. Train mode:
    # the same bounds, or 4x torch-float32's own error on the case if that
    # is larger: nasc must be as accurate as float32 torch, not more.
    # Eval-mode gradients may also differ by what float32's picks at
    # max-pool near ties explain (tie_allowance; train mode's 4x-float32
    # bounds already cover them).
    pools = [m for m in models[torch.float64].modules() if isinstance(m, RoutedMaxPool)]
    for train, tag in ((False, "eval"), (True, "train")):
        x, dout = dump["input"], dump["dout"]
        for pool in pools:
            pool.record, pool.ties = not train, []
        y64, g64 = run_torch(models[torch.float64], x.double(), dout.double(), train)
        allow, nties = {n: torch.zeros_like(g) for n, g in g64.items()}, 0
        if not train:
            allow, nties = tie_allowance(models[torch.float64], x.double(), dout.double(), g64)
            most = max(a.max().item() / max(g64[n].abs().max().item(), 1e-30)
                       for n, a in allow.items())
            print(f"     eval: {nties} max-pool near ties (gap < {TIE:g} of the map); "
                  f"allowance up to {most:.2e} of a tensor's largest gradient")
        y32, g32 = run_torch(models[torch.float32], x, dout, train)
        slack = 4 if train else 0
        got_betas = gather_betas(dump, f"grad_{tag}.", g64["betas"])
        check(f"{tag} logits", rel_err(dump[f"logits_{tag}"].double(), y64),
              max(1e-4, slack * rel_err(y32, y64)))
        for what, got, name in (("d/d alphas", dump[f"grad_{tag}.alphas"].double(), "alphas"),
                                ("d/d betas", got_betas, "betas")):
            check(f"{tag} {what}", excess_err(got, g64[name], allow[name]),
                  max(1e-3, slack * rel_err(g32[name], g64[name])))
        # weights: relative to the largest gradient of all, per mille, so that
        # gradients that are 0 in exact arithmetic (a BN bias followed by
        # train-mode BN) compare as the noise they are
        floor = 1e-3 * max(v.abs().max().item() for v in g64.values())
        worst, worst32, name_w = 0.0, 0.0, ""
        for name, want in g64.items():
            key = f"grad_{tag}.{name}"
            if name in ("alphas", "betas") or key not in dump:
                continue
            err = excess_err(dump[key].double(), want, allow[name], floor)
            worst32 = max(worst32, rel_err(g32[name], want, floor))
            if err > worst:
                worst, name_w = err, name
        check(f"{tag} d/d weights (worst {name_w})", worst, max(1e-3, slack * worst32))
    # running statistics after the train forward (three updates for the
    # shared BNs of a cell's MixedOps): relative, but at least absolute 1e-4
    # since the means of normalised inputs are 0 up to rounding
    sd = models[torch.float64].state_dict()
    worst = max(rel_err(v.double(), sd[k[len("after."):]], 1.0)
                for k, v in dump.items() if k.startswith("after."))
    check("running statistics after train", worst, 1e-4)

    space = models[torch.float64].normalised_betas().detach()
    check("normalised betas", rel_err(dump["space"].double().reshape(layers, 4, 3), space), 1e-6)
    ref_path = viterbi(space.float().numpy())
    got_path = [int(v) for v in dump["path"].tolist()]
    ref_cell = genotype(models[torch.float32].alphas.detach(), 5)
    got_cell = dump["cell"].reshape(10, 2).int().tolist()
    for what, got, want in (("viterbi path", got_path, ref_path), ("cell", got_cell, ref_cell)):
        ok = got == want
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {got}" + ("" if ok else f" want {want}"))
    print("FAILED" if failures else "PASSED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
