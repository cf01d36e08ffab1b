"""peers.py — emitted C vs PyTorch eager vs ONNX Runtime, batch 1, one thread.

Driven by bench/peers.sh (which sets the thread variables and builds
fma_peak); run it with /usr/bin/python3, the interpreter that has torch:

    peers.py --nasc NASC --fma-peak FMA_PEAK --workdir DIR
             [--nets cifar,imagenet,adl] [--runs 20] [--warmup 3] [--rounds 4]

Per network: build the PyTorch test model (tests/e2e/darts_torch.py,
tests/adl/adl_torch.py, imported, not copied), give it the parity tests'
calibrated random weights, write them as safetensors and export the model
to ONNX (opset 13); `nasc compile --weights` that file, build the C with
`cc -O3 -march=native`. All three peers then run the same weights on the
same input, and their outputs must agree with torch within
1e-3 * max(1, max|y_torch|) (the parity tests' rule), else the net is
marked MISMATCH. Timing: WARMUP untimed runs per peer, then ROUNDS rounds;
in each round every peer (in a rotating order) does one untimed run (its
data left the caches while the others ran) and RUNS / ROUNDS timed runs,
and fma_peak is run once. Interleaving makes the peers share whatever load
the machine has; the load average is printed beside the figures.
Latency = median of all timed runs; GFLOP/s = 2 * MACs (nasc inspect:
conv + linear) / median; % peak against the best fma_peak so far (one
before the first net, one per round), the final table against the best of
the whole run.
"""
import argparse
import ctypes
import json
import os
import re
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "tests", "adl"))
import darts_torch as dt  # noqa: E402
import adl_torch as at  # noqa: E402

RTOL = 1e-3
SEED = 20240601
CFLAGS = ["-O3", "-march=native", "-fPIC"]
DARTS_JSON = os.path.join(ROOT, "examples", "genotypes", "darts_v2.json")

# name -> title (what NETS in peers.sh picks from).
NETS = {
    "cifar": "DARTS_V2 NetworkCIFAR (C=36, 20 cells, 10 classes, 32x32)",
    "imagenet": "DARTS_V2 NetworkImageNet (C=48, 14 cells, 1000 classes, 224x224)",
    "adl": "Auto-DeepLab, PyTorch port's default arch (F=20, 19 classes, 321x321)",
}


def darts_genotype(path):
    """dt.Genotype from nasc's canonical JSON (the bundled DARTS_V2)."""
    with open(path) as f:
        j = json.load(f)
    return dt.Genotype(normal=[tuple(e) for e in j["normal"]["edges"]],
                       normal_concat=j["normal"]["concat"],
                       reduce=[tuple(e) for e in j["reduce"]["edges"]],
                       reduce_concat=j["reduce"]["concat"])


def build(net, wd):
    """(eval model, nasc architecture arguments, (H, W))."""
    if net == "adl":
        arch = at.make_arch(at.PORT_DEFAULT_PATH, at.PORT_DEFAULT_CELL, F=20,
                            classes=19, hw=(321, 321), name="autodeeplab_port_f20")
        p = os.path.join(wd, "arch.json")
        with open(p, "w") as f:
            json.dump(arch, f, indent=1)
        return at.build(arch), [p], (321, 321)
    geno = darts_genotype(DARTS_JSON)
    C, layers, classes, hw = {"cifar": (36, 20, 10, (32, 32)),
                              "imagenet": (48, 14, 1000, (224, 224))}[net]
    model = dt.build(geno, net, C=C, layers=layers, classes=classes).eval()
    args = [DARTS_JSON, "--net", net, "--C", str(C), "--layers", str(layers),
            "--classes", str(classes), "--input", "%dx%d" % hw]
    return model, args, hw


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd[:2]), r.stdout.decode()))
    return r.stdout.decode()


def object_bytes(obj):
    """(.text*, .rodata*) section bytes of an object, from `size -A`."""
    text = rodata = 0
    for line in run(["size", "-A", obj]).splitlines():
        f = line.split()
        if len(f) >= 2 and f[1].isdigit():
            if f[0].startswith(".text"):
                text += int(f[1])
            elif f[0].startswith(".rodata"):
                rodata += int(f[1])
    return text, rodata


