"""Independent PyTorch model of the Auto-DeepLab retrain network (the oracle).

Written from docs/autodeeplab.md and the semantics of NoamRosenberg/
autodeeplab (retrain_model/new_model.py, aspp.py, decoder.py,
build_autodeeplab.py, operations.py), not from nasc's C code. Module
attribute names and nesting reproduce Retrain_Autodeeplab's, so the
state_dict keys ("encoder.cells.0._ops.3.op.1.weight", "aspp.aspp1.weight",
"decoder.last_conv.6.bias", ...) are the names nasc binds. Eval mode, plain
BatchNorm+ReLU (use_ABN off) or, for "bn": "abn", the port's use_ABN network
(InPlaceABNSync = BatchNorm then leaky ReLU 0.01 in the stems, ASPP,
ReLUConvBN and DilConv; SepConv and the decoder keep BN+ReLU, as the port's
OPS table and Retrain_Autodeeplab build them), with the doc's decisions
where it departs from the port:
  - row k's op (module _ops.k) is applied to row k's edge (the port walks
    edges in ascending order instead);
  - the decoder reads the ASPP output and cell 2's real channel count;
  - atrous_3x3 / atrous_5x5: ReLU, dense k x k conv with rate 2, BN;
  - without the decoder, aspp.conv3 (1x1, bias) maps ASPP to the classes.

An architecture is the canonical JSON object of docs/autodeeplab.md (a
dict). Run directly for a self-test (names, shapes, forward shapes, the
edge binding and the pre_preprocess skip rule); `--counts` prints the
parameter counts of the TF hnasnet network for F = 20, 32, 48.
"""
import os
import random
import sys

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    if __name__ == "__main__":
        print("SKIP: torch not available")
        sys.exit(77)
    raise

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
# operations.py is the same file in DARTS and Auto-DeepLab for the modules
# used here (ReLUConvBN, SepConv, DilConv, Identity, Zero): reuse the DARTS
# oracle's classes, its BN calibration and its safetensors writer.
import darts_torch as dt  # noqa: E402

PRIMITIVES = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
              "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5",
              "atrous_3x3", "atrous_5x5"]
NODES = 5
EDGE_OFFSET = {2: 0, 3: 2, 4: 5, 5: 9, 6: 14}  # first edge of node n
STEM_FM = 128  # initial_fm; stem0/stem1 have half of it
ASPP_DEPTH = 256
LOW_CHANNELS = 48

# TF hnasnet op names -> ours.
TF_OPS = {"separable_3x3_2": "sep_conv_3x3", "separable_5x5_2": "sep_conv_5x5",
          "atrous_3x3": "atrous_3x3", "atrous_5x5": "atrous_5x5",
          "skip": "skip_connect", "none": "none"}

# tensorflow/models research/deeplab "hnasnet" (shared/design/genotypes).
TF_HNASNET = {
    "backbone": [0, 0, 0, 1, 2, 1, 2, 2, 3, 3, 2, 1],
    "operations": ["atrous_5x5", "separable_3x3_2", "separable_3x3_2",
                   "atrous_3x3", "separable_3x3_2", "separable_3x3_2",
                   "separable_5x5_2", "separable_5x5_2", "separable_5x5_2",
                   "atrous_5x5"],
    "used_hiddenstates": [1, 1, 0, 0, 0, 0, 0],
    "hiddenstate_indices": [1, 0, 1, 0, 3, 1, 4, 2, 3, 5],
}

# The PyTorch port's get_default_arch(): path and [edge, op number] rows.
PORT_DEFAULT_PATH = [1, 0, 0, 1, 2, 1, 2, 2, 3, 3, 2, 1]
PORT_DEFAULT_CELL = [[0, 7], [1, 4], [2, 4], [3, 6], [5, 4], [8, 4], [11, 5],
                     [13, 5], [19, 7], [18, 5]]


# ---------------------------------------------------------------- arch
def node_of_edge(edge):
    for n in range(6, 1, -1):
        if edge >= EDGE_OFFSET[n]:
            return n
    raise ValueError("edge %d" % edge)


