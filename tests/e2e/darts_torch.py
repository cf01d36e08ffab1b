"""Independent PyTorch model of the DARTS evaluation networks (the oracle).

Written from the semantics of quark0/darts cnn/operations.py and
cnn/model.py, not from nasc's C code, so the two can disagree. Module
attribute names and nesting reproduce the reference exactly, because the
state_dict keys ("cells.3.preprocess0.conv_1.weight", ...) are the weight
names nasc binds to; test_state_dict_names() pins the ones that matter.

Run directly for a self-test: parameter count of DARTS_V2 NetworkCIFAR
(C=36, layers=20) must be 3,349,342 as in the DARTS paper's code.
"""
import ast
import collections
import json
import struct
import sys

try:
    import torch
    import torch.nn as nn
except ImportError:
    if __name__ == "__main__":
        print("SKIP: torch not available")
        sys.exit(77)
    raise

Genotype = collections.namedtuple(
    "Genotype", "normal normal_concat reduce reduce_concat")


# ---------------------------------------------------------------- genotypes
def _eval_field(node, where):
    """A keyword value of Genotype(...): a literal, or range(a, b)."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "range"):
        return list(range(*[ast.literal_eval(a) for a in node.args]))
    try:
        return ast.literal_eval(node)
    except ValueError as e:
        raise ValueError("%s: unsupported genotype field: %s" % (where, e))


def parse_genotypes(text, filename="<genotypes>"):
    """{name: Genotype} for every `NAME = Genotype(...)` and alias `A = B`."""
    out = collections.OrderedDict()
    for stmt in ast.parse(text, filename).body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            continue
        name, val = stmt.targets[0].id, stmt.value
        where = "%s:%d" % (filename, stmt.lineno)
        if isinstance(val, ast.Name):
            out[name] = out[val.id]
        elif isinstance(val, ast.Call) and getattr(val.func, "id", "") == "Genotype":
            kw = {k.arg: _eval_field(k.value, where) for k in val.keywords}
            out[name] = Genotype(**kw)
    return out


def load_genotypes(path):
    with open(path) as f:
        return parse_genotypes(f.read(), path)


def genotype_names(path):
    """Names that are not aliases of an earlier entry."""
    seen, names = set(), []
    for name, g in load_genotypes(path).items():
        if id(g) not in seen:
            seen.add(id(g))
            names.append(name)
    return names


# ---------------------------------------------------------------- operations
class ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out, k, stride, pad):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(c_in, c_out, k, stride=stride, padding=pad, bias=False),
            nn.BatchNorm2d(c_out))

    def forward(self, x):
        return self.op(x)


class DilConv(nn.Module):
    """ReLU, depthwise dilated k x k, pointwise, BN (op.0 .. op.3)."""

    def __init__(self, c_in, c_out, k, stride, pad, dil):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(c_in, c_in, k, stride=stride, padding=pad, dilation=dil,
                      groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out))

    def forward(self, x):
        return self.op(x)


class SepConv(nn.Module):
    """Two DilConv-like stacks (dilation 1), only the first strided: op.0..op.7."""

    def __init__(self, c_in, c_out, k, stride, pad):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(c_in, c_in, k, stride=stride, padding=pad, groups=c_in,
                      bias=False),
            nn.Conv2d(c_in, c_in, 1, bias=False),
            nn.BatchNorm2d(c_in),
            nn.ReLU(),
            nn.Conv2d(c_in, c_in, k, stride=1, padding=pad, groups=c_in,
                      bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out))

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
    """Halves H and W: two 1x1 stride-2 convs, the second shifted by one pixel."""

    def __init__(self, c_in, c_out):
        super().__init__()
        assert c_out % 2 == 0
        self.relu = nn.ReLU()
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        x = self.relu(x)
        y = torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1)
        return self.bn(y)


def _conv_7x1_1x7(c, stride):
    # A bare Sequential in the reference: keys are _ops.k.1 / .2 / .3.
    return nn.Sequential(
        nn.ReLU(),
        nn.Conv2d(c, c, (1, 7), stride=(1, stride), padding=(0, 3), bias=False),
        nn.Conv2d(c, c, (7, 1), stride=(stride, 1), padding=(3, 0), bias=False),
        nn.BatchNorm2d(c))


OPS = {
    "none": lambda c, s: Zero(s),
    "avg_pool_3x3": lambda c, s: nn.AvgPool2d(3, stride=s, padding=1,
                                              count_include_pad=False),
    "max_pool_3x3": lambda c, s: nn.MaxPool2d(3, stride=s, padding=1),
    "skip_connect": lambda c, s: Identity() if s == 1 else FactorizedReduce(c, c),
    "sep_conv_3x3": lambda c, s: SepConv(c, c, 3, s, 1),
    "sep_conv_5x5": lambda c, s: SepConv(c, c, 5, s, 2),
    "sep_conv_7x7": lambda c, s: SepConv(c, c, 7, s, 3),
    "dil_conv_3x3": lambda c, s: DilConv(c, c, 3, s, 2, 2),
    "dil_conv_5x5": lambda c, s: DilConv(c, c, 5, s, 4, 2),
    "conv_7x1_1x7": _conv_7x1_1x7,
}


# ---------------------------------------------------------------- network
class Cell(nn.Module):
    def __init__(self, genotype, c_pp, c_p, c, reduction, reduction_prev):
        super().__init__()
        if reduction_prev:
            self.preprocess0 = FactorizedReduce(c_pp, c)
        else:
            self.preprocess0 = ReLUConvBN(c_pp, c, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(c_p, c, 1, 1, 0)
        edges = genotype.reduce if reduction else genotype.normal
        self._concat = list(genotype.reduce_concat if reduction
                            else genotype.normal_concat)
        self.multiplier = len(self._concat)
        self._indices = [idx for _, idx in edges]
        self._ops = nn.ModuleList(
            OPS[name](c, 2 if reduction and idx < 2 else 1) for name, idx in edges)

    def forward(self, s0, s1):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(len(self._ops) // 2):
            a = self._ops[2 * i](states[self._indices[2 * i]])
            b = self._ops[2 * i + 1](states[self._indices[2 * i + 1]])
            states.append(a + b)
        return torch.cat([states[i] for i in self._concat], dim=1)


class AuxiliaryHeadCIFAR(nn.Module):
    def __init__(self, c, classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(), nn.AvgPool2d(5, stride=3, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
            nn.Conv2d(128, 768, 2, bias=False), nn.BatchNorm2d(768), nn.ReLU())
        self.classifier = nn.Linear(768, classes)


class AuxiliaryHeadImageNet(nn.Module):
    def __init__(self, c, classes):
        super().__init__()
        # The reference omits the BN after the 2x2 conv (a documented typo).
        self.features = nn.Sequential(
            nn.ReLU(), nn.AvgPool2d(5, stride=2, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
            nn.Conv2d(128, 768, 2, bias=False), nn.ReLU())
        self.classifier = nn.Linear(768, classes)


def _build_cells(net, genotype, layers, c_pp, c_p, c, reduction_prev):
    net.cells = nn.ModuleList()
    c_aux = None
    for i in range(layers):
        reduction = i in (layers // 3, 2 * layers // 3)
        if reduction:
            c *= 2
        cell = Cell(genotype, c_pp, c_p, c, reduction, reduction_prev)
        net.cells.append(cell)
        reduction_prev = reduction
        c_pp, c_p = c_p, cell.multiplier * c
        if i == 2 * layers // 3:
            c_aux = c_p
    return c_p, c_aux


class NetworkCIFAR(nn.Module):
    def __init__(self, C, classes, layers, auxiliary, genotype):
        super().__init__()
        c_stem = 3 * C
        self.stem = nn.Sequential(nn.Conv2d(3, c_stem, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(c_stem))
        c_prev, c_aux = _build_cells(self, genotype, layers, c_stem, c_stem, C,
                                     False)
        if auxiliary:
            self.auxiliary_head = AuxiliaryHeadCIFAR(c_aux, classes)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, classes)

    def forward(self, x):
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(self.global_pooling(s1).flatten(1))


class NetworkImageNet(nn.Module):
    def __init__(self, C, classes, layers, auxiliary, genotype):
        super().__init__()
        self.stem0 = nn.Sequential(
            nn.Conv2d(3, C // 2, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C // 2), nn.ReLU(),
            nn.Conv2d(C // 2, C, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C))
        self.stem1 = nn.Sequential(
            nn.ReLU(), nn.Conv2d(C, C, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C))
        c_prev, c_aux = _build_cells(self, genotype, layers, C, C, C, True)
        if auxiliary:
            self.auxiliary_head = AuxiliaryHeadImageNet(c_aux, classes)
        self.global_pooling = nn.AvgPool2d(7)
        self.classifier = nn.Linear(c_prev, classes)

    def forward(self, x):
        s0 = self.stem0(x)
        s1 = self.stem1(s0)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(self.global_pooling(s1).flatten(1))


def build(genotype, net, *, C, layers, classes, auxiliary=False):
    cls = {"cifar": NetworkCIFAR, "imagenet": NetworkImageNet}[net]
    return cls(C, classes, layers, auxiliary, genotype)


def count_parameters(model):
    """As DARTS' utils.count_parameters_in_MB, but in units: no auxiliary."""
    return sum(p.numel() for n, p in model.named_parameters()
               if "auxiliary" not in n)