def prepare(net, a):
    """Model, weights, ONNX file, compiled C; returns a dict of facts."""
    wd = os.path.join(a.workdir, net)
    os.makedirs(wd, exist_ok=True)
    torch.manual_seed(SEED)
    model, arch_args, hw = build(net, wd)
    dt.randomize(model, SEED, hw)
    x = torch.randn(1, 3, *hw, generator=torch.Generator().manual_seed(SEED + 1))
    st, inb = os.path.join(wd, "weights.safetensors"), os.path.join(wd, "in.bin")
    dt.export_state(model, st)
    x.numpy().astype("<f4").tofile(inb)
    with torch.no_grad():
        y = model(x).numpy().ravel().astype(np.float64)
    onnx = os.path.join(wd, "model.onnx")
    t = time.time()
    with warnings.catch_warnings():
        # The tracer warns that shape arithmetic becomes constants: meant, the
        # input size is fixed.
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, onnx, opset_version=13, input_names=["input"],
                          output_names=["output"], do_constant_folding=True)
    print("  torch.onnx.export: %.1f s" % (time.time() - t))
    macs = int(re.search(r"^MACs\s+(\d+)", run([a.nasc, "inspect"] + arch_args),
                         re.M).group(1))
    netc, obj, so = (os.path.join(wd, "net" + e) for e in (".c", ".o", ".so"))
    t = time.time()
    run([a.nasc, "compile"] + arch_args + ["--weights", st, "--name", "net", "-o", netc])
    t1 = time.time()
    run([a.cc] + CFLAGS + ["-c", netc, "-o", obj])
    run([a.cc, "-shared", obj, "-o", so])
    print("  nasc compile: %.1f s, %s %s: %.1f s"
          % (t1 - t, a.cc, " ".join(CFLAGS), time.time() - t1))
    with open(os.path.join(wd, "net.h")) as f:
        ws = int(re.search(r"#define NET_WORKSPACE_BYTES (\d+)", f.read()).group(1))
    text, rodata = object_bytes(obj)
    return {"wd": wd, "model": model, "x": x, "y": y, "hw": hw, "macs": macs,
            "so": so, "ws": ws, "text": text, "rodata": rodata, "in": inb,
            "onnx": onnx}


# ---------------------------------------------------------------- peers
class CPeer:
    """The emitted C (a shared object), called through ctypes."""
    name = "emitted C"

    def __init__(self, f):
        self.lib = ctypes.CDLL(f["so"])
        self.fn = self.lib.net_run
        self.fn.argtypes = [ctypes.c_void_p] * 3
        self.fn.restype = ctypes.c_int
        self.x = np.ascontiguousarray(f["x"].numpy().ravel())
        self.y = np.empty(f["y"].size, dtype=np.float32)
        raw = np.zeros(f["ws"] + 64, dtype=np.uint8)
        off = -raw.ctypes.data % 64  # NET_WORKSPACE_ALIGN
        self.raw, self.ws = raw, raw[off:].ctypes.data
        self.args = (self.x.ctypes.data, self.y.ctypes.data, self.ws)

    def output(self):
        if self.fn(*self.args) != 0:
            raise RuntimeError("net_run failed")
        return self.y.astype(np.float64)

    def times(self, n):
        ms = []
        for _ in range(n):
            t = time.perf_counter()
            self.fn(*self.args)
            ms.append((time.perf_counter() - t) * 1e3)
        return ms


class TorchPeer:
    name = "PyTorch eager"

    def __init__(self, f):
        self.model, self.x = f["model"], f["x"]

    def output(self):
        with torch.inference_mode():
            return self.model(self.x).numpy().ravel().astype(np.float64)

    def times(self, n):
        ms = []
        with torch.inference_mode():
            for _ in range(n):
                t = time.perf_counter()
                self.model(self.x)
                ms.append((time.perf_counter() - t) * 1e3)
        return ms


