"""PyTorch parity of nasc's DARTS search supernet (search/darts_search.c).

    darts_search_torch.py --driver DUMP --out FILE C layers steps multiplier
                          classes H W batch seed

Runs the C driver (darts_search_dump), which writes the nasc supernet's
params, its outputs and gradients to FILE, then rebuilds quark0/darts
cnn/model_search.py's Network here (its modules re-written from their
semantics: MixedOp, Cell, Network and the operations.py ops with
affine=False), loads the same params by state_dict key (strict: every key
of either side must match) and compares:

  count        trainable weights (alphas excluded, as parameters() does)
               and BN buffers: equal
  logits_eval  nasc interpreter and tape, eval mode    \\
  logits_train tape, train mode (batch statistics)      |  max|d| <= RTOL *
  loss         mean cross-entropy                        > max(1, max|ref|)
  after.*      running statistics after the train step  |  per tensor
  grad.*       d loss / d every weight and both alphas  /  (GRAD_RTOL)
  genotypes    darts_derive on 41 alpha sets == genotype() rule here: equal

Controls (each must FAIL the logits rule by 20x, or the test could not
detect a mis-wired mixed op): alphas_normal rows reversed; alphas_normal
and alphas_reduce swapped; a weight of the last cell scaled by 1.5.
Exit 0 pass, 1 fail, 77 skip (no torch).
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("SKIP: torch not available to %s" % sys.executable)
    sys.exit(77)

# Forward: f32 with different summation orders (im2col+sgemm vs torch's
# kernels) through ~10 BN-normalised stages; measured worst is ~1e-6
# relative, so 1e-4 leaves 100x headroom and is still 10x tighter than the
# e2e rule. Gradients: backward through train-mode BN subtracts nearly
# equal terms, so they are compared per tensor against the tensor's own
# largest entry with 1e-3.
RTOL = 1e-4
GRAD_RTOL = 1e-3
CONTROL_FACTOR = 20

PRIMITIVES = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect',
              'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5']


# ------------------------------------------------------ operations.py modules
class ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out, k, stride, pad, affine):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False),
                                nn.Conv2d(c_in, c_out, k, stride, pad, bias=False),
                                nn.BatchNorm2d(c_out, affine=affine))

    def forward(self, x):
        return self.op(x)


class DilConv(nn.Module):
    def __init__(self, c_in, c_out, k, stride, pad, dil, affine):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, k, stride, pad, dilation=dil, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out, affine=affine))

    def forward(self, x):
        return self.op(x)


class SepConv(nn.Module):
    def __init__(self, c_in, c_out, k, stride, pad, affine):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, k, stride, pad, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_in, 1, bias=False),
            nn.BatchNorm2d(c_in, affine=affine),
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, k, 1, pad, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out, affine=affine))

    def forward(self, x):
        return self.op(x)


class Identity(nn.Module):
    def forward(self, x):
        return x


class Zero(nn.Module):
    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        if self.stride == 1:
            return x.mul(0.)
        return x[:, :, ::self.stride, ::self.stride].mul(0.)


class FactorizedReduce(nn.Module):
    def __init__(self, c_in, c_out, affine):
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x):
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


def make_op(name, c, stride):
    """OPS[name](C, stride, affine=False)."""
    if name == 'none':
        return Zero(stride)
    if name == 'max_pool_3x3':
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == 'avg_pool_3x3':
        return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if name == 'skip_connect':
        return Identity() if stride == 1 else FactorizedReduce(c, c, False)
    k = int(name[-1])
    if name.startswith('sep_conv'):
        return SepConv(c, c, k, stride, k // 2, False)
    return DilConv(c, c, k, stride, k - 1, 2, False)


# ------------------------------------------------------ model_search.py
class MixedOp(nn.Module):
    def __init__(self, c, stride):
        super().__init__()
        self._ops = nn.ModuleList()
        for name in PRIMITIVES:
            op = make_op(name, c, stride)
            if 'pool' in name:
                op = nn.Sequential(op, nn.BatchNorm2d(c, affine=False))
            self._ops.append(op)

    def forward(self, x, weights):
        return sum(w * op(x) for w, op in zip(weights, self._ops))


class Cell(nn.Module):
    def __init__(self, steps, multiplier, c_pp, c_p, c, reduction, reduction_prev):
        super().__init__()
        self.reduction = reduction
        if reduction_prev:
            self.preprocess0 = FactorizedReduce(c_pp, c, False)
        else:
            self.preprocess0 = ReLUConvBN(c_pp, c, 1, 1, 0, False)
        self.preprocess1 = ReLUConvBN(c_p, c, 1, 1, 0, False)
        self._steps = steps
        self._multiplier = multiplier
        self._ops = nn.ModuleList()
        for i in range(steps):
            for j in range(2 + i):
                self._ops.append(MixedOp(c, 2 if reduction and j < 2 else 1))

    def forward(self, s0, s1, weights):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        offset = 0
        for _ in range(self._steps):
            s = sum(self._ops[offset + j](h, weights[offset + j]) for j, h in enumerate(states))
            offset += len(states)
            states.append(s)
        return torch.cat(states[-self._multiplier:], dim=1)


class Network(nn.Module):
    def __init__(self, C, classes, layers, steps, multiplier, stem_multiplier=3, in_ch=3):
        super().__init__()
        self._steps = steps
        self._multiplier = multiplier
        c_curr = stem_multiplier * C
        self.stem = nn.Sequential(nn.Conv2d(in_ch, c_curr, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(c_curr))
        c_pp, c_p, c_curr = c_curr, c_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in [layers // 3, 2 * layers // 3]
            if reduction:
                c_curr *= 2
            self.cells.append(Cell(steps, multiplier, c_pp, c_p, c_curr, reduction,
                                   reduction_prev))
            reduction_prev = reduction
            c_pp, c_p = c_p, multiplier * c_curr
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, classes)
        k = sum(2 + i for i in range(steps))
        # Plain tensors, as the reference's Variables: not in parameters().
        self.alphas_normal = torch.zeros(k, len(PRIMITIVES), requires_grad=True)
        self.alphas_reduce = torch.zeros(k, len(PRIMITIVES), requires_grad=True)

    def forward(self, x):
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            alphas = self.alphas_reduce if cell.reduction else self.alphas_normal
            s0, s1 = s1, cell(s0, s1, F.softmax(alphas, dim=-1))
        out = self.global_pooling(s1)
        return self.classifier(out.view(out.size(0), -1))

    def genotype(self, alphas_normal, alphas_reduce):
        """Network.genotype() on given alphas, as the reference's _parse."""
        none = PRIMITIVES.index('none')

        def _parse(weights):
            gene, n, start = [], 2, 0
            for i in range(self._steps):
                end = start + n
                W = weights[start:end].copy()
                edges = sorted(range(i + 2), key=lambda x: -max(
                    W[x][k] for k in range(len(W[x])) if k != none))[:2]
                for j in edges:
                    k_best = None
                    for k in range(len(W[j])):
                        if k != none and (k_best is None or W[j][k] > W[j][k_best]):
                            k_best = k
                    gene.append((PRIMITIVES[k_best], j))
                start = end
                n += 1
            return gene

        concat = list(range(2 + self._steps - self._multiplier, self._steps + 2))
        normal = _parse(F.softmax(alphas_normal, dim=-1).numpy())
        reduce = _parse(F.softmax(alphas_reduce, dim=-1).numpy())
        return "Genotype(normal=%r, normal_concat=%r, reduce=%r, reduce_concat=%r)" % (
            normal, concat, reduce, concat)