# ---------------------------------------------------------------- weights
def randomize(model, seed, calib_hw, calib_batch=4):
    """Deterministic random weights that keep activations O(1) for 20 cells.

    Default conv init shrinks the signal by ~6x per ReLU-conv, so BN running
    stats drawn independently of the data (mean +-0.2, var 0.5..2) would make
    a deep net's logits a constant plus ~1e-10 of input signal, and a parity
    test on them could not fail. Instead each BN's stats are measured on a
    random calibration batch as it flows through the eval-mode net (so every
    BN sees its already-perturbed upstream), then perturbed per channel:
    mean += U(+-0.2)*std, var *= 2^U(-1,1). Affine gamma is U(0.5,1.5), beta
    U(+-0.2). The test input is not in the calibration batch. Conv and linear
    weights keep PyTorch's default init under the caller's manual_seed.
    """
    g = torch.Generator().manual_seed(seed)

    def calibrate(bn, inputs):
        x, n = inputs[0], bn.num_features
        mean, var = x.mean((0, 2, 3)), x.var((0, 2, 3)).clamp(min=1e-4)
        bn.running_mean.copy_(mean + (torch.rand(n, generator=g) - 0.5)
                              * 0.4 * var.sqrt())
        bn.running_var.copy_(var * torch.pow(2.0, torch.rand(n, generator=g)
                                             * 2 - 1))
        bn.num_batches_tracked.fill_(seed % 1000 + 1)

    model.eval()
    hooks = []
    with torch.no_grad():
        for bn in model.modules():
            if isinstance(bn, nn.BatchNorm2d):
                n = bn.num_features
                bn.weight.copy_(torch.rand(n, generator=g) + 0.5)
                bn.bias.copy_((torch.rand(n, generator=g) - 0.5) * 0.4)
                hooks.append(bn.register_forward_pre_hook(calibrate))
        h, w = calib_hw
        model(torch.randn(calib_batch, 3, h, w, generator=g))
    for hk in hooks:
        hk.remove()
    return model