class OrtPeer:
    """bench/ort/bench.js, kept running; one request line per batch of runs."""
    name = "ONNX Runtime"

    def __init__(self, f):
        self.out = os.path.join(f["wd"], "ort.bin")
        dims = "1,3,%d,%d" % f["hw"]
        self.p = subprocess.Popen(["node", os.path.join(HERE, "ort", "bench.js"), f["onnx"],
                                   f["in"], dims, self.out], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline().split()
        if not line or line[0] != "ready":
            self.p.kill()
            raise RuntimeError(self.p.stderr.read().strip() or "no answer")
        self.version = line[2]

    def output(self):
        return np.fromfile(self.out, dtype="<f4").astype(np.float64)

    def times(self, n):
        self.p.stdin.write("%d\n" % n)
        self.p.stdin.flush()
        return [float(v) for v in self.p.stdout.readline().split()]

    def close(self):
        self.p.stdin.close()
        self.p.wait()


# ---------------------------------------------------------------- timing
def fma_peak(a):
    out = subprocess.run([a.fma_peak], stdout=subprocess.PIPE, text=True).stdout
    return float(out.split()[1])


def measure(peers, a, peaks, loads):
    """{peer name: [ms]} over ROUNDS interleaved rounds."""
    per_round = -(-a.runs // a.rounds)
    samples = {p.name: [] for p in peers}
    for p in peers:
        p.times(a.warmup)
    for r in range(a.rounds):
        k = r % len(peers)
        for p in peers[k:] + peers[:k]:
            p.times(1)
            samples[p.name] += p.times(per_round)
        peaks.append(fma_peak(a))
        loads.append(os.getloadavg()[0])
    return samples


def check(f, peers, rep):
    """Each peer's output against torch's, with the parity tests' rule."""
    tol = RTOL * max(1.0, float(np.max(np.abs(f["y"]))))
    ok = True
    for p in peers:
        y = p.output()
        d = float(np.max(np.abs(y - f["y"]))) if y.size == f["y"].size else float("inf")
        good = d <= tol
        ok &= good
        rep.append("  %-14s vs torch: max|diff| = %.2e (tol %.2e) %s"
                   % (p.name, d, tol, "ok" if good else "MISMATCH"))
    return ok


def bench_net(net, a, peaks, summary):
    """Times one net; peaks (fma_peak results so far) grows by one per round."""
    print("== %s" % NETS[net], flush=True)
    f = prepare(net, a)
    peers, notes = [CPeer(f), TorchPeer(f)], []
    try:
        ort = OrtPeer(f)
        peers.append(ort)
        ort_name = "ONNX Runtime %s" % ort.version
    except (OSError, RuntimeError) as e:
        ort, ort_name = None, None
        notes.append("  ONNX Runtime: UNAVAILABLE, not timed (%s)" % str(e).splitlines()[-1])
    agree = check(f, peers, notes)
    loads = []
    s = measure(peers, a, peaks, loads)
    if ort:
        ort.close()
    peak = max(peaks)
    med = {k: statistics.median(v) for k, v in s.items()}
    gflop = 2 * f["macs"] / 1e9
    print("  %.2f G MACs; %d timed runs per peer in %d rounds after %d warm-up; "
          "load average %.2f-%.2f; FMA peak %.1f GFLOP/s (best so far)"
          % (f["macs"] / 1e9, len(s["emitted C"]), a.rounds, a.warmup, min(loads),
             max(loads), peak))
    print("  %-26s %10s %10s %9s %7s %10s" % ("peer", "median ms", "min ms", "GFLOP/s",
                                             "% peak", "C speed-up"))
    for p in peers:
        m = med[p.name]
        label = ort_name if p is ort else p.name
        print("  %-26s %10.2f %10.2f %9.1f %6.1f%% %9.2fx"
              % (label, m, min(s[p.name]), gflop / m * 1e3, 100 * gflop / m * 1e3 / peak,
                 m / med["emitted C"]))
    print("  emitted C: workspace %d bytes; net.o .text %d + .rodata %d = %d bytes"
          % (f["ws"], f["text"], f["rodata"], f["text"] + f["rodata"]))
    print("\n".join(notes), flush=True)
    summary.append((net, f, med, loads, agree))


def print_summary(summary, peak):
    print("\n%% peak: of %.1f GFLOP/s, the best fma_peak of the run" % peak)
    print("\n| net | MACs | emitted C ms | PyTorch ms | ORT ms | C vs PyTorch | C vs ORT "
          "| C GFLOP/s | C % peak | workspace B | .text+.rodata B | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for net, f, med, loads, agree in summary:
        c, t, o = med["emitted C"], med["PyTorch eager"], med.get("ONNX Runtime")
        gf = 2 * f["macs"] / c / 1e6
        print("| %s%s | %.1f M | %.2f | %.2f | %s | %.2fx | %s | %.1f | %.0f %% | %s | %s "
              "| %.1f-%.1f |"
              % (net, "" if agree else " (MISMATCH)", f["macs"] / 1e6, c, t,
                 "%.2f" % o if o else "n/a", t / c, "%.2fx" % (o / c) if o else "n/a",
                 gf, 100 * gf / peak, format(f["ws"], ","),
                 format(f["text"] + f["rodata"], ","), min(loads), max(loads)))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nasc", required=True)
    p.add_argument("--fma-peak", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--cc", default=os.environ.get("CC", "cc"))
    p.add_argument("--nets", default="cifar,imagenet,adl")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--rounds", type=int, default=4)
    a = p.parse_args(argv)
    nets = a.nets.split(",")
    bad = [n for n in nets if n not in NETS]
    if bad or a.runs < 1 or a.rounds < 1 or a.warmup < 0:
        p.error("unknown net %s (choose from %s)" % (bad, ",".join(NETS)) if bad
                else "RUNS and ROUNDS must be >= 1, WARMUP >= 0")
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    print("torch %s, %d thread(s); OPENBLAS_NUM_THREADS=%s; %s; load average %.2f"
          % (torch.__version__, torch.get_num_threads(),
             os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
             run([a.cc, "--version"]).splitlines()[0], os.getloadavg()[0]), flush=True)
    summary, peaks = [], [fma_peak(a)]
    for net in nets:
        bench_net(net, a, peaks, summary)
    print_summary(summary, max(peaks))
    return 0 if all(s[4] for s in summary) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
