#!/usr/bin/env bash
# peers.sh — the emitted C against PyTorch eager and ONNX Runtime, batch 1, one thread each,
# timed in the same run, interleaved (bench/peers.py says how), on DARTS_V2 NetworkCIFAR,
# DARTS_V2 NetworkImageNet and Auto-DeepLab F=20 (19 classes, 321x321). Prints per net the
# median latency and ratios, GFLOP/s, % of the FP32 FMA peak (fma_peak.c, measured in the
# run), the workspace bytes and .text+.rodata bytes of the compiled net.o, then a Markdown
# table (the one in README.md).
#
#   bench/peers.sh [BUILD_DIR]
#
# BUILD_DIR (default build/) holds tools/nasc. Environment: NETS (default
# cifar,imagenet,adl), RUNS (timed runs per peer and net, default 20), WARMUP (default 3),
# ROUNDS (default 4), CC (default cc), PYTHON (default /usr/bin/python3, which has torch),
# KEEP_WORKDIR (a directory to keep the generated files in, instead of a deleted temporary).
# ONNX Runtime is bench/ort's npm project: installed here with `npm install` on first use;
# if that or loading it fails, the output says so and the other peers are still timed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="${1:-$root/build}"
python="${PYTHON:-/usr/bin/python3}"
[ -x "$build/tools/nasc" ] || { echo "peers.sh: no $build/tools/nasc (build it)" >&2; exit 2; }
"$python" -c 'import torch' 2>/dev/null ||
  { echo "peers.sh: $python cannot import torch" >&2; exit 2; }

# One thread per peer: torch's intra-op pool is set in peers.py; OpenBLAS (which torch and
# numpy may call) has its own pool, which would otherwise take the second core.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

if [ ! -d "$here/ort/node_modules/onnxruntime-node" ]; then
  echo "peers.sh: installing bench/ort (npm install)"
  (cd "$here/ort" && npm install --no-audit --no-fund >&2) ||
    echo "peers.sh: npm install failed; ONNX Runtime will be reported unavailable" >&2
fi

work="${KEEP_WORKDIR:-$(mktemp -d -t nasc-peers.XXXXXX)}"
[ -n "${KEEP_WORKDIR:-}" ] || trap 'rm -rf "$work"' EXIT
"${CC:-cc}" -O2 -march=native -o "$work/fma_peak" "$here/fma_peak.c"
echo "$(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'),"\
     "$(getconf _NPROCESSORS_ONLN) CPUs; uptime:$(uptime)"
"$python" "$here/peers.py" --nasc "$build/tools/nasc" --fma-peak "$work/fma_peak" \
  --workdir "$work" --nets "${NETS:-cifar,imagenet,adl}" --runs "${RUNS:-20}" \
  --warmup "${WARMUP:-3}" --rounds "${ROUNDS:-4}"