def round_to_f16(model):
    """Rounds every float tensor of the state to fp16 and back, in place."""
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.copy_(t.half().float())


# ---------------------------------------------------------------- safetensors
_ST_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64"}


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, tensor). Layout as the safetensors library
    writes it: data sorted by alignment then name, header padded to 8."""
    items = sorted(tensors, key=lambda kv: (-kv[1].element_size(), kv[0]))
    header, blobs, off = {}, [], 0
    for name, t in items:
        raw = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": _ST_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * (-len(hjson) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def export_state(model, path, f16=False, prefix="", nbt=False, drop=None):
    """Writes model.state_dict() with PyTorch names (optionally prefixed,
    optionally with the I64 num_batches_tracked counters, optionally without
    the tensor named `drop`, for negative tests)."""
    out = []
    for name, t in model.state_dict().items():
        if name == drop:
            continue
        if name.endswith("num_batches_tracked"):
            if nbt:
                out.append((prefix + name, t.reshape(())))
            continue
        if f16:
            t = t.half()
        out.append((prefix + name, t))
    write_safetensors(path, out, {"format": "pt"})


def read_safetensors(path):
    """{name: numpy array}; strict about layout, for the writer's self-test."""
    import numpy as np
    np_types = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    header.pop("__metadata__", None)
    data, out, end = blob[8 + n:], {}, 0
    for name, h in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, e = h["data_offsets"]
        assert b == end, "gap or overlap before %s" % name
        arr = np.frombuffer(data[b:e], dtype=np_types[h["dtype"]])
        out[name], end = arr.reshape(h["shape"]), e
    assert end == len(data), "trailing bytes"
    return out


def test_safetensors_roundtrip(genos, path):
    m = build(genos["DARTS_V2"], "cifar", C=8, layers=3, classes=10)
    randomize(m, 5, (32, 32))
    for f16, prefix, nbt in [(False, "", False), (True, "module.", True)]:
        export_state(m, path, f16=f16, prefix=prefix, nbt=nbt)
        got = read_safetensors(path)
        sd = {prefix + k: v for k, v in m.state_dict().items()
              if nbt or not k.endswith("num_batches_tracked")}
        assert sorted(got) == sorted(sd), "key set differs"
        for k, v in sd.items():
            want = v.half().numpy() if f16 and v.is_floating_point() else v.numpy()
            assert got[k].dtype == want.dtype and (got[k] == want).all(), k


# ---------------------------------------------------------------- self-test
def _expect(keys, name, shape):
    if name not in keys:
        raise AssertionError("missing state_dict key %s" % name)
    if shape is not None and list(keys[name].shape) != shape:
        raise AssertionError("%s: shape %s, want %s"
                             % (name, list(keys[name].shape), shape))