# ------------------------------------------------------ helpers
def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    data = raw[8 + hlen:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", name
        b, e = t["data_offsets"]
        out[name] = torch.from_numpy(
            np.frombuffer(data[b:e], dtype="<f4").reshape(t["shape"]).copy())
    return out


class Report:
    def __init__(self):
        self.failed = 0

    def close(self, what, got, ref, rtol, per_tensor=False, detail=True):
        """max|got - ref| <= rtol * scale; scale = max(1, max|ref|), or for
        gradients (per_tensor) the tensor's own max|ref|."""
        diff = (got - ref).abs().max().item() if got.numel() else 0.0
        big = ref.abs().max().item()
        scale = max(big, 1e-30) if per_tensor else max(1.0, big)
        ok = diff <= rtol * scale and bool(torch.isfinite(got).all())
        if detail or not ok:
            print("%-4s %-28s max|diff| %.3e  tol %.3e (max|ref| %.3e)"
                  % ("ok" if ok else "FAIL", what, diff, rtol * scale, ref.abs().max().item()))
        self.failed += not ok
        return diff, rtol * scale

    def check(self, what, cond, text=""):
        print("%-4s %s %s" % ("ok" if cond else "FAIL", what, text))
        self.failed += not cond


def load_model(args, dump):
    model = Network(args.C, args.classes, args.layers, args.steps, args.multiplier)
    params = {k[len("param."):]: v for k, v in dump.items() if k.startswith("param.")}
    state = model.state_dict()
    missing = [k for k in state if k not in params and not k.endswith("num_batches_tracked")]
    extra = [k for k in params if k not in state and not k.startswith("alphas_")]
    if missing or extra:
        print("FAIL state_dict keys: %d missing in nasc %s, %d unexpected %s"
              % (len(missing), missing[:5], len(extra), extra[:5]))
        return None
    for k, v in state.items():
        if k in params:
            if tuple(v.shape) != tuple(params[k].shape):
                print("FAIL %s: torch %s, nasc %s" % (k, tuple(v.shape), tuple(params[k].shape)))
                return None
            state[k] = params[k]
    model.load_state_dict(state, strict=True)
    with torch.no_grad():
        model.alphas_normal.copy_(params["alphas_normal"])
        model.alphas_reduce.copy_(params["alphas_reduce"])
    return model


def eval_logits(model, x, an, ar):
    saved = model.alphas_normal.detach().clone(), model.alphas_reduce.detach().clone()
    with torch.no_grad():
        model.alphas_normal.copy_(an)
        model.alphas_reduce.copy_(ar)
        model.eval()
        y = model(x)
        model.alphas_normal.copy_(saved[0])
        model.alphas_reduce.copy_(saved[1])
    return y


def check_controls(rep, model, dump, x, y_eval):
    """Perturbed torch runs that nasc's logits must NOT match."""
    an, ar = model.alphas_normal.detach(), model.alphas_reduce.detach()
    ctl = {"alphas_normal rows reversed": eval_logits(model, x, an.flip(0), ar),
           "alphas normal<->reduce": eval_logits(model, x, ar, an)}
    w = dict(model.named_parameters())
    name = [k for k in w if k.startswith("cells.%d." % (len(model.cells) - 1))
            and k.endswith("op.1.weight")][0]
    with torch.no_grad():
        w[name].mul_(1.5)
        ctl["1.5 * " + name] = eval_logits(model, x, an, ar)
        w[name].div_(1.5)
    got = dump["logits_eval"]
    tol = RTOL * max(1.0, y_eval.abs().max().item())
    for what, y in ctl.items():
        diff = (got - y).abs().max().item()
        rep.check("control: " + what, diff > CONTROL_FACTOR * tol,
                  "max|diff| %.3e must exceed %d x tol %.3e" % (diff, CONTROL_FACTOR, tol))


def check_genotypes(rep, model, dump, stdout):
    lines = dict(re.findall(r"^derive (\w+): (.*)$", stdout, re.M))
    n = 0
    for key, lit in sorted(lines.items()):
        if key == "parity":
            an, ar = dump["param.alphas_normal"], dump["param.alphas_reduce"]
        else:
            an, ar = dump["derive.%s.normal" % key], dump["derive.%s.reduce" % key]
        want = model.genotype(an, ar)
        if lit != want:
            rep.check("genotype %s" % key, False, "\n  nasc:  %s\n  torch: %s" % (lit, want))
        n += 1
    rep.check("genotypes", n == 41, "%d derivations compared with genotype()" % n)
    print("     parity genotype: %s" % lines.get("parity"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--driver", required=True)
    p.add_argument("--out", required=True)
    for k in ["C", "layers", "steps", "multiplier", "classes", "H", "W", "batch", "seed"]:
        p.add_argument(k, type=int)
    args = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    cmd = [args.driver, args.out] + [str(getattr(args, k)) for k in
                                     ["C", "layers", "steps", "multiplier", "classes", "H",
                                      "W", "batch", "seed"]]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        print("FAIL driver: %s\n%s" % (" ".join(cmd), run.stderr))
        return 1
    dump = read_safetensors(args.out)
    print("config C=%d layers=%d steps=%d multiplier=%d classes=%d %dx%d batch %d"
          % (args.C, args.layers, args.steps, args.multiplier, args.classes, args.H, args.W,
             args.batch))
    model = load_model(args, dump)
    if model is None:
        return 1
    rep = Report()
    n_weights = sum(p.numel() for p in model.parameters())
    n_buffers = sum(b.numel() for k, b in model.named_buffers() if "running_" in k)
    count = dump["count"].tolist()
    rep.check("param count", n_weights == count[0],
              "torch %d, nasc %d (alphas excluded)" % (n_weights, count[0]))
    rep.check("BN buffer count", n_buffers == count[1], "torch %d, nasc %d" % (n_buffers, count[1]))

    x = dump["input"]
    y_eval = eval_logits(model, x, model.alphas_normal.detach(), model.alphas_reduce.detach())
    rep.close("logits eval (interpreter)", dump["logits_eval"], y_eval, RTOL)
    rep.close("logits eval (tape)", dump["tape_eval"], y_eval, RTOL)
    check_controls(rep, model, dump, x, y_eval)

    model.train()
    y_train = model(x)
    loss = F.cross_entropy(y_train, dump["labels"].long())
    loss.backward()
    rep.close("logits train (tape)", dump["logits_train"], y_train.detach(), RTOL)
    rep.close("loss", dump["loss"], loss.detach().reshape(1), RTOL)
    rep.close("grad alphas_normal", dump["grad.alphas_normal"], model.alphas_normal.grad,
              GRAD_RTOL, per_tensor=True)
    rep.close("grad alphas_reduce", dump["grad.alphas_reduce"], model.alphas_reduce.grad,
              GRAD_RTOL, per_tensor=True)
    worst, ngrad = (0.0, ""), 0
    for name, prm in model.named_parameters():
        key = "grad." + name
        if key not in dump:
            rep.check(key, False, "missing from the nasc dump")
            continue
        diff, tol = rep.close(key, dump[key], prm.grad, GRAD_RTOL, per_tensor=True,
                              detail=False)
        worst = max(worst, (diff / tol if tol else 0.0, name))
        ngrad += 1
    print("     %d weight gradients: worst max|diff|/tol %.3f (%s)" % (ngrad, *worst))
    worst, nstat = (0.0, ""), 0
    for name, buf in model.named_buffers():
        if "running_" in name:
            diff, tol = rep.close("after." + name, dump["after." + name], buf, RTOL,
                                  detail=False)
            worst = max(worst, (diff / tol, name))
            nstat += 1
    print("     %d running statistics after the train step: worst max|diff|/tol %.3f (%s)"
          % (nstat, *worst))
    check_genotypes(rep, model, dump, run.stdout)
    print("%s: %d failure(s)" % ("FAIL" if rep.failed else "PASS", rep.failed))
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