def tf_rows(operations, hiddenstate_indices):
    """TF block i reading TF state s -> row [offset(i+2) + ours(s), op];
    TF state 0 is the previous cell (our 1), 1 the one before (our 0)."""
    rows = []
    for k, (op, s) in enumerate(zip(operations, hiddenstate_indices)):
        ours = 1 if s == 0 else 0 if s == 1 else s
        rows.append([EDGE_OFFSET[k // 2 + 2] + ours, TF_OPS[op]])
    return rows


def make_arch(path, cell, F=20, classes=19, hw=(513, 513), rates=(6, 12, 18),
              decoder=True, name=None, bn="bn"):
    """The canonical JSON object; cell rows take op numbers or names."""
    arch = {"format": "nasc-genotype", "version": 1, "space": "autodeeplab",
            "path": list(path),
            "cell": [[int(e), op if isinstance(op, str) else PRIMITIVES[op]]
                     for e, op in cell],
            "F": F, "B": NODES, "classes": classes, "input": list(hw),
            "aspp_rates": list(rates), "decoder": decoder, "bn": bn}
    if name:
        arch["name"] = name
    return arch


def random_path(rng, n):
    """Starts at level 0 or 1, then each step uniform over the allowed
    levels (no clamping, which would pile paths up at level 0)."""
    path = [rng.randint(0, 1)]
    while len(path) < n:
        path.append(rng.choice([l for l in (path[-1] - 1, path[-1], path[-1] + 1)
                                if 0 <= l <= 3]))
    return path


def random_cell(rng, ops):
    """Two rows per node on two different edges of it, in a random order
    within the node (so rows are often unsorted by edge)."""
    rows = []
    for n in range(2, 7):
        pair = rng.sample(range(EDGE_OFFSET[n], EDGE_OFFSET[n] + n), 2)
        rows += [[e, rng.choice(ops)] for e in pair]
    return rows


# ---------------------------------------------------------------- modules
class NaiveBN(nn.Module):
    """operations.py NaiveBN: Sequential(BatchNorm2d, ReLU) as `op`. Its
    second parameter is a momentum it ignores (aspp.py passes 0.0003)."""

    def __init__(self, c, momentum=0.1):
        super().__init__()
        self.op = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU())

    def forward(self, x):
        return self.op(x)


class ABN(nn.BatchNorm2d):
    """InPlaceABNSync with the signature of mapillary/inplace_abn's ABN
    (num_features, eps=1e-5, momentum=0.1, affine=True, activation=
    "leaky_relu", slope=0.01): eval BatchNorm, then leaky ReLU. weight, bias,
    running_mean and running_var sit on the module itself and there is no
    num_batches_tracked (the buffer is kept, non-persistent, only so that
    dt.randomize calibrates it like any BatchNorm2d)."""

    def __init__(self, c, eps=1e-5, momentum=0.1, affine=True, slope=0.01):
        super().__init__(c, eps=eps, momentum=momentum, affine=affine)
        self.register_buffer("num_batches_tracked", self.num_batches_tracked,
                             persistent=False)
        self.slope = slope

    def forward(self, x):
        x = F.batch_norm(x, self.running_mean, self.running_var, self.weight,
                         self.bias, False, 0.0, self.eps)
        return F.leaky_relu(x, self.slope)


class ConvABN(nn.Module):
    """ReLUConvBN(c_in, c_out, 1, 1, 0, use_ABN=True): conv op.0, ABN op.1."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.op = nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), ABN(c_out))

    def forward(self, x):
        return self.op(x)


class DilConvABN(nn.Module):
    """DilConv(c, c, k, 1, pad, dil, use_ABN=True), separate: depthwise op.0,
    pointwise op.1, ABN op.2 (no leading ReLU)."""

    def __init__(self, c, k, pad, dil):
        super().__init__()
        self.op = nn.Sequential(
            nn.Conv2d(c, c, k, padding=pad, dilation=dil, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False), ABN(c))

    def forward(self, x):
        return self.op(x)


class AtrousABN(nn.Module):
    """nasc's atrous_kxk under use_ABN: dense k x k rate-2 conv op.0, ABN op.1."""

    def __init__(self, c, k):
        super().__init__()
        self.op = nn.Sequential(
            nn.Conv2d(c, c, k, padding=k - 1, dilation=2, bias=False), ABN(c))

    def forward(self, x):
        return self.op(x)


class Atrous(nn.Module):
    """TF atrous_kxk: ReLU, dense k x k conv, rate 2, 'same' padding, BN."""

    def __init__(self, c, k):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(c, c, k, padding=k - 1, dilation=2, bias=False),
            nn.BatchNorm2d(c))

    def forward(self, x):
        return self.op(x)


OPS = {
    "none": lambda c: dt.Zero(1),
    "max_pool_3x3": lambda c: nn.MaxPool2d(3, stride=1, padding=1),
    "avg_pool_3x3": lambda c: nn.AvgPool2d(3, stride=1, padding=1,
                                           count_include_pad=False),
    "skip_connect": lambda c: dt.Identity(),
    "sep_conv_3x3": lambda c: dt.SepConv(c, c, 3, 1, 1),
    "sep_conv_5x5": lambda c: dt.SepConv(c, c, 5, 1, 2),
    "dil_conv_3x3": lambda c: dt.DilConv(c, c, 3, 1, 2, 2),
    "dil_conv_5x5": lambda c: dt.DilConv(c, c, 5, 1, 4, 2),
    "atrous_3x3": lambda c: Atrous(c, 3),
    "atrous_5x5": lambda c: Atrous(c, 5),
}


# use_ABN: the port's OPS table passes use_ABN to DilConv only, never to
# SepConv, so sep convs keep the ReLU-conv-conv-BN layout.
OPS_ABN = dict(OPS, **{
    "dil_conv_3x3": lambda c: DilConvABN(c, 3, 2, 2),
    "dil_conv_5x5": lambda c: DilConvABN(c, 5, 4, 2),
    "atrous_3x3": lambda c: AtrousABN(c, 3),
    "atrous_5x5": lambda c: AtrousABN(c, 5),
})


def scale_dimension(d, scale):
    """new_model.py Cell.scale_dimension."""
    return int((float(d) - 1.0) * scale + 1.0) if d % 2 == 1 \
        else int(float(d) * scale)


def resize(x, hw):
    return F.interpolate(x, size=list(hw), mode="bilinear", align_corners=True)


class Cell(nn.Module):
    def __init__(self, rows, c_pp, c_p, c, scale, abn=False):
        super().__init__()
        self.c, self.scale = c, scale
        self.rows = [(int(e), op) for e, op in rows]
        if abn:
            self.pre_preprocess, self.preprocess = ConvABN(c_pp, c), ConvABN(c_p, c)
        else:
            self.pre_preprocess = dt.ReLUConvBN(c_pp, c, 1, 1, 0)
            self.preprocess = dt.ReLUConvBN(c_p, c, 1, 1, 0)
        ops = OPS_ABN if abn else OPS
        self._ops = nn.ModuleList(ops[op](c) for _, op in self.rows)

    def forward(self, prev_prev, prev):
        s1 = prev
        if self.scale is not None:
            s1 = resize(s1, [scale_dimension(d, self.scale) for d in s1.shape[2:]])
        s0 = prev_prev
        if s0.shape[2:] != s1.shape[2:]:
            s0 = resize(s0, s1.shape[2:])
        if s0.shape[1] != self.c:  # the module exists either way
            s0 = self.pre_preprocess(s0)
        states = [s0, self.preprocess(s1)]
        for n in range(2, 2 + NODES):
            lo = EDGE_OFFSET[n]
            terms = [self._ops[k](states[e - lo])
                     for k, (e, _) in enumerate(self.rows) if lo <= e < lo + n]
            assert len(terms) == 2, "node %d has %d rows" % (n, len(terms))
            states.append(terms[0] + terms[1])
        return prev, torch.cat(states[-NODES:], dim=1)


class Encoder(nn.Module):
    """new_model.py newModel: three stems, then one cell per path entry.
    The stems' norm is newModel's BatchNorm argument (ABN under use_ABN)."""

    def __init__(self, path, rows, F_, abn=False):
        super().__init__()
        half, norm = STEM_FM // 2, ABN if abn else NaiveBN
        self.stem0 = nn.Sequential(nn.Conv2d(3, half, 3, stride=2, padding=1),
                                   norm(half))
        self.stem1 = nn.Sequential(nn.Conv2d(half, half, 3, padding=1),
                                   norm(half))
        self.stem2 = nn.Sequential(nn.Conv2d(half, STEM_FM, 3, stride=2, padding=1),
                                   norm(STEM_FM))
        self.cells = nn.ModuleList()
        c_pp, c_p, prev = half, STEM_FM, 0
        self.channels = []
        for level in path:
            scale = None if level == prev else 0.5 if level > prev else 2.0
            c = F_ << level
            self.cells.append(Cell(rows, c_pp, c_p, c, scale, abn))
            c_pp, c_p, prev = c_p, NODES * c, level
            self.channels.append(c_p)

    def forward(self, x):
        pp = self.stem1(self.stem0(x))
        p = self.stem2(pp)
        low = None
        for i, cell in enumerate(self.cells):
            pp, p = cell(pp, p)
            if i == 2:
                low = p
        return p, low


ASPP_MOMENTUM = 0.0003


class ASPP(nn.Module):
    """aspp.py ASPP(C, 256, norm=NaiveBN or ABN); conv3 only without the
    decoder. Its norms are built as norm(256, momentum) with momentum =
    0.0003, positionally: NaiveBN ignores it, ABN takes it as its eps."""

    def __init__(self, c, rates, classes=None, norm=NaiveBN):
        super().__init__()
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.aspp1 = nn.Conv2d(c, ASPP_DEPTH, 1, bias=False)
        for i, r in enumerate(rates):
            setattr(self, "aspp%d" % (i + 2),
                    nn.Conv2d(c, ASPP_DEPTH, 3, dilation=r, padding=r, bias=False))
        self.aspp5 = nn.Conv2d(c, ASPP_DEPTH, 1, bias=False)
        for i in range(1, 6):
            setattr(self, "aspp%d_bn" % i, norm(ASPP_DEPTH, ASPP_MOMENTUM))
        self.conv2 = nn.Conv2d(5 * ASPP_DEPTH, ASPP_DEPTH, 1, bias=False)
        self.bn2 = norm(ASPP_DEPTH, ASPP_MOMENTUM)
        if classes is not None:
            self.conv3 = nn.Conv2d(ASPP_DEPTH, classes, 1)

    def forward(self, x):
        branches = [self.aspp1_bn(self.aspp1(x)), self.aspp2_bn(self.aspp2(x)),
                    self.aspp3_bn(self.aspp3(x)), self.aspp4_bn(self.aspp4(x))]
        pooled = self.aspp5_bn(self.aspp5(self.global_pooling(x)))
        branches.append(resize(pooled, x.shape[2:]))
        y = self.bn2(self.conv2(torch.cat(branches, dim=1)))
        return self.conv3(y) if hasattr(self, "conv3") else y


class Decoder(nn.Module):
    """decoder.py Decoder (304-channel last_conv); Dropout is identity.
    NaiveBN even under use_ABN: Retrain_Autodeeplab passes it no norm."""

    def __init__(self, classes, c_low):
        super().__init__()
        self.conv1 = nn.Conv2d(c_low, LOW_CHANNELS, 1, bias=False)
        self.bn1 = NaiveBN(LOW_CHANNELS)
        self.last_conv = nn.Sequential(
            nn.Conv2d(ASPP_DEPTH + LOW_CHANNELS, ASPP_DEPTH, 3, padding=1, bias=False),
            NaiveBN(ASPP_DEPTH), nn.Dropout(0.5),
            nn.Conv2d(ASPP_DEPTH, ASPP_DEPTH, 3, padding=1, bias=False),
            NaiveBN(ASPP_DEPTH), nn.Dropout(0.1),
            nn.Conv2d(ASPP_DEPTH, classes, 1))

    def forward(self, x, low):
        low = self.bn1(self.conv1(low))
        x = resize(x, low.shape[2:])
        return self.last_conv(torch.cat((x, low), dim=1))


class AutoDeepLab(nn.Module):
    """build_autodeeplab.py Retrain_Autodeeplab."""

    def __init__(self, arch):
        super().__init__()
        path, rows, F_ = arch["path"], arch["cell"], arch["F"]
        bn = arch.get("bn", "bn")
        assert arch.get("B", NODES) == NODES and bn in ("bn", "abn"), bn
        self.encoder = Encoder(path, rows, F_, bn == "abn")
        dec = arch["decoder"]
        self.aspp = ASPP(self.encoder.channels[-1], arch["aspp_rates"],
                         None if dec else arch["classes"],
                         ABN if bn == "abn" else NaiveBN)
        if dec:
            assert len(path) >= 3, "the decoder reads cell 2"
            self.decoder = Decoder(arch["classes"], self.encoder.channels[2])

    def forward(self, x):
        y, low = self.encoder(x)
        y = self.aspp(y)
        if hasattr(self, "decoder"):
            y = self.decoder(y, low)
        return resize(y, x.shape[2:])


def build(arch):
    return AutoDeepLab(arch).eval()


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------- self-test
def _expect(sd, name, shape):
    assert name in sd, "missing state_dict key " + name
    assert list(sd[name].shape) == shape, "%s: %s, want %s" % (
        name, list(sd[name].shape), shape)


def test_names():
    arch = make_arch(PORT_DEFAULT_PATH, PORT_DEFAULT_CELL, F=8, classes=19)
    sd = build(arch).state_dict()
    for name, shape in [
            ("encoder.stem0.0.weight", [64, 3, 3, 3]), ("encoder.stem0.0.bias", [64]),
            ("encoder.stem0.1.op.0.running_var", [64]),
            ("encoder.stem2.0.weight", [128, 64, 3, 3]),
            # cell 0 at level 1: C = 16, prev-prev = stem1 (64), prev = stem2 (128)
            ("encoder.cells.0.pre_preprocess.op.1.weight", [16, 64, 1, 1]),
            ("encoder.cells.0.preprocess.op.1.weight", [16, 128, 1, 1]),
            ("encoder.cells.0.preprocess.op.2.bias", [16]),
            ("encoder.cells.0._ops.0.op.1.weight", [16, 1, 5, 5]),  # dil_conv_5x5
            ("encoder.cells.0._ops.0.op.3.weight", [16]),
            ("encoder.cells.0._ops.1.op.5.weight", [16, 1, 3, 3]),  # sep_conv_3x3
            ("encoder.cells.0._ops.1.op.7.running_mean", [16]),
            ("encoder.cells.0._ops.8.op.1.weight", [16, 1, 5, 5]),  # edge 19
            ("encoder.cells.1.pre_preprocess.op.1.weight", [8, 128, 1, 1]),
            ("encoder.cells.1.preprocess.op.1.weight", [8, 80, 1, 1]),
            ("encoder.cells.11.preprocess.op.1.weight", [16, 160, 1, 1]),
            ("aspp.aspp1.weight", [256, 80, 1, 1]), ("aspp.aspp4.weight", [256, 80, 3, 3]),
            ("aspp.aspp5_bn.op.0.weight", [256]), ("aspp.conv2.weight", [256, 1280, 1, 1]),
            ("aspp.bn2.op.0.running_mean", [256]),
            ("decoder.conv1.weight", [48, 40, 1, 1]), ("decoder.bn1.op.0.bias", [48]),
            ("decoder.last_conv.0.weight", [256, 304, 3, 3]),
            ("decoder.last_conv.1.op.0.weight", [256]),
            ("decoder.last_conv.3.weight", [256, 256, 3, 3]),
            ("decoder.last_conv.4.op.0.running_var", [256]),
            ("decoder.last_conv.6.weight", [19, 256, 1, 1]),
            ("decoder.last_conv.6.bias", [19])]:
        _expect(sd, name, shape)
    assert "aspp.conv3.weight" not in sd
    rows = tf_rows(TF_HNASNET["operations"], TF_HNASNET["hiddenstate_indices"])
    assert rows == [[0, "atrous_5x5"], [1, "sep_conv_3x3"], [2, "sep_conv_3x3"],
                    [3, "atrous_3x3"], [8, "sep_conv_3x3"], [5, "sep_conv_3x3"],
                    [13, "sep_conv_5x5"], [11, "sep_conv_5x5"], [17, "sep_conv_5x5"],
                    [19, "atrous_5x5"]], rows
    sd = build(make_arch(TF_HNASNET["backbone"], rows, F=4, decoder=False,
                         classes=7)).state_dict()
    _expect(sd, "encoder.cells.0._ops.0.op.1.weight", [4, 4, 5, 5])  # dense atrous
    _expect(sd, "encoder.cells.0._ops.0.op.2.running_var", [4])
    _expect(sd, "aspp.conv3.weight", [7, 256, 1, 1])
    _expect(sd, "aspp.conv3.bias", [7])
    assert not any(k.startswith("decoder.") for k in sd)


def test_abn():
    """The use_ABN layouts: ABN tensors on the module (no .op.0., no
    num_batches_tracked), conv-first ReLUConvBN / DilConv / atrous, SepConv
    and the decoder unchanged, ASPP's eps 3e-4; and ABN's activation."""
    arch = make_arch(PORT_DEFAULT_PATH, PORT_DEFAULT_CELL, F=8, classes=19, bn="abn")
    m = build(arch)
    sd = m.state_dict()
    for name, shape in [
            ("encoder.stem0.1.weight", [64]), ("encoder.stem0.1.running_var", [64]),
            ("encoder.stem2.1.bias", [128]),
            ("encoder.cells.0.pre_preprocess.op.0.weight", [16, 64, 1, 1]),
            ("encoder.cells.0.pre_preprocess.op.1.running_mean", [16]),
            ("encoder.cells.0.preprocess.op.0.weight", [16, 128, 1, 1]),
            ("encoder.cells.0.preprocess.op.1.weight", [16]),
            ("encoder.cells.0._ops.0.op.0.weight", [16, 1, 5, 5]),  # dil_conv_5x5
            ("encoder.cells.0._ops.0.op.1.weight", [16, 16, 1, 1]),
            ("encoder.cells.0._ops.0.op.2.running_var", [16]),
            ("encoder.cells.0._ops.1.op.1.weight", [16, 1, 3, 3]),  # sep_conv_3x3
            ("encoder.cells.0._ops.1.op.3.weight", [16]),
            ("encoder.cells.0._ops.1.op.7.running_mean", [16]),
            ("aspp.aspp1_bn.weight", [256]), ("aspp.aspp5_bn.running_mean", [256]),
            ("aspp.bn2.bias", [256]),
            ("decoder.bn1.op.0.weight", [48]), ("decoder.last_conv.1.op.0.running_var", [256]),
            ("decoder.last_conv.4.op.0.bias", [256])]:
        _expect(sd, name, shape)
    for bad in ("encoder.stem0.1.op.0.weight", "aspp.aspp1_bn.op.0.weight",
                "encoder.cells.0.preprocess.op.2.weight"):
        assert bad not in sd, bad
    abns = [n for n, mod in m.named_modules() if isinstance(mod, ABN)]
    assert len(abns) == 3 + 12 * 2 + 3 * 12 + 6, len(abns)  # 3 dil convs per cell
    for n in abns:
        assert n + ".running_mean" in sd and n + ".num_batches_tracked" not in sd, n
    assert m.aspp.aspp3_bn.eps == ASPP_MOMENTUM and m.aspp.bn2.eps == ASPP_MOMENTUM
    assert m.encoder.stem1[1].eps == 1e-5
    assert m.encoder.cells[0]._ops[0].op[2].eps == 1e-5
    assert isinstance(m.decoder.bn1, NaiveBN)
    rows = tf_rows(TF_HNASNET["operations"], TF_HNASNET["hiddenstate_indices"])
    sd = build(make_arch(TF_HNASNET["backbone"], rows, F=4, decoder=False, classes=7,
                         bn="abn")).state_dict()
    _expect(sd, "encoder.cells.0._ops.0.op.0.weight", [4, 4, 5, 5])  # dense atrous
    _expect(sd, "encoder.cells.0._ops.0.op.1.running_var", [4])
    abn = ABN(3).eval()
    x = torch.tensor([-2.0, 0.5, -0.0]).reshape(1, 3, 1, 1)
    with torch.no_grad():
        y = abn(x).flatten().tolist()
    s = (1 + 1e-5) ** -0.5
    assert abs(y[0] - (-0.02 * s)) < 1e-7 and abs(y[1] - 0.5 * s) < 1e-7 and y[2] == 0, y


def test_binding():
    """Row k's op acts on row k's edge: swapping the order of a node's two
    rows (and their modules) must not change the output."""
    torch.manual_seed(0)
    cell = [list(r) for r in PORT_DEFAULT_CELL]
    a = make_arch([0, 1, 1], cell, F=4, hw=(33, 33))
    m = build(a)
    dt.randomize(m, 1, (33, 33))
    swapped = cell[:8] + [cell[9], cell[8]]
    m2 = build(make_arch([0, 1, 1], swapped, F=4, hw=(33, 33)))
    sd = {}
    for k, v in m.state_dict().items():
        for i in range(3):
            p = "encoder.cells.%d._ops." % i
            if k.startswith((p + "8.", p + "9.")):
                k = p + ("9" if k[len(p)] == "8" else "8") + k[len(p) + 1:]
        sd[k] = v
    m2.load_state_dict(sd)
    x = torch.randn(1, 3, 33, 33)
    with torch.no_grad():
        assert torch.equal(m(x), m2(x)), "op-edge binding depends on row order"


def test_skip_rule():
    """F=32, path [1, 2]: cell 0 (C=64) takes stem1's 64 channels and cell 1
    (C=128) stem2's 128 as they are; the modules still exist."""
    arch = make_arch([1, 2, 2], PORT_DEFAULT_CELL, F=32, hw=(33, 33))
    m = build(arch)
    calls = []
    for i in range(3):
        m.encoder.cells[i].pre_preprocess.register_forward_hook(
            lambda mod, inp, out, i=i: calls.append(i))
    with torch.no_grad():
        m(torch.randn(1, 3, 33, 33))
    assert calls == [2], calls
    _expect(m.state_dict(), "encoder.cells.0.pre_preprocess.op.1.weight", [64, 64, 1, 1])


def test_shapes():
    for hw in [(65, 65), (97, 97), (64, 64), (57, 81)]:
        arch = make_arch(PORT_DEFAULT_PATH, PORT_DEFAULT_CELL, F=4, classes=5, hw=hw)
        with torch.no_grad():
            y = build(arch)(torch.randn(1, 3, *hw))
        assert list(y.shape) == [1, 5, hw[0], hw[1]], y.shape
    assert [scale_dimension(d, 0.5) for d in (17, 16, 9, 1)] == [9, 8, 5, 1]
    assert [scale_dimension(d, 2.0) for d in (9, 8, 5, 1)] == [17, 16, 9, 1]


def param_counts():
    rows = tf_rows(TF_HNASNET["operations"], TF_HNASNET["hiddenstate_indices"])
    out = {}
    for F_ in (20, 32, 48):
        arch = make_arch(TF_HNASNET["backbone"], rows, F=F_, classes=19)
        out[F_] = count_parameters(AutoDeepLab(arch))
    return out


def main(argv):
    torch.set_num_threads(1)
    if "--counts" in argv:
        for F_, n in param_counts().items():
            print("F=%d: %d parameters" % (F_, n))
        return 0
    test_names()
    test_abn()
    test_binding()
    test_skip_rule()
    test_shapes()
    print("adl_torch self-test: ok")
    return 0


if __name__ == "__main__":
    random.seed(0)
    sys.exit(main(sys.argv[1:]))