def test_state_dict_names(genos):
    """Spot-checks key names/shapes derived by hand from the reference."""
    sd = build(genos["DARTS_V2"], "cifar", C=16, layers=8, classes=10,
               auxiliary=True).state_dict()
    for name, shape in [
            ("stem.0.weight", [48, 3, 3, 3]), ("stem.1.running_var", [48]),
            ("cells.0.preprocess0.op.1.weight", [16, 48, 1, 1]),
            ("cells.0.preprocess0.op.2.weight", [16]),
            ("cells.0._ops.0.op.1.weight", [16, 1, 3, 3]),
            ("cells.0._ops.0.op.2.weight", [16, 16, 1, 1]),
            ("cells.0._ops.0.op.3.running_mean", [16]),
            ("cells.0._ops.0.op.5.weight", [16, 1, 3, 3]),
            ("cells.0._ops.0.op.7.bias", [16]),
            ("cells.0._ops.7.op.1.weight", [16, 1, 3, 3]),  # dil_conv_3x3
            ("cells.0._ops.7.op.3.weight", [16]),
            ("cells.2.preprocess1.op.1.weight", [32, 64, 1, 1]),
            ("cells.3.preprocess0.conv_1.weight", [16, 64, 1, 1]),
            ("cells.3.preprocess0.conv_2.weight", [16, 64, 1, 1]),
            ("cells.3.preprocess0.bn.running_var", [32]),
            ("auxiliary_head.features.2.weight", [128, 256, 1, 1]),
            ("auxiliary_head.features.6.running_var", [768]),
            ("classifier.weight", [10, 256]), ("classifier.bias", [10])]:
        _expect(sd, name, shape)
    if any(k.startswith(("cells.0._ops.5.", "cells.0._ops.6.")) for k in sd):
        raise AssertionError("skip_connect stride 1 must have no weights")
    sd = build(genos["AmoebaNet"], "imagenet", C=8, layers=3, classes=1000,
               auxiliary=True).state_dict()
    for name, shape in [
            ("stem0.0.weight", [4, 3, 3, 3]), ("stem0.4.running_mean", [8]),
            ("stem1.1.weight", [8, 8, 3, 3]),
            ("cells.0.preprocess0.conv_1.weight", [4, 8, 1, 1]),
            ("cells.1._ops.8.1.weight", [16, 16, 1, 7]),  # conv_7x1_1x7
            ("cells.1._ops.8.2.weight", [16, 16, 7, 1]),
            ("cells.1._ops.8.3.running_var", [16]),
            ("cells.1._ops.4.op.1.weight", [16, 1, 7, 7]),
            ("auxiliary_head.features.5.weight", [768, 128, 2, 2])]:
        _expect(sd, name, shape)
    if "auxiliary_head.features.6.weight" in sd:
        raise AssertionError("ImageNet aux head has no BN after its 2x2 conv")
    red = Genotype([("skip_connect", 0), ("none", 1)], [2],
                   [("skip_connect", 0), ("none", 1)], [2])
    sd = build(red, "cifar", C=8, layers=3, classes=10).state_dict()
    _expect(sd, "cells.1._ops.0.conv_2.weight", [8, 16, 1, 1])
    _expect(sd, "cells.1._ops.0.bn.weight", [16])


def test_parse():
    g = parse_genotypes("# c\nX = Genotype(normal=[('skip_connect', 0), "
                        "('none', 1)], normal_concat=range(2, 3), reduce=[("
                        "'max_pool_3x3', 1), ('avg_pool_3x3', 0)], "
                        "reduce_concat=[2])\nY = X\n")
    assert g["Y"] is g["X"] and g["X"].normal_concat == [2], g
    assert g["X"].reduce[0] == ("max_pool_3x3", 1), g


def main(argv):
    path = argv[1] if len(argv) > 1 else "../shared/design/genotypes/darts.txt"
    test_parse()
    genos = load_genotypes(path)
    test_state_dict_names(genos)
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        test_safetensors_roundtrip(genos, tmp + "/w.safetensors")
    for name in genotype_names(path):
        for net, hw, C, layers, classes in [("cifar", 32, 8, 5, 10),
                                            ("imagenet", 224, 8, 4, 1000)]:
            m = build(genos[name], net, C=C, layers=layers,
                      classes=classes).eval()
            with torch.no_grad():
                y = m(torch.zeros(1, 3, hw, hw))
            assert list(y.shape) == [1, classes], (name, net, y.shape)
    n = count_parameters(build(genos["DARTS_V2"], "cifar", C=36, layers=20,
                               classes=10, auxiliary=True))
    print("DARTS_V2 NetworkCIFAR C=36 layers=20: %d parameters" % n)
    if n != 3349342:
        print("FAIL: expected 3349342 parameters")
        return 1
    print("PASS: state_dict names, safetensors round trip, forward shapes, "
          "parameter count")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
